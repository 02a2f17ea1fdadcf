// The k6 engine through the real runner (runLoad) against a real HTTP server on loopback (the stand-in service)
// and a FAKE k6 (testing/fake-k6/): k6 is AGPL-3.0 and never runs here. The fake writes what k6 v1.x writes
// (CSV samples into the engine's FIFO, JSON log lines on stderr, k6's exit codes) and sends real requests, so
// these tests check what the engine counts against what the server saw. Each run is 1-4 s of load.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eventsOf, loadRecords, TIMELINE_FILE } from '../../contract/timeline.ts';
import { readTimeline, TimelineWriter } from '../../harness/timeline-file.ts';
import sustained from '../../scenarios/sustained.ts';
import { resolveScenarioDefinition, type ResolvedScenario, type ScenarioParams } from '../../scenarios/lib/scenario.ts';
import { installFakeK6, type FakeK6Options } from '../../testing/fake-k6/install.ts';
import { startStandInService, type StandInOptions, type StandInService } from '../../testing/stand-in-service.ts';
import type { StepLoad } from '../engine.ts';
import { runLoad, type LoadResult } from '../run-load.ts';
import { K6Engine, K6_ENTRY } from './engine.ts';
import { locateK6 } from './locate.ts';

const slo = { p95Ms: 500, errorRatePercent: 1 };
const services: StandInService[] = [];

