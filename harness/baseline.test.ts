import { describe, expect, it } from 'vitest';
import { findRegressions } from './baseline.ts';
import type { Verdict } from '../verifiers/types.ts';

function verdict(id: string, measured: number | null, op: Verdict['threshold']['op'], value: number): Verdict {
  return {
    id, slo: id, status: 'pass', measured, threshold: { op, value, unit: 'x' },
    window: { from: 0, to: 1, label: 'whole run' }, evidence: { samples: 1, notes: [] },
  };
}

describe('regressions against a baseline run', () => {
  it.each([
    ['p95 up 20 % (upper bound) is a regression', verdict('latency.p95', 120, '<', 200), verdict('latency.p95', 100, '<', 200), 20],
    ['p95 down is not', verdict('latency.p95', 80, '<', 200), verdict('latency.p95', 100, '<', 200), null],
    ['p95 up 5 % is within tolerance', verdict('latency.p95', 105, '<', 200), verdict('latency.p95', 100, '<', 200), null],
    ['availability down (lower bound) is a regression', verdict('availability.overall', 89, '>=', 99.9), verdict('availability.overall', 100, '>=', 99.9), 11],
    ['failed requests from zero is a regression', verdict('rollout.failedRequests', 3, '<=', 0), verdict('rollout.failedRequests', 0, '<=', 0), 100],
    ['no measurement is not compared', verdict('latency.p95', null, '<', 200), verdict('latency.p95', 100, '<', 200), null],
  ] as const)('%s', (_name, current, baseline, expected) => {
    const regressions = findRegressions([current], [baseline], 10);
    if (expected === null) expect(regressions).toEqual([]);
    else {
      expect(regressions).toHaveLength(1);
      expect(regressions[0]!.id).toBe(current.id);
      expect(regressions[0]!.changePercent).toBeGreaterThanOrEqual(Math.floor(expected));
    }
  });

  it('ignores verdicts the baseline did not have', () => {
    expect(findRegressions([verdict('failover.recovery', 25, '<=', 30)], [], 10)).toEqual([]);
  });
});
