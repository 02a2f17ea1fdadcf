// The embedded engine, the default: a small Go program on vegeta's library (load/embedded/, built into the
// project's tool folder by embedded-build.ts) that carries out a scenario declaration exactly: piecewise
// arrival-rate stages through its own vegeta Pacer, the weighted mix through a Targeter, an open model with a
// worker cap (an arrival the cap could not start on time is dropped, never sent late) and latency measured
// from each request's scheduled send time. It streams one line per result (load/embedded/PROTOCOL.md).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { execa, type ResultPromise } from 'execa';
import { REQUEST_TIMEOUT_S } from '../scenarios/lib/plan.ts';
import type { ResolvedScenario } from '../scenarios/lib/scenario.ts';
import { ensureEmbeddedEngine } from './embedded-build.ts';
import type { EngineEnd, EngineOutput, LoadEngine, LoadTarget, StepLoad, WithProcess } from './engine.ts';
import { eachLine } from './lines.ts';
import { prioritized } from './priority.ts';

/** The plan file the Go program reads (`slo-load --plan <file>`). */
export interface EmbeddedPlan {
  baseUrl: string;
  startAtMs: number;
  startRate: number;
  stages: Array<{ target: number; durationS: number }>;
  requests: ResolvedScenario['requests'];
  timeoutS: number;
  maxWorkers: number;
  lateToleranceMs: number;
  /** Absent: connections are kept (bench/load.ts measures the engine alone that way). */
  requestsPerConnection?: number;
}

/**
 * How late an arrival may start before it counts as dropped. The worker cap covers a whole timeout of the
 * peak rate, so on a healthy generator an arrival is late only when the machine delayed the engine's own
 * scheduling; a second of slack keeps such hiccups (they still show, as latency counted from the scheduled
 * time) from reading as a saturated generator, while a reached cap still drops.
 */
export const LATE_TOLERANCE_MS = 1000;

/**
 * Workers for an open model: every request of a whole timeout may hang (a database failover stalls requests
 * for seconds) before arrivals are dropped. Drops make the run invalid, so they must mean the generator could
 * not keep up, not that the service was slow.
 */
/**
 * The load stands for many clients, not one keep-alive pool: one arrival in REQUESTS_PER_CONNECTION asks the
 * server to close its connection after answering, so connections turn over and an L4 balancer (kube-proxy's
 * NodePort, a cloud load balancer) spreads them over the replicas, new ones included. With one long-lived
 * pool, measured on the embedded cluster, 50 requests/s stayed on the 2-4 replicas that existed when the
 * spike began while 16 new ones stood idle.
 */
export const REQUESTS_PER_CONNECTION = 20;

export function workerCapFor(peakRate: number): number {
  return Math.max(20, Math.ceil(peakRate * REQUEST_TIMEOUT_S));
}

export function embeddedPlan(load: StepLoad, target: LoadTarget, scenario: ResolvedScenario): EmbeddedPlan {
  return {
    baseUrl: target.baseUrl.replace(/\/+$/, ''),
    startAtMs: load.startAtMs,
    startRate: scenario.plan.startRate,
    stages: scenario.plan.stages.map((s) => ({ target: s.target, durationS: s.durationS })),
    requests: scenario.requests,
    timeoutS: REQUEST_TIMEOUT_S,
    maxWorkers: load.workerCap ?? workerCapFor(scenario.plan.peakRate),
    lateToleranceMs: LATE_TOLERANCE_MS,
    requestsPerConnection: REQUESTS_PER_CONNECTION,
  };
}

/** One line of the Go program's stdout, applied to the outputs. Returns the `end` summary when it is one. */
export function applyLine(line: string, out: EngineOutput): { end?: Record<string, unknown>; malformed?: string } {
  const fields = line.split('\t');
  switch (fields[0]) {
    case 'r': {
      if (fields.length !== 8) return { malformed: line };
      const [, t, latencyUs, status, name, failure, version, instance] = fields as [string, string, string, string, string, string, string, string];
      const at = Number(t);
      out.sink.request({
        t: at, latencyMs: Number(latencyUs) / 1000, status: Number(status), name,
        failure: failure === '-' ? null : failure,
        ...(version !== '-' ? { version } : {}),
        ...(instance !== '-' ? { instance } : {}),
      });
      out.sink.iterations(at, 1);
      return {};
    }
    case 'a':
      if (fields[1]) out.acked(fields[1]);
      return {};
    case 'd':
      if (fields.length !== 3) return { malformed: line };
      out.sink.dropped(Number(fields[1]), Number(fields[2]));
      return {};
    case 'start':
      out.started(Number(fields[1]));
      return {};
    case 'end':
      try {
        return { end: JSON.parse(fields.slice(1).join('\t')) as Record<string, unknown> };
      } catch {
        return { malformed: line };
      }
    default:
      return line === '' ? {} : { malformed: line };
  }
}

