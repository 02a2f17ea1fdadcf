// The k6 engine, for users who run k6 already (`--engine k6`): the user's own k6 binary runs the generic
// script scenarios/k6/entry.ts with a resolved scenario, or the user's own k6 script. k6 streams raw samples
// as CSV into a FIFO, never to disk, and the rows become engine-neutral samples (csv.ts). k6 is AGPL-3.0: it
// runs only as a separate program the user installed.
import { closeSync, constants, createReadStream, mkdtempSync, openSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import { execa, type ResultPromise } from 'execa';
import { ORDER_ACK_PREFIX, PLAN_PREFIX, SCENARIO_ENV } from '../../contract/names.ts';
import { SCENARIO_JSON_ENV } from '../../scenarios/lib/k6-env.ts';
import type { Phase } from '../../scenarios/lib/plan.ts';
import { thresholdsFromSlo } from '../../scenarios/lib/thresholds.ts';
import type { AskedPlan } from '../asked-rate.ts';
import type { EngineEnd, EngineOutput, LoadEngine, LoadTarget, StepLoad, WithProcess } from '../engine.ts';
import { eachLine } from '../lines.ts';
import { prioritized } from '../priority.ts';
import { checkHeader, MalformedOutputError, rowToSink, type K6Row } from './csv.ts';
import { executionPlanFromOptions } from './execution-plan.ts';
import { locateK6 } from './locate.ts';

/** The generic script that carries out a scenario declaration. */
export const K6_ENTRY = fileURLToPath(new URL('../../scenarios/k6/entry.ts', import.meta.url));

/** k6 exits 99 when a threshold fails: the harness judges SLOs itself, so that is a normal end. */
const K6_THRESHOLDS_FAILED = 99;
const SYSTEM_TAGS = 'status,name,error_code,expected_response,check';

export interface K6EngineOptions {
  /** Finds the user's k6 (tests pass a fake). */
  locate?: () => Promise<string>;
  /** After SIGINT, how long k6 gets to stop before SIGKILL. */
  killGraceMs?: number;
}

function k6Environment(load: StepLoad, target: LoadTarget): Record<string, string> {
  const env: Record<string, string> = {
    // A clean environment: a stray K6_* or proxy variable of the caller must not change the load.
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? homedir(),
    K6_NO_USAGE_REPORT: 'true',
    K6_CSV_TIME_FORMAT: 'unix_milli',
    K6_CSV_SAVE_INTERVAL: '250ms',
    [SCENARIO_ENV.baseUrl]: target.baseUrl,
    [SCENARIO_ENV.thresholds]: JSON.stringify(thresholdsFromSlo(load.slo)),
  };
  if (load.scenario) env[SCENARIO_JSON_ENV] = JSON.stringify(load.scenario);
  if (load.workerCap !== undefined) env[SCENARIO_ENV.maxVUs] = String(load.workerCap);
  return env;
}

async function inspect(k6Path: string, script: string, env: Record<string, string>): Promise<AskedPlan | string> {
  const res = await execa(k6Path, ['inspect', '--execution-requirements', '--include-system-env-vars', script], { env, extendEnv: false, reject: false, timeout: 60_000 });
  if (res.exitCode !== 0) return (res.stderr || res.stdout).split('\n').filter(Boolean).slice(-3).join(' | ') || `exit ${res.exitCode}`;
  try {
    return executionPlanFromOptions(JSON.parse(res.stdout) as Parameters<typeof executionPlanFromOptions>[0]);
  } catch (err) {
    return `unreadable k6 inspect output: ${String(err)}`;
  }
}

export class K6Engine implements LoadEngine, WithProcess {
  readonly name = 'k6' as const;
  readonly label = 'k6';
  /** k6 writes its CSV every 250 ms and stamps a request at its end: 2.5 s covers flush and buffering. */
  readonly latenessMs = 2500;
  private k6Path: string | null = null;
  private child: ResultPromise | null = null;

  constructor(private readonly options: K6EngineOptions = {}) {}

  async prepare(): Promise<void> {
    this.k6Path = await (this.options.locate ?? locateK6)();
  }

  pid(): number | undefined {
    return this.child?.pid;
  }

  async run(load: StepLoad, target: LoadTarget, out: EngineOutput, signal: AbortSignal): Promise<EngineEnd> {
    const k6Path = this.k6Path ?? (await (this.options.locate ?? locateK6)());
    const script = load.scenario ? K6_ENTRY : load.script;
    if (!script) return { ended: { died: 'no scenario and no k6 script for this step' } };
    const env = k6Environment(load, target);
    if (!load.scenario) {
      const plan = await inspect(k6Path, script, env);
      if (typeof plan === 'string') return { ended: { died: `k6 could not load ${script}: ${plan}` } };
      out.planned(plan);
    }

    const fifoDir = mkdtempSync(join(tmpdir(), 'slo-k6-'));
    const fifo = join(fifoDir, 'samples.csv');
    await execa('mkfifo', ['-m', '600', fifo]);
    let died = null as string | null;
    let stopping = false;
    const [command, args] = prioritized(k6Path, [
      'run', '--no-usage-report', '--quiet', '--summary-mode=disabled', '--log-format=json',
      `--system-tags=${SYSTEM_TAGS}`, '--out', `csv=${fifo}`, script,
    ]);
    // A stop is SIGINT (k6 then flushes its outputs); execa SIGKILLs it after the grace.
    const child = execa(command, args, {
      env, extendEnv: false, stdio: ['ignore', 'pipe', 'pipe'], reject: false, buffer: false, cleanup: true,
      killSignal: 'SIGINT', forceKillAfterDelay: this.options.killGraceMs ?? 10_000,
    });
    this.child = child;
    const stopK6 = () => {
      if (stopping) return;
      stopping = true;
      child.kill();
    };
    const onAbort = () => stopK6();
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });

    // Samples. A malformed row means we no longer know what k6 measured: stop, never guess.
    let started = false;
    const samples = createReadStream(fifo, { highWaterMark: 1 << 16 });
    let fifoOpened = false;
    samples.once('open', () => { fifoOpened = true; });
    const rows = samples.pipe(parseCsv({ columns: (header: string[]) => { checkHeader(header); return header; } }));
    const samplesDone = new Promise<void>((resolve) => {
      rows.on('data', (row: K6Row) => {
        if (died || signal.aborted) return;
        try {
          if (!started && !load.scenario) {
            // A user's own script announces nothing: its first sample is t=0. The generic script's t=0 comes
            // only from its announcement: k6 emits vus rows from VU initialisation on, before setup() runs.
            started = true;
            out.started(Number(row.timestamp));
          }
          rowToSink(row, out.sink);
        } catch (err) {
          if (!(err instanceof MalformedOutputError)) throw err;
          died = `malformed k6 output: ${err.message}`;
          stopK6();
        }
      });
      rows.once('end', resolve);
      rows.once('error', (err: Error) => {
        died ??= `malformed k6 output: ${err.message}`;
        stopK6();
        samples.destroy();
        resolve();
      });
    });

    // Logs: the plan announcement, acknowledged ids, and errors worth quoting when k6 dies.
    let panicked = false;
    const onLogLine = (line: string) => {
      if (line.trim() === '') return;
      let msg = line;
      let level = 'error';
      try {
        const parsed = JSON.parse(line) as { msg?: string; level?: string; error?: string };
        msg = parsed.msg ?? '';
        level = parsed.level ?? 'info';
        if (parsed.error) msg = `${msg}: ${parsed.error}`;
      } catch {
        // Not k6's JSON log (a Go panic, a flag error): keep it whole. After a Go panic's first line comes only
        // its stack (hundreds of lines): kept in the log, but the panic itself is what a reason should quote.
        if (panicked) {
          out.log(line);
          return;
        }
        panicked = /^(panic|fatal error): /.test(line);
      }
      if (msg.startsWith(ORDER_ACK_PREFIX)) {
        out.acked(msg.slice(ORDER_ACK_PREFIX.length).trim());
        return;
      }
      if (msg.startsWith(PLAN_PREFIX)) {
        try {
          const announced = JSON.parse(msg.slice(PLAN_PREFIX.length)) as { startedAtMs: number; phases: Phase[] };
          started = true;
          out.started(announced.startedAtMs, announced.phases);
        } catch {
          out.log(`unreadable plan announcement ignored: ${msg}`);
        }
        return;
      }
      out.log(line, level === 'error' || level === 'fatal' || level === 'panic' ? 'error' : 'info');
    };
    const logsDone = eachLine(child.stderr as Readable, onLogLine);
    const stdoutDone = eachLine(child.stdout as Readable, (line) => out.log(line));

    const result = await child.catch((err: unknown) => {
      child.kill('SIGKILL'); // never leave k6 behind, even when the runner itself breaks
      throw err;
    });
    if (!fifoOpened) releaseFifoReader(fifo); // k6 died before opening its output
    await Promise.all([samplesDone, logsDone, stdoutDone]);
    rmSync(fifoDir, { recursive: true, force: true });
    signal.removeEventListener('abort', onAbort);
    this.child = null;

    if (died) return { ended: { died } };
    if (signal.aborted) return { ended: 'stopped' };
    const exitCode = typeof result.exitCode === 'number' ? result.exitCode : null;
    if (result.signal) return { ended: { died: `k6 was killed by ${result.signal}` } };
    if (exitCode !== 0 && exitCode !== K6_THRESHOLDS_FAILED) return { ended: { died: `k6 exited with code ${String(exitCode)}` } };
    return { ended: 'completed' };
  }
}

/** Opens and closes the write end so a reader still waiting in open() gets end-of-file. */
function releaseFifoReader(fifo: string): void {
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // ENXIO: no reader is waiting any more
  }
}
