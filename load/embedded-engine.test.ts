// The TypeScript side of the embedded engine's protocol (load/embedded/PROTOCOL.md): result lines into
// samples, and the plan the Go program is given. The program itself is tested in Go (load/embedded) and,
// against the real reference service, in tests/load-reference.test.ts.
import { describe, expect, it } from 'vitest';
import { resolveScenarioDefinition } from '../scenarios/lib/scenario.ts';
import spike from '../scenarios/spike.ts';
import { LoadAggregator } from './aggregator.ts';
import { applyLine, embeddedPlan, LATE_TOLERANCE_MS, workerCapFor } from './embedded-engine.ts';
import type { EngineOutput } from './engine.ts';

function outputs() {
  const sink = new LoadAggregator({ source: 'embedded' });
  const seen = { started: [] as number[], acked: [] as string[] };
  const out: EngineOutput = { sink, started: (t) => seen.started.push(t), planned: () => undefined, acked: (id) => seen.acked.push(id), log: () => undefined };
  return { sink, seen, out };
}

const T0 = 1_796_000_000_000;

describe('embedded engine protocol', () => {
  it('turns result, ack, drop and start lines into samples and outputs', () => {
    const { sink, seen, out } = outputs();
    expect(applyLine(`start\t${T0}`, out)).toEqual({});
    applyLine(`r\t${T0 + 5}\t12500\t201\tPOST /api/orders\t-\t1.0.0\tpod-a`, out);
    applyLine(`r\t${T0 + 9}\t5000000\t0\tGET /api/items/:id\ttimeout\t-\t-`, out);
    applyLine('a\t42', out);
    applyLine(`d\t${T0}\t3`, out);
    expect(applyLine('end\t{"requests":2,"dropped":3,"stopped":"completed"}', out)).toEqual({ end: { requests: 2, dropped: 3, stopped: 'completed' } });
    expect(seen).toEqual({ started: [T0], acked: ['42'] });
    const [record] = sink.closeAll().map((c) => c.record);
    expect(record).toMatchObject({
      requests: 2, failed: 1, iterations: 2, dropped: 3, status: { 201: 1, 0: 1 }, errors: { timeout: 1 },
      versions: { '1.0.0': 1 }, instances: { 'pod-a': 1 },
      byName: { 'POST /api/orders': { requests: 1, failed: 0 }, 'GET /api/items/:id': { requests: 1, failed: 1 } },
    });
  });

  it('reports a line it does not understand as malformed, never guesses', () => {
    const { out } = outputs();
    expect(applyLine('r\t1\t2\t200\tonly five', out)).toEqual({ malformed: 'r\t1\t2\t200\tonly five' });
    expect(applyLine('x\tunknown', out)).toEqual({ malformed: 'x\tunknown' });
    expect(applyLine('end\tnot json', out)).toEqual({ malformed: 'end\tnot json' });
    expect(applyLine('', out)).toEqual({});
  });

  it('asks for the declared plan and mix, with a worker cap covering a whole timeout at the peak', () => {
    const scenario = resolveScenarioDefinition(spike, { rateBase: 20, ratePeak: 200, durationS: 60, timeScale: 1, weights: { read: 1, write: 1, cpu: 0 }, cpuMs: 0 });
    const plan = embeddedPlan({ step: 's', scenario, startAtMs: T0, runDir: '/tmp', slo: { p95Ms: 200, errorRatePercent: 1 } }, { baseUrl: 'http://127.0.0.1:9/' }, scenario);
    expect(plan).toMatchObject({ baseUrl: 'http://127.0.0.1:9', startAtMs: T0, startRate: 20, timeoutS: 5, maxWorkers: 1000, lateToleranceMs: LATE_TOLERANCE_MS });
    expect(plan.stages).toEqual(scenario.plan.stages);
    expect(plan.requests.map((r) => r.name)).toEqual(['GET /api/items/:id', 'POST /api/orders']);
    expect(workerCapFor(1)).toBe(20);
  });
});
