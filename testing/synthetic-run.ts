// A deterministic synthetic run for report tests and the benchmark: real HDR histograms (microseconds, the
// timeline's one codec) per second and per request name, a scale action, a latency spike, a pod kill, a
// database failover and a rollout, plus the events a real run writes around them (provenance, the write
// audit, the observability checks). Not a mock of any process: it is the data the reports read, built the
// way the load engine, the cluster adapter and the harness write it, and judged by the real verifiers.
//
// Four outcomes of the same story, one per headline a report can carry:
// - pass: the service rides every disruption within its SLOs;
// - fail: the spike is slow, the kill costs requests, the rollout drops a few, two acknowledged writes are
//   lost and the logs check finds nothing;
// - invalid: the healthy service, but the load generator saturates during the spike and the load stops there
//   (exit code 3);
// - aborted: the healthy service, and Ctrl-C during the failover, before the rollout (exit code 3).
import { createHistogram, encodeHistogram, type LatencyHistogram } from '../contract/histogram.ts';
import { REQUEST_NAMES } from '../contract/names.ts';
import { defaultSpec, type SloSpec } from '../contract/spec.ts';
import type { LoadRecord, TimelineEvent, TimelineRecord } from '../contract/timeline.ts';
import { findRegressions } from '../harness/baseline.ts';
import { verify, type Judgement } from '../verifiers/index.ts';
import type { Verdict } from '../verifiers/types.ts';
import type { ReportInput, RunStatus } from '../reports/types.ts';

export type SyntheticOutcome = 'pass' | 'fail' | 'invalid' | 'aborted';
export const SYNTHETIC_OUTCOMES: readonly SyntheticOutcome[] = ['pass', 'fail', 'invalid', 'aborted'];

export interface SyntheticOptions {
  startMs?: number;
  durationS?: number;
  /** Requests per second outside the spike. */
  rps?: number;
  seed?: number;
  /** Which story: see the top of this file. Default 'fail'. */
  outcome?: SyntheticOutcome;
  /** Per-request-name histograms in `byName` (default true); false writes records as older timelines did. */
  byNameLatency?: boolean;
}

/** Moments of the story, in ms, so tests can check that charts and tables line up with them. */
export interface SyntheticMoments {
  scale: number;
  spike: { from: number; to: number };
  kill: number;
  failover: number;
  rollout: { from: number; to: number };
  /** Where the load stopped early (saturated or aborted); undefined when it ran to the end. */
  cut?: number;
}

export interface SyntheticRun {
  startMs: number;
  /** The run.end event's time. */
  endMs: number;
  status: RunStatus;
  reason?: string;
  records: TimelineRecord[];
  moments: SyntheticMoments;
}

