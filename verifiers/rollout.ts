// Rolling update, judged only when a rollout action ran: no failed requests between the rollout start and
// its completion, and a clean version switch seen by the clients (x-app-version): only the old version
// answers before the rollout starts, only the new one after it completes.
import type { SloSpec } from '../contract/spec.ts';
import type { EventOf } from '../contract/timeline.ts';
import { endOf, horizonOf } from './failover.ts';
import { BUCKET_MS, addCounts, loadIn, sum, type RunContext } from './run-context.ts';
import type { Threshold, Verdict } from './types.ts';
import { at, verdict } from './verdict.ts';

interface RolloutSpan {
  start: number;
  /** When the rollout completed, undefined when it never did. */
  complete: number | undefined;
  from: string | undefined;
  to: string | undefined;
  failedReason: string | undefined;
}

function spanOf(ctx: RunContext, action: EventOf<'action.start'>): RolloutSpan {
  const horizon = horizonOf(ctx, action);
  const events = ctx.events('rollout').filter((e) => e.t >= action.t && e.t <= horizon);
  const started = events.find((e) => e.data.state === 'start') ?? events[0];
  const completed = events.find((e) => e.data.state === 'complete');
  const failed = events.find((e) => e.data.state === 'failed');
  const end = endOf(ctx, action);
  const asked = action.data.detail?.['version'];
  const failedReason = failed ? `the rollout failed at ${at(failed.t, ctx.from)}` : end && !end.data.ok ? `the rollout action failed: ${end.data.error ?? 'no error given'}` : undefined;
  return {
    start: action.t,
    // Without rollout events, a successful action.end marks completion.
    complete: completed?.t ?? (events.length === 0 && end?.data.ok ? end.t : undefined),
    from: started?.data.from,
    to: started?.data.to ?? (typeof asked === 'string' ? asked : undefined),
    failedReason,
  };
}

function mostCommon(counts: Record<string, number>): string | undefined {
  return Object.entries(counts).sort((a, b) => b[1] - a[1])[0]?.[0];
}

function judgeFailedRequests(ctx: RunContext, spec: SloSpec, span: RolloutSpan, id: string): Verdict {
  const threshold: Threshold = { op: '<=', value: spec.slos.rollout.maxFailedRequests, unit: 'requests' };
  const to = span.complete ?? ctx.to;
  const records = loadIn(ctx.load, span.start, to);
  const requests = sum(records, (r) => r.requests);
  const failed = sum(records, (r) => r.failed);
  let failure = span.failedReason;
  if (!failure && span.complete === undefined) failure = 'the rollout never completed';
  if (!failure && requests === 0) failure = 'no requests during the rollout';
  return verdict({
    id,
    slo: `at most ${threshold.value} failed requests during a rollout`,
    measured: requests > 0 ? failed : null,
    threshold,
    window: { from: span.start, to, label: 'rollout' },
    samples: requests,
    notes: [
      `rollout started ${at(span.start, ctx.from)}`,
      span.complete !== undefined ? `completed ${at(span.complete, ctx.from)}` : 'no completion seen',
      `${failed} of ${requests} requests failed in between (seconds overlapping the rollout count)`,
    ],
    detail: { errorKinds: addCounts(records.map((r) => r.errors)), statuses: addCounts(records.map((r) => r.status)) },
    ...(failure ? { failure } : {}),
  });
}

function judgeVersionSwitch(ctx: RunContext, span: RolloutSpan, id: string, action: EventOf<'action.start'>): Verdict {
  const threshold: Threshold = { op: '==', value: 0, unit: 'requests' };
  const step = ctx.steps.find((s) => s.from <= span.start && span.start <= s.to);
  const previous = ctx.events('action.start').filter((e) => e.data.action === 'rollout' && e.t < action.t).at(-1);
  // Before: since the step (or the previous rollout) started, in seconds wholly before this rollout.
  const beforeFrom = Math.max(step?.from ?? ctx.from, previous?.t ?? -Infinity);
  const before = ctx.load.filter((r) => r.t >= beforeFrom && r.t + BUCKET_MS <= span.start);
  const after = span.complete === undefined ? [] : ctx.load.filter((r) => r.t >= (span.complete as number) && r.t < horizonOf(ctx, action));
  const beforeVersions = addCounts(before.map((r) => r.versions));
  const afterVersions = addCounts(after.map((r) => r.versions));
  const from = span.from ?? mostCommon(beforeVersions);
  const to = span.to;
  const wrongBefore = sum(Object.entries(beforeVersions), ([v, n]) => (v === from ? 0 : n));
  const wrongAfter = sum(Object.entries(afterVersions), ([v, n]) => (v === to ? 0 : n));
  const seenBefore = sum(Object.values(beforeVersions), (n) => n);
  const seenAfter = sum(Object.values(afterVersions), (n) => n);
  let failure = span.failedReason;
  if (!failure && span.complete === undefined) failure = 'the rollout never completed';
  if (!failure && to === undefined) failure = 'the target version is unknown (no rollout event, no version in the action)';
  if (!failure && seenBefore === 0) failure = 'no x-app-version seen before the rollout';
  if (!failure && seenAfter === 0) failure = 'no x-app-version seen after the rollout completed';
  const measuredKnown = !failure || (seenBefore > 0 && seenAfter > 0);
  return verdict({
    id,
    slo: `only ${from ?? 'the old version'} answers before a rollout, only ${to ?? 'the new version'} after`,
    measured: measuredKnown ? wrongBefore + wrongAfter : null,
    threshold,
    window: { from: beforeFrom, to: span.complete ?? ctx.to, label: 'around the rollout' },
    samples: seenBefore + seenAfter,
    notes: [`before: ${JSON.stringify(beforeVersions)}`, `after: ${JSON.stringify(afterVersions)}`, `${wrongBefore} wrong before, ${wrongAfter} wrong after`],
    detail: { from, to, beforeVersions, afterVersions },
    ...(failure ? { failure } : {}),
  });
}

export function verifyRollout(ctx: RunContext, spec: SloSpec): Verdict[] {
  const rollouts = ctx.events('action.start').filter((e) => e.data.action === 'rollout');
  return rollouts.flatMap((action, i) => {
    const suffix = i === 0 ? '' : `.${i + 1}`;
    const span = spanOf(ctx, action);
    return [judgeFailedRequests(ctx, spec, span, `rollout.failedRequests${suffix}`), judgeVersionSwitch(ctx, span, `rollout.versionSwitch${suffix}`, action)];
  });
}
