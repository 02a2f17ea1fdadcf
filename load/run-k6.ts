// Runs one k6 script and turns its output into the timeline: one LoadRecord per second, phase events,
// loadgen events when the generator itself fails, and the acknowledged order ids for the durability audit.
// k6 streams raw samples as CSV into a FIFO, never to disk; the runner aggregates on the fly. (Not an extra
// stdio fd: Node hands children sockets, and k6 cannot open /dev/fd/N of a socket.)
import { closeSync, constants, createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, type WriteStream } from 'node:fs';
import { availableParallelism, homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { execa } from 'execa';
import { errors } from '../contract/errors.ts';
import type { TimelineSink } from '../contract/timeline.ts';
import { ORDER_ACK_PREFIX, PLAN_PREFIX, RUN_FILES } from '../contract/names.ts';
import { thresholdsFromSlo } from '../scenarios/lib/thresholds.ts';
import type { Phase } from '../scenarios/lib/plan.ts';
import { LoadAggregator, type ClosedSecond } from './aggregator.ts';
import { readCpuTotals, type CpuTotals } from './cpu-sampler.ts';
import { askedIterations, executionPlanFromOptions, type ExecutionPlan } from './execution-plan.ts';
import { mergeHistograms, percentileMs, type LatencyHistogram } from '../contract/histogram.ts';
import { K6CsvParser, LineSplitter, MalformedOutputError } from './k6-csv.ts';
import { SaturationDetector, type SaturationLimits } from './saturation.ts';

export interface LoadProgress {
  elapsedS: number;
  totalS: number;
  rate: number;
  p95Ms: number | null;
  errors: number;
  dropped: number;
}

export interface RunK6Options {
  k6Path: string;
  /** Path of the k6 script (built-in scenario or the user's own). */
  script: string;
  baseUrl: string;
  step: string;
  /** Which generator this is in the timeline; 'k6' by default. */
  source?: string;
  /** Scenario settings: RATE_BASE, RATE_PEAK, DURATION_S, TIME_SCALE, WEIGHTS, CPU_MS... */
  env?: Record<string, string>;
  slo: { p95Ms: number; errorRatePercent: number };
  timeline: TimelineSink;
  runDir: string;
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
  /** After SIGINT, how long k6 gets to stop before SIGKILL. */
  killGraceMs?: number;
  saturationLimits?: Partial<SaturationLimits>;
}

export interface LoadResult {
  status: 'completed' | 'aborted' | 'invalid';
  reason?: string;
  requests: number;
  ackedOrderIds: string[];
  k6ExitCode: number | null;
}

/** How long a second stays open for samples k6 flushes late (CSV flush interval + output buffering). */
const LATENESS_MS = 2500;
const TICK_MS = 250;
const CPU_WINDOW_MS = 5000;
const P95_WINDOW_S = 5;
/** k6 exits 99 when a threshold fails: the harness judges SLOs itself, so that is a normal end. */
const K6_THRESHOLDS_FAILED = 99;
const SYSTEM_TAGS = 'status,name,error_code,expected_response,check';

class Phases {
  private readonly started = new Set<number>();
  private readonly ended = new Set<number>();

  constructor(private readonly startMs: number, private readonly phases: Phase[], private readonly emit: (name: string, state: 'start' | 'end', t: number) => void) {}

  /** Writes the starts and ends reached by `nowMs`, at their planned times. */
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

function k6Environment(opts: RunK6Options): Record<string, string> {
  return {
    // A clean environment: a stray K6_* or proxy variable of the caller must not change the load.
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? homedir(),
    K6_NO_USAGE_REPORT: 'true',
    K6_CSV_TIME_FORMAT: 'unix_milli',
    K6_CSV_SAVE_INTERVAL: '250ms',
    ...opts.env,
    BASE_URL: opts.baseUrl,
    SLO_THRESHOLDS: JSON.stringify(thresholdsFromSlo(opts.slo)),
  };
}

async function inspect(k6Path: string, script: string, env: Record<string, string>): Promise<ExecutionPlan | string> {
  const res = await execa(k6Path, ['inspect', '--execution-requirements', '--include-system-env-vars', script], { env, extendEnv: false, reject: false, timeout: 60_000 });
  if (res.exitCode !== 0) return (res.stderr || res.stdout).split('\n').filter(Boolean).slice(-3).join(' | ') || `exit ${res.exitCode}`;
  try {
    return executionPlanFromOptions(JSON.parse(res.stdout) as Parameters<typeof executionPlanFromOptions>[0]);
  } catch (err) {
    return `unreadable k6 inspect output: ${String(err)}`;
  }
}

/**
 * In a cluster the load generator runs apart from the service; here they share the CPUs. k6 gets a higher
 * scheduling priority so a busy service slows its own responses, not the generator's clock (k6 starved of
 * CPU would measure its own queueing). Linux niceness is per thread and Go starts its threads at once, so
 * k6 is started under `nice` (every thread inherits it) rather than reniced after the fact. Raising
 * priority needs root; without it k6 runs as is and the saturation check still catches a starved k6.
 */
export const LOAD_GENERATOR_NICENESS = -10;

export function prioritized(command: string, args: readonly string[], isRoot = process.getuid?.() === 0): [string, string[]] {
  return isRoot ? ['nice', ['-n', String(LOAD_GENERATOR_NICENESS), command, ...args]] : [command, [...args]];
}

export async function runK6(opts: RunK6Options): Promise<LoadResult> {
  const source = opts.source ?? 'k6';
  if (!existsSync(opts.script)) throw errors.SLO_ERR_SCENARIO_UNKNOWN(`no k6 script at ${opts.script}`, 'pass a built-in scenario name or an existing file to --scenario');
  mkdirSync(opts.runDir, { recursive: true });
  const env = k6Environment(opts);
  const timeline = opts.timeline;
  const loadgen = (state: 'saturated' | 'aborted', reason: string) => timeline.event('loadgen', source, { state, reason });

  const plan = await inspect(opts.k6Path, opts.script, env);
  if (typeof plan === 'string') {
    const reason = `k6 could not load ${opts.script}: ${plan}`;
    loadgen('aborted', reason);
    return { status: 'aborted', reason, requests: 0, ackedOrderIds: [], k6ExitCode: null };
  }

  const log: WriteStream = createWriteStream(join(opts.runDir, `k6-${opts.step}.log`), { flags: 'a' });
  const ackedFile: WriteStream = createWriteStream(join(opts.runDir, RUN_FILES.ackedOrders(opts.step)), { flags: 'a' });
  const ackedOrderIds: string[] = [];
  const recentErrors: string[] = [];

  // Executors' start: announced by built-in scenarios from setup(); else the first sample's time.
  let startMs: number | null = null;
  // Assigned from callbacks: the casts stop TypeScript narrowing them to `null` for the code after the run.
  let phases = null as Phases | null;
  const aggregator = new LoadAggregator({
    source,
    step: opts.step,
    targetRate: (t) => (startMs === null ? undefined : askedIterations(plan, (t - startMs) / 1000, (t + 1000 - startMs) / 1000)),
  });
  const detector = new SaturationDetector(opts.saturationLimits);
  const recentLatency: LatencyHistogram[] = [];
  let requests = 0;
  let failed = 0;
  let dropped = 0;

  const fifoDir = mkdtempSync(join(tmpdir(), 'slo-k6-'));
  const fifo = join(fifoDir, 'samples.csv');
  await execa('mkfifo', ['-m', '600', fifo]);
  // Opening a FIFO to read waits for its writer: k6 opens it when it starts its outputs.
  const samples = createReadStream(fifo, { highWaterMark: 1 << 16 });
  let fifoOpened = false;
  samples.once('open', () => { fifoOpened = true; });

  let stopReason = null as { status: 'aborted' | 'invalid'; reason: string } | null;
  const [command, args] = prioritized(opts.k6Path, [
    'run', '--no-usage-report', '--quiet', '--summary-mode=disabled', '--log-format=json',
    `--system-tags=${SYSTEM_TAGS}`, '--out', `csv=${fifo}`, opts.script,
  ]);
  const child = execa(command, args, { env, extendEnv: false, stdio: ['ignore', 'pipe', 'pipe'], reject: false, buffer: false, cleanup: true });

  let killTimer: NodeJS.Timeout | undefined;
  const stopK6 = (status: 'aborted' | 'invalid', reason: string) => {
    if (stopReason) return;
    stopReason = { status, reason };
    loadgen(status === 'invalid' ? 'saturated' : 'aborted', reason);
    child.kill('SIGINT');
    killTimer = setTimeout(() => child.kill('SIGKILL'), opts.killGraceMs ?? 10_000);
  };
  const onAbort = () => stopK6('aborted', `interrupted: ${String(opts.signal?.reason ?? 'abort signal')}`);
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
      const inPlan = startMs !== null && record.t >= startMs && record.t + 1000 <= startMs + plan.totalS * 1000;
      const saturated = detector.onSecond(record, inPlan);
      if (saturated) stopK6('invalid', saturated);
      opts.onProgress?.({
        elapsedS: startMs === null ? 0 : Math.max(0, (record.t + 1000 - startMs) / 1000),
        totalS: plan.totalS,
        rate: record.requests,
        p95Ms: percentileMs(mergeHistograms(recentLatency), 95),
        errors: failed,
        dropped,
      });
    }
  };

  // Samples: fd 3. A malformed line means we no longer know what k6 measured: stop, never guess.
  const csv = new K6CsvParser();
  const csvLines = new LineSplitter();
  const onCsvLine = (line: string) => {
    if (stopReason?.status === 'aborted') return;
    try {
      const sample = csv.parse(line);
      if (!sample) return;
      startMs ??= sample.timeMs;
      aggregator.add(sample);
    } catch (err) {
      if (!(err instanceof MalformedOutputError)) throw err;
      stopK6('aborted', `malformed k6 output: ${err.message}`);
    }
  };
  const samplesDone = drain(samples, (chunk) => csvLines.push(chunk, onCsvLine)).then(() => csvLines.end(onCsvLine));

  // Logs: the plan announcement, acknowledged orders, and errors worth quoting when k6 dies.
  const logLines = new LineSplitter();
  const onLogLine = (line: string) => {
    let msg = line;
    let level = 'error';
    try {
      const parsed = JSON.parse(line) as { msg?: string; level?: string; error?: string };
      msg = parsed.msg ?? '';
      level = parsed.level ?? 'info';
      if (parsed.error) msg = `${msg}: ${parsed.error}`;
    } catch {
      // Not k6's JSON log (a Go panic, a flag error): keep it whole.
    }
    if (msg.startsWith(ORDER_ACK_PREFIX)) {
      const id = msg.slice(ORDER_ACK_PREFIX.length).trim();
      ackedOrderIds.push(id);
      ackedFile.write(`${id}\n`);
      return;
    }
    log.write(`${line}\n`);
    if (msg.startsWith(PLAN_PREFIX)) {
      try {
        const announced = JSON.parse(msg.slice(PLAN_PREFIX.length)) as { startedAtMs: number; phases: Phase[] };
        startMs = announced.startedAtMs;
        phases = new Phases(announced.startedAtMs, announced.phases, (name, state, t) => timeline.event('phase', source, { step: opts.step, name, state }, t));
      } catch {
        log.write(`unreadable plan announcement ignored: ${msg}\n`);
      }
      return;
    }
    if (level === 'error' || level === 'fatal' || level === 'panic') {
      recentErrors.push(msg);
      if (recentErrors.length > 3) recentErrors.shift();
    }
  };
  const logsDone = drain(child.stderr as Readable, (chunk) => logLines.push(chunk, onLogLine)).then(() => logLines.end(onLogLine));
  const stdoutDone = drain(child.stdout as Readable, (chunk) => log.write(chunk));

  let lastCpu: CpuTotals | null = null;
  let ticks = 0;
  const cores = availableParallelism();
  const tick = setInterval(() => {
    const now = Date.now();
    phases?.advance(now);
    writeClosed(aggregator.closeBefore(now - LATENESS_MS));
    // k6 has dozens of threads: read their schedstat once a second, not every tick.
    if (child.pid === undefined || ++ticks % 4 !== 0) return;
    const cpu = readCpuTotals(child.pid);
    if (cpu && lastCpu && cpu.atMs - lastCpu.atMs >= CPU_WINDOW_MS) {
      const starved = detector.onCpu({ cpuS: cpu.runS - lastCpu.runS, waitS: cpu.waitS - lastCpu.waitS, slices: cpu.slices - lastCpu.slices, wallS: (cpu.atMs - lastCpu.atMs) / 1000, cores });
      if (starved) stopK6('invalid', starved);
      lastCpu = cpu;
    } else if (cpu && !lastCpu) {
      lastCpu = cpu;
    }
  }, TICK_MS);

  const result = await child.catch((err: unknown) => {
    child.kill('SIGKILL'); // never leave k6 behind, even when the runner itself breaks
    throw err;
  });
  if (!fifoOpened) releaseFifoReader(fifo); // k6 died before opening its output
  await Promise.all([samplesDone, logsDone, stdoutDone]);
  rmSync(fifoDir, { recursive: true, force: true });
  clearInterval(tick);
  clearTimeout(killTimer);
  opts.signal?.removeEventListener('abort', onAbort);
  writeClosed(aggregator.closeAll());
  const endedAt = Date.now();
  if (stopReason) phases?.stop(endedAt);
  else phases?.advance(endedAt);
  await Promise.all([closeStream(log), closeStream(ackedFile)]);

  const exitCode = typeof result.exitCode === 'number' ? result.exitCode : null;
  const base = { requests, ackedOrderIds, k6ExitCode: exitCode };
  if (stopReason) return { ...base, ...stopReason };

  const quoted = recentErrors.length > 0 ? `: ${recentErrors.join(' | ')}` : '';
  let abort: string | null = null;
  if (result.signal) abort = `k6 was killed by ${result.signal}${quoted}`;
  else if (exitCode !== 0 && exitCode !== K6_THRESHOLDS_FAILED) abort = `k6 exited with code ${String(exitCode)}${quoted}`;
  else if (aggregator.samples === 0) abort = `k6 wrote no samples${quoted}`;
  if (abort) {
    loadgen('aborted', abort);
    return { ...base, status: 'aborted', reason: abort };
  }
  const saturated = detector.final();
  if (saturated) {
    loadgen('saturated', saturated);
    return { ...base, status: 'invalid', reason: saturated };
  }
  return { ...base, status: 'completed' };
}

/** Opens and closes the write end so a reader still waiting in open() gets end-of-file. */
function releaseFifoReader(fifo: string): void {
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // ENXIO: no reader is waiting any more
  }
}

function drain(stream: Readable | null | undefined, onChunk: (chunk: string) => void): Promise<void> {
  if (!stream) return Promise.resolve();
  stream.setEncoding('utf8');
  stream.on('data', onChunk);
  return new Promise((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => stream.end(resolve));
}
