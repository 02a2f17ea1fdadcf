// Judging a run: timeline records + spec -> one verdict per objective, and an overall status. Pure: no I/O,
// so a stored run can be judged again against a changed spec.
//
// Which verdicts appear: the run's validity, latency, error rate, availability and observability always;
// scaling when a step that ran expects it (spike steps by default); failover, rollout and self-healing
// only when such an action ran. Status: 'invalid' when any validity verdict is (saturated or aborted run;
// never a pass), else 'fail' when any verdict failed, else 'pass'.
import type { SloSpec } from '../contract/spec.ts';
import type { TimelineRecord } from '../contract/timeline.ts';
import { verifyAvailability } from './availability.ts';
import { verifyErrorRate } from './error-rate.ts';
import { verifyFailover } from './failover.ts';
import { verifyLatency } from './latency.ts';
import { verifyObservability } from './observability.ts';
import { verifyRollout } from './rollout.ts';
import { runContext, type RunContext } from './run-context.ts';
import { verifyScaling } from './scaling.ts';
import { verifySelfHealing } from './self-healing.ts';
import type { Verdict, VerdictStatus } from './types.ts';
import { verifyValidity } from './validity.ts';

export type { Verdict, VerdictStatus, Threshold } from './types.ts';
export { WRITE_REQUEST_NAME } from './failover.ts';

export interface Judgement {
  status: VerdictStatus;
  verdicts: Verdict[];
}

type Verifier = (ctx: RunContext, spec: SloSpec) => Verdict[];

const VERIFIERS: readonly Verifier[] = [
  verifyValidity,
  verifyLatency,
  verifyErrorRate,
  verifyAvailability,
  verifyScaling,
  verifyFailover,
  verifyRollout,
  verifySelfHealing,
  verifyObservability,
];

export function overallStatus(verdicts: readonly Verdict[]): VerdictStatus {
  if (verdicts.some((v) => v.status === 'invalid')) return 'invalid';
  if (verdicts.length === 0 || verdicts.some((v) => v.status === 'fail')) return 'fail';
  return 'pass';
}

export function verify(records: TimelineRecord[], spec: SloSpec): Judgement {
  const ctx = runContext(records, spec);
  const verdicts = VERIFIERS.flatMap((verifier) => verifier(ctx, spec));
  return { status: overallStatus(verdicts), verdicts };
}
