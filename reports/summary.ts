// What a person reads first, computed once and rendered four ways (report.json, report.md, report.html,
// junit.xml): the verdict banner with its exit code and one-line reason, the SLO table with margins and the
// change against a baseline, the error budgets, the fault ledger, the load (over time and per request
// name) and where the run came from. Renderers only format this model; no number is computed twice.
import type { ExitCode } from '../contract/errors.ts';
import { eventsOf } from '../contract/timeline.ts';
import type { Threshold, Verdict, VerdictStatus } from '../verifiers/types.ts';
import { faultLedger, type FaultEntry } from './faults.ts';
import { areaOf, countByStatus, describeMargin, formatValue, worstFirst } from './format.ts';
import { marginOf, severityOf, type Margin } from './margin.ts';
import type { LoadAnalysis, LoadSlice, LoadSummary } from './series.ts';
import { EXIT_CODE_OF, headlineOf, type Headline, type ReportInput } from './types.ts';

export interface Banner {
  headline: Headline;
  exitCode: ExitCode;
  /** One line: the worst failure, why the run is invalid or aborted, or how close a pass came. */
  reason: string;
  counts: Record<VerdictStatus, number>;
  /** The verdict the reason is about, when it is about one. */
  verdictId?: string;
}

export interface BaselineChange {
  /** The baseline run's measured value; null when it had none. */
  measured: number | null;
  /** This run minus the baseline, in the threshold's unit. */
  delta: number | null;
  /** Relative to the baseline, in %; null from a zero baseline. */
  changePercent: number | null;
  /** In the threshold's direction (a lower p95 is better, a higher availability is better). */
  direction: 'better' | 'worse' | 'same' | null;
  /** Worse by more than the tolerance `--baseline` applies (harness/baseline.ts). */
  regression: boolean;
}

export interface SloRow {
  id: string;
  slo: string;
  /** The verdict's group: latency, errorRate, failover... */
  area: string;
  status: VerdictStatus;
  measured: number | null;
  threshold: Threshold;
  margin: Margin | null;
  samples: number;
  window: { from: number; to: number; label: string; seconds: number };
  reason?: string;
  /** Present when the run was compared with a baseline that judged the same objective. */
  baseline?: BaselineChange;
}

export interface ErrorBudget {
  id: string;
  slo: string;
  status: VerdictStatus;
  /** Requests the objective was judged over. */
  requests: number;
  /** The share of requests the objective lets fail: 1 % for "error rate < 1 %", 0.1 % for "availability >= 99.9 %". */
  allowedPercent: number;
  /** Failed requests the budget allows over this run's requests (fractional: 20 000 x 0.1 % = 20). */
  allowed: number;
  used: number;
  /** What `used` counts. */
  usedWhat: 'failed requests' | 'unavailable requests';
  /** used / allowed x 100; null when nothing is allowed. */
  usedPercent: number | null;
}

export interface Provenance {
  /** False when the timeline has no run.info (a run from before provenance was recorded, or a crash before it). */
  recorded: boolean;
  harness: { version: string; commit: string | null };
  target: { cluster: string; versions: Record<string, string> };
  engine: string | null;
  profile: string;
  specHash: string | null;
  machine: { cores: number; memoryMiB: number; platform: string } | null;
  startedAt: number;
  endedAt: number;
}

export interface ReportSummary {
  banner: Banner;
  /** Worst first: failures, then what could not be judged, then passes. */
  slos: SloRow[];
  baselineRunId?: string;
  errorBudgets: ErrorBudget[];
  faults: FaultEntry[];
  load: LoadSummary;
  overTime: { sliceS: number; slices: LoadSlice[] };
  provenance: Provenance;
}

const UPPER = new Set<Threshold['op']>(['<', '<=']);
const LOWER = new Set<Threshold['op']>(['>', '>=']);

function baselineChange(verdict: Verdict, before: number | null, regression: boolean): BaselineChange {
  const now = verdict.measured;
  if (now === null || before === null) return { measured: before, delta: null, changePercent: null, direction: null, regression };
  const delta = Number((now - before).toFixed(6));
  const { op, value } = verdict.threshold;
  let direction: BaselineChange['direction'] = 'same';
  if (delta !== 0) {
    if (UPPER.has(op)) direction = delta > 0 ? 'worse' : 'better';
    else if (LOWER.has(op)) direction = delta < 0 ? 'worse' : 'better';
    else direction = Math.abs(now - value) > Math.abs(before - value) ? 'worse' : Math.abs(now - value) < Math.abs(before - value) ? 'better' : 'same';
  }
  return { measured: before, delta, changePercent: before === 0 ? null : (delta / Math.abs(before)) * 100, direction, regression };
}

function sloRows(input: ReportInput): SloRow[] {
  const before = new Map((input.baseline?.verdicts ?? []).map((v) => [v.id, v.measured]));
  const regressions = new Map((input.baseline?.regressions ?? []).map((r) => [r.id, r]));
  return worstFirst(input.judgement.verdicts).map((verdict): SloRow => {
    const regression = regressions.get(verdict.id);
    // A baseline that lists only regressions (an older caller) still gives their baseline value.
    const baselineValue = before.has(verdict.id) ? (before.get(verdict.id) ?? null) : regression ? regression.baseline : undefined;
    return {
      id: verdict.id,
      slo: verdict.slo,
      area: areaOf(verdict.id),
      status: verdict.status,
      measured: verdict.measured,
      threshold: verdict.threshold,
      margin: marginOf(verdict.measured, verdict.threshold),
      samples: verdict.evidence.samples,
      window: { ...verdict.window, seconds: Math.max(0, (verdict.window.to - verdict.window.from) / 1000) },
      ...(verdict.reason ? { reason: verdict.reason } : {}),
      ...(input.baseline && baselineValue !== undefined ? { baseline: baselineChange(verdict, baselineValue, regression !== undefined) } : {}),
    };
  });
}

