import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultSpec } from '../contract/spec.ts';
import { TimelineRecordSchema, type TimelineRecord } from '../contract/timeline.ts';
import { TimelineWriter, readTimeline } from '../harness/timeline-file.ts';
import { WRITE_REQUEST_NAME, overallStatus, verify } from './index.ts';
import { TimelineBuilder, flat, type SecondOfLoad } from '../testing/timeline-builder.ts';
import { verdictById } from '../testing/verdicts.ts';

const spec = defaultSpec(); // defaults; quick profile: steps of 60, 60, 30, 30 s
const scratch = mkdtempSync(join(tmpdir(), 'slo-verify-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The default suite in the quick profile, with a healthy service, written as a run would write it. */
function healthyRun(): TimelineBuilder {
  const b = new TimelineBuilder().run(185, { profile: 'quick', steps: ['growth', 'spike', 'rollout', 'failover'] });
  b.step('growth', 'growth', 0, 60).step('spike', 'spike', 60, 120).step('rollout', 'sustained', 120, 150).step('failover', 'sustained', 150, 180);
  const phases: [string, number, number][] = [['steady', 60, 75], ['spike', 75, 77], ['hold', 77, 95], ['recovery', 95, 120]];
  for (const [name, fromS, toS] of phases) b.event(fromS, 'phase', { step: 'spike', name, state: 'start' }).event(toS, 'phase', { step: 'spike', name, state: 'end' });
  for (const [atS, desired, ready] of [[0, 3, 3], [78, 12, 10], [90, 20, 20], [100, 8, 8], [130, 3, 3]]) b.event(atS as number, 'replicas', { desired: desired as number, ready: ready as number });
  b.event(90, 'action.start', { action: 'kill', detail: { pod: 'app-2' } }).event(90.2, 'pod.stop', { pod: 'app-2', reason: 'killed' }).event(90.3, 'action.end', { action: 'kill', ok: true });
  b.event(96, 'pod.ready', { pod: 'app-21', version: '1.0.0' });
  b.event(129, 'action.start', { action: 'rollout', detail: { version: '1.1.0' } }).event(129, 'rollout', { from: '1.0.0', to: '1.1.0', state: 'start', updated: 0, total: 3 });
  b.event(140, 'rollout', { from: '1.0.0', to: '1.1.0', state: 'complete', updated: 3, total: 3 }).event(140, 'action.end', { action: 'rollout', ok: true });
  b.event(159, 'action.start', { action: 'failover' }).event(163, 'action.end', { action: 'failover', ok: true });
  b.seconds(0, 180, (s): SecondOfLoad => {
    const writesFailing = s >= 160 && s < 165 ? 2 : 0;
    const version: Record<string, number> = s < 129 ? { '1.0.0': 40 } : s < 140 ? { '1.0.0': 20, '1.1.0': 20 } : { '1.1.0': 40 };
    // 4 of 4000 failed (the failover's writes) keep the error rate and availability within budget
    return { latencyMs: flat(s >= 75 && s < 95 ? 120 : 40, 40), failed: writesFailing ? 1 : 0, byName: { [WRITE_REQUEST_NAME]: { requests: 8, failed: writesFailing ? 1 : 0 } }, versions: version, targetRate: 40 };
  });
  b.event(182, 'writes.audit', { acknowledged: 1400, missing: 0, missingIds: [] });
  for (const signal of ['traces', 'metrics', 'logs'] as const) b.event(183, 'observability', { signal, ok: true, detail: 'present' });
  return b;
}

/** Writes the records to a real timeline.jsonl and reads them back, as `slo report` on a stored run would. */
function throughFile(records: TimelineRecord[], name: string): TimelineRecord[] {
  const file = join(scratch, `${name}.jsonl`);
  const writer = new TimelineWriter(file);
  for (const record of records) writer.write(record);
  return readTimeline(file);
}

describe('verify', () => {
  it('passes a healthy run of the default suite, read back from a timeline file', () => {
    const records = healthyRun().records();
    for (const record of records) expect(TimelineRecordSchema.safeParse(record).success).toBe(true);
    const judgement = verify(throughFile(records, 'healthy'), spec);
    const failing = judgement.verdicts.filter((v) => v.status !== 'pass').map((v) => `${v.id}: ${v.reason}`);
    expect(failing).toEqual([]);
    expect(judgement.status).toBe('pass');
    expect(judgement.verdicts.map((v) => v.id)).toEqual([
      'run.completed',
      'loadgen.dropped',
      'loadgen.achieved',
      'latency.p95',
      'latency.p95.window',
      'latency.p95.phase.spike.steady',
      'latency.p95.phase.spike.spike',
      'latency.p95.phase.spike.hold',
      'latency.p95.phase.spike.recovery',
      'errorRate.overall',
      'availability.overall',
      'scaling.min',
      'scaling.max',
      'scaling.reachMax',
      'scaling.backToMin',
      'failover.recovery',
      'failover.lostWrites',
      'rollout.failedRequests',
      'rollout.versionSwitch',
      'selfHealing.replace',
      'observability.traces',
      'observability.metrics',
      'observability.logs',
    ]);
    expect(verdictById(judgement.verdicts, 'failover.recovery').measured).toBe(6);
    expect(verdictById(judgement.verdicts, 'scaling.reachMax').measured).toBe(15);
    expect(verdictById(judgement.verdicts, 'scaling.backToMin').measured).toBe(35);
  });

  it('every verdict carries measured, threshold, window and evidence', () => {
    for (const v of verify(healthyRun().records(), spec).verdicts) {
      expect(v.threshold.unit).toBeTruthy();
      expect(v.window.to).toBeGreaterThanOrEqual(v.window.from);
      expect(v.window.label).toBeTruthy();
      expect(typeof v.evidence.samples).toBe('number');
      expect(Array.isArray(v.evidence.notes)).toBe(true);
    }
  });

  it('one breached objective fails the run', () => {
    const records = healthyRun().event(184, 'writes.audit', { acknowledged: 1400, missing: 3, missingIds: ['a', 'b', 'c'] }).records();
    const judgement = verify(records, spec);
    expect(judgement.status).toBe('fail');
    expect(judgement.verdicts.filter((v) => v.status === 'fail').map((v) => v.id)).toEqual(['failover.lostWrites']);
  });

  it('a saturated load generator makes the run invalid even when every objective passed', () => {
    const judgement = verify(healthyRun().event(100, 'loadgen', { state: 'saturated', reason: 'dropped iterations' }).records(), spec);
    expect(judgement.status).toBe('invalid');
  });

  it('an empty timeline is never a pass', () => {
    const judgement = verify([], spec);
    expect(judgement.status).toBe('invalid');
    expect(judgement.verdicts.filter((v) => v.id.startsWith('latency')).every((v) => v.status === 'fail')).toBe(true);
  });

  it('judges only the groups whose actions and steps ran', () => {
    const b = new TimelineBuilder().run(30, { profile: 'quick' }).step('growth', 'growth', 0, 30).seconds(0, 30, { latencyMs: flat(30, 30) });
    for (const signal of ['traces', 'metrics', 'logs'] as const) b.event(29, 'observability', { signal, ok: true, detail: 'present' });
    const judgement = verify(b.records(), spec);
    expect(judgement.status).toBe('pass');
    expect(judgement.verdicts.some((v) => /^(scaling|failover|rollout|selfHealing)\./.test(v.id))).toBe(false);
  });

  it('overall status: invalid beats fail beats pass; no verdicts is a fail', () => {
    const v = (status: 'pass' | 'fail' | 'invalid') => ({ ...verify([], spec).verdicts[0]!, status });
    expect(overallStatus([v('pass'), v('fail'), v('invalid')])).toBe('invalid');
    expect(overallStatus([v('pass'), v('fail')])).toBe('fail');
    expect(overallStatus([v('pass')])).toBe('pass');
    expect(overallStatus([])).toBe('fail');
  });
});
