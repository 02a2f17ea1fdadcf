import { describe, expect, it } from 'vitest';
import { defaultSpec } from '../contract/spec.ts';
import { WRITE_REQUEST_NAME, verifyFailover } from './failover.ts';
import { runContext } from './run-context.ts';
import { TimelineBuilder, flat, type SecondOfLoad } from '../testing/timeline-builder.ts';
import { verdictById } from '../testing/verdicts.ts';

const spec = defaultSpec(); // recovery within 30 s, 0 lost writes
const judge = (b: TimelineBuilder) => verifyFailover(runContext(b.records(), spec), spec);

/** A 120 s failover step; the failover starts at 30 s; writes fail during [failFromS, failToS). */
function failoverRun(failFromS: number, failToS: number, options: { audit?: { acknowledged: number; missing: number } | null; writes?: boolean } = {}): TimelineBuilder {
  const b = new TimelineBuilder()
    .run(130)
    .step('failover', 'sustained', 0, 120)
    .event(30, 'action.start', { action: 'failover' })
    .event(31, 'db.role', { member: 'pg-1', role: 'primary' })
    .event(33, 'action.end', { action: 'failover', ok: true })
    .seconds(0, 120, (s): SecondOfLoad => {
      const failing = s >= failFromS && s < failToS ? 4 : 0;
      return {
        latencyMs: flat(20, 20),
        failed: failing,
        byName: options.writes === false ? {} : { [WRITE_REQUEST_NAME]: { requests: 4, failed: failing }, 'GET /api/orders': { requests: 16, failed: 0 } },
      };
    });
  const audit = options.audit === undefined ? { acknowledged: 400, missing: 0 } : options.audit;
  if (audit) b.event(125, 'writes.audit', { ...audit, missingIds: Array.from({ length: audit.missing }, (_, i) => `order-${i}`) });
  return b;
}

describe('failover', () => {
  it.each([
    ['a 12 s write outage passes', 31, 42, 'pass', 12],
    ['a failover without failed writes passes', 999, 999, 'pass', 0],
    ['a 40 s write outage fails', 31, 70, 'fail', 40],
  ] as const)('%s', (_label, from, to, status, measured) => {
    const v = verdictById(judge(failoverRun(from, to)), 'failover.recovery');
    expect(v.status).toBe(status);
    expect(v.measured).toBe(measured);
    expect(v.threshold).toEqual({ op: '<=', value: 30, unit: 's' });
  });

  it('two failovers in one step: the second one\'s failures in the second holding its start are not the first one\'s', () => {
    // The second failover starts mid-second (60.5 s); that second's writes already fail because of it.
    const b = new TimelineBuilder()
      .run(130)
      .step('failover', 'sustained', 0, 120)
      .event(30, 'action.start', { action: 'failover' })
      .event(33, 'action.end', { action: 'failover', ok: true })
      .event(60.5, 'action.start', { action: 'failover' })
      .event(63, 'action.end', { action: 'failover', ok: true })
      .seconds(0, 120, (s): SecondOfLoad => {
        const failing = (s >= 31 && s < 39) || (s >= 60 && s < 69) ? 4 : 0;
        return { latencyMs: flat(20, 20), failed: failing, byName: { [WRITE_REQUEST_NAME]: { requests: 4, failed: failing } } };
      })
      .event(125, 'writes.audit', { acknowledged: 400, missing: 0, missingIds: [] });
    const verdicts = judge(b);
    expect(verdictById(verdicts, 'failover.recovery')).toMatchObject({ status: 'pass', measured: 9 });
    expect(verdictById(verdicts, 'failover.recovery.2')).toMatchObject({ status: 'pass', measured: 8.5 });
  });

  it('records the events used as notes', () => {
    const v = verdictById(judge(failoverRun(31, 42)), 'failover.recovery');
    expect(v.evidence.notes.join('\n')).toMatch(/failover started \+30s/);
    expect(v.evidence.notes.join('\n')).toMatch(/pg-1 became primary \+31s/);
    expect(v.evidence.notes.join('\n')).toMatch(/last failed write second \+41s/);
  });

  it('fails when writes never recover before the step ends', () => {
    const v = verdictById(judge(failoverRun(31, 200)), 'failover.recovery');
    expect(v.status).toBe('fail');
    expect(v.measured).toBeNull();
    expect(v.reason).toMatch(/did not recover/);
  });

  it('fails when there were no writes to judge by', () => {
    const v = verdictById(judge(failoverRun(31, 42, { writes: false })), 'failover.recovery');
    expect(v.status).toBe('fail');
    expect(v.reason).toContain(`no ${WRITE_REQUEST_NAME} requests`);
  });

  it('fails when the failover action itself failed', () => {
    const b = failoverRun(999, 999).event(34, 'action.end', { action: 'failover', ok: false, error: 'patroni refused' });
    const records = b.records().filter((r) => !(r.kind === 'event' && r.type === 'action.end' && r.data.ok));
    const v = verdictById(verifyFailover(runContext(records, spec), spec), 'failover.recovery');
    expect(v.status).toBe('fail');
    expect(v.reason).toContain('patroni refused');
  });

  it.each([
    ['no writes lost passes', { acknowledged: 400, missing: 0 }, 'pass', 0],
    ['one lost write fails', { acknowledged: 400, missing: 1 }, 'fail', 1],
    ['no audit fails', null, 'fail', null],
    ['an audit of nothing fails', { acknowledged: 0, missing: 0 }, 'fail', 0],
  ] as const)('lost writes: %s', (_label, audit, status, measured) => {
    const v = verdictById(judge(failoverRun(31, 42, { audit })), 'failover.lostWrites');
    expect(v.status).toBe(status);
    expect(v.measured).toBe(measured);
    if (audit?.missing) expect(v.evidence.notes.join(' ')).toContain('order-0');
  });

  it('lost writes: a failed audit fails the verdict and says why in its evidence', () => {
    const b = failoverRun(31, 42, { audit: null }).event(125, 'writes.audit.failed', { acknowledged: 400, reason: 'database unreachable: ECONNREFUSED' });
    const v = verdictById(judge(b), 'failover.lostWrites');
    expect(v.status).toBe('fail');
    expect(v.measured).toBeNull();
    expect(v.reason).toContain('the write audit failed (database unreachable: ECONNREFUSED)');
    expect(v.evidence.notes.join(' ')).toMatch(/could not run over 400 acknowledged writes: database unreachable/);
  });

  it('judges every failover and nothing when none ran', () => {
    const b = failoverRun(31, 42).event(80, 'action.start', { action: 'failover' });
    expect(judge(b).map((v) => v.id)).toEqual(['failover.recovery', 'failover.recovery.2', 'failover.lostWrites']);
    expect(judge(new TimelineBuilder().run(10).seconds(0, 10, { latencyMs: flat(10, 5) }))).toEqual([]);
  });
});
