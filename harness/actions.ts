// The suite's actions (rollout, kill, failover, scale): refused before anything starts when the target
// cannot carry them out, and carried out at their times from the load's own t=0. The harness is the one
// writer of action.start / action.end (contract/timeline.ts EVENT_WRITERS); an adapter only carries an
// action out and records what it observes.
import type { Cluster } from '../clusters/types.ts';
import { errors, isSloError } from '../contract/errors.ts';
import type { ResolvedAction, ResolvedSuite } from '../contract/spec.ts';
import type { TimelineSink } from '../contract/timeline.ts';

export const HARNESS_SOURCE = 'harness';

const ACTION_ABILITY = { kill: 'killPod', rollout: 'rollout', failover: 'failover', scale: 'scale' } as const satisfies Record<ResolvedAction['do'], keyof Cluster>;

/** Refuses, before anything starts, a suite whose actions the target cannot carry out or whose scaling it cannot see. */
export function assertActionsSupported(cluster: Cluster, suite: ResolvedSuite): void {
  cluster.refuseActions?.([...new Set(suite.steps.flatMap((s) => s.actions.map((a) => a.do)))]);
  for (const step of suite.steps) {
    for (const action of step.actions) {
      const ability = ACTION_ABILITY[action.do];
      if (typeof cluster[ability] !== 'function') {
        throw errors.SLO_ERR_ACTION_UNSUPPORTED(`step "${step.name}" asks for "${action.do}", which the ${cluster.name} target cannot do`, 'drop the action or the step with --steps');
      }
    }
    if (cluster.observesReplicas === false && step.expect.includes('scaling')) {
      throw errors.SLO_ERR_SPEC_UNSHOWABLE(`step "${step.name}" expects scaling, which the ${cluster.name} target cannot observe (no replicas)`,
        `add "expect: []" to the step (a ${step.scenario} step expects scaling unless it says otherwise), or run on a cluster`);
    }
  }
}

/** Carries one action out, framed by exactly one action.start and one action.end. */
export async function carryOut(cluster: Cluster, action: ResolvedAction, timeline: TimelineSink, log: (line: string) => void): Promise<void> {
  const detail: Record<string, unknown> = { atS: Math.round(action.atS * 10) / 10 };
  if (action.version) detail['version'] = action.version;
  if (action.pod) detail['pod'] = action.pod;
  if (action.replicas !== undefined) detail['replicas'] = action.replicas;
  timeline.event('action.start', HARNESS_SOURCE, { action: action.do, detail });
  log(`action ${action.do} started`);
  try {
    switch (action.do) {
      case 'kill': {
        const pod = await cluster.killPod!(action.pod);
        log(`killed ${pod}`);
        break;
      }
      case 'rollout':
        await cluster.rollout!(action.version ?? 'next');
        break;
      case 'failover':
        await cluster.failover!();
        break;
      case 'scale':
        await cluster.scale!(action.replicas ?? 3);
        break;
    }
    timeline.event('action.end', HARNESS_SOURCE, { action: action.do, ok: true });
    log(`action ${action.do} done`);
  } catch (error) {
    const message = isSloError(error) ? error.oneLine() : (error as Error).message;
    timeline.event('action.end', HARNESS_SOURCE, { action: action.do, ok: false, error: message });
    log(`action ${action.do} failed: ${message}`);
  }
}

/**
 * A step's actions on the load's clock: `start(originMs)` arms each at origin + atS (an action whose time has
 * passed fires at once), `settle()` waits for the ones still running, `cancel()` disarms the rest.
 */
export class ActionSchedule {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running: Promise<void>[] = [];

  constructor(private readonly actions: readonly ResolvedAction[], private readonly fire: (action: ResolvedAction) => Promise<void>) {}

  start(originMs: number): void {
    for (const action of this.actions) {
      const delay = Math.max(0, originMs + action.atS * 1000 - Date.now());
      this.timers.push(setTimeout(() => this.running.push(this.fire(action)), delay));
    }
  }

  cancel(): void {
    this.timers.forEach(clearTimeout);
  }

  async settle(): Promise<void> {
    this.cancel();
    await Promise.allSettled(this.running);
  }
}
