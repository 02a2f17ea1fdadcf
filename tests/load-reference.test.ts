// The embedded load engine (the built Go program on vegeta), through the harness's runner, against the real
// reference service and a real PostgreSQL on loopback: what the engine counted must equal what the service
// counted, the ids it acknowledged must be exactly the rows committed, a slow endpoint must make the p95
// verdict fail, a server frozen for a second must show in the latency of the requests scheduled meanwhile,
// and an abort must stop the engine at once. The judging goes through the verifiers, exactly as `slo run`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedEngine } from '../load/embedded-engine.ts';
import { ensureEmbeddedEngine } from '../load/embedded-build.ts';
import { runLoad, type LoadResult } from '../load/run-load.ts';
import { resolveStepScenario } from '../load/scenarios.ts';
import { decodeHistogram } from '../contract/histogram.ts';
import { RUN_FILES } from '../contract/names.ts';
import { TIMELINE_FILE, eventsOf, loadRecords, type TimelineRecord } from '../contract/timeline.ts';
import { readTimeline, TimelineWriter } from '../harness/timeline-file.ts';
import { verify } from '../verifiers/index.ts';
import { specFromYaml } from '../testing/spec.ts';
import { startPostgres, type PostgresHandle } from '../testing/postgres.ts';
import { startServer, type ServerProcess } from '../reference-app/test/spawn-server.ts';
import { find, parsePrometheusText } from '../reference-app/test/prom-text.ts';

const work = mkdtempSync(join(tmpdir(), 'slo-load-ref-'));
let postgres: PostgresHandle;
let server: ServerProcess;
let engine: EmbeddedEngine;

beforeAll(async () => {
  engine = new EmbeddedEngine({ binary: await ensureEmbeddedEngine() });
  postgres = await startPostgres();
  server = await startServer({ DATABASE_URL: postgres.url, APP_VERSION: '2.3.4', INSTANCE_ID: 'ref-0', DRAIN_DELAY_MS: '0' });
}, 120_000);

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

async function orderIds(): Promise<Set<string>> {
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>('SELECT id::text AS id FROM orders');
    return new Set(rows.map((row) => row.id));
  } finally {
    await client.end();
  }
}

interface Drive {
  records: TimelineRecord[];
  result: LoadResult;
  runDir: string;
}

async function drive(step: string, settings: { durationS: number; rate: number; weights: { read: number; write: number; cpu: number }; cpuMs: number }, options: { signal?: AbortSignal; during?: (startMs: number) => void } = {}): Promise<Drive> {
  const runDir = join(work, step);
  mkdirSync(runDir, { recursive: true });
  const timeline = new TimelineWriter(join(runDir, TIMELINE_FILE));
  timeline.event('run.start', 'test', { runId: step, cluster: 'none', profile: 'full', steps: [step] });
  timeline.event('step.start', 'test', { step, scenario: 'sustained', durationS: settings.durationS });
  const scenario = await resolveStepScenario('sustained', { rateBase: settings.rate, ratePeak: settings.rate, durationS: settings.durationS, timeScale: 1, weights: settings.weights, cpuMs: settings.cpuMs });
  const result = await runLoad(engine, { step, scenario, startAtMs: Date.now() + 300, runDir, slo: { p95Ms: 200, errorRatePercent: 1 } }, { baseUrl: server.baseUrl }, {
    timeline, ...(options.signal ? { signal: options.signal } : {}), ...(options.during ? { onStart: options.during } : {}),
  });
  timeline.event('step.end', 'test', { step, ok: result.status === 'completed' });
  timeline.event('run.end', 'test', { status: result.status });
  return { records: readTimeline(join(runDir, TIMELINE_FILE)), result, runDir };
}

const spec = specFromYaml('version: 1\nslos:\n  observability: { traces: false, metrics: false, logs: false }\n');

