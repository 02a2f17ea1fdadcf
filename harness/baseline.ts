// --baseline: compare this run's measured values with an earlier run's report.json and flag every verdict
// that got worse by more than the tolerance. "Worse" follows the threshold's direction: for an upper bound
// (p95 < 200 ms) a higher value is worse; for a lower bound (availability >= 99.9 %) a lower one is.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { errors } from '../contract/errors.ts';
import type { Judgement } from '../verifiers/index.ts';
import type { Verdict } from '../verifiers/types.ts';
import { readReportJson, verdictsOf, type Regression } from '../reports/index.ts';

export const DEFAULT_REGRESSION_TOLERANCE_PERCENT = 10;

function worseBy(current: Verdict, baseline: Verdict): number | null {
  if (current.measured === null || baseline.measured === null) return null;
  const upperBound = current.threshold.op === '<' || current.threshold.op === '<=';
  const lowerBound = current.threshold.op === '>' || current.threshold.op === '>=';
  if (!upperBound && !lowerBound) return null;
  const delta = upperBound ? current.measured - baseline.measured : baseline.measured - current.measured;
  if (delta <= 0) return 0;
  // From zero (0 failed requests before, 3 now) any increase is a regression.
  return baseline.measured === 0 ? Number.POSITIVE_INFINITY : (delta / Math.abs(baseline.measured)) * 100;
}

export function findRegressions(current: readonly Verdict[], baseline: readonly Verdict[], tolerancePercent = DEFAULT_REGRESSION_TOLERANCE_PERCENT): Regression[] {
  const before = new Map(baseline.map((v) => [v.id, v]));
  const regressions: Regression[] = [];
  for (const verdict of current) {
    const old = before.get(verdict.id);
    if (!old) continue;
    const change = worseBy(verdict, old);
    if (change !== null && change > tolerancePercent) {
      regressions.push({
        id: verdict.id,
        measured: verdict.measured!,
        baseline: old.measured!,
        changePercent: Number.isFinite(change) ? Math.round(change * 10) / 10 : 100,
      });
    }
  }
  return regressions;
}

export function compareWithBaseline(judgement: Judgement, baselineDir: string, tolerancePercent = DEFAULT_REGRESSION_TOLERANCE_PERCENT): { runId: string; regressions: Regression[] } {
  const file = join(baselineDir, 'report.json');
  if (!existsSync(file)) throw errors.SLO_ERR_CLI_USAGE(`--baseline ${baselineDir} has no report.json`, 'pass the folder of an earlier run');
  const report = readReportJson(file);
  return { runId: report.run.id, regressions: findRegressions(judgement.verdicts, verdictsOf(report), tolerancePercent) };
}