const numberIn = (detail: Record<string, unknown> | undefined, key: string): number | undefined => {
  const value = detail?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
};

/**
 * The error-rate and availability objectives as budgets: how many failed requests the run was allowed and
 * how much of that it used. Counts come from the verdict's evidence (the requests it judged, after any
 * failover window it left out), or, from an older report, back from its measured share.
 */
function errorBudgets(verdicts: readonly Verdict[]): ErrorBudget[] {
  const budgets: ErrorBudget[] = [];
  for (const verdict of verdicts) {
    const area = areaOf(verdict.id);
    if ((area !== 'errorRate' && area !== 'availability') || verdict.threshold.unit !== '%') continue;
    const detail = verdict.evidence.detail;
    const requests = numberIn(detail, 'requests') ?? verdict.evidence.samples;
    const availability = area === 'availability';
    // Rounded back to the threshold's own decimals: 100 - 99.9 is 0.09999999999999432 in binary.
    const allowedPercent = Number((availability ? 100 - verdict.threshold.value : verdict.threshold.value).toFixed(9));
    const fromMeasured = verdict.measured === null ? 0 : Math.round(((availability ? 100 - verdict.measured : verdict.measured) / 100) * requests);
    const used = numberIn(detail, availability ? 'unavailable' : 'failed') ?? fromMeasured;
    const allowed = (requests * allowedPercent) / 100;
    budgets.push({
      id: verdict.id,
      slo: verdict.slo,
      status: verdict.status,
      requests,
      allowedPercent,
      allowed,
      used,
      usedWhat: availability ? 'unavailable requests' : 'failed requests',
      usedPercent: allowed > 0 ? (used / allowed) * 100 : null,
    });
  }
  return budgets;
}

function provenanceOf(input: ReportInput): Provenance {
  const info = eventsOf(input.records, 'run.info').at(-1)?.data;
  return {
    recorded: info !== undefined,
    harness: { version: info?.harness.version ?? input.run.harnessVersion, commit: info?.harness.commit ?? null },
    target: { cluster: input.run.cluster, versions: info?.target ?? {} },
    engine: info?.engine ?? null,
    profile: info?.profile ?? input.run.profile,
    specHash: info?.specHash ?? null,
    machine: info?.machine ?? null,
    startedAt: input.run.startedAt,
    endedAt: input.run.endedAt,
  };
}

/** "slo: measured X, Y past the threshold", or the verdict's reason when nothing was measured. */
function verdictLine(row: SloRow): string {
  if (row.measured === null || row.margin === null) return `${row.slo}: ${row.reason ?? `measured ${formatValue(row.measured, row.threshold.unit)}`}`;
  return `${row.slo}: measured ${formatValue(row.measured, row.threshold.unit)}, ${describeMargin(row.margin, row.threshold.unit)}`;
}

function bannerOf(input: ReportInput, rows: readonly SloRow[]): Banner {
  const headline = headlineOf(input);
  const counts = countByStatus(input.judgement.verdicts);
  const base = { headline, exitCode: EXIT_CODE_OF[headline], counts };
  const judged = `${rows.length} SLO${rows.length === 1 ? '' : 's'}`;
  switch (headline) {
    case 'ABORTED':
      return { ...base, reason: `the run was aborted: ${input.run.reason ?? 'no reason recorded'}; ${judged} judged on the part that ran, ${counts.fail} failed` };
    case 'INVALID': {
      const invalid = rows.find((r) => r.status === 'invalid');
      const why = input.run.status === 'invalid' && input.run.reason ? input.run.reason : invalid ? verdictLine(invalid) : 'the run could not be judged';
      return { ...base, reason: `the run is invalid, not judged as pass or fail: ${why}`, ...(invalid ? { verdictId: invalid.id } : {}) };
    }
    case 'FAIL': {
      const failed = rows.filter((r) => r.status === 'fail');
      // The worst failure: the largest overshoot relative to its threshold; then those with no number.
      const worst = failed.map((row, index) => ({ row, index })).sort((a, b) => severityOf(a.row.margin) - severityOf(b.row.margin) || a.index - b.index)[0]?.row;
      if (!worst) return { ...base, reason: 'no SLO was judged' };
      const more = failed.length - 1;
      return { ...base, reason: `${verdictLine(worst)}${more > 0 ? ` (and ${more} more failed of ${judged})` : ''}`, verdictId: worst.id };
    }
    case 'PASS': {
      // How close it came: the smallest relative headroom among the measured objectives.
      const closest = rows
        .filter((r) => r.margin?.percent !== null && r.margin?.percent !== undefined)
        .sort((a, b) => (a.margin?.percent ?? 0) - (b.margin?.percent ?? 0))[0];
      const tail = closest ? `; closest: ${verdictLine(closest)}` : '';
      return { ...base, reason: `all ${judged} met${tail}`, ...(closest ? { verdictId: closest.id } : {}) };
    }
  }
}

export function summarize(input: ReportInput, analysis: LoadAnalysis, sliceS: number): ReportSummary {
  const slos = sloRows(input);
  return {
    banner: bannerOf(input, slos),
    slos,
    ...(input.baseline ? { baselineRunId: input.baseline.runId } : {}),
    errorBudgets: errorBudgets(input.judgement.verdicts),
    faults: faultLedger(input.records, input.run.endedAt, input.judgement.verdicts),
    load: analysis.summary,
    overTime: { sliceS, slices: analysis.slices },
    provenance: provenanceOf(input),
  };
}
