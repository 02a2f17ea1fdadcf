// The runner against real k6 and a real HTTP server on loopback (the stand-in service: see its header for
// why not the reference app). Each run is 3-6 s of load.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventsOf, loadRecords, TIMELINE_FILE } from '../../contract/timeline.ts';
import { readTimeline, TimelineWriter } from '../../harness/timeline-file.ts';
import { decodeHistogram, percentileMs } from '../../contract/histogram.ts';
import { ensureK6 } from './locate.ts';
import { runK6, type RunK6Options } from './engine.ts';
import { startStandInService, type StandInService } from '../../testing/stand-in-service.ts';

const SCENARIOS = resolve(import.meta.dirname, '..', 'scenarios');
const slo = { p95Ms: 200, errorRatePercent: 1 };

let k6Path = '';
const services: StandInService[] = [];

beforeAll(async () => {
  k6Path = await ensureK6();
});

afterEach(() => {
  // Whatever a test did, it must not leave a k6 behind.
  expect(k6Children()).toEqual([]);
});

afterAll(async () => {
  for (const pid of k6Children()) process.kill(pid, 'SIGKILL');
  await Promise.all(services.map((s) => s.close()));
});

/** k6 processes started by this test process (execa spawns them as our direct children). */
function k6Children(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-x', 'k6'], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

async function service(options: Parameters<typeof startStandInService>[0] = {}) {
  const s = await startStandInService(options);
  services.push(s);
  return s;
}

function setup(baseUrl: string, script: string, env: Record<string, string>, extra: Partial<RunK6Options> = {}) {
  const runDir = mkdtempSync(join(tmpdir(), 'slo-load-'));
  const timeline = new TimelineWriter(join(runDir, TIMELINE_FILE));
  const options: RunK6Options = { k6Path, script, baseUrl, step: 'test', env, slo, timeline, runDir, ...extra };
  return { runDir, options, records: () => readTimeline(join(runDir, TIMELINE_FILE)) };
}

describe('runK6 with real k6', () => {
  it('counts exactly the requests the server answered, per second, per endpoint, per version', async () => {
    const server = await service({ version: 'v7', instanceId: 'pod-a' });
    const progress: number[] = [];
    const run = setup(server.baseUrl, join(SCENARIOS, 'sustained.ts'),
      { RATE_BASE: '40', DURATION_S: '5', TIME_SCALE: '1', CPU_MS: '5', WEIGHTS: 'read=60,write=30,cpu=10' },
      { onProgress: (p) => progress.push(p.elapsedS) });
    const result = await runK6(run.options);

    expect(result.reason).toBeUndefined();
    expect(result.status).toBe('completed');
    expect(result.k6ExitCode).toBe(0);
    const served = server.counts();
    expect(result.requests).toBe(served.total);
    expect(result.requests).toBeGreaterThan(150);

    const records = loadRecords(run.records());
    expect(records.reduce((n, r) => n + r.requests, 0)).toBe(served.total);
    // Seconds are contiguous and each is written once.
    records.slice(1).forEach((r, i) => expect(r.t - records[i]!.t).toBe(1000));
    const byName: Record<string, number> = {};
    for (const r of records) for (const [name, c] of Object.entries(r.byName)) byName[name] = (byName[name] ?? 0) + c.requests;
    expect(byName).toEqual(served.byName);
    expect(records.reduce((n, r) => n + (r.versions.v7 ?? 0), 0)).toBe(served.total);
    expect(records.reduce((n, r) => n + (r.instances['pod-a'] ?? 0), 0)).toBe(served.total);
    expect(records.reduce((n, r) => n + r.failed, 0)).toBe(0);
    const middle = records.filter((r) => (r.targetRate ?? 0) > 39);
    expect(middle.length).toBeGreaterThanOrEqual(3);

    // Every acknowledged order reached the runner, in the result and in the file.
    expect(new Set(result.ackedOrderIds)).toEqual(new Set(server.orderIds()));
    const file = readFileSync(join(run.runDir, 'acked-orders-test.txt'), 'utf8').split('\n').filter(Boolean);
    expect(file.sort()).toEqual([...result.ackedOrderIds].sort());

    const phases = eventsOf(run.records(), 'phase').map((e) => `${e.data.name}:${e.data.state}`);
    expect(phases).toEqual(['steady:start', 'steady:end']);
    expect(progress.length).toBeGreaterThan(3);
  });

  it('shows a slow endpoint in the per-second latency histograms', async () => {
    const server = await service({ readDelayMs: 300 });
    const run = setup(server.baseUrl, join(SCENARIOS, 'sustained.ts'), { RATE_BASE: '20', DURATION_S: '4', WEIGHTS: 'read=100,write=0,cpu=0' });
    const result = await runK6(run.options);
    expect(result.status).toBe('completed');
    const busy = loadRecords(run.records()).filter((r) => r.requests >= 10);
    expect(busy.length).toBeGreaterThan(0);
    for (const r of busy) {
      const p95 = percentileMs(decodeHistogram(r.latencyUs), 95);
      expect(p95).toBeGreaterThan(200);
      expect(p95).toBeLessThan(1000);
    }
  });

  it('reports aborted, with a loadgen event, when k6 is killed from outside, and leaves no k6 behind', async () => {
    const server = await service();
    const run = setup(server.baseUrl, join(SCENARIOS, 'sustained.ts'), { RATE_BASE: '20', DURATION_S: '30' });
    const pending = runK6(run.options);
    let victims: number[] = [];
    for (let i = 0; i < 60 && victims.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      victims = k6Children();
    }
    await new Promise((r) => setTimeout(r, 2000));
    victims = k6Children();
    expect(victims.length).toBe(1);
    process.kill(victims[0]!, 'SIGKILL');
    const result = await pending;
    expect(result.status).toBe('aborted');
    expect(result.reason).toMatch(/SIGKILL/);
    expect(result.requests).toBeGreaterThan(0);
    const events = eventsOf(run.records(), 'loadgen');
    expect(events.map((e) => e.data.state)).toEqual(['aborted']);
  });

  it('stops k6 (SIGINT, then SIGKILL) when the abort signal fires', async () => {
    const server = await service();
    const controller = new AbortController();
    const run = setup(server.baseUrl, join(SCENARIOS, 'spike.ts'), { RATE_BASE: '10', DURATION_S: '60' }, { signal: controller.signal, killGraceMs: 2000 });
    setTimeout(() => controller.abort(new Error('Ctrl-C')), 3000);
    const started = Date.now();
    const result = await runK6(run.options);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.status).toBe('aborted');
    expect(result.reason).toMatch(/interrupted: .*Ctrl-C/);
    // The phase that was running is closed at the stop.
    const phases = eventsOf(run.records(), 'phase').map((e) => `${e.data.name}:${e.data.state}`);
    expect(phases).toEqual(['steady:start', 'steady:end']);
  });

  it('marks the run invalid when the generator cannot reach the asked rate', async () => {
    const server = await service({ readDelayMs: 300 });
    // 2 VUs x ~3 iterations/s each cannot make 30/s.
    const run = setup(server.baseUrl, join(SCENARIOS, 'sustained.ts'), { RATE_BASE: '30', DURATION_S: '8', WEIGHTS: 'read=100,write=0,cpu=0', PRE_VUS: '1', MAX_VUS: '2' });
    const result = await runK6(run.options);
    expect(result.status).toBe('invalid');
    expect(result.reason).toMatch(/dropped|achieved/);
    expect(eventsOf(run.records(), 'loadgen').map((e) => e.data.state)).toEqual(['saturated']);
  });

  it('runs, records and judges a script the user brings (no plan announcement, no custom tags)', async () => {
    const server = await service();
    const dir = mkdtempSync(join(tmpdir(), 'slo-user-script-'));
    const script = join(dir, 'mine.js');
    writeFileSync(script, [
      "import http from 'k6/http';",
      "export const options = { scenarios: { mine: { executor: 'constant-arrival-rate', rate: 15, timeUnit: '1s', duration: '3s', preAllocatedVUs: 2, maxVUs: 10 } } };",
      'export default function () { http.get(`${__ENV.BASE_URL}/api/items/1`); }',
    ].join('\n'));
    const run = setup(server.baseUrl, script, {});
    const result = await runK6(run.options);
    expect(result.status).toBe('completed');
    expect(result.requests).toBe(server.counts().total);
    const records = loadRecords(run.records());
    expect(Object.keys(records.find((r) => r.requests > 0)!.byName)).toEqual([`${server.baseUrl}/api/items/1`]);
    expect(records.some((r) => (r.targetRate ?? 0) > 10)).toBe(true); // asked rate read from the script's own options
    expect(eventsOf(run.records(), 'phase')).toEqual([]);
    expect(result.ackedOrderIds).toEqual([]);
  });

  it('reports aborted when k6 writes malformed output (a real process standing in for a broken k6)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slo-fake-k6-'));
    const fake = join(dir, 'k6');
    // Answers `inspect` like k6, then writes a CSV header and a garbled sample line to the --out csv= FIFO.
    writeFileSync(fake, [
      '#!/bin/sh',
      'if [ "$1" = inspect ]; then echo \'{"scenarios":{"s":{"executor":"constant-arrival-rate","rate":10,"timeUnit":"1s","duration":"5s"}}}\'; exit 0; fi',
      'for a in "$@"; do case "$a" in csv=*) out="${a#csv=}";; esac; done',
      'exec 3>"$out"',
      'echo "metric_name,timestamp,metric_value,check,error_code,expected_response,name,status,extra_tags,metadata" >&3',
      'echo "http_reqs,not-a-time,1.0,,,true,x,200,," >&3',
      'exec sleep 30',
    ].join('\n'));
    chmodSync(fake, 0o755);
    const run = setup('http://127.0.0.1:9', join(SCENARIOS, 'sustained.ts'), {}, { k6Path: fake, killGraceMs: 500 });
    const started = Date.now();
    const result = await runK6(run.options);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.status).toBe('aborted');
    expect(result.reason).toMatch(/malformed k6 output/);
    expect(eventsOf(run.records(), 'loadgen').map((e) => e.data.state)).toEqual(['aborted']);
  });
});
