// Runs one step's load on any engine and turns what it reports into the timeline: one LoadRecord per second,
// phase events, loadgen events when the generator fails or cannot keep up, and the acknowledged ids for the
// durability audit. The engine only reports samples; everything judged here is engine-neutral.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { mergeHistograms, percentileMs, type LatencyHistogram } from '../contract/histogram.ts';
import { RUN_FILES } from '../contract/names.ts';
import type { TimelineSink } from '../contract/timeline.ts';
import type { Phase } from '../scenarios/lib/plan.ts';
import { LoadAggregator, type ClosedSecond } from './aggregator.ts';
import { askedIterations, askedPlanOf, type AskedPlan } from './asked-rate.ts';
import { readCpuTotals, type CpuTotals } from './cpu-sampler.ts';
import { hasProcess, type EngineOutput, type LoadEngine, type LoadTarget, type StepLoad } from './engine.ts';
import { SaturationDetector, type SaturationLimits } from './saturation.ts';

export interface LoadProgress {
  elapsedS: number;
  totalS: number;
  rate: number;
  p95Ms: number | null;
  errors: number;
  dropped: number;
}

export interface LoadResult {
  status: 'completed' | 'aborted' | 'invalid';
  reason?: string;
  requests: number;
  ackedOrderIds: string[];
}

export interface RunLoadOptions {
  timeline: TimelineSink;
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
  /** The plan's t=0 happened at `atMs` (the actions' time origin). */
  onStart?: (atMs: number) => void;
  saturationLimits?: Partial<SaturationLimits>;
}

const TICK_MS = 250;
const CPU_WINDOW_MS = 5000;
const P95_WINDOW_S = 5;

/** Writes phase starts and ends at their planned times, relative to the real t=0. */
export class Phases {
  private readonly started = new Set<number>();
  private readonly ended = new Set<number>();

  constructor(private readonly startMs: number, private readonly phases: readonly Phase[], private readonly emit: (name: string, state: 'start' | 'end', t: number) => void) {}

  advance(nowMs: number): void {
    this.phases.forEach((phase, i) => {
      const start = this.startMs + phase.startS * 1000;
      const end = this.startMs + phase.endS * 1000;
      if (!this.started.has(i) && nowMs >= start) { this.started.add(i); this.emit(phase.name, 'start', start); }
      if (!this.ended.has(i) && nowMs >= end) { this.ended.add(i); this.emit(phase.name, 'end', end); }
    });
  }

  /** A stopped run ends its open phase now, not at the planned time that never came. */
  stop(nowMs: number): void {
    this.phases.forEach((phase, i) => {
      if (this.started.has(i) && !this.ended.has(i)) { this.ended.add(i); this.emit(phase.name, 'end', nowMs); }
    });
  }
}