/** Fake k6 processes started by this test process (the engine spawns k6 as our direct child; `nice` and the wrapper exec). */
function fakeK6Children(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-f', 'fake-k6'], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

afterEach(() => {
  // Whatever a test did, no k6 (fake) may be left behind.
  expect(fakeK6Children()).toEqual([]);
});

afterAll(async () => {
  for (const pid of fakeK6Children()) process.kill(pid, 'SIGKILL');
  await Promise.all(services.map((s) => s.close()));
});

async function service(options: StandInOptions = {}): Promise<StandInService> {
  const s = await startStandInService(options);
  services.push(s);
  return s;
}

function sustainedAt(rate: number, durationS: number, mix: Partial<Pick<ScenarioParams, 'weights' | 'cpuMs'>> = {}): ResolvedScenario {
  return resolveScenarioDefinition(sustained, {
    rateBase: rate, ratePeak: rate, durationS, timeScale: 1, weights: mix.weights ?? { read: 60, write: 30, cpu: 10 }, cpuMs: mix.cpuMs ?? 5,
  });
}

interface Run {
  result: LoadResult;
  runDir: string;
  /** The plan's t=0 as the runner took it. */
  startedAt: number | null;
  elapsedMs: number;
  records: () => ReturnType<typeof readTimeline>;
}

async function runFake(fake: FakeK6Options, server: { baseUrl: string }, load: Partial<StepLoad>, signal?: AbortSignal): Promise<Run> {
  const { path } = installFakeK6(fake);
  const runDir = mkdtempSync(join(tmpdir(), 'slo-k6-run-'));
  const timeline = new TimelineWriter(join(runDir, TIMELINE_FILE));
  const engine = new K6Engine({ locate: async () => path, killGraceMs: 3000 });
  const step: StepLoad = { step: 'test', scenario: null, startAtMs: Date.now(), runDir, slo, ...load };
  let startedAt = null as number | null;
  const began = Date.now();
  const result = await runLoad(engine, step, { baseUrl: server.baseUrl }, { timeline, ...(signal ? { signal } : {}), onStart: (at) => { startedAt = at; } });
  return { result, runDir, startedAt, elapsedMs: Date.now() - began, records: () => readTimeline(join(runDir, TIMELINE_FILE)) };
}

const phaseEvents = (run: Run) => eventsOf(run.records(), 'phase').map((e) => `${e.data.name}:${e.data.state}`);
const loadgenEvents = (run: Run) => eventsOf(run.records(), 'loadgen').map((e) => e.data.state);

describe('the k6 engine, against a fake k6 v1.x', () => {
  it('is found by locateK6 (a k6 v1.x version line)', async () => {
    const { dir, path } = installFakeK6();
    expect(await locateK6(dir)).toBe(path);
  });

  it('counts the requests the server answered, audits the orders it acknowledged, and takes t=0 and phases from the plan announcement', async () => {
    const server = await service({ version: 'v7', instanceId: 'pod-a' });
    const run = await runFake({}, server, { scenario: sustainedAt(20, 3) });

    expect(run.result.reason).toBeUndefined();
    expect(run.result.status).toBe('completed');
    const served = server.counts();
    expect(served.total).toBeGreaterThan(45);
    expect(run.result.requests).toBe(served.total);

    const records = loadRecords(run.records());
    expect(records.reduce((n, r) => n + r.requests, 0)).toBe(served.total);
    records.slice(1).forEach((r, i) => expect(r.t - (records[i] as (typeof records)[number]).t).toBe(1000));
    const byName: Record<string, number> = {};
    for (const r of records) for (const [name, c] of Object.entries(r.byName)) byName[name] = (byName[name] ?? 0) + c.requests;
    expect(byName).toEqual(served.byName);
    expect(records.reduce((n, r) => n + r.failed, 0)).toBe(0);
    expect(records.reduce((n, r) => n + (r.versions.v7 ?? 0), 0)).toBe(served.total);
    expect(records.reduce((n, r) => n + (r.instances['pod-a'] ?? 0), 0)).toBe(served.total);
    expect(records.reduce((n, r) => n + r.iterations, 0)).toBe(served.total);
    expect(records.some((r) => r.targetRate === 20)).toBe(true);

    // Every order the service stored was acknowledged to the runner, in the result and in the run folder.
    expect(server.orderIds().length).toBeGreaterThan(0);
    expect([...run.result.ackedOrderIds].sort()).toEqual(server.orderIds().sort());
    const file = readFileSync(join(run.runDir, 'acked-orders-test.txt'), 'utf8').split('\n').filter(Boolean);
    expect(file.sort()).toEqual([...run.result.ackedOrderIds].sort());

    expect(phaseEvents(run)).toEqual(['steady:start', 'steady:end']);
    const [start, end] = eventsOf(run.records(), 'phase');
    expect(start?.t).toBe(run.startedAt);
    expect((end?.t ?? 0) - (start?.t ?? 0)).toBe(3000);
  });

  it('takes t=0 from the announcement even when vus rows come first (VU initialisation before setup)', async () => {
    const server = await service();
    const began = Date.now();
    const run = await runFake({ initMs: 1600 }, server, { scenario: sustainedAt(10, 2) });
    expect(run.result.status).toBe('completed');
    // A vus row stamped ~1 s after k6 started reached the runner before the announcement; t=0 is not it.
    expect(run.startedAt).toBeGreaterThanOrEqual(began + 1600);
    expect(phaseEvents(run)).toEqual(['steady:start', 'steady:end']);
    expect(run.result.requests).toBe(server.counts().total);
  });

  it('treats exit 99 (k6 thresholds failed) as a normal end: the harness judges SLOs itself', async () => {
    const server = await service();
    const run = await runFake({ mode: 'thresholds' }, server, { scenario: sustainedAt(10, 1.5) });
    expect(run.result.reason).toBeUndefined();
    expect(run.result.status).toBe('completed');
    expect(run.result.requests).toBe(server.counts().total);
    expect(loadgenEvents(run)).toEqual([]);
  });

  it.each([
    ['crash', /k6 exited with code 107: .*panic: runtime error/],
    ['malformed', /malformed k6 output/],
    ['no-output', /k6 reported no samples/],
  ] as const)('reports a k6 that goes wrong (%s) as aborted, with a loadgen event, and leaves no k6 behind', async (mode, reason) => {
    const server = await service();
    const run = await runFake({ mode }, server, { scenario: sustainedAt(20, 20) });
    expect(run.result.status).toBe('aborted');
    expect(run.result.reason).toMatch(reason);
    expect(loadgenEvents(run)).toEqual(['aborted']);
    expect(run.elapsedMs).toBeLessThan(8000);
    expect(fakeK6Children()).toEqual([]);
  });

  it('stops k6 promptly when the abort signal fires, and closes the open phase', async () => {
    const server = await service();
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('Ctrl-C')), 1500);
    const run = await runFake({}, server, { scenario: sustainedAt(10, 30) }, controller.signal);
    expect(run.elapsedMs).toBeLessThan(6000);
    expect(run.result.status).toBe('aborted');
    expect(run.result.reason).toMatch(/interrupted: .*Ctrl-C/);
    expect(run.result.requests).toBeGreaterThan(0);
    expect(loadgenEvents(run)).toEqual(['aborted']);
    expect(phaseEvents(run)).toEqual(['steady:start', 'steady:end']);
  });

  it('marks the run invalid (saturated) when k6 runs out of VUs (MAX_VUS) against a slow endpoint', async () => {
    const server = await service({ readDelayMs: 500 });
    // One VU at ~2 iterations/s cannot make 20/s: k6 drops the rest.
    const run = await runFake({}, server, { scenario: sustainedAt(20, 10, { weights: { read: 100, write: 0, cpu: 0 } }), workerCap: 1 });
    expect(run.result.status).toBe('invalid');
    expect(run.result.reason).toMatch(/dropped \d+ iterations/);
    expect(loadgenEvents(run)).toEqual(['saturated']);
    expect(loadRecords(run.records()).reduce((n, r) => n + r.dropped, 0)).toBeGreaterThan(5);
    expect(run.elapsedMs).toBeLessThan(8000);
  });

  it("runs a user's own script: its options read with `k6 inspect`, its first sample as t=0, no phases", async () => {
    const server = await service();
    const dir = mkdtempSync(join(tmpdir(), 'slo-user-script-'));
    const script = join(dir, 'mine.k6.ts');
    writeFileSync(script, [
      "import http from 'k6/http';",
      "export const options = { scenarios: { mine: { executor: 'constant-arrival-rate', rate: 15, timeUnit: '1s', duration: '2s', preAllocatedVUs: 2, maxVUs: 10 } } };",
      'export default function () { http.get(`${__ENV.BASE_URL}/api/items/1`); }',
    ].join('\n'));
    // The fake cannot execute a k6 script: the sidecar says what the script resolves to and sends.
    writeFileSync(`${script}.options.json`, JSON.stringify({
      options: { scenarios: { mine: { executor: 'constant-arrival-rate', rate: 15, timeUnit: '1s', duration: '2s', preAllocatedVUs: 2, maxVUs: 10 } } },
      requests: [{ method: 'GET', path: '/api/items/1' }],
    }));
    const recordFile = join(dir, 'invocations.jsonl');
    const run = await runFake({ record: recordFile }, server, { script });

    expect(run.result.reason).toBeUndefined();
    expect(run.result.status).toBe('completed');
    expect(run.result.requests).toBe(server.counts().total);
    expect(run.result.requests).toBeGreaterThanOrEqual(25);
    const records = loadRecords(run.records());
    expect(Object.keys(records.find((r) => r.requests > 0)?.byName ?? {})).toEqual([`${server.baseUrl}/api/items/1`]);
    expect(records.some((r) => (r.targetRate ?? 0) > 10)).toBe(true); // the asked rate, from the script's own options
    expect(Math.floor((run.startedAt ?? 0) / 1000) * 1000).toBe(records[0]?.t);
    expect(eventsOf(run.records(), 'phase')).toEqual([]);
    expect(run.result.ackedOrderIds).toEqual([]);

    const invocations = readFileSync(recordFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { argv: string[]; env: Record<string, string> });
    expect(invocations.map((i) => i.argv[0])).toEqual(['inspect', 'run']);
    expect(invocations[0]?.argv).toEqual(['inspect', '--execution-requirements', '--include-system-env-vars', script]);
    expect(invocations[1]?.argv.at(-1)).toBe(script);
    // k6 runs with a clean environment: nothing of the caller's but PATH and HOME.
    expect(Object.keys(invocations[1]?.env ?? {}).filter((k) => !k.startsWith('K6_')).sort()).toEqual(['BASE_URL', 'HOME', 'PATH', 'SLO_THRESHOLDS']);
  });

  it('runs the generic entry script for a declared scenario (never the scenario module itself)', async () => {
    const server = await service();
    const dir = mkdtempSync(join(tmpdir(), 'slo-entry-'));
    const recordFile = join(dir, 'invocations.jsonl');
    await runFake({ mode: 'no-output', record: recordFile }, server, { scenario: sustainedAt(10, 1), workerCap: 7 });
    const [invocation] = readFileSync(recordFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { argv: string[]; env: Record<string, string> });
    expect(invocation?.argv).toContain(K6_ENTRY);
    expect(invocation?.argv).toContain('--system-tags=status,name,error_code,expected_response,check');
    expect(invocation?.env).toMatchObject({ MAX_VUS: '7', K6_CSV_TIME_FORMAT: 'unix_milli', BASE_URL: server.baseUrl });
    expect(JSON.parse(invocation?.env.SLO_SCENARIO ?? '{}')).toMatchObject({ name: 'sustained', plan: { startRate: 10 } });
  });
});
