// junit.xml: one testsuite per run, one testcase per verdict, so any CI system shows SLOs as tests.
// classname is the verdict's area (latency, errorRate, failover...), name its SLO statement, time the length
// of the window it judged. A failed SLO is a <failure> whose message carries the measured value, the
// threshold and the margin, with the evidence in the body; an SLO that could not be judged is an <error>,
// because nobody should read it as passed; a passed one says its numbers in <system-out>. The suite's
// <system-out> carries the banner, provenance, error budgets, fault ledger and load, as plain lines.
// Shape: the common JUnit schema (testsuites > testsuite > properties, testcase > failure|error, system-out).
import type { Verdict } from '../verifiers/types.ts';
import {
  formatChange, formatCounts, formatDuration, formatMargin, formatMs, formatNumber, formatPercent, formatRelative, formatThreshold, formatValue,
  formatWindow, isoUtc, sinceStart,
} from './format.ts';
import type { ReportSummary, SloRow } from './summary.ts';
import type { ReportInput } from './types.ts';
import { escapeXml, escapeXmlAttribute } from './xml.ts';

export const JUNIT_FILE = 'junit.xml';

const attrs = (values: Record<string, string | number>) =>
  Object.entries(values).map(([name, value]) => ` ${name}="${escapeXmlAttribute(String(value))}"`).join('');

/** "measured 251.9 ms, threshold < 200 ms, margin -51.9 ms (-26 %)": the numbers of one verdict. */
export function numbersLine(row: SloRow): string {
  const margin = row.margin ? `, margin ${formatMargin(row.margin, row.threshold.unit)}` : '';
  return `measured ${formatValue(row.measured, row.threshold.unit)}, threshold ${formatThreshold(row.threshold)}${margin}`;
}

function caseBody(verdict: Verdict, row: SloRow, runStartMs: number, summary: ReportSummary): string {
  const lines = [
    verdict.slo,
    numbersLine(row),
    `window: ${formatWindow(verdict.window, runStartMs)}, ${formatDuration(row.window.seconds * 1000)}`,
    `samples: ${verdict.evidence.samples}`,
  ];
  if (row.baseline) lines.push(`vs baseline ${summary.baselineRunId ?? ''}: ${formatChange(row.baseline, row.threshold.unit)}${row.baseline.regression ? ' (regression)' : ''}`);
  if (verdict.reason) lines.push(`reason: ${verdict.reason}`);
  if (verdict.evidence.notes.length > 0) lines.push('evidence:', ...verdict.evidence.notes.map((note) => `- ${note}`));
  return lines.join('\n');
}

function testcase(verdict: Verdict, row: SloRow, runStartMs: number, summary: ReportSummary): string {
  const open = `    <testcase${attrs({ classname: row.area, name: verdict.slo, time: row.window.seconds.toFixed(3) })}>`;
  const body = escapeXml(caseBody(verdict, row, runStartMs, summary));
  if (verdict.status === 'pass') return [open, `      <system-out>${body}</system-out>`, '    </testcase>'].join('\n');
  const element = verdict.status === 'fail' ? 'failure' : 'error';
  const message = verdict.status === 'fail'
    ? `${verdict.id}: ${numbersLine(row)}`
    : `${verdict.id}: not judged: ${verdict.reason ?? 'not enough data'} (threshold ${formatThreshold(verdict.threshold)})`;
  return [
    open,
    `      <${element}${attrs({ message, type: verdict.status === 'fail' ? 'slo.fail' : 'slo.invalid' })}>${body}</${element}>`,
    '    </testcase>',
  ].join('\n');
}

