// report.md: for a GitHub job summary or a PR comment. The headline word and exit code first (PASS, FAIL,
// INVALID, ABORTED; no emoji, so it greps and reads the same everywhere) with the one-line reason, then every
// SLO with its margin and change against the baseline, what failed with its evidence, the error budgets,
// the fault ledger, the load over time and per request name, and where the run came from.
import type { Verdict } from '../verifiers/types.ts';
import {
  formatChange, formatCounts, formatDuration, formatMargin, formatMs, formatNumber, formatPercent, formatRelative, formatThreshold, formatValue,
  formatWindow, isoUtc, sinceStart, worstFirst,
} from './format.ts';
import type { ReportSummary } from './summary.ts';
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

const md = escapeMarkdown;
const STATUS_WORD: Record<Verdict['status'], string> = { pass: 'pass', fail: '**FAIL**', invalid: '**INVALID**' };
const row = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;

function banner(input: ReportInput, summary: ReportSummary): string[] {
  const { run } = input;
  const { banner: b } = summary;
  const lines = [
    `# SLO report: ${b.headline} (exit code ${b.exitCode})`,
    '',
    `**Why:** ${md(b.reason)}`,
    '',
    `${summary.slos.length} SLOs: ${b.counts.fail} failed, ${b.counts.invalid} not judged, ${b.counts.pass} passed. ` +
      `Run ${md(run.id)} on ${md(run.cluster)}, profile ${md(run.profile)}, started ${isoUtc(run.startedAt)}, ` +
      `lasted ${formatDuration(run.endedAt - run.startedAt)}, steps ${run.steps.map(md).join(', ') || 'none'}.`,
  ];
  if (run.status !== 'completed') lines.push('', `> The run was ${run.status}${run.reason ? `: ${md(run.reason)}` : ''}.`);
  return lines;
}

function sloTable(input: ReportInput, summary: ReportSummary): string[] {
  if (summary.slos.length === 0) return ['', '## SLOs', '', 'No SLO was judged.'];
  const baseline = summary.baselineRunId !== undefined;
  const regressions = input.baseline?.regressions.length ?? 0;
  const lines = [
    '',
    '## SLOs',
    '',
    `Margin: + is headroom left, - is past the threshold; in the unit (pp: percentage points) and as a share of the room the objective allows (up to the threshold, or from a minimum percentage up to 100 %).${baseline ? ` Baseline: run ${md(summary.baselineRunId ?? '')}, ${regressions} regression${regressions === 1 ? '' : 's'} beyond the tolerance.` : ''}`,
    '',
    row(['SLO', 'Verdict', 'Measured', 'Threshold', 'Margin', 'Samples', 'Window', ...(baseline ? ['vs baseline'] : [])]),
    row(['---', '---', '---:', '---', '---:', '---:', '---', ...(baseline ? ['---:'] : [])]),
  ];
  for (const r of summary.slos) {
    const change = r.baseline ? `${md(formatChange(r.baseline, r.threshold.unit))}${r.baseline.regression ? ' **regression**' : ''}` : '-';
    lines.push(row([
      md(r.slo), STATUS_WORD[r.status], md(formatValue(r.measured, r.threshold.unit)), md(formatThreshold(r.threshold)),
      md(formatMargin(r.margin, r.threshold.unit)), String(r.samples), md(formatWindow(r.window, input.run.startedAt)),
      ...(baseline ? [change] : []),
    ]));
  }
  return lines;
}

function failures(input: ReportInput): string[] {
  const bad = worstFirst(input.judgement.verdicts).filter((v) => v.status !== 'pass');
  if (bad.length === 0) return [];
  const lines = ['', bad.some((v) => v.status === 'invalid') ? '## Why each failed or could not be judged' : '## Why each failed'];
  for (const verdict of bad) {
    lines.push('', `### ${verdict.status === 'fail' ? 'FAIL' : 'INVALID'}: ${md(verdict.slo)}`, '', `${md(verdict.id)}, ${verdict.evidence.samples} samples.`);
    if (verdict.reason) lines.push('', `Reason: ${md(verdict.reason)}`);
    if (verdict.evidence.notes.length > 0) lines.push('', ...verdict.evidence.notes.map((note) => `- ${md(note)}`));
  }
  return lines;
}

function errorBudget(summary: ReportSummary): string[] {
  if (summary.errorBudgets.length === 0) return [];
  return [
    '',
    '## Error budget',
    '',
    'The failed requests each objective allows over this run\'s requests, and how much of that the run used.',
    '',
    row(['SLO', 'Verdict', 'Requests', 'Allowed', 'Used', 'Budget used']),
    row(['---', '---', '---:', '---:', '---:', '---:']),
    ...summary.errorBudgets.map((b) => row([
      md(b.slo), STATUS_WORD[b.status], String(b.requests), `${formatNumber(b.allowed)} (${formatPercent(b.allowedPercent)})`,
      `${b.used} ${b.usedWhat}`, b.usedPercent === null ? 'no budget' : `${b.usedPercent > 100 ? '**' : ''}${formatRelative(b.usedPercent)} %${b.usedPercent > 100 ? '**' : ''}`,
    ])),
  ];
}

