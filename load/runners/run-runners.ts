// Distributed load: one step driven by N pods of the embedded engine (an Indexed Job in the target cluster),
// each asking 1/N of every stage's rate from one shared t=0, their output streamed back while the step runs.
// Each runner's samples fold into its own per-second records (so each runner is judged for falling behind on
// its own drops and achieved rate), then every second is merged across runners with mergeLoadRecords: the
// timeline holds one record per second whose histogram is the union of all runners' samples, and which
// names the runners in it. Every SLO is judged on those merged records, never per runner.
//
// A runner that dies (its output ends without the engine's summary line, its pod fails or is deleted, it
// never starts) or falls behind makes the run invalid, and the Job is deleted at once: the other runners stop.
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { mergeHistograms, percentileMs, decodeHistogram, type LatencyHistogram } from '../../contract/histogram.ts';
import { RUN_FILES } from '../../contract/names.ts';
import type { LoadRecord } from '../../contract/timeline.ts';
import { REQUEST_TIMEOUT_S } from '../../scenarios/lib/plan.ts';
import { LoadAggregator, type ClosedSecond } from '../aggregator.ts';
import { askedIterations, askedPlanOf } from '../asked-rate.ts';
import { applyLine, embeddedPlan } from '../embedded-engine.ts';
import type { EngineOutput, StepLoad } from '../engine.ts';
import { mergeLoadRecords } from '../merge.ts';
import { closeStream, Phases, type LoadResult, type RunLoadOptions } from '../run-load.ts';
import { SaturationDetector } from '../saturation.ts';
import type { RunnerEvents, RunnerJob, RunnerLauncher, RunnerPlacement } from './launcher.ts';
import { splitPlan } from './split.ts';

export interface DistributedOptions extends RunLoadOptions {
  runners: number;
  placement?: RunnerPlacement;
  /** Time between creating the Job and the shared t=0: enough for every pod to be scheduled and started. */
  startAllowanceMs?: number;
  /** After the shared t=0, how long a runner may take to report its start before it counts as lost. */
  startGraceMs?: number;
  /** The Job's name (a DNS label); derived from the step when absent. */
  jobName?: string;
}

/** The source of merged records: the engine that ran, as with one generator. */
export const DISTRIBUTED_SOURCE = 'embedded';
export const DEFAULT_START_ALLOWANCE_MS = 20_000;
const TICK_MS = 250;
const P95_WINDOW_S = 5;
/**
 * A sample reaches the harness later than from a local engine: through the container's log file, the
 * kubelet and the API server. Seconds stay open that much longer than the engine's own lateness.
 */
export const DISTRIBUTED_LATENESS_MS = REQUEST_TIMEOUT_S * 1000 + 3000;
/** A second some runner has not closed yet is merged without it after this much more. */
const MERGE_WAIT_MS = 3000;

export const runnerId = (index: number) => `runner-${index}`;

interface Runner {
  index: number;
  id: string;
  aggregator: LoadAggregator;
  detector: SaturationDetector;
  started: boolean;
  summary: Record<string, unknown> | null;
  ended: boolean;
  /** Last second this runner's aggregator wrote out. */
  closedThrough: number | null;
}

/** A DNS-1123 label for the step's Job: `slo-load-<step>-<time>`. */
export function jobNameFor(step: string, now = Date.now()): string {
  const clean = step.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 30) || 'step';
  return `slo-load-${clean}-${now.toString(36)}`.slice(0, 63).replace(/-+$/, '');
}

/**
 * Merges the records several runners wrote for one second into the timeline's record: histograms merged
 * (load/merge.ts), counts summed, the runners named with their requests, the whole plan's asked rate.
 */
export function mergeSecond(records: ReadonlyArray<{ id: string; record: LoadRecord }>, targetRate: number | undefined): LoadRecord {
  const merged = mergeLoadRecords(records.map((r) => r.record), DISTRIBUTED_SOURCE);
  if (merged.length !== 1) throw new Error(`mergeSecond: records of ${merged.length} seconds or steps`);
  const record = merged[0]!;
  record.runners = Object.fromEntries(records.map(({ id, record: r }) => [id, r.requests]).sort(([a], [b]) => String(a).localeCompare(String(b))));
  if (targetRate !== undefined) record.targetRate = Math.round(targetRate * 1000) / 1000;
  else delete record.targetRate;
  return record;
}

