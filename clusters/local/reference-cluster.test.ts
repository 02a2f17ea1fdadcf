// The default local cluster, as `slo run --cluster local` starts it: the reference service (no --app) on
// the Patroni/PostgreSQL HA database. Proves the wiring: DATABASE_URL reaches the replicas, orders written
// through HAProxy are found by missingOrders, failover is exposed and the service serves again afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { eventsOf } from '../../contract/timeline.ts';
import { readTimeline } from '../../harness/timeline-file.ts';
import type { Cluster } from '../types.ts';
import { createLocalCluster } from './index.ts';
import { newRunsRoot, testContext } from '../../testing/local/harness-context.ts';
import { sleep } from '../wait.ts';

const ctx = testContext(newRunsRoot(), 'reference');
let cluster: Cluster;

beforeAll(async () => {
  cluster = createLocalCluster(ctx, { version: 'v1', settings: { hpa: false, prometheus: false, propagationDelayMs: 500, drainDelayMs: 1000 } });
  await cluster.up();
});

afterAll(async () => {
  await cluster?.down();
});

async function createOrder(baseUrl: string): Promise<Response> {
  return await fetch(`${baseUrl}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ itemId: 1, quantity: 1 }),
  });
}

describe('local cluster with the reference service and the HA database', () => {
  it('serves from three ready replicas that write to the database', async () => {
    expect(eventsOf(readTimeline(ctx.timelineFile), 'replicas').at(-1)?.data).toEqual({ desired: 3, ready: 3 });
    const { baseUrl } = cluster.endpoint();
    const response = await createOrder(baseUrl);
    expect(response.status).toBe(201);
    expect(response.headers.get('x-app-version')).toBe('v1');
    const { id } = (await response.json()) as { id: string };
    const ghost = randomUUID();
    expect(await cluster.missingOrders?.([id, ghost])).toEqual([ghost]);
  });

  it('exposes failover, and the service writes again after it', async () => {
    expect(typeof cluster.failover).toBe('function');
    await cluster.failover?.();
    const deadline = Date.now() + 30_000;
    let status = 0;
    while (status !== 201 && Date.now() < deadline) {
      status = (await createOrder(cluster.endpoint().baseUrl)).status;
      if (status !== 201) await sleep(500);
    }
    expect(status).toBe(201);
  });
});
