// The load-engine seam, small in the style of k6's Output: every engine prepares once (finds or builds its
// program), then runs one step at a time, reporting into the same outputs. Optional abilities are separate
// interfaces, discovered by presence. The runner (run-load.ts) does the rest (aggregation, phases,
// saturation, timeline) without knowing which engine ran.
import type { Phase } from '../scenarios/lib/plan.ts';
import type { ResolvedScenario } from '../scenarios/lib/scenario.ts';
import type { AskedPlan } from './asked-rate.ts';
import type { LoadSink } from './sink.ts';

import type { EngineName } from '../contract/names.ts';

export { ENGINE_NAMES, type EngineName } from '../contract/names.ts';

/** What one step asks of an engine. */
export interface StepLoad {
  step: string;
  /** The resolved declaration (plan and mix), or null for a user's own k6 script. */
  scenario: ResolvedScenario | null;
  /** The user's own k6 script (k6 engine only), when `scenario` is null. */
  script?: string;
  /** Epoch ms at which the plan's t=0 should fall: the load and the actions share this origin. */
  startAtMs: number;
  /** The folder for the engine's log and plan files. */
  runDir: string;
  /** For engines that carry thresholds of their own (k6), so a bare k6 run is meaningful too. */
  slo: { p95Ms: number; errorRatePercent: number };
  /** The open model's worker cap (k6: maxVUs); sized from the peak rate when absent. */
  workerCap?: number;
}

export interface LoadTarget {
  baseUrl: string;
}

/** Where an engine reports, besides the request samples. */
export interface EngineOutput {
  sink: LoadSink;
  /** The plan's t=0 as it really happened; phases when the engine announces them (else the plan's). */
  started(atMs: number, phases?: Phase[]): void;
  /** The asked rate when only the engine can know it (a user's k6 script, read with `k6 inspect`). */
  planned(plan: AskedPlan): void;
  /** An id the service acknowledged (e.g. an order), for the durability audit. */
  acked(id: string): void;
  /** The engine's own log lines (kept in the run folder); errors are quoted when the engine dies. */
  log(line: string, level?: 'info' | 'error'): void;
}

export interface EngineEnd {
  /** Why it stopped: the plan ran out, the signal stopped it, or it died (reason quoted). */
  ended: 'completed' | 'stopped' | { died: string };
}

export interface LoadEngine {
  readonly name: EngineName;
  /** How the engine is named in reasons and logs. */
  readonly label: string;
  /** Extra seconds a sample may arrive after its second ended (flush interval, samples stamped at scheduled time). */
  readonly latenessMs: number;
  /** Once per run, before any load: find or build the program; one line and exit 3 when it cannot. */
  prepare(log: (line: string) => void): Promise<void>;
  /** One step. Returns when the load ended; stops promptly when `signal` aborts. */
  run(load: StepLoad, target: LoadTarget, out: EngineOutput, signal: AbortSignal): Promise<EngineEnd>;
}

/** Optional ability: the engine's process id, so the runner can tell a CPU-starved generator. */
export interface WithProcess {
  pid(): number | undefined;
}

export function hasProcess(engine: LoadEngine): engine is LoadEngine & WithProcess {
  return typeof (engine as Partial<WithProcess>).pid === 'function';
}