export async function runLoad(engine: LoadEngine, load: StepLoad, target: LoadTarget, opts: RunLoadOptions): Promise<LoadResult> {
  const source = engine.name;
  const timeline = opts.timeline;
  mkdirSync(load.runDir, { recursive: true });
  const logFile: WriteStream = createWriteStream(join(load.runDir, `load-${load.step}.log`), { flags: 'a' });
  const ackedFile: WriteStream = createWriteStream(join(load.runDir, RUN_FILES.ackedOrders(load.step)), { flags: 'a' });
  const ackedOrderIds: string[] = [];
  const recentErrors: string[] = [];

  let asked: AskedPlan | null = load.scenario ? askedPlanOf(load.scenario.plan) : null;
  let startMs = null as number | null;
  let phases = null as Phases | null;
  const aggregator = new LoadAggregator({
    source,
    step: load.step,
    targetRate: (t) => (startMs === null || asked === null ? undefined : askedIterations(asked, (t - startMs) / 1000, (t + 1000 - startMs) / 1000)),
  });
  const detector = new SaturationDetector(opts.saturationLimits, engine.label);
  const recentLatency: LatencyHistogram[] = [];
  let requests = 0;
  let failed = 0;
  let dropped = 0;

  // The engine stops on the caller's abort and on the runner's own verdict (saturated).
  const stop = new AbortController();
  let stopReason = null as { status: 'aborted' | 'invalid'; reason: string } | null;
  const stopLoad = (status: 'aborted' | 'invalid', reason: string) => {
    if (stopReason) return;
    stopReason = { status, reason };
    timeline.event('loadgen', source, { state: status === 'invalid' ? 'saturated' : 'aborted', reason });
    stop.abort(new Error(reason));
  };
  const onAbort = () => stopLoad('aborted', `interrupted: ${String(opts.signal?.reason ?? 'abort signal')}`);
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });

  const writeClosed = (closed: ClosedSecond[]) => {
    for (const { record, latency } of closed) {
      timeline.write(record);
      requests += record.requests;
      failed += record.failed;
      dropped += record.dropped;
      recentLatency.push(latency);
      if (recentLatency.length > P95_WINDOW_S) recentLatency.shift();
      const totalS = asked?.totalS ?? 0;
      const inPlan = startMs !== null && record.t >= startMs && record.t + 1000 <= startMs + totalS * 1000;
      const saturated = detector.onSecond(record, inPlan);
      if (saturated) stopLoad('invalid', saturated);
      opts.onProgress?.({
        elapsedS: startMs === null ? 0 : Math.max(0, (record.t + 1000 - startMs) / 1000),
        totalS,
        rate: record.requests,
        p95Ms: percentileMs(mergeHistograms(recentLatency), 95),
        errors: failed,
        dropped,
      });
    }
  };

  const out: EngineOutput = {
    sink: aggregator,
    started: (atMs, announced) => {
      if (startMs !== null) return;
      startMs = atMs;
      const planned = announced ?? load.scenario?.plan.phases ?? [];
      phases = new Phases(atMs, planned, (name, state, t) => timeline.event('phase', source, { step: load.step, name, state }, t));
      opts.onStart?.(atMs);
    },
    planned: (plan) => { asked = plan; },
    acked: (id) => {
      ackedOrderIds.push(id);
      ackedFile.write(`${id}\n`);
    },
    log: (line, level = 'info') => {
      logFile.write(`${line}\n`);
      if (level === 'error') {
        recentErrors.push(line);
        if (recentErrors.length > 3) recentErrors.shift();
      }
    },
  };

  let lastCpu: CpuTotals | null = null;
  let ticks = 0;
  const cores = availableParallelism();
  const tick = setInterval(() => {
    const now = Date.now();
    phases?.advance(now);
    writeClosed(aggregator.closeBefore(now - engine.latenessMs));
    // An engine has many threads: read their schedstat once a second, not every tick.
    const pid = hasProcess(engine) ? engine.pid() : undefined;
    if (pid === undefined || ++ticks % 4 !== 0) return;
    const cpu = readCpuTotals(pid);
    if (cpu && lastCpu && cpu.atMs - lastCpu.atMs >= CPU_WINDOW_MS) {
      const starved = detector.onCpu({ cpuS: cpu.runS - lastCpu.runS, waitS: cpu.waitS - lastCpu.waitS, slices: cpu.slices - lastCpu.slices, wallS: (cpu.atMs - lastCpu.atMs) / 1000, cores });
      if (starved) stopLoad('invalid', starved);
      lastCpu = cpu;
    } else if (cpu && !lastCpu) {
      lastCpu = cpu;
    }
  }, TICK_MS);

  let ended: Awaited<ReturnType<LoadEngine['run']>>['ended'];
  try {
    ({ ended } = await engine.run(load, target, out, stop.signal));
  } catch (error) {
    ended = { died: (error as Error).message };
  } finally {
    clearInterval(tick);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  writeClosed(aggregator.closeAll());
  const endedAt = Date.now();
  if (stopReason) phases?.stop(endedAt);
  else phases?.advance(endedAt);
  await Promise.all([closeStream(logFile), closeStream(ackedFile)]);

  const base = { requests, ackedOrderIds };
  if (stopReason) return { ...base, ...stopReason };
  const quoted = recentErrors.length > 0 ? `: ${recentErrors.join(' | ')}` : '';
  let abort: string | null = null;
  if (typeof ended === 'object') abort = `${ended.died}${quoted}`;
  else if (ended === 'stopped') abort = `${engine.label} stopped before its plan ended${quoted}`;
  else if (aggregator.samples === 0) abort = `${engine.label} reported no samples${quoted}`;
  if (abort) {
    timeline.event('loadgen', source, { state: 'aborted', reason: abort });
    return { ...base, status: 'aborted', reason: abort };
  }
  const saturated = detector.final();
  if (saturated) {
    timeline.event('loadgen', source, { state: 'saturated', reason: saturated });
    return { ...base, status: 'invalid', reason: saturated };
  }
  return { ...base, status: 'completed' };
}

export function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => stream.end(resolve));
}
