// The stage plan of each built-in scenario, as a pure function of its parameters. No k6 and no Node imports:
// the k6 scripts build their executor options from it, and the harness can import it too (to show a plan
// or to know phase boundaries). All times are in seconds of the compressed run (TIME_SCALE applied).

export type ScenarioKind = 'growth' | 'spike' | 'sustained';
export type PhaseName = 'steady' | 'ramp' | 'spike' | 'hold' | 'recovery';

export interface Stage {
  /** Iterations per second reached at the end of this stage (linear from the previous target). */
  target: number;
  durationS: number;
}

export interface Phase {
  name: PhaseName;
  startS: number;
  endS: number;
}

export interface LoadPlan {
  kind: ScenarioKind;
  executor: 'ramping-arrival-rate' | 'constant-arrival-rate';
  startRate: number;
  stages: Stage[];
  phases: Phase[];
  totalS: number;
  peakRate: number;
}

export interface PlanParams {
  rateBase: number;
  ratePeak: number;
  /** Duration of the uncompressed scenario. */
  durationS: number;
  /** 0.1 = ten times shorter. Rates are not scaled, only time. */
  timeScale: number;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

function phasesFrom(stages: Stage[], names: PhaseName[]): Phase[] {
  // Consecutive stages with the same phase name form one phase.
  const phases: Phase[] = [];
  let at = 0;
  stages.forEach((stage, i) => {
    const name = names[i] ?? 'steady';
    const last = phases[phases.length - 1];
    if (last && last.name === name) last.endS = round3(at + stage.durationS);
    else phases.push({ name, startS: round3(at), endS: round3(at + stage.durationS) });
    at += stage.durationS;
  });
  return phases;
}

function finish(kind: ScenarioKind, startRate: number, staged: Array<[PhaseName, Stage]>): LoadPlan {
  const stages = staged.map(([, s]) => ({ target: Math.max(0, Math.round(s.target)), durationS: round3(s.durationS) }));
  const totalS = round3(stages.reduce((sum, s) => sum + s.durationS, 0));
  return {
    kind,
    executor: kind === 'sustained' ? 'constant-arrival-rate' : 'ramping-arrival-rate',
    startRate: Math.max(0, Math.round(startRate)),
    stages,
    phases: phasesFrom(stages, staged.map(([name]) => name)),
    totalS,
    peakRate: Math.max(Math.round(startRate), ...stages.map((s) => s.target)),
  };
}

/** growth: base, then three climbing steps to peak, a hold at peak, and a return to base. */
export function growthPlan(p: PlanParams): LoadPlan {
  const d = p.durationS * p.timeScale;
  const step = (p.ratePeak - p.rateBase) / 3;
  return finish('growth', p.rateBase, [
    ['steady', { target: p.rateBase, durationS: 0.1 * d }],
    ['ramp', { target: p.rateBase + step, durationS: 0.2 * d }],
    ['ramp', { target: p.rateBase + 2 * step, durationS: 0.2 * d }],
    ['ramp', { target: p.ratePeak, durationS: 0.2 * d }],
    ['hold', { target: p.ratePeak, durationS: 0.2 * d }],
    ['recovery', { target: p.rateBase, durationS: 0.1 * d }],
  ]);
}

/** spike: steady base, a jump to peak within seconds, a hold, a drop within seconds, then recovery at base. */
export function spikePlan(p: PlanParams): LoadPlan {
  const d = p.durationS * p.timeScale;
  // "Within seconds" whatever the compression: 2 % of the run, between 1 and 5 s.
  const edgeS = Math.min(5, Math.max(1, 0.02 * d));
  const steadyS = 0.3 * d;
  const holdS = 0.25 * d;
  const recoveryS = Math.max(1, d - steadyS - holdS - 2 * edgeS);
  return finish('spike', p.rateBase, [
    ['steady', { target: p.rateBase, durationS: steadyS }],
    ['spike', { target: p.ratePeak, durationS: edgeS }],
    ['hold', { target: p.ratePeak, durationS: holdS }],
    ['recovery', { target: p.rateBase, durationS: edgeS }],
    ['recovery', { target: p.rateBase, durationS: recoveryS }],
  ]);
}

/** sustained: one constant rate (the base) for the whole soak. */
export function sustainedPlan(p: PlanParams): LoadPlan {
  return finish('sustained', p.rateBase, [['steady', { target: p.rateBase, durationS: p.durationS * p.timeScale }]]);
}

export function planFor(kind: ScenarioKind, params: PlanParams): LoadPlan {
  if (kind === 'growth') return growthPlan(params);
  if (kind === 'spike') return spikePlan(params);
  return sustainedPlan(params);
}

/** Iterations per second asked at `tS` seconds into the plan (linear inside a stage, 0 after the end). */
export function rateAt(plan: Pick<LoadPlan, 'startRate' | 'stages'>, tS: number): number {
  if (tS < 0) return 0;
  let from = plan.startRate;
  let at = 0;
  for (const stage of plan.stages) {
    if (tS < at + stage.durationS) {
      const fraction = stage.durationS > 0 ? (tS - at) / stage.durationS : 1;
      return from + (stage.target - from) * fraction;
    }
    at += stage.durationS;
    from = stage.target;
  }
  return 0;
}

/**
 * The client timeout of every scenario request. A request slower than this fails as a timeout (and counts
 * against the error rate), as it would for a real client that gives up.
 */
export const REQUEST_TIMEOUT_S = 5;

/**
 * VUs for an open model: enough for the peak rate at `expectedLatencyS` per iteration pre-allocated, and room
 * for every request of a whole timeout to hang (a database failover stalls requests for seconds) before k6
 * starts dropping iterations. Drops make the run invalid, so they must mean the generator could not keep up,
 * not that the service was slow. k6 creates VUs beyond the pre-allocated ones only when needed.
 */
export function vusFor(peakRate: number, expectedLatencyS = 0.05): { preAllocatedVUs: number; maxVUs: number } {
  // Half a second of the peak ready up front: a 10x jump or a service slower than expected must not wait on
  // VU initialisation mid-run, which k6 reports as dropped iterations (and the harness as a saturated run).
  const preAllocatedVUs = Math.max(2, Math.ceil(peakRate * expectedLatencyS * 2), Math.ceil(peakRate * 0.5));
  const maxVUs = Math.max(preAllocatedVUs, Math.ceil(peakRate * expectedLatencyS * 20), Math.ceil(peakRate * REQUEST_TIMEOUT_S), 20);
  return { preAllocatedVUs, maxVUs };
}
