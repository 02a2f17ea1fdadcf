import { describe, expect, it } from 'vitest';
import { defaultSpec } from '../contract/spec.ts';
import { specFromYaml } from '../testing/spec.ts';
import { verifyObservability } from './observability.ts';
import { runContext } from './run-context.ts';
import { TimelineBuilder } from '../testing/timeline-builder.ts';
import { verdictById } from '../testing/verdicts.ts';

const spec = defaultSpec();
const judge = (b: TimelineBuilder, s = spec) => verifyObservability(runContext(b.records(), s), s);

describe('observability', () => {
  it('passes every signal that was checked and found', () => {
    const b = new TimelineBuilder()
      .run(100)
      .event(90, 'observability', { signal: 'traces', ok: true, detail: '412 spans from reference-app' })
      .event(91, 'observability', { signal: 'metrics', ok: true, detail: 'http_request_duration_seconds present' })
      .event(92, 'observability', { signal: 'logs', ok: true, detail: 'json logs with trace ids' });
    const verdicts = judge(b);
    expect(verdicts.map((v) => [v.id, v.status, v.measured])).toEqual([
      ['observability.traces', 'pass', 1],
      ['observability.metrics', 'pass', 1],
      ['observability.logs', 'pass', 1],
    ]);
    expect(verdictById(verdicts, 'observability.traces').evidence.notes[0]).toContain('412 spans');
  });

  it('fails a missing signal and one that was never checked', () => {
    const b = new TimelineBuilder()
      .run(100)
      .event(90, 'observability', { signal: 'traces', ok: false, detail: 'no spans received' })
      .event(91, 'observability', { signal: 'metrics', ok: true, detail: 'ok' });
    const verdicts = judge(b);
    expect(verdictById(verdicts, 'observability.traces')).toMatchObject({ status: 'fail', measured: 0, reason: 'traces missing: no spans received' });
    expect(verdictById(verdicts, 'observability.logs')).toMatchObject({ status: 'fail', measured: null, reason: 'no logs check ran' });
  });

  it('the latest check of a signal decides', () => {
    const b = new TimelineBuilder()
      .run(100)
      .event(10, 'observability', { signal: 'traces', ok: false, detail: 'collector starting' })
      .event(90, 'observability', { signal: 'traces', ok: true, detail: 'spans arrived' });
    expect(verdictById(judge(b), 'observability.traces').status).toBe('pass');
  });

  it('skips signals the spec turns off', () => {
    const noLogs = specFromYaml('version: 1\nslos: { observability: { logs: false } }', 'o.yaml');
    expect(judge(new TimelineBuilder().run(10), noLogs).map((v) => v.id)).toEqual(['observability.traces', 'observability.metrics']);
  });
});
