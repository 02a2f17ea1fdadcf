// Steps that cannot show what they are judged on, found before any load: a spec can be valid field by field
// and still ask for a verdict its steps cannot produce at the chosen profile (a rollout that cannot finish
// before its step ends, a scaling expectation on a step too light to reach max replicas). Such a run would
// cost minutes and end in a failure that says nothing about the service, so it is refused as bad input
// (exit 2), one line naming each step and the numbers to change.
//
// Pure: the parsed spec and the suite a run resolved (profile, then --steps) in, problems out. `slo run`
// applies it; `slo verify` of a stored run does not (re-judging what ran is always allowed). `slo capacity`
// runs none of the suite's steps (its probes carry no actions and are judged on latency and errors only),
// so nothing here applies to it.
import { errors, type SloError } from '../contract/errors.ts';
import { type ResolvedStep, type ResolvedSuite, type SloSpec, type SpecStep } from '../contract/spec.ts';

/**
 * A step that expects scaling must drive clearly more than max replicas' worth of CPU at the HPA's target:
 * the HPA ignores a usage within 10 % of its target, and a peak that only just fills max replicas leaves the
 * count hovering below max.
 */
export const SCALING_HEADROOM = 1.2;

/** Float slack, so a value computed to exactly the boundary passes. */
const EPSILON = 1e-9;

export interface ShowableOptions {
  /** The user's `--scenario`, run in place of every step's scenario: its request mix is its own. */
  scenarioOverride?: string | undefined;
}

const fmt = (n: number): string => String(Math.round(n * 10) / 10);
/** Time left, rounded down: a step 0.05 s short must not read as having exactly what it needs. */
const fmtDown = (n: number): string => String(Math.floor(n * 10 + 1e-6) / 10);
const ceilTo = (n: number): number => Math.ceil(n - EPSILON);

/**
 * Whether the harness knows the step's CPU demand: a built-in scenario sends the reference mix built from the
 * step's weights and cpuMs; the user's scenario module or k6 script declares its own mix.
 */
function mixKnown(step: ResolvedStep, options: ShowableOptions): boolean {
  return options.scenarioOverride === undefined && !step.isScript;
}

/** Peak CPU demand (ms of CPU per second) of a step of the reference mix at the profile's rateScale. */
export function peakCpuDemand(step: Pick<SpecStep, 'rates' | 'weights' | 'cpuMs'>, rateScale: number): number {
  const total = step.weights.read + step.weights.write + step.weights.cpu;
  // Multiplied before dividing, so round numbers stay exact (200 x 0.25 x 70 x 15 / 100 = 525).
  return (step.rates.peak * rateScale * step.weights.cpu * step.cpuMs) / total;
}

function scalingProblem(raw: SpecStep, suite: ResolvedSuite): string | null {
  const { max, min, replicaCpuAtTargetM } = suite.slos.scaling;
  const demand = peakCpuDemand(raw, suite.rateScale);
  const needed = max * replicaCpuAtTargetM * SCALING_HEADROOM;
  if (demand >= needed * (1 - EPSILON)) return null;
  const total = raw.weights.read + raw.weights.write + raw.weights.cpu;
  const fixes: string[] = [];
  if (raw.weights.cpu === 0) {
    fixes.push('give weights.cpu a share of the mix (it is 0)');
  } else {
    if (raw.cpuMs > 0) fixes.push(`raise rates.peak to >= ${ceilTo((needed * total) / (suite.rateScale * raw.weights.cpu * raw.cpuMs))}`);
    fixes.push(`${fixes.length > 0 ? '' : 'raise '}cpuMs to >= ${ceilTo((needed * total) / (raw.rates.peak * suite.rateScale * raw.weights.cpu))}`);
  }
  const fitting = Math.floor(demand / (replicaCpuAtTargetM * SCALING_HEADROOM) + EPSILON);
  const lower = fitting >= min ? `lower slos.scaling.max to <= ${fitting}` : 'lower slos.scaling.max';
  const share = fmt((raw.weights.cpu / total) * 100);
  return `step "${raw.name}": peak CPU demand ${fmt(demand)} ms/s at the ${suite.profile} profile (${fmt(raw.rates.peak * suite.rateScale)}/s x ${share} % cpu x ${raw.cpuMs} ms)`
    + ` cannot hold ${max} replicas at the HPA target (needs >= ${fmt(needed)} ms/s = ${max} x ${replicaCpuAtTargetM}m x ${SCALING_HEADROOM}):`
    + ` ${fixes.join(' or ')}, or ${lower}`;
}

