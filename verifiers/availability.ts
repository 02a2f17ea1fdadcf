// Availability: requests the service answered without a server error, over all requests. Unlike the error
// rate, a 4xx or a failed check still counts as available (the service was up and answering); a 5xx or no
// response at all (status "0": refused, reset, timeout) does not.
import type { SloSpec } from '../contract/spec.ts';
import { addCounts, sum, type RunContext } from './run-context.ts';
import type { Threshold, Verdict } from './types.ts';
import { verdict } from './verdict.ts';
import { excludedNotes, failoverWindows, outsideWindows } from './fault-windows.ts';

export function isUnavailableStatus(status: string): boolean {
  return status === '0' || /^5\d\d$/.test(status);
}

export function verifyAvailability(ctx: RunContext, spec: SloSpec): Verdict[] {
  const threshold: Threshold = { op: '>=', value: spec.slos.availability.minPercent, unit: '%' };
  const windows = spec.slos.availability.excludeFailover ? failoverWindows(ctx, spec) : [];
  const load = outsideWindows(ctx.load, windows);
  const requests = sum(load, (r) => r.requests);
  const statuses = addCounts(load.map((r) => r.status));
  const unavailable = Math.min(requests, sum(Object.entries(statuses), ([status, n]) => (isUnavailableStatus(status) ? n : 0)));
  const successful = requests - unavailable;
  return [
    verdict({
      id: 'availability.overall',
      slo: `availability >= ${threshold.value} %`,
      measured: requests > 0 ? (successful / requests) * 100 : null,
      threshold,
      window: { from: ctx.from, to: ctx.to, label: 'whole run' },
      samples: requests,
      notes: [`${successful} of ${requests} requests answered without a 5xx or a lost response`, ...excludedNotes(ctx, windows)],
      detail: { requests, successful, unavailable, statuses, excluded: windows },
      ...(requests === 0 ? { failure: 'no requests in the run' } : {}),
    }),
  ];
}
