// A bring-up is an ordered list of small steps, each with its own teardown (kind's create actions, plus
// the undo kind gets for free by deleting a container). `up` runs the steps in order; when one fails or the
// signal aborts, the teardowns of every step that started run in reverse, and the first error is rethrown.
// Every teardown works from files on disk (pid files, recorded settings), never from memory, so a later
// process (`down-main.ts`, a reaper) can undo what a killed one left, and running it twice is harmless.
import { errors } from '../../contract/errors.ts';

export interface StepContext {
  log: (line: string) => void;
  signal: AbortSignal;
}

export interface Step {
  /** Short and stable: it names the step in logs and errors ("etcd", "kubelet"). */
  readonly name: string;
  up(ctx: StepContext): Promise<void>;
  /** Idempotent; must also undo a partial `up`. */
  down(ctx: StepContext): Promise<void>;
}

/** Runs the steps in order; on failure or abort, tears down those started (in reverse) and rethrows. */
export async function runSteps(steps: readonly Step[], ctx: StepContext): Promise<void> {
  const started: Step[] = [];
  try {
    for (const step of steps) {
      if (ctx.signal.aborted) throw errors.SLO_ERR_RUN_ABORTED(`bring-up interrupted before ${step.name}`);
      started.push(step);
      const begun = Date.now();
      await step.up(ctx);
      ctx.log(`embedded: ${step.name} up (${((Date.now() - begun) / 1000).toFixed(1)} s)`);
    }
  } catch (error) {
    ctx.log(`embedded: ${started.at(-1)?.name ?? 'start'} failed; tearing down ${started.length} step(s)`);
    await teardown(started, ctx);
    throw error;
  }
}

/**
 * Runs every step's teardown in reverse order. A failing teardown does not stop the others (a leftover
 * process must not keep the bridge or the sysctls from being restored); the failures come back as one error.
 */
export async function teardown(steps: readonly Step[], ctx: StepContext): Promise<void> {
  const failures: string[] = [];
  // Teardown must finish even after Ctrl-C: it gets a signal that never aborts.
  const downCtx: StepContext = { log: ctx.log, signal: new AbortController().signal };
  for (const step of [...steps].reverse()) {
    try {
      await step.down(downCtx);
    } catch (error) {
      failures.push(`${step.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (failures.length > 0) throw new Error(`teardown left work undone: ${failures.join('; ')}`);
}
