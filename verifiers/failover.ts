// Database failover, judged only when a failover action ran. Recovery: from the failover start to the first
// second with successful writes (POST /api/orders) after the last second with failed ones, i.e. when the
// write outage ended. Durability: acknowledged writes the database no longer has (writes.audit).
import type { SloSpec } from '../contract/spec.ts';
import type { EventOf, LoadRecord } from '../contract/timeline.ts';
import { BUCKET_MS, loadIn, type RunContext } from './run-context.ts';
import type { Threshold, Verdict } from './types.ts';
import { at, verdict } from './verdict.ts';

/** The request name (k6 `name` tag) of the write the failover is judged by. */
export const WRITE_REQUEST_NAME = 'POST /api/orders';

/** Where the effect of an action stops being its own: the next action, the end of its step, or the run end. */
export function horizonOf(ctx: RunContext, action: EventOf<'action.start'>): number {
  const next = ctx.events('action.start').find((e) => e.t > action.t);
  const step = ctx.steps.find((s) => s.from <= action.t && action.t <= s.to);
  return Math.min(next?.t ?? Infinity, step?.to ?? Infinity, ctx.to);
}

/** The action.end that closes an action.start. */
export function endOf(ctx: RunContext, action: EventOf<'action.start'>): EventOf<'action.end'> | undefined {
  return ctx.events('action.end').find((e) => e.data.action === action.data.action && e.t >= action.t);
}

interface WriteSecond {
  t: number;
  requests: number;
  failed: number;
}

/**
 * The load seconds that are this action's own: from the action to its horizon, except that a second holding
 * the next action's start is the next action's (its failures after that start are the next fault's, and
 * counting them here would fail a recovery that happened).
 */
function ownLoad(ctx: RunContext, action: EventOf<'action.start'>, horizon: number) {
  const next = ctx.events('action.start').find((e) => e.t > action.t);
  const records = loadIn(ctx.load, action.t, horizon);
  return next && next.t === horizon ? records.filter((r) => r.t + BUCKET_MS <= next.t) : records;
}

function writesBySecond(records: readonly LoadRecord[]): WriteSecond[] {
  const bySecond = new Map<number, WriteSecond>();
  for (const record of records) {
    const writes = record.byName[WRITE_REQUEST_NAME];
    if (!writes) continue;
    const second = Math.floor(record.t / BUCKET_MS) * BUCKET_MS;
    const entry = bySecond.get(second) ?? { t: second, requests: 0, failed: 0 };
    entry.requests += writes.requests;
    entry.failed += writes.failed;
    bySecond.set(second, entry);
  }
  return [...bySecond.values()].sort((a, b) => a.t - b.t);
}

function judgeRecovery(ctx: RunContext, spec: SloSpec, action: EventOf<'action.start'>, id: string): Verdict {
  const threshold: Threshold = { op: '<=', value: spec.slos.failover.maxRecoveryS, unit: 's' };
  const horizon = horizonOf(ctx, action);
  const end = endOf(ctx, action);
  const seconds = writesBySecond(ownLoad(ctx, action, horizon));
  const writes = seconds.reduce((n, s) => n + s.requests, 0);
  const lastFailed = seconds.filter((s) => s.failed > 0).at(-1);
  const recovered = seconds.find((s) => s.requests > s.failed && (!lastFailed || s.t > lastFailed.t));
  const roles = ctx.events('db.role').filter((e) => e.t >= action.t && e.t <= horizon);
  const notes = [
    `failover started ${at(action.t, ctx.from)}`,
    end ? `failover action ended ${at(end.t, ctx.from)} (${end.data.ok ? 'ok' : `failed: ${end.data.error ?? 'no error given'}`})` : 'no action.end for the failover',
    ...roles.map((e) => `${e.data.member} became ${e.data.role} ${at(e.t, ctx.from)}`),
    lastFailed ? `last failed write second ${at(lastFailed.t, ctx.from)}` : 'no failed writes after the failover',
    ...(recovered ? [`first successful write second after that ${at(recovered.t, ctx.from)}`] : []),
  ];
  let failure: string | undefined;
  if (writes === 0) failure = `no ${WRITE_REQUEST_NAME} requests between the failover and ${at(horizon, ctx.from)}`;
  else if (!recovered) failure = `writes did not recover before ${at(horizon, ctx.from)}`;
  else if (end && !end.data.ok) failure = `the failover action failed: ${end.data.error ?? 'no error given'}`;
  return verdict({
    id,
    slo: `writes recover within ${threshold.value} s of a database failover`,
    measured: recovered ? Math.max(0, recovered.t - action.t) / 1000 : null,
    threshold,
    window: { from: action.t, to: recovered?.t ?? horizon, label: 'failover' },
    samples: writes,
    notes,
    detail: { writesBySecond: seconds },
    ...(failure ? { failure } : {}),
  });
}

function judgeLostWrites(ctx: RunContext, spec: SloSpec, failoverAt: number): Verdict {
  const threshold: Threshold = { op: '<=', value: spec.slos.failover.maxLostWrites, unit: 'writes' };
  const audit = ctx.events('writes.audit').at(-1);
  const auditFailed = audit ? undefined : ctx.events('writes.audit.failed').at(-1);
  const shown = audit?.data.missingIds.slice(0, 20) ?? [];
  return verdict({
    id: 'failover.lostWrites',
    slo: `at most ${threshold.value} acknowledged writes lost in a failover`,
    measured: audit ? audit.data.missing : null,
    threshold,
    window: { from: failoverAt, to: audit?.t ?? ctx.to, label: 'failover to audit' },
    samples: audit?.data.acknowledged ?? 0,
    notes: audit
      ? [`audit ${at(audit.t, ctx.from)}: ${audit.data.missing} of ${audit.data.acknowledged} acknowledged writes missing`, ...(shown.length > 0 ? [`missing ids: ${shown.join(', ')}${audit.data.missingIds.length > shown.length ? ', ...' : ''}`] : [])]
      : auditFailed ? [`audit ${at(auditFailed.t, ctx.from)} could not run over ${auditFailed.data.acknowledged} acknowledged writes: ${auditFailed.data.reason}`] : [],
    ...(audit ? { detail: { missingIds: audit.data.missingIds } } : {}),
    ...(audit
      ? (audit.data.acknowledged === 0 ? { failure: 'the audit found no acknowledged writes to check' } : {})
      : { failure: auditFailed ? `the write audit failed (${auditFailed.data.reason}): acknowledged writes were never checked` : 'no writes.audit event: acknowledged writes were never checked' }),
  });
}

export function verifyFailover(ctx: RunContext, spec: SloSpec): Verdict[] {
  const failovers = ctx.events('action.start').filter((e) => e.data.action === 'failover');
  const first = failovers[0];
  if (!first) return [];
  const recoveries = failovers.map((action, i) => judgeRecovery(ctx, spec, action, i === 0 ? 'failover.recovery' : `failover.recovery.${i + 1}`));
  return [...recoveries, judgeLostWrites(ctx, spec, first.t)];
}