export interface EmbeddedEngineOptions {
  /** The built program (tests may pass one); built on prepare() when absent. */
  binary?: string;
  /** After SIGTERM, how long the engine gets to flush before SIGKILL. */
  killGraceMs?: number;
}

export class EmbeddedEngine implements LoadEngine, WithProcess {
  readonly name = 'embedded' as const;
  readonly label = 'the embedded engine';
  /**
   * Samples are stamped with their scheduled send time and arrive when they complete: up to the request
   * timeout later, plus the engine's 100 ms flush. A second stays open that long so none is counted late.
   */
  readonly latenessMs = REQUEST_TIMEOUT_S * 1000 + 1000;
  private binary: string | null;
  private child: ResultPromise | null = null;

  constructor(private readonly options: EmbeddedEngineOptions = {}) {
    this.binary = options.binary ?? null;
  }

  async prepare(log: (line: string) => void): Promise<void> {
    this.binary ??= await ensureEmbeddedEngine({ log });
  }

  pid(): number | undefined {
    return this.child?.pid;
  }

  async run(load: StepLoad, target: LoadTarget, out: EngineOutput, signal: AbortSignal): Promise<EngineEnd> {
    if (!load.scenario) return { ended: { died: 'the embedded engine runs scenario modules; a k6 script needs --engine k6' } };
    const binary = this.binary ?? (await ensureEmbeddedEngine({ log: (line) => out.log(line) }));
    const planFile = join(load.runDir, `load-${load.step}.plan.json`);
    writeFileSync(planFile, JSON.stringify(embeddedPlan(load, target, load.scenario), null, 2));

    // stdin stays open as a lifeline: if the harness dies, the engine reads EOF and stops by itself.
    const [command, args] = prioritized(binary, ['--plan', planFile, '--stop-on-stdin-eof']);
    // A stop is SIGTERM (the engine flushes and writes its summary); execa SIGKILLs it after the grace.
    const child = execa(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'], reject: false, buffer: false, cleanup: true, extendEnv: true,
      killSignal: 'SIGTERM', forceKillAfterDelay: this.options.killGraceMs ?? 5_000,
    });
    this.child = child;
    let died = null as string | null;
    let end = null as Record<string, unknown> | null;
    let stopping = false;
    const stopEngine = () => {
      if (stopping) return;
      stopping = true;
      child.kill();
    };
    const onAbort = () => stopEngine();
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });

    const resultsDone = eachLine(child.stdout as Readable, (line) => {
      if (died) return;
      const applied = applyLine(line, out);
      if (applied.end) end = applied.end;
      if (applied.malformed !== undefined) {
        died = `malformed output of the embedded engine: ${applied.malformed.slice(0, 200)}`;
        stopEngine();
      }
    });
    const logsDone = eachLine(child.stderr as Readable, (line) => out.log(line, 'error'));
    const result = await child.catch((err: unknown) => {
      child.kill('SIGKILL');
      throw err;
    });
    await Promise.all([resultsDone, logsDone]);
    signal.removeEventListener('abort', onAbort);
    this.child = null;

    if (died) return { ended: { died } };
    if (signal.aborted) return { ended: 'stopped' };
    if (result.signal) return { ended: { died: `the embedded engine was killed by ${result.signal}` } };
    if (result.exitCode !== 0) return { ended: { died: `the embedded engine exited with code ${String(result.exitCode)}` } };
    if (!end) return { ended: { died: 'the embedded engine ended without its summary line' } };
    return { ended: end.stopped === 'completed' ? 'completed' : 'stopped' };
  }
}
