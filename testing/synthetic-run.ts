// A deterministic synthetic run for report tests and the benchmark: real HDR histograms (microseconds,
// encodeIntoCompressedBase64) per second, with a latency spike, a pod kill, a database failover and a
// rollout, plus the events a real run writes around them. Not a mock of any process: it is the data the
// reports read, built the way the load generator and the actions would write it.
import * as hdr from 'hdr-histogram-js';
import type { LoadRecord, TimelineEvent, TimelineRecord } from '../contract/timeline.ts';
import type { Verdict } from '../verifiers/types.ts';
import type { ReportInput } from '../reports/types.ts';

export interface SyntheticOptions {
  startMs?: number;
  durationS?: number;
  /** Requests per second outside the spike. */
  rps?: number;
  seed?: number;
}

/** Moments of the story, in ms, so tests can check that charts and tables line up with them. */
export interface SyntheticMoments {
  spike: { from: number; to: number };
  kill: number;
  failover: number;
  rollout: { from: number; to: number };
}

export interface SyntheticRun {
  startMs: number;
  endMs: number;
  records: TimelineRecord[];
  moments: SyntheticMoments;
}

/** mulberry32: small, seedable, good enough for test data. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export function syntheticRun(options: SyntheticOptions = {}): SyntheticRun {
  const startMs = options.startMs ?? Date.UTC(2026, 0, 15, 10, 0, 0);
  const durationS = options.durationS ?? 120;
  const rps = options.rps ?? 50;
  const rand = random(options.seed ?? 42);
  const at = (fraction: number) => startMs + Math.round(durationS * fraction) * 1000;
  const endMs = startMs + durationS * 1000;
  const moments: SyntheticMoments = {
    spike: { from: at(0.4), to: at(0.5) },
    kill: at(0.55),
    failover: at(0.65),
    rollout: { from: at(0.8), to: at(0.92) },
  };

  const events: TimelineEvent[] = [];
  const event = (t: number, source: string, type: TimelineEvent['type'], data: unknown) =>
    events.push({ kind: 'event', t, source, type, data } as TimelineEvent);
  const phase = (name: string, from: number, to: number) => {
    event(from, 'suite', 'phase', { step: 'resilience', name, state: 'start' });
    event(to, 'suite', 'phase', { step: 'resilience', name, state: 'end' });
  };

  event(startMs, 'suite', 'run.start', { runId: 'synthetic', cluster: 'local', profile: 'ci', steps: ['resilience'] });
  event(startMs, 'suite', 'step.start', { step: 'resilience', scenario: 'mixed', durationS });
  event(startMs, 'cluster', 'replicas', { desired: 3, ready: 3 });
  for (const member of ['pg-0', 'pg-1', 'pg-2']) event(startMs, 'db', 'db.role', { member, role: member === 'pg-0' ? 'primary' : 'replica' });
  phase('ramp', startMs, at(0.1));
  phase('steady', at(0.1), moments.spike.from);
  phase('spike', moments.spike.from, moments.spike.to);
  phase('chaos', moments.spike.to, moments.rollout.from);
  phase('rollout', moments.rollout.from, endMs);

  // The autoscaler answers the spike late and scales back after it.
  event(moments.spike.from + 5000, 'cluster', 'replicas', { desired: 5, ready: 3 });
  event(moments.spike.from + 9000, 'cluster', 'replicas', { desired: 5, ready: 5 });
  event(moments.spike.to + 4000, 'cluster', 'replicas', { desired: 3, ready: 3 });

  event(moments.kill, 'suite', 'action.start', { action: 'kill', detail: { pod: 'app-2' } });
  event(moments.kill + 50, 'cluster', 'pod.stop', { pod: 'app-2', reason: 'killed', exitCode: 137 });
  event(moments.kill + 100, 'cluster', 'replicas', { desired: 3, ready: 2 });
  event(moments.kill + 1500, 'cluster', 'pod.start', { pod: 'app-4', version: 'v1' });
  event(moments.kill + 3000, 'cluster', 'pod.ready', { pod: 'app-4', version: 'v1' });
  event(moments.kill + 3000, 'cluster', 'replicas', { desired: 3, ready: 3 });
  event(moments.kill + 3000, 'suite', 'action.end', { action: 'kill', ok: true });

  event(moments.failover, 'suite', 'action.start', { action: 'failover' });
  event(moments.failover + 200, 'db', 'db.role', { member: 'pg-0', role: 'down' });
  event(moments.failover + 4000, 'db', 'db.role', { member: 'pg-1', role: 'primary' });
  event(moments.failover + 9000, 'db', 'db.role', { member: 'pg-0', role: 'replica' });
  event(moments.failover + 9000, 'suite', 'action.end', { action: 'failover', ok: true });

  const rolloutMs = moments.rollout.to - moments.rollout.from;
  event(moments.rollout.from, 'suite', 'action.start', { action: 'rollout', detail: { version: 'v2' } });
  event(moments.rollout.from, 'cluster', 'rollout', { from: 'v1', to: 'v2', state: 'start', updated: 0, total: 3 });
  for (let i = 1; i <= 3; i += 1) {
    const t = moments.rollout.from + Math.round((rolloutMs * i) / 4);
    event(t - 1000, 'cluster', 'replicas', { desired: 4, ready: 3 });
    event(t, 'cluster', 'replicas', { desired: 3, ready: 3 });
    event(t, 'cluster', 'rollout', { from: 'v1', to: 'v2', state: 'progress', updated: i, total: 3 });
  }
  event(moments.rollout.to, 'cluster', 'rollout', { from: 'v1', to: 'v2', state: 'complete', updated: 3, total: 3 });
  event(moments.rollout.to, 'suite', 'action.end', { action: 'rollout', ok: true });
  event(endMs, 'suite', 'step.end', { step: 'resilience', ok: true });
  event(endMs, 'suite', 'run.end', { status: 'completed' });

  const load: LoadRecord[] = [];
  const histogram = hdr.build();
  const inRange = (t: number, from: number, to: number) => t >= from && t < to;
  for (let second = 0; second < durationS; second += 1) {
    const t = startMs + second * 1000;
    const spike = inRange(t, moments.spike.from, moments.spike.to);
    const killed = inRange(t, moments.kill, moments.kill + 2000);
    const failingOver = inRange(t, moments.failover, moments.failover + 4000);
    const ramp = Math.min(1, (second + 1) / Math.max(1, durationS * 0.1));
    const target = Math.round(rps * (spike ? 3 : 1) * ramp);
    const medianUs = spike ? 90_000 : failingOver ? 150_000 : 18_000;
    histogram.reset();
    let failed = 0;
    const status: Record<string, number> = {};
    const errors: Record<string, number> = {};
    const count = (into: Record<string, number>, key: string) => (into[key] = (into[key] ?? 0) + 1);
    for (let i = 0; i < target; i += 1) {
      // Log-normal latency (sigma 0.5) with a rare slow tail, as real services have.
      const gaussian = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
      const tail = rand() < 0.005 ? 8 : 1;
      histogram.recordValue(Math.max(200, Math.round(medianUs * Math.exp(0.5 * gaussian) * tail)));
      const roll = rand();
      if (killed && roll < 0.15) {
        failed += 1;
        count(status, '0');
        count(errors, 'connection reset');
      } else if (failingOver && roll < 0.4) {
        failed += 1;
        count(status, '503');
        count(errors, '5xx');
      } else if (roll < 0.0005) {
        failed += 1;
        count(status, '0');
        count(errors, 'timeout');
      } else {
        count(status, '200');
      }
    }
    const rolledOut = Math.max(0, Math.min(1, (t - moments.rollout.from) / rolloutMs));
    const v2 = Math.round(target * rolledOut);
    const versions: Record<string, number> = {};
    if (target - v2 > 0) versions.v1 = target - v2;
    if (v2 > 0) versions.v2 = v2;
    load.push({
      kind: 'load', t, source: 'k6-0', step: 'resilience', requests: target, failed, status, errors,
      latencyUs: hdr.encodeIntoCompressedBase64(histogram),
      byName: { 'GET /orders': { requests: target, failed } },
      versions, instances: { 'app-1': Math.ceil(target / 2), 'app-3': Math.floor(target / 2) },
      iterations: target, dropped: spike && second % 7 === 0 ? 2 : 0, targetRate: rps * (spike ? 3 : 1) * ramp,
    });
  }
  histogram.destroy();
  const records = [...load, ...events].sort((a, b) => a.t - b.t);
  return { startMs, endMs, records, moments };
}

const HOSTILE = `<script>alert("x&y")</script> ]]> & 'quoted' | *bold* [link](http://example.invalid)`;

/** Verdicts covering pass, fail and invalid, windows and notes; `hostile` puts markup in every text field. */
export function syntheticVerdicts(run: SyntheticRun, hostile = false): Verdict[] {
  const whole = { from: run.startMs, to: run.endMs, label: 'whole run' };
  const verdicts: Verdict[] = [
    {
      id: 'latency.p95', slo: 'p95 latency < 200 ms', status: 'pass', measured: 41.3,
      threshold: { op: '<', value: 200, unit: 'ms' }, window: whole,
      evidence: { samples: 6000, notes: ['client p95 41.3 ms, server p95 38.9 ms'] },
    },
    {
      id: 'latency.p95.phase.spike', slo: 'p95 latency during the spike < 150 ms', status: 'fail', measured: 212.7,
      threshold: { op: '<', value: 150, unit: 'ms' }, window: { ...run.moments.spike, label: 'spike' },
      evidence: { samples: 1800, notes: ['worst second p99 480 ms at +52s', 'replicas desired 5 at +53s, ready at +57s'] },
      reason: 'p95 212.7 ms during the spike is over 150 ms',
    },
    {
      id: 'errors.rate', slo: 'error rate < 1 %', status: 'pass', measured: 0.62,
      threshold: { op: '<', value: 1, unit: '%' }, window: whole,
      evidence: { samples: 6000, notes: [] },
    },
    {
      id: 'kill.recovery', slo: 'ready again within 30 s of a pod kill', status: 'pass', measured: 3,
      threshold: { op: '<=', value: 30, unit: 's' }, window: { from: run.moments.kill, to: run.moments.kill + 3000, label: 'kill' },
      evidence: { samples: 1, notes: ['app-2 killed, app-4 ready 3 s later'] },
    },
    {
      id: 'failover.recovery', slo: 'writes succeed again within 3 s of a failover', status: 'fail', measured: 4.2,
      threshold: { op: '<=', value: 3, unit: 's' }, window: { from: run.moments.failover, to: run.moments.failover + 9000, label: 'failover' },
      evidence: { samples: 220, notes: ['pg-0 down at +78s', 'pg-1 primary 3.8 s later', 'first successful write 4.2 s after the failover'] },
      reason: 'writes failed for 4.2 s, more than 3 s',
    },
    {
      id: 'failover.durability', slo: 'no acknowledged write lost', status: 'invalid', measured: null,
      threshold: { op: '==', value: 0, unit: 'writes' }, window: whole,
      evidence: { samples: 0, notes: [] },
      reason: 'no writes.audit event in the timeline',
    },
    {
      id: 'rollout.errors', slo: 'no failed request during the rollout', status: 'pass', measured: 0,
      threshold: { op: '==', value: 0, unit: 'requests' }, window: { ...run.moments.rollout, label: 'rollout' },
      evidence: { samples: 700, notes: ['v1 to v2 over 3 pods'] },
    },
  ];
  if (!hostile) return verdicts;
  return verdicts.map((verdict) => ({
    ...verdict,
    slo: `${verdict.slo} ${HOSTILE}`,
    window: { ...verdict.window, label: `${verdict.window.label} ${HOSTILE}` },
    evidence: { ...verdict.evidence, notes: [...verdict.evidence.notes, HOSTILE] },
    ...(verdict.status === 'pass' ? {} : { reason: `${verdict.reason ?? ''} ${HOSTILE}` }),
  }));
}

export function syntheticReportInput(options: SyntheticOptions & { hostile?: boolean } = {}): ReportInput {
  const run = syntheticRun(options);
  const verdicts = syntheticVerdicts(run, options.hostile);
  const hostile = options.hostile ? ` ${HOSTILE}` : '';
  return {
    run: {
      id: `run-synthetic${hostile}`, cluster: `local${hostile}`, profile: 'ci', startedAt: run.startMs, endedAt: run.endMs,
      status: 'completed', harnessVersion: '0.1.0', steps: ['resilience'],
    },
    judgement: { status: verdicts.some((v) => v.status === 'fail') ? 'fail' : 'pass', verdicts },
    records: run.records,
    baseline: {
      runId: `run-baseline${hostile}`,
      regressions: [{ id: 'latency.p95.phase.spike', measured: 212.7, baseline: 140.2, changePercent: 51.7 }],
    },
  };
}

export { HOSTILE };
