// report.md: for a GitHub job summary or a PR comment. The headline word first (PASS, FAIL, INVALID,
// ABORTED; no emoji, so it greps and reads the same everywhere), then what failed with its evidence, then
// every verdict in one table, regressions against the baseline, and the load in numbers.
import type { Verdict } from '../verifiers/types.ts';
import { countByStatus, formatDuration, formatNumber, formatThreshold, formatValue, formatWindow, isoUtc, worstFirst } from './format.ts';
import type { LoadSummary } from './series.ts';
import { headlineOf } from './types.ts';
import type { ReportInput } from './types.ts';

export const MARKDOWN_FILE = 'report.md';

/**
 * Text that renders as itself in GitHub Markdown, inline (never at the start of a line): HTML is escaped
 * (GitHub renders inline HTML), emphasis, code, link and table punctuation is backslash-escaped, and line
 * breaks become spaces so a value never breaks a table row.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`);
}

const STATUS_WORD: Record<Verdict['status'], string> = { pass: 'pass', fail: '**FAIL**', invalid: '**INVALID**' };

function headline(input: ReportInput): string[] {
  const { run, judgement } = input;
  const counts = countByStatus(judgement.verdicts);
  const parts = [`${counts.fail} failed`, `${counts.invalid} not judged`, `${counts.pass} passed`];
  const lines = [
    `# SLO report: ${headlineOf(input)}`,
    '',
    `${judgement.verdicts.length} SLOs: ${parts.join(', ')}.`,
    '',
    `Run ${escapeMarkdown(run.id)} on ${escapeMarkdown(run.cluster)}, profile ${escapeMarkdown(run.profile)}, ` +
      `started ${isoUtc(run.startedAt)}, lasted ${formatDuration(run.endedAt - run.startedAt)}, ` +
      `steps ${run.steps.map(escapeMarkdown).join(', ') || 'none'}, harness ${escapeMarkdown(run.harnessVersion)}.`,
  ];
  if (run.status !== 'completed') {
    lines.push('', `> The run was ${run.status}${run.reason ? `: ${escapeMarkdown(run.reason)}` : ''}.`);
  }
  return lines;
}

function failures(input: ReportInput): string[] {
  const bad = worstFirst(input.judgement.verdicts).filter((v) => v.status !== 'pass');
  if (bad.length === 0) return [];
  const lines = ['', '## Failures'];
  for (const verdict of bad) {
    lines.push(
      '',
      `### ${verdict.status === 'fail' ? 'FAIL' : 'INVALID'}: ${escapeMarkdown(verdict.slo)}`,
      '',
      `${escapeMarkdown(verdict.id)}: measured ${escapeMarkdown(formatValue(verdict.measured, verdict.threshold.unit))}, ` +
        `threshold ${escapeMarkdown(formatThreshold(verdict.threshold))}, window ${escapeMarkdown(formatWindow(verdict.window, input.run.startedAt))}, ` +
        `${verdict.evidence.samples} samples.`,
    );
    if (verdict.reason) lines.push('', `Reason: ${escapeMarkdown(verdict.reason)}`);
    if (verdict.evidence.notes.length > 0) lines.push('', ...verdict.evidence.notes.map((note) => `- ${escapeMarkdown(note)}`));
  }
  return lines;
}

function verdictTable(input: ReportInput): string[] {
  if (input.judgement.verdicts.length === 0) return ['', '## Verdicts', '', 'No SLO was judged.'];
  return [
    '',
    '## Verdicts',
    '',
    '| SLO | Status | Measured | Threshold | Window |',
    '| --- | --- | ---: | --- | --- |',
    ...worstFirst(input.judgement.verdicts).map((v) =>
      `| ${escapeMarkdown(v.slo)} | ${STATUS_WORD[v.status]} | ${escapeMarkdown(formatValue(v.measured, v.threshold.unit))} | ` +
      `${escapeMarkdown(formatThreshold(v.threshold))} | ${escapeMarkdown(formatWindow(v.window, input.run.startedAt))} |`),
  ];
}

function regressions(input: ReportInput): string[] {
  if (!input.baseline) return [];
  const { runId, regressions: list } = input.baseline;
  const lines = ['', `## Regressions vs baseline ${escapeMarkdown(runId)}`, ''];
  if (list.length === 0) return [...lines, 'None.'];
  return [
    ...lines,
    '| SLO | Measured | Baseline | Change |',
    '| --- | ---: | ---: | ---: |',
    ...list.map((r) =>
      `| ${escapeMarkdown(r.id)} | ${formatNumber(r.measured)} | ${formatNumber(r.baseline)} | ${r.changePercent >= 0 ? '+' : ''}${r.changePercent.toFixed(1)} % |`),
  ];
}

function loadSection(load: LoadSummary): string[] {
  if (load.seconds === 0) return ['', '## Load', '', 'No load was recorded.'];
  const latency = load.latencyMs
    ? `p50 ${formatNumber(load.latencyMs.p50)} ms, p95 ${formatNumber(load.latencyMs.p95)} ms, p99 ${formatNumber(load.latencyMs.p99)} ms, max ${formatNumber(load.latencyMs.max)} ms`
    : 'n/a';
  const errorKinds = Object.entries(load.errors).sort((a, b) => b[1] - a[1]).map(([kind, n]) => `${escapeMarkdown(kind)} ${n}`).join(', ');
  return [
    '',
    '## Load',
    '',
    `- ${load.requests} requests over ${load.seconds} s (${formatNumber(load.rps?.mean ?? 0)}/s mean, ${load.rps?.min ?? 0} to ${load.rps?.max ?? 0}/s)`,
    `- ${load.failed} failed (${load.errorRatePercent === null ? 'n/a' : `${formatNumber(load.errorRatePercent)} %`}) in ${load.secondsWithErrors} s${errorKinds ? `: ${errorKinds}` : ''}`,
    `- latency ${latency}`,
    ...(load.dropped > 0 ? [`- ${load.dropped} iterations dropped by the load generator`] : []),
  ];
}

export function renderMarkdown(input: ReportInput, load: LoadSummary): string {
  return [...headline(input), ...failures(input), ...verdictTable(input), ...regressions(input), ...loadSection(load), ''].join('\n');
}
