// The one abort behaviour of the adapters' waits: sleep resolves early and never rejects; waitFor turns an
// abort into SLO_ERR_RUN_ABORTED and a timeout into SLO_ERR_ENV_TIMEOUT.
import { describe, expect, it } from 'vitest';
import { sleep, waitFor } from './wait.ts';

describe('sleep', () => {
  it('resolves early, without rejecting, when the signal aborts (whatever the reason given)', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('received SIGINT')), 20);
    await expect(sleep(5_000, controller.signal)).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(sleep(5_000, controller.signal)).resolves.toBeUndefined(); // already aborted: at once
  });

  it('sleeps the whole time without a signal', async () => {
    const started = Date.now();
    await sleep(50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });
});

describe('waitFor', () => {
  it('returns the first value the probe gives', async () => {
    let calls = 0;
    await expect(waitFor(async () => (++calls === 3 ? 'up' : undefined), { what: 'x', timeoutMs: 1_000, intervalMs: 1 })).resolves.toBe('up');
  });

  it('throws SLO_ERR_RUN_ABORTED when the run is aborted, SLO_ERR_ENV_TIMEOUT with the hint after the timeout', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    await expect(waitFor(async () => undefined, { what: 'primary', timeoutMs: 10_000, signal: controller.signal }))
      .rejects.toMatchObject({ code: 'SLO_ERR_RUN_ABORTED', message: 'aborted while waiting for primary' });
    await expect(waitFor(async () => undefined, { what: 'primary', timeoutMs: 30, intervalMs: 5, hint: 'see db/logs' }))
      .rejects.toMatchObject({ code: 'SLO_ERR_ENV_TIMEOUT', message: 'no primary after 0 s', hint: 'see db/logs' });
  });

  it('ends at once when failFast or the probe throws', async () => {
    const failFast = () => {
      throw new Error('etcd exited');
    };
    await expect(waitFor(async () => undefined, { what: 'x', timeoutMs: 10_000, failFast })).rejects.toThrow('etcd exited');
    await expect(waitFor(async () => Promise.reject(new Error('boom')), { what: 'x', timeoutMs: 10_000 })).rejects.toThrow('boom');
  });
});
