// Error rate: failed requests (k6 http_req_failed: an unexpected status or no response) over all requests
// of the run. The per-step rates and the error kinds go in the evidence so a failure points at its cause.
import type { SloSpec } from '../contract/spec.ts';
import { addCounts, loadIn, sum, type RunContext } from './run-context.ts';
import type { Threshold, Verdict } from './types.ts';
import { round, verdict } from './verdict.ts';
import { excludedNotes, failoverWindows, outsideWindows } from './fault-windows.ts';

export function verifyErrorRate(ctx: RunContext, spec: SloSpec): Verdict[] {
  const threshold: Threshold = { op: '<', value: spec.slos.errorRate.maxPercent, unit: '%' };
  const windows = spec.slos.errorRate.excludeFailover ? failoverWindows(ctx, spec) : [];
  const load = outsideWindows(ctx.load, windows);
  const requests = sum(load, (r) => r.requests);
  const failed = sum(load, (r) => r.failed);
  const perStep = ctx.steps.map((step) => {
    const records = loadIn(load, step.from, step.to);
    const stepRequests = sum(records, (r) => r.requests);
    const stepFailed = sum(records, (r) => r.failed);
    return { step: step.name, requests: stepRequests, failed: stepFailed, percent: stepRequests > 0 ? round((stepFailed / stepRequests) * 100) : null };
  });
  const errorKinds = addCounts(load.map((r) => r.errors));
  return [
    verdict({
      id: 'errorRate.overall',
      slo: `error rate < ${threshold.value} %`,
      measured: requests > 0 ? (failed / requests) * 100 : null,
      threshold,
      window: { from: ctx.from, to: ctx.to, label: 'whole run' },
      samples: requests,
      notes: [`${failed} of ${requests} requests failed`, ...Object.entries(errorKinds).map(([kind, n]) => `${kind}: ${n}`), ...excludedNotes(ctx, windows)],
      detail: { requests, failed, perStep, errorKinds, excluded: windows },
      ...(requests === 0 ? { failure: 'no requests in the run' } : {}),
    }),
  ];
}