/** The whole summary as plain lines: what a CI log viewer shows of the suite. */
function systemOut(input: ReportInput, summary: ReportSummary): string {
  const { banner, provenance: p, load } = summary;
  const start = input.run.startedAt;
  const lines = [
    `${banner.headline} (exit code ${banner.exitCode}): ${banner.reason}`,
    `run ${input.run.id}: ${input.run.status}${input.run.reason ? `: ${input.run.reason}` : ''}`,
    `harness ${p.harness.version} (commit ${p.harness.commit ?? 'unknown'}), engine ${p.engine ?? 'unknown'}, profile ${p.profile}, spec ${p.specHash ?? 'unknown'}`,
    `target ${p.target.cluster}: ${Object.entries(p.target.versions).map(([k, v]) => `${k} ${v}`).join(', ') || 'versions unknown'}`,
    `machine: ${p.machine ? `${p.machine.cores} cores, ${p.machine.memoryMiB} MiB, ${p.machine.platform}` : 'unknown'}`,
    `started ${isoUtc(p.startedAt)}, ended ${isoUtc(p.endedAt)} (${formatDuration(p.endedAt - p.startedAt)})`,
  ];
  for (const b of summary.errorBudgets) {
    lines.push(`error budget, ${b.slo}: ${b.used} ${b.usedWhat} of ${formatNumber(b.allowed)} allowed (${formatPercent(b.allowedPercent)} of ${b.requests}): ${b.usedPercent === null ? 'no budget' : `${formatRelative(b.usedPercent)} % used`}`);
  }
  if (summary.faults.length > 0) lines.push('faults:');
  for (const f of summary.faults) {
    const recovered = f.recovered ? `recovered in ${formatNumber(f.recoverS ?? 0)} s (${f.recovered.what})` : 'not recovered';
    const lost = f.lostWrites?.state === 'audited' ? `, ${f.lostWrites.missing} of ${f.lostWrites.acknowledged} acknowledged writes lost (whole-run audit)` : f.lostWrites ? `, lost writes unknown (${f.lostWrites.state})` : '';
    lines.push(`- ${f.key} ${f.what} at ${sinceStart(f.start, start)}${f.end === null ? ', did not end' : f.ok ? '' : `, failed: ${f.error ?? 'no error given'}`}, ${recovered}, ${f.failed} of ${f.requests} requests failed${f.failed > 0 ? ` (${formatCounts(f.failures)})` : ''}${lost}`);
  }
  lines.push(load.seconds === 0
    ? 'load: none recorded'
    : `load: ${load.requests} requests in ${load.seconds} s, ${load.failed} failed (${formatPercent(load.errorRatePercent)})${load.failed > 0 ? `: ${formatCounts(load.errors)}` : ''}`);
  for (const n of load.byName) lines.push(`- ${n.name}: ${n.requests} requests, ${n.failed} failed, p95 ${formatMs(n.p95Ms)}`);
  if (input.baseline) {
    lines.push(`regressions vs baseline ${input.baseline.runId}: ${input.baseline.regressions.length}`);
    for (const r of input.baseline.regressions) {
      lines.push(`- ${r.id}: ${r.measured} vs ${r.baseline} (${r.changePercent >= 0 ? '+' : ''}${r.changePercent.toFixed(1)} %)`);
    }
  }
  return lines.join('\n');
}

export function renderJunit(input: ReportInput, summary: ReportSummary): string {
  const { run, judgement } = input;
  const { counts } = summary.banner;
  const rows = new Map(summary.slos.map((row) => [row.id, row]));
  const totals = {
    tests: judgement.verdicts.length,
    failures: counts.fail,
    errors: counts.invalid,
    skipped: 0,
    time: ((run.endedAt - run.startedAt) / 1000).toFixed(3),
    timestamp: isoUtc(run.startedAt),
  };
  const properties: Record<string, string> = {
    'run.id': run.id,
    'run.status': run.status,
    status: summary.banner.headline,
    'exit.code': String(summary.banner.exitCode),
    reason: summary.banner.reason,
    cluster: run.cluster,
    profile: run.profile,
    steps: run.steps.join(','),
    'harness.version': summary.provenance.harness.version,
    'harness.commit': summary.provenance.harness.commit ?? 'unknown',
    engine: summary.provenance.engine ?? 'unknown',
    'spec.hash': summary.provenance.specHash ?? 'unknown',
  };
  if (run.reason) properties['run.reason'] = run.reason;
  if (input.baseline) properties['baseline.run.id'] = input.baseline.runId;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: 'slo-harness', ...totals })}>`,
    `  <testsuite${attrs({ name: `slo ${run.id}`, ...totals, hostname: run.cluster, id: 0, package: run.profile })}>`,
    '    <properties>',
    ...Object.entries(properties).map(([name, value]) => `      <property${attrs({ name, value })}/>`),
    '    </properties>',
    ...judgement.verdicts.map((verdict) => {
      const row = rows.get(verdict.id);
      if (!row) throw new Error(`no SLO row for verdict ${verdict.id}`);
      return testcase(verdict, row, run.startedAt, summary);
    }),
    `    <system-out>${escapeXml(systemOut(input, summary))}</system-out>`,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
