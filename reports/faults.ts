// The fault ledger: every action the harness carried out (kill, failover, rollout, scale) with when it
// started and ended, when the target was whole again, and what it cost the clients in the meantime.
//
// "Recovered" is the target's own state, read from the cluster's events:
// - kill: the first pod ready after the killed pod stopped (as the self-healing SLO counts it);
// - failover: the first new primary (a member other than the one that was primary before);
// - rollout: the rollout's `complete` event (or a successful action.end when the target reports no progress);
// - scale: the first replica count with every desired replica ready (at the asked count when one was given).
// The cost is counted from the start to the later of the action's end and its recovery, or, without either,
// to the next action or the end of the run: failed requests by reason, and for a failover the
// acknowledged writes the audit found missing (the audit runs once after the load, so it covers the whole run).
import { eventsOf, loadRecords } from '../contract/timeline.ts';
import type { EventOf, TimelineRecord } from '../contract/timeline.ts';
import type { Verdict, VerdictStatus } from '../verifiers/types.ts';

export type FaultAction = EventOf<'action.start'>['data']['action'];

export type LostWrites =
  | { state: 'audited'; missing: number; acknowledged: number }
  | { state: 'audit failed'; acknowledged: number; reason: string }
  | { state: 'not audited' };

export interface FaultEntry {
  /** F1, F2... in time order: the label on the charts. */
  key: string;
  action: FaultAction;
  /** "kill app-2", "rollout to v2", "scale to 4 replicas", "failover". */
  what: string;
  /** Epoch ms. */
  start: number;
  /** action.end; null when the run stopped before the action ended. */
  end: number | null;
  /** The action's own outcome; null when it never ended. */
  ok: boolean | null;
  error?: string;
  recovered: { t: number; what: string } | null;
  /** Start to recovery, in seconds. */
  recoverS: number | null;
  /** The stretch the cost is counted over (epoch ms). */
  window: { from: number; to: number };
  requests: number;
  failed: number;
  /** Failure reason -> count, within the window. */
  failures: Record<string, number>;
  /** Failovers only. */
  lostWrites: LostWrites | null;
  /** The verdicts that judge this action, with their outcome. */
  judgedBy: Array<{ id: string; status: VerdictStatus }>;
}

/** Which verdict area judges an action; `scale` has none (scaling is judged per spike, not per action). */
const JUDGED_BY: Readonly<Record<FaultAction, string | null>> = { kill: 'selfHealing', failover: 'failover', rollout: 'rollout', scale: null };

/** `failover.recovery.2` -> 2, `failover.recovery` -> 1: the verifiers number the second action of a kind on. */
function ordinalOf(verdictId: string): number {
  const match = /\.(\d+)$/.exec(verdictId);
  return match ? Number(match[1]) : 1;
}

function describe(start: EventOf<'action.start'>): string {
  const detail = start.data.detail ?? {};
  const text = (key: string) => (typeof detail[key] === 'string' || typeof detail[key] === 'number' ? String(detail[key]) : undefined);
  switch (start.data.action) {
    case 'kill':
      return text('pod') ? `kill ${text('pod')}` : 'kill a pod';
    case 'rollout':
      return text('version') ? `rollout to ${text('version')}` : 'rollout';
    case 'scale':
      return text('replicas') ? `scale to ${text('replicas')} replicas` : 'scale';
    case 'failover':
      return 'database failover';
  }
}