interface ReplicasAtRollout {
  replicas: number;
  /** Why max, in words; empty at min. */
  why: string;
}

/**
 * Replicas running when a rollout at `atS` (compressed seconds from the start of step `index`) starts: max
 * when the step itself expects scaling, or when an earlier step of this run expects it and its end is less
 * than the compressed backToMinWithinS before the action; else min.
 */
function replicasAt(suite: ResolvedSuite, index: number, atS: number): ReplicasAtRollout {
  const { min, max, backToMinWithinS } = suite.slos.scaling;
  const steps = suite.steps;
  if (steps[index]?.expect.includes('scaling')) return { replicas: max, why: 'this step expects scaling' };
  let gap = atS;
  for (let j = index - 1; j >= 0; j -= 1) {
    const earlier = steps[j] as ResolvedStep;
    if (earlier.expect.includes('scaling')) {
      const window = backToMinWithinS * suite.timeScale;
      if (gap < window) {
        return { replicas: max, why: `step "${earlier.name}" expects scaling and ends ${fmt(gap)} s before it, within the ${fmt(window)} s allowed to get back to ${min}` };
      }
      break;
    }
    gap += earlier.durationS;
  }
  return { replicas: min, why: '' };
}

function rolloutProblem(raw: SpecStep, step: ResolvedStep, index: number, actionIndex: number, suite: ResolvedSuite): string | null {
  const { replicaReadyS, observeAfterS } = suite.slos.rollout;
  const action = raw.actions[actionIndex];
  const resolved = step.actions[actionIndex];
  if (!action || !resolved) return null;
  const needFor = (replicas: number) => replicas * replicaReadyS + observeAfterS;
  const at = replicasAt(suite, index, resolved.atS);
  const need = needFor(at.replicas);
  const left = step.durationS - resolved.atS;
  if (left >= need - EPSILON) return null;

  const ts = suite.timeScale;
  const fixes: string[] = [];
  if (typeof action.at === 'number') {
    if (action.at < 1) fixes.push(`make durationS >= ${ceilTo(need / (ts * (1 - action.at)))}`);
  } else {
    fixes.push(`make durationS >= ${ceilTo(parseFloat(action.at) + need / ts)}`);
  }
  // Earlier can mean more replicas (back inside an earlier spike's cool-down): size the move for those.
  let latestS = step.durationS - need;
  if (latestS >= 0 && replicasAt(suite, index, latestS).replicas > at.replicas) latestS = step.durationS - needFor(replicasAt(suite, index, latestS).replicas);
  if (latestS >= 0) {
    const earlier = typeof action.at === 'number'
      ? String(Math.floor((latestS / step.durationS) * 100 + EPSILON) / 100)
      : `"${Math.floor(latestS / ts + EPSILON)}s"`;
    fixes.push(`move the action earlier (at <= ${earlier})`);
  }
  const why = at.why ? ` (${at.why})` : '';
  return `step "${raw.name}": a rollout of ${at.replicas} replicas${why} needs ~${fmt(need)} s (${at.replicas} x ${fmt(replicaReadyS)} s + ${fmt(observeAfterS)} s to see the version)`
    + ` but the step has ${fmtDown(left)} s left after it at the ${suite.profile} profile: ${fixes.join(' or ')}`;
}

/** One line per problem, in run order; empty when every step of the run can show what it is judged on. */
export function unshowableSteps(spec: SloSpec, suite: ResolvedSuite, options: ShowableOptions = {}): string[] {
  const problems: string[] = [];
  suite.steps.forEach((step, index) => {
    const raw = spec.suite.steps.find((s) => s.name === step.name);
    if (!raw) return;
    if (step.expect.includes('scaling') && mixKnown(step, options)) {
      const problem = scalingProblem(raw, suite);
      if (problem) problems.push(problem);
    }
    raw.actions.forEach((action, j) => {
      if (action.do !== 'rollout') return;
      const problem = rolloutProblem(raw, step, index, j, suite);
      if (problem) problems.push(problem);
    });
  });
  return problems;
}

/** The problems of {@link unshowableSteps} as the one-line bad-input error, or null when there are none. */
export function unshowableError(spec: SloSpec, suite: ResolvedSuite, source: string, options: ShowableOptions = {}): SloError | null {
  const problems = unshowableSteps(spec, suite, options);
  if (problems.length === 0) return null;
  return errors.SLO_ERR_SPEC_UNSHOWABLE(
    `${source}: ${problems.join('; ')}`,
    'the sizes assumed for the target are slos.scaling.replicaCpuAtTargetM and slos.rollout.replicaReadyS / observeAfterS',
  );
}