function faults(input: ReportInput, summary: ReportSummary): string[] {
  if (summary.faults.length === 0) return ['', '## Faults', '', 'No action or fault was injected.'];
  const start = input.run.startedAt;
  const lines = [
    '',
    '## Faults',
    '',
    row(['#', 'Fault', 'Start', 'End', 'Recovered', 'Failed requests', 'Lost writes', 'Judged by']),
    row(['---', '---', '---:', '---:', '---', '---', '---', '---']),
  ];
  for (const f of summary.faults) {
    const end = f.end === null ? 'did not end' : `${sinceStart(f.end, start)}${f.ok ? '' : ` **failed**: ${md(f.error ?? 'no error given')}`}`;
    const recovered = f.recovered ? `${formatNumber(f.recoverS ?? 0)} s: ${md(f.recovered.what)}` : '**not recovered**';
    const failed = `${f.failed} of ${f.requests}${f.failed > 0 ? ` (${md(formatCounts(f.failures))})` : ''}`;
    const lost = f.lostWrites === null ? '-'
      : f.lostWrites.state === 'audited' ? `${f.lostWrites.missing} of ${f.lostWrites.acknowledged}`
        : f.lostWrites.state === 'audit failed' ? `unknown: audit failed (${md(f.lostWrites.reason)})` : 'unknown: not audited';
    const judged = f.judgedBy.map((j) => `${md(j.id)} ${STATUS_WORD[j.status]}`).join(', ') || '-';
    lines.push(row([f.key, md(f.what), sinceStart(f.start, start), end, recovered, failed, lost, judged]));
  }
  lines.push('', 'Failed requests count from the start to the later of the end and the recovery. Lost writes come from the write audit after the load, which covers the whole run.');
  return lines;
}

function load(input: ReportInput, summary: ReportSummary): string[] {
  const l = summary.load;
  if (l.seconds === 0) return ['', '## Load', '', 'No load was recorded.'];
  const latency = l.latencyMs
    ? `p50 ${formatNumber(l.latencyMs.p50)} ms, p95 ${formatNumber(l.latencyMs.p95)} ms, p99 ${formatNumber(l.latencyMs.p99)} ms, max ${formatNumber(l.latencyMs.max)} ms`
    : 'n/a';
  const lines = [
    '',
    '## Load',
    '',
    `- ${l.requests} requests over ${l.seconds} s (${formatNumber(l.rps?.mean ?? 0)}/s mean, ${l.rps?.min ?? 0} to ${l.rps?.max ?? 0}/s)`,
    `- ${l.failed} failed (${formatPercent(l.errorRatePercent)}) in ${l.secondsWithErrors} s${l.failed > 0 ? `: ${md(formatCounts(l.errors))}` : ''}`,
    `- latency ${latency}`,
    ...(l.dropped > 0 ? [`- ${l.dropped} iterations dropped by the load generator`] : []),
  ];
  const { sliceS, slices } = summary.overTime;
  if (slices.length > 0) {
    lines.push(
      '',
      `### Over time (${formatDuration(sliceS * 1000)} slices)`,
      '',
      row(['From', 'Asked/s', 'Achieved/s', 'p50', 'p95', 'p99', 'Failed', 'Failures by reason']),
      row(['---:', '---:', '---:', '---:', '---:', '---:', '---:', '---']),
      ...slices.map((s) => row([
        sinceStart(s.from, input.run.startedAt), s.askedPerS === null ? '-' : formatNumber(s.askedPerS), formatNumber(s.achievedPerS),
        formatMs(s.p50Ms), formatMs(s.p95Ms), formatMs(s.p99Ms), String(s.failed), md(formatCounts(s.failures)) || '-',
      ])),
    );
  }
  if (l.byName.length > 0) {
    lines.push(
      '',
      '### By request name',
      '',
      row(['Request', 'Requests', 'Failed', 'Error rate', 'p50', 'p95', 'p99']),
      row(['---', '---:', '---:', '---:', '---:', '---:', '---:']),
      ...l.byName.map((n) => row([
        md(n.name), String(n.requests), String(n.failed), formatPercent(n.errorRatePercent), formatMs(n.p50Ms), formatMs(n.p95Ms), formatMs(n.p99Ms),
      ])),
    );
  }
  return lines;
}

function provenance(summary: ReportSummary): string[] {
  const p = summary.provenance;
  const versions = Object.entries(p.target.versions).map(([k, v]) => `${k} ${v}`).join(', ');
  return [
    '',
    '## Provenance',
    '',
    row(['', '']),
    row(['---', '---']),
    row(['Harness', `${md(p.harness.version)}, commit ${md(p.harness.commit ?? 'unknown')}`]),
    row(['Target', `${md(p.target.cluster)}: ${md(versions || 'versions unknown')}`]),
    row(['Engine', md(p.engine ?? 'unknown')]),
    row(['Profile', md(p.profile)]),
    row(['Spec hash', md(p.specHash ?? 'unknown')]),
    row(['Machine', p.machine ? md(`${p.machine.cores} cores, ${p.machine.memoryMiB} MiB, ${p.machine.platform}`) : 'unknown']),
    row(['Started', isoUtc(p.startedAt)]),
    row(['Ended', `${isoUtc(p.endedAt)} (${formatDuration(p.endedAt - p.startedAt)})`]),
    ...(p.recorded ? [] : ['', 'The timeline has no run.info event: what produced the run is unknown beyond run.json.']),
  ];
}

export function renderMarkdown(input: ReportInput, summary: ReportSummary): string {
  return [
    ...banner(input, summary), ...sloTable(input, summary), ...failures(input), ...errorBudget(summary), ...faults(input, summary),
    ...load(input, summary), ...provenance(summary), '',
  ].join('\n');
}
