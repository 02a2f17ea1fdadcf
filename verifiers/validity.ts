// Whether the run itself can be trusted. A load generator that could not produce the asked load measured a
// gentler test than the spec describes, and an aborted run measured part of it: either way the judgement is
// 'invalid', never a pass. These verdicts fail with status 'invalid', not 'fail'.
import type { SloSpec } from '../contract/spec.ts';
import { sum, type RunContext } from './run-context.ts';
import type { Verdict } from './types.ts';
import { at, verdict } from './verdict.ts';

function judgeRunState(ctx: RunContext): Verdict {
  const end = ctx.events('run.end').at(-1);
  const loadgen = ctx.events('loadgen');
  const notes = loadgen.map((e) => `${at(e.t, ctx.from)} load generator ${e.data.state}: ${e.data.reason}`);
  let failure: string | undefined;
  if (loadgen[0]) failure = `the load generator ${loadgen[0].data.state}: ${loadgen[0].data.reason}`;
  else if (!end) failure = 'no run.end event: the run did not finish (crashed or still running)';
  else if (end.data.status !== 'completed') failure = `the run ended ${end.data.status}${end.data.reason ? `: ${end.data.reason}` : ''}`;
  if (end) notes.push(`run ended ${end.data.status} ${at(end.t, ctx.from)}`);
  return verdict({
    id: 'run.completed',
    slo: 'the run completed with a healthy load generator',
    measured: failure ? 0 : 1,
    threshold: { op: '==', value: 1, unit: 'bool' },
    window: { from: ctx.from, to: ctx.to, label: 'whole run' },
    samples: ctx.records.length,
    notes,
    failStatus: 'invalid',
    ...(failure ? { failure } : {}),
  });
}

function judgeDropped(ctx: RunContext, spec: SloSpec): Verdict {
  const iterations = sum(ctx.load, (r) => r.iterations);
  const dropped = sum(ctx.load, (r) => r.dropped);
  const asked = iterations + dropped;
  return verdict({
    id: 'loadgen.dropped',
    slo: `the load generator dropped at most ${spec.slos.saturation.maxDroppedPercent} % of iterations`,
    measured: asked > 0 ? (dropped / asked) * 100 : null,
    threshold: { op: '<=', value: spec.slos.saturation.maxDroppedPercent, unit: '%' },
    window: { from: ctx.from, to: ctx.to, label: 'whole run' },
    samples: asked,
    notes: [`${dropped} of ${asked} iterations dropped`],
    failStatus: 'invalid',
    ...(asked > 0 ? {} : { failure: 'no load records: the load generator produced nothing' }),
  });
}

/** Judged only when the load generator reported the rate it was asked for. */
function judgeAchieved(ctx: RunContext, spec: SloSpec): Verdict[] {
  const withTarget = ctx.load.filter((r) => r.targetRate !== undefined);
  const target = sum(withTarget, (r) => r.targetRate ?? 0);
  if (withTarget.length === 0 || target === 0) return [];
  const achieved = sum(withTarget, (r) => r.iterations);
  return [
    verdict({
      id: 'loadgen.achieved',
      slo: `the load generator achieved at least ${spec.slos.saturation.minAchievedPercent} % of the asked rate`,
      measured: (achieved / target) * 100,
      threshold: { op: '>=', value: spec.slos.saturation.minAchievedPercent, unit: '%' },
      window: { from: ctx.from, to: ctx.to, label: 'whole run' },
      samples: withTarget.length,
      notes: [`${achieved} iterations for ${Math.round(target)} asked over ${withTarget.length} load records`],
      failStatus: 'invalid',
    }),
  ];
}

export function verifyValidity(ctx: RunContext, spec: SloSpec): Verdict[] {
  return [judgeRunState(ctx), judgeDropped(ctx, spec), ...judgeAchieved(ctx, spec)];
}