export async function runDistributedLoad(launcher: RunnerLauncher, load: StepLoad, opts: DistributedOptions): Promise<LoadResult> {
  const timeline = opts.timeline;
  const n = opts.runners;
  const label = `${n} runners of the embedded engine`;
  mkdirSync(load.runDir, { recursive: true });
  const logFile: WriteStream = createWriteStream(join(load.runDir, `load-${load.step}.log`), { flags: 'a' });
  const ackedFile: WriteStream = createWriteStream(join(load.runDir, RUN_FILES.ackedOrders(load.step)), { flags: 'a' });
  const ackedOrderIds: string[] = [];
  const recentErrors: string[] = [];
  const log = (line: string, level: 'info' | 'error' = 'info') => {
    logFile.write(`${line}\n`);
    if (level === 'error') {
      recentErrors.push(line);
      if (recentErrors.length > 3) recentErrors.shift();
    }
  };
  const base = () => ({ requests, ackedOrderIds });
  let requests = 0;
  if (!load.scenario) {
    await Promise.all([closeStream(logFile), closeStream(ackedFile)]);
    return { ...base(), status: 'aborted', reason: 'distributed runners run scenario modules; a k6 script needs --engine k6 and one runner' };
  }

  // On a whole second, so each runner's seconds are the plan's seconds.
  const startAtMs = Math.ceil(Math.max(load.startAtMs, Date.now() + (opts.startAllowanceMs ?? DEFAULT_START_ALLOWANCE_MS)) / 1000) * 1000;
  const whole = embeddedPlan({ ...load, startAtMs }, { baseUrl: launcher.runnerBaseUrl() }, load.scenario);
  const plan = splitPlan(whole, n);
  writeFileSync(join(load.runDir, `load-${load.step}.plan.json`), JSON.stringify({ runners: n, ...plan }, null, 2));
  const asked = askedPlanOf(load.scenario.plan);
  const totalS = asked.totalS;
  const askedIn = (t: number) => askedIterations(asked, (t - startAtMs) / 1000, (t + 1000 - startAtMs) / 1000);

  const runners: Runner[] = Array.from({ length: n }, (_, index) => ({
    index,
    id: runnerId(index),
    aggregator: new LoadAggregator({ source: runnerId(index), step: load.step, targetRate: (t) => { const a = askedIn(t); return a === undefined ? undefined : a / n; } }),
    detector: new SaturationDetector(opts.saturationLimits, `runner ${index}`),
    started: false,
    summary: null,
    ended: false,
    closedThrough: null,
  }));
  const merged = new SaturationDetector(opts.saturationLimits, label);
  const pending = new Map<number, Array<{ id: string; record: LoadRecord }>>();
  const recentLatency: LatencyHistogram[] = [];
  let failed = 0;
  let dropped = 0;
  let phases = null as Phases | null;
  let job = null as RunnerJob | null;

  let stopReason = null as { status: 'aborted' | 'invalid'; reason: string; state: 'saturated' | 'aborted' } | null;
  let wake = () => undefined as void;
  const finished = new Promise<void>((resolve) => { wake = resolve; });
  const stopLoad = (status: 'aborted' | 'invalid', reason: string, state: 'saturated' | 'aborted' = 'aborted') => {
    if (stopReason) return;
    stopReason = { status, reason, state };
    timeline.event('loadgen', DISTRIBUTED_SOURCE, { state, reason });
    log(`stopping every runner: ${reason}`, 'error');
    wake();
  };
  const onAbort = () => stopLoad('aborted', `interrupted: ${String(opts.signal?.reason ?? 'abort signal')}`);
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });

  const started = (atMs: number) => {
    if (phases) return;
    phases = new Phases(startAtMs, load.scenario?.plan.phases ?? [], (name, state, t) => timeline.event('phase', DISTRIBUTED_SOURCE, { step: load.step, name, state }, t));
    if (atMs !== startAtMs) log(`a runner reported t=0 at ${atMs}, not the shared ${startAtMs}`, 'error');
    opts.onStart?.(startAtMs);
  };

  const writeMerged = (record: LoadRecord) => {
    timeline.write(record);
    requests += record.requests;
    failed += record.failed;
    dropped += record.dropped;
    recentLatency.push(decodeHistogram(record.latencyUs));
    if (recentLatency.length > P95_WINDOW_S) recentLatency.shift();
    merged.onSecond(record, inPlan(record.t));
    opts.onProgress?.({
      elapsedS: Math.max(0, (record.t + 1000 - startAtMs) / 1000), totalS, rate: record.requests,
      p95Ms: percentileMs(mergeHistograms(recentLatency), 95), errors: failed, dropped,
    });
  };
  const inPlan = (t: number) => t >= startAtMs && t + 1000 <= startAtMs + totalS * 1000;

  const takeClosed = (runner: Runner, closed: ClosedSecond[]) => {
    for (const { record } of closed) {
      runner.closedThrough = record.t;
      const saturated = runner.detector.onSecond(record, inPlan(record.t));
      if (saturated) stopLoad('invalid', `runner ${runner.index} fell behind: ${saturated}`, 'saturated');
      const group = pending.get(record.t);
      if (group) group.push({ id: runner.id, record });
      else pending.set(record.t, [{ id: runner.id, record }]);
    }
  };
  /** Writes every pending second all runners have closed (or that waited long enough), in time order. */
  const flush = (force: boolean, nowMs: number) => {
    for (const t of [...pending.keys()].sort((a, b) => a - b)) {
      const everyone = runners.every((r) => r.closedThrough !== null && r.closedThrough >= t);
      if (!force && !everyone && t >= nowMs - DISTRIBUTED_LATENESS_MS - MERGE_WAIT_MS) break;
      writeMerged(mergeSecond(pending.get(t)!, askedIn(t)));
      pending.delete(t);
    }
  };

  const outputs = runners.map((runner): EngineOutput => ({
    sink: runner.aggregator,
    started: (atMs) => { runner.started = true; started(atMs); },
    planned: () => undefined,
    acked: (id) => { ackedOrderIds.push(id); ackedFile.write(`${id}\n`); },
    log: (line, level) => log(`[${runner.id}] ${line}`, level),
  }));

  const events: RunnerEvents = {
    line: (index, line) => {
      const runner = runners[index];
      if (!runner || runner.ended) return;
      if (line.startsWith('slo-load:')) { log(`[${runner.id}] ${line}`, 'error'); return; }
      const applied = applyLine(line, outputs[index]!);
      if (applied.end) runner.summary = applied.end;
      if (applied.malformed !== undefined) stopLoad('invalid', `runner ${index} wrote malformed output: ${applied.malformed.slice(0, 200)}`);
    },
    ended: (index, outcome) => {
      const runner = runners[index];
      if (!runner || runner.ended) return;
      runner.ended = true;
      const summary = runner.summary;
      if (stopReason) return;
      if (summary && summary.stopped === 'completed' && (outcome.exitCode === 0 || outcome.exitCode === null)) {
        log(`[${runner.id}] completed: ${JSON.stringify(summary)}`);
        if (summary.maxWorkersReached === true && Number(summary.dropped) > 0) {
          stopLoad('invalid', `runner ${index} fell behind: it reached its worker cap and dropped ${String(summary.dropped)} arrivals`, 'saturated');
        }
        if (runners.every((r) => r.ended)) wake();
        return;
      }
      const why = outcome.reason ?? (outcome.exitCode !== null && outcome.exitCode !== 0 ? `exited with code ${outcome.exitCode}` : summary ? `stopped (${String(summary.stopped)}) before its plan ended` : 'its output ended without the summary line');
      const quoted = recentErrors.length > 0 ? ` (${recentErrors.join(' | ')})` : '';
      stopLoad('invalid', `runner ${index} died: ${why}${quoted}`);
    },
    log: (line) => log(line),
  };

  const tick = setInterval(() => {
    const now = Date.now();
    phases?.advance(now);
    for (const runner of runners) takeClosed(runner, runner.aggregator.closeBefore(now - DISTRIBUTED_LATENESS_MS));
    flush(false, now);
    const late = runners.filter((r) => !r.started);
    if (late.length > 0 && now > startAtMs + (opts.startGraceMs ?? 5000)) {
      stopLoad('invalid', `runner${late.length > 1 ? 's' : ''} ${late.map((r) => r.index).join(', ')} had not started ${Math.round((now - startAtMs) / 1000)} s after the shared start (pods still pending? raise runnerStartS)`);
    }
  }, TICK_MS);

  try {
    log(`${label}: ${plan.startRate} -> ${plan.stages.map((s) => s.target).join(', ')} req/s each, shared t=0 at ${new Date(startAtMs).toISOString()}`);
    job = await launcher.runLoadInCluster({
      name: opts.jobName ?? jobNameFor(load.step),
      runners: n,
      plan: JSON.stringify(plan),
      placement: opts.placement ?? {},
      deadlineS: Math.ceil((startAtMs - Date.now()) / 1000 + totalS + REQUEST_TIMEOUT_S + 120),
    }, events);
    await finished;
  } catch (error) {
    stopLoad('aborted', `the runners could not be started: ${(error as Error).message}`);
  } finally {
    clearInterval(tick);
    opts.signal?.removeEventListener('abort', onAbort);
    // Whatever happened, no runner outlives the step: the Job is deleted and its pods waited for.
    try {
      await job?.stop();
    } catch (error) {
      log(`deleting the runners' Job failed: ${(error as Error).message}`, 'error');
    }
  }
  for (const runner of runners) takeClosed(runner, runner.aggregator.closeAll());
  flush(true, Date.now());
  const endedAt = Date.now();
  const stopped = stopReason as typeof stopReason;
  if (stopped) phases?.stop(endedAt);
  else phases?.advance(endedAt);
  await Promise.all([closeStream(logFile), closeStream(ackedFile)]);

  if (stopped) return { ...base(), status: stopped.status, reason: stopped.reason };
  const quiet = runners.filter((r) => r.aggregator.samples === 0);
  if (quiet.length > 0) {
    const reason = `runner ${quiet.map((r) => r.index).join(', ')} reported no samples`;
    timeline.event('loadgen', DISTRIBUTED_SOURCE, { state: 'aborted', reason });
    return { ...base(), status: 'invalid', reason };
  }
  const saturated = runners.map((r) => r.detector.final()).find((s) => s !== null) ?? merged.final();
  if (saturated) {
    timeline.event('loadgen', DISTRIBUTED_SOURCE, { state: 'saturated', reason: saturated });
    return { ...base(), status: 'invalid', reason: saturated };
  }
  return { ...base(), status: 'completed' };
}