function recoveryOf(records: readonly TimelineRecord[], start: EventOf<'action.start'>, end: EventOf<'action.end'> | undefined, horizon: number): FaultEntry['recovered'] {
  const within = <T extends { t: number }>(events: T[], after: number) => events.filter((e) => e.t >= after && e.t <= horizon);
  switch (start.data.action) {
    case 'kill': {
      const asked = start.data.detail?.['pod'];
      const stop = within(eventsOf(records, 'pod.stop'), start.t).find((e) => e.data.reason === 'killed' && (typeof asked !== 'string' || e.data.pod === asked));
      const ready = within(eventsOf(records, 'pod.ready'), stop?.t ?? start.t).find((e) => e.t > (stop?.t ?? start.t));
      return ready ? { t: ready.t, what: `${ready.data.pod} ready` } : null;
    }
    case 'failover': {
      const before = eventsOf(records, 'db.role').filter((e) => e.t <= start.t && e.data.role === 'primary').at(-1)?.data.member;
      const primary = within(eventsOf(records, 'db.role'), start.t).find((e) => e.t > start.t && e.data.role === 'primary' && e.data.member !== before);
      return primary ? { t: primary.t, what: `${primary.data.member} primary` } : null;
    }
    case 'rollout': {
      const events = within(eventsOf(records, 'rollout'), start.t);
      const complete = events.find((e) => e.data.state === 'complete');
      if (complete) return { t: complete.t, what: `${complete.data.to} on ${complete.data.updated} of ${complete.data.total}` };
      return events.length === 0 && end?.data.ok ? { t: end.t, what: 'action ended' } : null;
    }
    case 'scale': {
      const asked = start.data.detail?.['replicas'];
      const whole = within(eventsOf(records, 'replicas'), start.t)
        .find((e) => e.data.ready === e.data.desired && (typeof asked !== 'number' || e.data.desired === asked));
      return whole ? { t: whole.t, what: `${whole.data.ready} of ${whole.data.desired} ready` } : null;
    }
  }
}

function lostWritesOf(records: readonly TimelineRecord[]): LostWrites {
  const audit = eventsOf(records, 'writes.audit').at(-1);
  if (audit) return { state: 'audited', missing: audit.data.missing, acknowledged: audit.data.acknowledged };
  const failed = eventsOf(records, 'writes.audit.failed').at(-1);
  return failed ? { state: 'audit failed', acknowledged: failed.data.acknowledged, reason: failed.data.reason } : { state: 'not audited' };
}

export function faultLedger(records: readonly TimelineRecord[], runEndMs: number, verdicts: readonly Verdict[]): FaultEntry[] {
  const starts = eventsOf(records, 'action.start');
  const ends = eventsOf(records, 'action.end');
  const load = loadRecords(records);
  const used = new Set<EventOf<'action.end'>>();
  const seen: Partial<Record<FaultAction, number>> = {};
  return starts.map((start, index): FaultEntry => {
    const end = ends.find((e) => !used.has(e) && e.data.action === start.data.action && e.t >= start.t);
    if (end) used.add(end);
    const horizon = Math.max(start.t, Math.min(starts[index + 1]?.t ?? runEndMs, runEndMs));
    const recovered = recoveryOf(records, start, end, horizon);
    // An action still running when the run stopped costs everything up to there.
    const to = recovered && end ? Math.max(end.t, recovered.t) : Math.max(end?.t ?? horizon, horizon);
    const inWindow = load.filter((r) => r.t + 1000 > start.t && r.t < Math.max(to, start.t + 1));
    const failures: Record<string, number> = {};
    for (const record of inWindow) for (const [reason, n] of Object.entries(record.errors)) failures[reason] = (failures[reason] ?? 0) + n;
    const ordinal = (seen[start.data.action] = (seen[start.data.action] ?? 0) + 1);
    const area = JUDGED_BY[start.data.action];
    return {
      key: `F${index + 1}`,
      action: start.data.action,
      what: describe(start),
      start: start.t,
      end: end?.t ?? null,
      ok: end ? end.data.ok : null,
      ...(end?.data.error ? { error: end.data.error } : {}),
      recovered,
      recoverS: recovered ? (recovered.t - start.t) / 1000 : null,
      window: { from: start.t, to },
      requests: inWindow.reduce((n, r) => n + r.requests, 0),
      failed: inWindow.reduce((n, r) => n + r.failed, 0),
      failures,
      lostWrites: start.data.action === 'failover' ? lostWritesOf(records) : null,
      judgedBy: area === null ? [] : verdicts
        .filter((v) => v.id.startsWith(`${area}.`) && ordinalOf(v.id) === ordinal)
        .map((v) => ({ id: v.id, status: v.status })),
    };
  });
}
