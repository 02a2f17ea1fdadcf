// Formatting shared by the human-facing reports (JUnit messages, Markdown, HTML), so a number reads the same
// everywhere a person might compare them.
import type { Threshold, Verdict, VerdictStatus } from '../verifiers/types.ts';
import { marginUnit, type Margin } from './margin.ts';

/**
 * Rounds half away from zero in decimal, not binary: 265.215 -> 265.22 and -65.215 -> -65.22, so a measured
 * value and its margin agree in their last digit (toFixed rounds 265.215 down, it is 265.2149999... in binary).
 */
function roundDecimal(value: number, decimals: number): number {
  if (Math.abs(value) >= 1e15) return Math.round(value); // beyond the digits a double holds after the point
  const abs = Number(Math.abs(value).toFixed(Math.min(100, decimals + 6)));
  const rounded = Number(`${Math.round(Number(`${abs}e${decimals}`))}e-${decimals}`);
  return value < 0 ? -rounded : rounded;
}

const plain = (value: number, decimals: number) => {
  const rounded = roundDecimal(value, decimals);
  return (Object.is(rounded, -0) ? 0 : rounded).toString();
};

/** Whole numbers from 1000 up, two decimals above 1, three below; no trailing zeros, no exponent. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  return plain(value, abs >= 1000 ? 0 : abs >= 1 ? 2 : 3);
}

/** A relative figure (a share of a threshold or a budget): whole from 100, one decimal from 1, two below. */
export function formatRelative(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  return plain(value, abs >= 100 ? 0 : abs >= 1 ? 1 : 2);
}

export function formatValue(value: number | null, unit: string): string {
  if (value === null) return 'n/a';
  if (unit === 'bool') return value ? 'true' : 'false';
  return unit === '' ? formatNumber(value) : `${formatNumber(value)} ${unit}`;
}

export function formatThreshold(threshold: Threshold): string {
  if (threshold.unit === 'bool') return `${threshold.op} ${threshold.value ? 'true' : 'false'}`;
  return `${threshold.op} ${formatValue(threshold.value, threshold.unit)}`;
}

/** "1h02m03s", "4m05s", "12s" (with `tenths`: "4m05.3s", "2.5s"): durations of runs and windows. */
export function formatDuration(ms: number, tenths = false): string {
  const total = Math.max(0, tenths ? Math.round(ms / 100) / 10 : Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = Number((total % 60).toFixed(1));
  const pad = (n: number) => (n < 10 ? `0${n}` : String(n));
  if (h > 0) return `${h}h${pad(m)}m${pad(s)}s`;
  if (m > 0) return `${m}m${pad(s)}s`;
  return `${s}s`;
}

/** A window relative to the run start, which is what a reader lines up with the charts. */
export function formatWindow(window: Verdict['window'], runStartMs: number): string {
  const from = formatDuration(window.from - runStartMs);
  const to = formatDuration(window.to - runStartMs);
  return `${window.label} (+${from} to +${to})`;
}

export function isoUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `latency.p95.phase.spike` -> `latency`: the group a verdict belongs to (JUnit classname, table grouping). */
export function areaOf(verdictId: string): string {
  const dot = verdictId.indexOf('.');
  return dot === -1 ? verdictId : verdictId.slice(0, dot);
}

const statusRank: Record<VerdictStatus, number> = { fail: 0, invalid: 1, pass: 2 };

/** Failures first, then what could not be judged, then passes; stable within each group. */
export function worstFirst(verdicts: readonly Verdict[]): Verdict[] {
  return verdicts
    .map((verdict, index) => ({ verdict, index }))
    .sort((a, b) => statusRank[a.verdict.status] - statusRank[b.verdict.status] || a.index - b.index)
    .map(({ verdict }) => verdict);
}

export function countByStatus(verdicts: readonly Verdict[]): Record<VerdictStatus, number> {
  const counts: Record<VerdictStatus, number> = { pass: 0, fail: 0, invalid: 0 };
  for (const verdict of verdicts) counts[verdict.status] += 1;
  return counts;
}

/** One line stating a verdict's numbers, used as the JUnit failure message and in Markdown. */
export function measuredVersusThreshold(verdict: Verdict): string {
  return `measured ${formatValue(verdict.measured, verdict.threshold.unit)}, threshold ${formatThreshold(verdict.threshold)}`;
}

/** "+108.7 ms (+54.4 %)" headroom, "-62.7 ms (-41.8 %)" past the threshold, "-" without a margin. */
export function formatMargin(margin: Margin | null, unit: string): string {
  if (!margin) return '-';
  const sign = margin.value > 0 ? '+' : margin.value < 0 ? '-' : '';
  const relative = margin.percent === null ? '' : ` (${sign}${formatRelative(Math.abs(margin.percent))} %)`;
  return `${sign}${formatValue(Math.abs(margin.value), marginUnit(unit))}${relative}`;
}

/** The margin in words, for sentences: "108.7 ms (54.4 %) of headroom", "62.7 ms (41.8 %) past the threshold". */
export function describeMargin(margin: Margin, unit: string): string {
  if (margin.value === 0) return 'exactly at the threshold';
  const relative = margin.percent === null ? '' : ` (${formatRelative(Math.abs(margin.percent))} %)`;
  return `${formatValue(Math.abs(margin.value), marginUnit(unit))}${relative} ${margin.value > 0 ? 'of headroom' : 'past the threshold'}`;
}

/** A change against the baseline: "+51.9 ms (+26 %) worse", "was true", "same", "-" when either side has no value. */
export function formatChange(change: { measured: number | null; delta: number | null; changePercent: number | null; direction: string | null } | undefined, unit: string): string {
  if (!change || change.delta === null) return '-';
  if (change.direction === 'same') return 'same';
  if (unit === 'bool') return `was ${formatValue(change.measured, unit)}`;
  const sign = change.delta > 0 ? '+' : '-';
  const relative = change.changePercent === null ? '' : ` (${sign}${formatRelative(Math.abs(change.changePercent))} %)`;
  return `${sign}${formatValue(Math.abs(change.delta), marginUnit(unit))}${relative} ${change.direction ?? ''}`.trimEnd();
}

export const formatPercent = (value: number | null): string => (value === null ? 'n/a' : `${formatNumber(value)} %`);

/** A latency in ms, or "-" when there is none (no samples, or records from before per-name histograms). */
export const formatMs = (value: number | null): string => (value === null ? '-' : `${formatNumber(value)} ms`);

/** Time from the run start to the tenth of a second: "+1m05.2s". */
export const sinceStart = (t: number, runStartMs: number): string => `+${formatDuration(t - runStartMs, true)}`;

/** Counts by reason, biggest first: "5xx 74, connection reset 13". */
export function formatCounts(counts: Record<string, number>): string {
  return Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([key, n]) => `${key} ${n}`).join(', ');
}