describe('the embedded engine against the reference service', () => {
  it('counts exactly the requests the service counted; its acknowledged ids are exactly the rows committed', async () => {
    const before = await apiRequestsCounted();
    const ordersBefore = await orderIds();
    const { records, result, runDir } = await drive('mix', { durationS: 8, rate: 40, weights: { read: 60, write: 30, cpu: 10 }, cpuMs: 5 });
    expect(result.status, result.reason).toBe('completed');
    const after = await apiRequestsCounted();
    expect(result.requests).toBe(320);
    expect(after - before).toBe(result.requests);
    const load = loadRecords(records);
    expect(load.reduce((sum, r) => sum + r.requests, 0)).toBe(result.requests);
    expect(load.reduce((sum, r) => sum + (r.versions['2.3.4'] ?? 0), 0)).toBe(result.requests);
    expect(load.reduce((sum, r) => sum + (r.instances['ref-0'] ?? 0), 0)).toBe(result.requests);

    const committed = [...(await orderIds())].filter((id) => !ordersBefore.has(id)).sort();
    const acked = readFileSync(join(runDir, RUN_FILES.ackedOrders('mix')), 'utf8').trim().split('\n').sort();
    expect(acked.length).toBeGreaterThan(50);
    expect(acked).toEqual(committed);
    expect(result.ackedOrderIds.slice().sort()).toEqual(committed);

    const judgement = verify(records, spec);
    expect(judgement.verdicts.find((v) => v.id === 'latency.p95')?.status).toBe('pass');
    expect(judgement.verdicts.find((v) => v.id === 'errorRate.overall')?.status).toBe('pass');
  }, 90_000);

  it('a deliberately slow endpoint makes the p95 verdict fail', async () => {
    const { records, result } = await drive('slow', { durationS: 6, rate: 4, weights: { read: 0, write: 0, cpu: 100 }, cpuMs: 250 });
    expect(result.status, result.reason).toBe('completed');
    const p95 = verify(records, spec).verdicts.find((v) => v.id === 'latency.p95');
    expect(p95?.status).toBe('fail');
    expect(p95?.measured).toBeGreaterThan(200);
  }, 90_000);

  it('a server frozen for 1 s shows the stall in the latency of the requests scheduled during it', async () => {
    const pid = server.child.pid!;
    const { records, result } = await drive('stall', { durationS: 6, rate: 50, weights: { read: 100, write: 0, cpu: 0 }, cpuMs: 0 }, {
      during: (startMs) => {
        // Freeze the whole service process from t=2 s to t=3 s of the plan.
        setTimeout(() => {
          process.kill(pid, 'SIGSTOP');
          setTimeout(() => process.kill(pid, 'SIGCONT'), 1000);
        }, Math.max(0, startMs + 2000 - Date.now()));
      },
    });
    expect(result.status, result.reason).toBe('completed');
    const start = eventsOf(records, 'phase')[0]!.t;
    const second = (k: number) => loadRecords(records).find((r) => r.t === Math.floor((start + k * 1000) / 1000) * 1000);
    // A second with no record (a busy machine can shift the plan's start across a second boundary) has no max.
    const maxMs = (k: number) => { const r = second(k); return r ? decodeHistogram(r.latencyUs).maxValue / 1000 : 0; };
    // Requests scheduled in the frozen second waited for it: the first of them close to the whole second.
    const frozen = Math.max(maxMs(1), maxMs(2), maxMs(3));
    expect(frozen).toBeGreaterThan(800);
    expect(maxMs(0)).toBeLessThan(200);
    // None was hidden: every arrival of the plan was sent and counted (coordinated omission would drop them).
    expect(result.requests).toBe(300);
  }, 60_000);

  it('an abort mid-run stops the engine at once: status aborted, a loadgen event, no engine process left', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('test abort')), 2500);
    const started = Date.now();
    const { records, result, runDir } = await drive('abort', { durationS: 30, rate: 20, weights: { read: 100, write: 0, cpu: 0 }, cpuMs: 0 }, { signal: controller.signal });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.status).toBe('aborted');
    expect(eventsOf(records, 'loadgen').map((e) => e.data.state)).toEqual(['aborted']);
    await sleep(200);
    const left = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).split('\n').filter((line) => line.includes(join(runDir, 'load-abort.plan.json')) && !line.includes('ps -eo'));
    expect(left).toEqual([]);
  }, 60_000);
});
