// Scaling, judged only for steps that expect it (a spike step unless it says `expect: []`, or any step with
// `expect: [scaling]`). From `replicas` events (the Deployment's desired/ready), or `hpa` events when the
// target reports no replicas: the autoscaler never asks for fewer than min nor more than max replicas, max
// ready replicas arrive within the budget after the spike starts, and the count is back to min within the
// budget after the spike ends. Budgets are full-length and compressed by the run's profile timeScale.
import { stepExpectations, type SloSpec } from '../contract/spec.ts';
import type { RunContext, StepSpan } from './run-context.ts';
import type { Threshold, Verdict } from './types.ts';
import { at, round, verdict } from './verdict.ts';

interface ReplicaPoint {
  t: number;
  desired: number;
  ready: number;
}

function replicaSeries(ctx: RunContext): { points: ReplicaPoint[]; origin: string } {
  const replicas = ctx.events('replicas').map((e) => ({ t: e.t, desired: e.data.desired, ready: e.data.ready }));
  if (replicas.length > 0) return { points: replicas, origin: 'replicas events' };
  return { points: ctx.events('hpa').map((e) => ({ t: e.t, desired: e.data.desired, ready: e.data.current })), origin: 'hpa events' };
}

/** Steps that ran and that the spec says target scaling. */
export function scalingSteps(ctx: RunContext, spec: SloSpec): StepSpan[] {
  return ctx.steps.filter((span) => {
    const step = spec.suite.steps.find((s) => s.name === span.name);
    return step ? stepExpectations(step).includes('scaling') : false;
  });
}

/**
 * The high-load stretch of a step. The built-in scenarios mark phases steady -> spike (the jump) -> hold ->
 * recovery, so the spike runs from the start of `spike` to the start of `recovery`; a step without those
 * marks counts whole (its start, or its end).
 */
export function spikeOf(ctx: RunContext, step: StepSpan): { from: number; to: number; marked: boolean } {
  const phases = ctx.events('phase').filter((e) => e.data.step === step.name && e.t >= step.from && e.t <= step.to);
  const start = phases.find((e) => e.data.name === 'spike' && e.data.state === 'start');
  const from = start?.t ?? step.from;
  const recovery = phases.find((e) => e.data.name === 'recovery' && e.data.state === 'start' && e.t >= from);
  return { from, to: recovery?.t ?? step.to, marked: start !== undefined || recovery !== undefined };
}

export function verifyScaling(ctx: RunContext, spec: SloSpec): Verdict[] {
  const steps = scalingSteps(ctx, spec);
  if (steps.length === 0) return [];
  const { min, max, reachMaxWithinS, backToMinWithinS } = spec.slos.scaling;
  const { points, origin } = replicaSeries(ctx);
  const judged = points.filter((p) => p.t >= (ctx.steps[0]?.from ?? ctx.from) && p.t <= ctx.to);
  const whole = { from: ctx.from, to: ctx.to, label: 'whole run' };
  const noData = points.length === 0 ? 'no replicas or hpa events in the run' : undefined;

  const lowest = judged.length > 0 ? Math.min(...judged.map((p) => p.desired)) : null;
  const highest = judged.length > 0 ? Math.max(...judged.map((p) => p.desired)) : null;
  const verdicts: Verdict[] = [
    verdict({
      id: 'scaling.min',
      slo: `never fewer than ${min} replicas`,
      measured: lowest,
      threshold: { op: '>=', value: min, unit: 'replicas' },
      window: whole,
      samples: judged.length,
      notes: [`lowest desired replicas from ${origin}`],
      ...(lowest === null ? { failure: noData ?? 'no replica counts during the steps' } : {}),
    }),
    verdict({
      id: 'scaling.max',
      slo: `never more than ${max} replicas`,
      measured: highest,
      threshold: { op: '<=', value: max, unit: 'replicas' },
      window: whole,
      samples: judged.length,
      notes: [`highest desired replicas from ${origin}`],
      ...(highest === null ? { failure: noData ?? 'no replica counts during the steps' } : {}),
    }),
  ];

  for (const step of steps) {
    const suffix = steps.length > 1 ? `.${step.name}` : '';
    const spike = spikeOf(ctx, step);
    const spikeNote = `spike ${spike.marked ? '(from phases)' : '(whole step)'} ${at(spike.from, ctx.from)} to ${at(spike.to, ctx.from)}`;

    const reachBudget: Threshold = { op: '<=', value: round(reachMaxWithinS * ctx.timeScale), unit: 's' };
    const reached = points.find((p) => p.t >= spike.from && p.ready >= max);
    const peak = points.filter((p) => p.t >= spike.from && p.t <= spike.to).reduce((m, p) => Math.max(m, p.ready), 0);
    verdicts.push(
      verdict({
        id: `scaling.reachMax${suffix}`,
        slo: `${max} ready replicas within ${reachBudget.value} s of the spike start`,
        measured: reached ? (reached.t - spike.from) / 1000 : null,
        threshold: reachBudget,
        window: { from: spike.from, to: reached?.t ?? spike.to, label: `spike of ${step.name}` },
        samples: points.length,
        notes: [spikeNote, reached ? `${reached.ready} ready at ${at(reached.t, ctx.from)}` : `at most ${peak} ready during the spike`],
        ...(reached ? {} : { failure: noData ?? `never reached ${max} ready replicas (at most ${peak} during the spike)` }),
      }),
    );

    const backBudget: Threshold = { op: '<=', value: round(backToMinWithinS * ctx.timeScale), unit: 's' };
    // The state at the spike end is the last count reported at or before it.
    const atEnd = points.filter((p) => p.t <= spike.to).at(-1);
    const settled = (p: ReplicaPoint) => p.ready <= min && p.desired <= min;
    const back = atEnd && settled(atEnd) ? { ...atEnd, t: spike.to } : points.find((p) => p.t > spike.to && settled(p));
    const observedS = round((ctx.to - spike.to) / 1000, 1);
    verdicts.push(
      verdict({
        id: `scaling.backToMin${suffix}`,
        slo: `back to ${min} replicas within ${backBudget.value} s of the spike end`,
        measured: back ? (back.t - spike.to) / 1000 : null,
        threshold: backBudget,
        window: { from: spike.to, to: back?.t ?? ctx.to, label: `after the spike of ${step.name}` },
        samples: points.length,
        notes: [spikeNote, back ? `${back.ready} ready at ${at(back.t, ctx.from)}` : `run ended ${observedS}s after the spike`],
        ...(back ? {} : { failure: noData ?? `not back to ${min} replicas before the run ended (${observedS}s after the spike)` }),
      }),
    );
  }
  return verdicts;
}