/** The spec the synthetic runs are judged by: the defaults, which is what `slo run` uses without slo.yaml. */
export function syntheticSpec(): SloSpec {
  return defaultSpec();
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

/** The request mix: share of the arrivals, and how much slower than a read each kind is. */
const MIX = [
  { name: REQUEST_NAMES.read, share: 0.7, slower: 1 },
  { name: REQUEST_NAMES.write, share: 0.2, slower: 1.4 },
  { name: REQUEST_NAMES.cpu, share: 0.1, slower: 2.5 },
] as const;

const SATURATION_REASON = 'the embedded engine dropped 36 iterations (tolerance 5): not enough workers or CPU for the asked rate';
const ABORT_REASON = 'interrupted (Ctrl-C or SIGTERM)';

export function syntheticRun(options: SyntheticOptions = {}): SyntheticRun {
  const outcome = options.outcome ?? 'fail';
  // Only the failing story has a slow, lossy service; invalid and aborted runs are about the run itself.
  const failing = outcome === 'fail';
  const startMs = options.startMs ?? Date.UTC(2026, 0, 15, 10, 0, 0);
  const durationS = options.durationS ?? 120;
  const rps = options.rps ?? 50;
  const rand = random(options.seed ?? 42);
  const at = (fraction: number) => startMs + Math.round(durationS * fraction) * 1000;
  const loadEndMs = startMs + durationS * 1000;
  const moments: SyntheticMoments = {
    scale: at(0.2),
    spike: { from: at(0.4), to: at(0.5) },
    kill: at(0.55),
    failover: at(0.65),
    rollout: { from: at(0.8), to: at(0.92) },
  };
  // Where the load stops early: a saturated generator stops itself; Ctrl-C lands during the failover.
  if (outcome === 'invalid') moments.cut = moments.spike.from + 6000;
  if (outcome === 'aborted') moments.cut = at(0.7);
  const cut = moments.cut ?? loadEndMs;
  const newPrimaryAfterMs = failing ? 9500 : 4000;

  const events: TimelineEvent[] = [];
  const event = (t: number, source: string, type: TimelineEvent['type'], data: unknown) =>
    events.push({ kind: 'event', t, source, type, data } as TimelineEvent);
  const phase = (name: string, from: number, to: number) => {
    event(from, 'load', 'phase', { step: 'resilience', name, state: 'start' });
    event(to, 'load', 'phase', { step: 'resilience', name, state: 'end' });
  };

  event(startMs, 'harness', 'run.start', { runId: 'synthetic', cluster: 'local', profile: 'quick', steps: ['resilience'] });
  event(startMs, 'harness', 'run.info', {
    harness: { version: '0.1.0', commit: '0123456789ab' },
    engine: 'embedded',
    profile: 'quick',
    specHash: '5f1c0ffee0ddba11',
    machine: { cores: 2, memoryMiB: 7940, platform: 'linux 6.1.0-28-amd64' },
    target: { postgresql: '15.10', patroni: '3.0.2', haproxy: '2.6.12', 'reference-app': 'v1' },
  });
  event(startMs, 'harness', 'step.start', { step: 'resilience', scenario: 'spike', durationS });
  event(startMs, 'cluster', 'replicas', { desired: 3, ready: 3 });
  for (const member of ['pg-0', 'pg-1', 'pg-2']) event(startMs, 'cluster', 'db.role', { member, role: member === 'pg-0' ? 'primary' : 'replica' });
  phase('ramp', startMs, at(0.1));
  phase('steady', at(0.1), moments.spike.from);
  phase('spike', moments.spike.from, moments.spike.to);
  phase('chaos', moments.spike.to, moments.rollout.from);
  phase('rollout', moments.rollout.from, loadEndMs);

  event(moments.scale, 'harness', 'action.start', { action: 'scale', detail: { replicas: 4 } });
  event(moments.scale + 100, 'cluster', 'replicas', { desired: 4, ready: 3 });
  event(moments.scale + 400, 'cluster', 'pod.start', { pod: 'app-4', version: 'v1' });
  event(moments.scale + 2500, 'cluster', 'pod.ready', { pod: 'app-4', version: 'v1' });
  event(moments.scale + 2500, 'cluster', 'replicas', { desired: 4, ready: 4 });
  event(moments.scale + 2500, 'harness', 'action.end', { action: 'scale', ok: true });

  // The autoscaler answers the spike late and scales back after it.
  event(moments.spike.from + 5000, 'cluster', 'hpa', { current: 4, desired: 6, cpuPercent: 180, memoryPercent: 40 });
  event(moments.spike.from + 5000, 'cluster', 'replicas', { desired: 6, ready: 4 });
  event(moments.spike.from + 9000, 'cluster', 'replicas', { desired: 6, ready: 6 });
  event(moments.spike.to + 4000, 'cluster', 'hpa', { current: 6, desired: 4, cpuPercent: 35, memoryPercent: 38 });
  event(moments.spike.to + 4000, 'cluster', 'replicas', { desired: 4, ready: 4 });

  event(moments.kill, 'harness', 'action.start', { action: 'kill', detail: { pod: 'app-2' } });
  event(moments.kill + 50, 'cluster', 'pod.stop', { pod: 'app-2', reason: 'killed', exitCode: 137 });
  event(moments.kill + 100, 'cluster', 'replicas', { desired: 4, ready: 3 });
  event(moments.kill + 100, 'harness', 'action.end', { action: 'kill', ok: true });
  event(moments.kill + 1500, 'cluster', 'pod.start', { pod: 'app-5', version: 'v1' });
  event(moments.kill + 3000, 'cluster', 'pod.ready', { pod: 'app-5', version: 'v1' });
  event(moments.kill + 3000, 'cluster', 'replicas', { desired: 4, ready: 4 });

  event(moments.failover, 'harness', 'action.start', { action: 'failover' });
  event(moments.failover + 200, 'cluster', 'db.role', { member: 'pg-0', role: 'down' });
  event(moments.failover + newPrimaryAfterMs, 'cluster', 'db.role', { member: 'pg-1', role: 'primary' });
  event(moments.failover + 12_000, 'cluster', 'db.role', { member: 'pg-0', role: 'replica' });
  event(moments.failover + 12_000, 'harness', 'action.end', { action: 'failover', ok: true });

  const rolloutMs = moments.rollout.to - moments.rollout.from;
  event(moments.rollout.from, 'harness', 'action.start', { action: 'rollout', detail: { version: 'v2' } });
  event(moments.rollout.from, 'cluster', 'rollout', { from: 'v1', to: 'v2', state: 'start', updated: 0, total: 4 });
  for (let i = 1; i <= 4; i += 1) {
    const t = moments.rollout.from + Math.round((rolloutMs * i) / 5);
    event(t - 1000, 'cluster', 'replicas', { desired: 5, ready: 4 });
    event(t, 'cluster', 'replicas', { desired: 4, ready: 4 });
    event(t, 'cluster', 'rollout', { from: 'v1', to: 'v2', state: 'progress', updated: i, total: 4 });
  }
  event(moments.rollout.to, 'cluster', 'rollout', { from: 'v1', to: 'v2', state: 'complete', updated: 4, total: 4 });
  event(moments.rollout.to, 'harness', 'action.end', { action: 'rollout', ok: true });

  const load = loadSeconds({ startMs, durationS, rps, rand, moments, failing, newPrimaryAfterMs, saturating: outcome === 'invalid', byNameLatency: options.byNameLatency ?? true });
  const ackedWrites = load.reduce((n, r) => {
    const writes = r.byName[REQUEST_NAMES.write];
    return n + (writes ? writes.requests - writes.failed : 0);
  }, 0);

  let kept: TimelineEvent[] = events.filter((e) => e.t < cut);
  let endMs = loadEndMs + 1000;
  let status: RunStatus = 'completed';
  let reason: string | undefined;
  if (outcome === 'aborted') {
    endMs = cut + 200;
    status = 'aborted';
    reason = ABORT_REASON;
    kept.push({ kind: 'event', t: cut + 100, source: 'harness', type: 'step.end', data: { step: 'resilience', ok: false, reason } });
    kept.push({ kind: 'event', t: endMs, source: 'harness', type: 'run.end', data: { status, reason } });
  } else {
    if (outcome === 'invalid') {
      status = 'invalid';
      reason = SATURATION_REASON;
      kept.push({ kind: 'event', t: cut, source: 'load', type: 'loadgen', data: { state: 'saturated', reason } });
      kept.push({ kind: 'event', t: cut, source: 'load', type: 'phase', data: { step: 'resilience', name: 'spike', state: 'end' } });
      kept.push({ kind: 'event', t: cut + 100, source: 'harness', type: 'step.end', data: { step: 'resilience', ok: false, reason } });
      endMs = cut + 1000;
    } else {
      kept = events;
      kept.push({ kind: 'event', t: loadEndMs, source: 'harness', type: 'step.end', data: { step: 'resilience', ok: true } });
    }
    // After the load: the write audit and the observability checks, then the end of the run.
    const missing = failing ? 2 : 0;
    kept.push({
      kind: 'event', t: endMs - 600, source: 'harness', type: 'writes.audit',
      data: { acknowledged: ackedWrites, missing, missingIds: ['ord-7f3a', 'ord-7f3b'].slice(0, missing) },
    });
    kept.push({ kind: 'event', t: endMs - 400, source: 'harness', type: 'observability', data: { signal: 'traces', ok: true, detail: '412 spans from reference-app' } });
    kept.push({ kind: 'event', t: endMs - 400, source: 'harness', type: 'observability', data: { signal: 'metrics', ok: true, detail: 'http_request_duration_seconds has 6 series' } });
    kept.push({
      kind: 'event', t: endMs - 400, source: 'harness', type: 'observability',
      data: failing ? { signal: 'logs', ok: false, detail: 'no request log line in logs/app-*.log' } : { signal: 'logs', ok: true, detail: '1210 request log lines' },
    });
    kept.push({ kind: 'event', t: endMs, source: 'harness', type: 'run.end', data: { status, ...(reason ? { reason } : {}) } });
  }
  const records = [...load.filter((r) => r.t < cut), ...kept].sort((a, b) => a.t - b.t);
  return { startMs, endMs, status, ...(reason ? { reason } : {}), records, moments };
}

interface LoadStory {
  startMs: number;
  durationS: number;
  rps: number;
  rand: () => number;
  moments: SyntheticMoments;
  failing: boolean;
  newPrimaryAfterMs: number;
  saturating: boolean;
  byNameLatency: boolean;
}

/** One load record per second, as the load runner writes them: totals, failures by reason, histograms. */
function loadSeconds(story: LoadStory): LoadRecord[] {
  const { startMs, durationS, rps, rand, moments, failing } = story;
  const load: LoadRecord[] = [];
  const overall = createHistogram();
  const perName = new Map<string, LatencyHistogram>(MIX.map((m) => [m.name, createHistogram()]));
  const inRange = (t: number, from: number, to: number) => t >= from && t < to;
  const rolloutMs = story.moments.rollout.to - story.moments.rollout.from;
  for (let second = 0; second < durationS; second += 1) {
    const t = startMs + second * 1000;
    const spike = inRange(t, moments.spike.from, moments.spike.to);
    const killed = inRange(t, moments.kill, moments.kill + 2000);
    const noPrimary = inRange(t, moments.failover, moments.failover + story.newPrimaryAfterMs + 1000);
    const rollingBadly = failing && inRange(t, moments.rollout.from + 4000, moments.rollout.from + 6000);
    const ramp = Math.min(1, (second + 1) / Math.max(1, durationS * 0.1));
    const asked = rps * (spike ? 3 : 1) * ramp;
    const target = Math.round(asked);
    // A saturating generator cannot start a quarter of the spike's arrivals on time.
    const dropped = story.saturating && spike ? Math.round(target * 0.25) : spike && second % 7 === 0 ? 1 : 0;
    const sent = target - dropped;
    const medianUs = spike ? (failing ? 95_000 : 40_000) : noPrimary ? 120_000 : 18_000;
    overall.reset();
    for (const histogram of perName.values()) histogram.reset();
    let failed = 0;
    const status: Record<string, number> = {};
    const errors: Record<string, number> = {};
    const byName: LoadRecord['byName'] = {};
    const count = (into: Record<string, number>, key: string) => (into[key] = (into[key] ?? 0) + 1);
    for (let i = 0; i < sent; i += 1) {
      const pick = rand();
      const kind = pick < MIX[0].share ? MIX[0] : pick < MIX[0].share + MIX[1].share ? MIX[1] : MIX[2];
      // Log-normal latency (sigma 0.5) with a rare slow tail, as real services have.
      const gaussian = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
      const tail = rand() < 0.005 ? 8 : 1;
      const us = Math.max(200, Math.round(medianUs * kind.slower * Math.exp(0.5 * gaussian) * tail));
      overall.recordValue(us);
      perName.get(kind.name)?.recordValue(us);
      const roll = rand();
      let reason: string | undefined;
      let code = '200';
      if (killed && roll < (failing ? 0.15 : 0.005)) [reason, code] = ['connection reset', '0'];
      else if (noPrimary && kind.name !== REQUEST_NAMES.cpu && roll < (kind.name === REQUEST_NAMES.write ? 0.9 : 0.3)) [reason, code] = ['5xx', '503'];
      else if (rollingBadly && roll < 0.03) [reason, code] = ['connection refused', '0'];
      else if (roll < (failing ? 0.0005 : 0.0001)) [reason, code] = ['timeout', '0'];
      count(status, code);
      const entry = (byName[kind.name] ??= { requests: 0, failed: 0 });
      entry.requests += 1;
      if (reason) {
        failed += 1;
        entry.failed += 1;
        count(errors, reason);
      }
    }
    if (story.byNameLatency) {
      for (const [name, entry] of Object.entries(byName)) {
        const histogram = perName.get(name);
        if (histogram) entry.latencyUs = encodeHistogram(histogram);
      }
    }
    const rolledOut = Math.max(0, Math.min(1, (t - moments.rollout.from) / rolloutMs));
    const v2 = Math.round(sent * rolledOut);
    const versions: Record<string, number> = {};
    if (sent - v2 > 0) versions.v1 = sent - v2;
    if (v2 > 0) versions.v2 = v2;
    load.push({
      kind: 'load', t, source: 'embedded-0', step: 'resilience', requests: sent, failed, status, errors,
      latencyUs: encodeHistogram(overall), byName,
      versions, instances: { 'app-1': Math.ceil(sent / 2), 'app-3': Math.floor(sent / 2) },
      iterations: sent, dropped, targetRate: asked,
    });
  }
  overall.destroy();
  for (const histogram of perName.values()) histogram.destroy();
  return load;
}

const HOSTILE = `<script>alert("x&y")</script> ]]> & 'quoted' | *bold* [link](http://example.invalid)`;

/** Markup in every text field a verdict has, to test escaping. */
function hostileVerdicts(verdicts: Verdict[]): Verdict[] {
  return verdicts.map((verdict) => ({
    ...verdict,
    slo: `${verdict.slo} ${HOSTILE}`,
    window: { ...verdict.window, label: `${verdict.window.label} ${HOSTILE}` },
    evidence: { ...verdict.evidence, notes: [...verdict.evidence.notes, HOSTILE] },
    ...(verdict.status === 'pass' ? {} : { reason: `${verdict.reason ?? ''} ${HOSTILE}` }),
  }));
}

/** The report input `judgeAndReport` would build for this run and judgement. */
export function reportInputOf(run: SyntheticRun, judgement: Judgement, hostile = false): ReportInput {
  const mark = hostile ? ` ${HOSTILE}` : '';
  return {
    run: {
      id: `run-synthetic${mark}`, cluster: `local${mark}`, profile: 'quick', startedAt: run.startMs, endedAt: run.endMs,
      status: run.status, ...(run.reason ? { reason: run.reason } : {}), harnessVersion: '0.1.0', steps: ['resilience'],
    },
    judgement: hostile ? { status: judgement.status, verdicts: hostileVerdicts(judgement.verdicts) } : judgement,
    records: run.records,
  };
}

export interface SyntheticInputOptions extends SyntheticOptions {
  /** Markup in every text field (verdicts, run id, target name). */
  hostile?: boolean;
  /** Compare with the passing run of the same shape, as `--baseline <its run dir>` would. */
  baseline?: boolean;
}

/** A synthetic run judged by the real verifiers against {@link syntheticSpec}, ready for the reports. */
export function syntheticReportInput(options: SyntheticInputOptions = {}): ReportInput {
  const run = syntheticRun(options);
  const spec = syntheticSpec();
  const input = reportInputOf(run, verify(run.records, spec), options.hostile);
  if (options.baseline) {
    const before = verify(syntheticRun({ ...options, outcome: 'pass' }).records, spec).verdicts;
    input.baseline = {
      runId: `run-baseline${options.hostile ? ` ${HOSTILE}` : ''}`,
      regressions: findRegressions(input.judgement.verdicts, before),
      verdicts: before.map((v) => ({ id: v.id, measured: v.measured })),
    };
  }
  return input;
}

export { HOSTILE };
