// Real k6, through the harness's runner, against the real reference service and a real PostgreSQL on
// loopback: what k6 counted must equal what the service counted, and a slow endpoint must make the p95
// verdict fail. The judging goes through the verifiers, exactly as `slo run` does.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureK6 } from '../load/k6/locate.ts';
import { runK6 } from '../load/k6/engine.ts';
import { parseSpec } from '../harness/spec-file.ts';
import { TIMELINE_FILE, type TimelineRecord } from '../contract/timeline.ts';
import { readTimeline, TimelineWriter } from '../harness/timeline-file.ts';
import { verify } from '../verifiers/index.ts';
import { startPostgres, type PostgresHandle } from '../testing/postgres.ts';
import { startServer, type ServerProcess } from '../reference-app/test/spawn-server.ts';
import { find, parsePrometheusText } from '../reference-app/test/prom-text.ts';

const SCENARIO = resolve(fileURLToPath(new URL('../scenarios/sustained.ts', import.meta.url)));
const work = mkdtempSync(join(tmpdir(), 'slo-load-ref-'));
let postgres: PostgresHandle;
let server: ServerProcess;
let k6: string;

beforeAll(async () => {
  k6 = await ensureK6();
  postgres = await startPostgres();
  server = await startServer({ DATABASE_URL: postgres.url, APP_VERSION: '2.3.4', INSTANCE_ID: 'ref-0', DRAIN_DELAY_MS: '0' });
});

afterAll(async () => {
  await server?.kill();
  await postgres?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Requests the service counted on its API routes (its own /metrics scrapes left out). */
async function apiRequestsCounted(): Promise<number> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  return find(parsePrometheusText(text), 'http_requests_total')
    .filter((sample) => sample.labels['route']?.startsWith('/api/'))
    .reduce((sum, sample) => sum + sample.value, 0);
}

async function drive(step: string, env: Record<string, string>): Promise<{ records: TimelineRecord[]; requests: number }> {
  const runDir = join(work, step);
  mkdirSync(runDir, { recursive: true });
  const timeline = new TimelineWriter(join(runDir, TIMELINE_FILE));
  timeline.event('run.start', 'test', { runId: step, cluster: 'none', profile: 'full', steps: [step] });
  timeline.event('step.start', 'test', { step, scenario: 'sustained', durationS: Number(env['DURATION_S']) });
  const result = await runK6({ k6Path: k6, script: SCENARIO, baseUrl: server.baseUrl, step, env: { TIME_SCALE: '1', ...env }, slo: { p95Ms: 200, errorRatePercent: 1 }, timeline, runDir });
  expect(result.status, result.reason).toBe('completed');
  timeline.event('step.end', 'test', { step, ok: true });
  timeline.event('run.end', 'test', { status: 'completed' });
  return { records: readTimeline(join(runDir, TIMELINE_FILE)), requests: result.requests };
}

const spec = parseSpec('version: 1\nslos:\n  observability: { traces: false, metrics: false, logs: false }\n', '<test>');

describe('k6 against the reference service', () => {
  it('counts exactly the requests the service counted, and a fast mix passes the p95 verdict', async () => {
    const before = await apiRequestsCounted();
    const { records, requests } = await drive('mix', { DURATION_S: '8', RATE_BASE: '20', RATE_PEAK: '20', WEIGHTS: 'read=60,write=30,cpu=10', CPU_MS: '5' });
    const after = await apiRequestsCounted();
    expect(requests).toBeGreaterThan(100);
    expect(after - before).toBe(requests);
    const load = records.filter((r) => r.kind === 'load');
    expect(load.reduce((sum, r) => sum + r.requests, 0)).toBe(requests);
    expect(load.reduce((sum, r) => sum + (r.versions['2.3.4'] ?? 0), 0)).toBe(requests);
    const judgement = verify(records, spec);
    expect(judgement.verdicts.find((v) => v.id === 'latency.p95')?.status).toBe('pass');
    expect(judgement.verdicts.find((v) => v.id === 'errorRate.overall')?.status).toBe('pass');
  }, 90_000);

  it('a deliberately slow endpoint makes the p95 verdict fail', async () => {
    const { records } = await drive('slow', { DURATION_S: '6', RATE_BASE: '4', RATE_PEAK: '4', WEIGHTS: 'read=0,write=0,cpu=100', CPU_MS: '250' });
    const p95 = verify(records, spec).verdicts.find((v) => v.id === 'latency.p95');
    expect(p95?.status).toBe('fail');
    expect(p95?.measured).toBeGreaterThan(200);
  }, 90_000);
});
