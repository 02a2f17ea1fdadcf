// junit.xml: one testsuite per run, one testcase per verdict, so any CI system shows SLOs as tests.
// classname is the verdict's area (latency, errors, failover...), name its SLO statement. A failed SLO is a
// <failure> with the measured value and threshold in the message and the evidence in the body; an SLO that
// could not be judged is an <error>, because nobody should read it as passed. Shape: the common JUnit
// schema (testsuites > testsuite > properties, testcase > failure|error, system-out).
import type { Verdict } from '../verifiers/types.ts';
import { areaOf, countByStatus, formatThreshold, formatWindow, isoUtc, measuredVersusThreshold } from './format.ts';
import { headlineOf } from './types.ts';
import type { ReportInput } from './types.ts';
import { escapeXml, escapeXmlAttribute } from './xml.ts';

export const JUNIT_FILE = 'junit.xml';

const attrs = (values: Record<string, string | number>) =>
  Object.entries(values).map(([name, value]) => ` ${name}="${escapeXmlAttribute(String(value))}"`).join('');

function evidenceBody(verdict: Verdict, runStartMs: number): string {
  const lines = [
    verdict.slo,
    measuredVersusThreshold(verdict),
    `window: ${formatWindow(verdict.window, runStartMs)}`,
    `samples: ${verdict.evidence.samples}`,
  ];
  if (verdict.reason) lines.push(`reason: ${verdict.reason}`);
  if (verdict.evidence.notes.length > 0) lines.push('evidence:', ...verdict.evidence.notes.map((note) => `- ${note}`));
  return lines.join('\n');
}

function testcase(verdict: Verdict, runStartMs: number): string {
  const open = `    <testcase${attrs({ classname: areaOf(verdict.id), name: verdict.slo, time: 0 })}`;
  if (verdict.status === 'pass') return `${open}/>`;
  const element = verdict.status === 'fail' ? 'failure' : 'error';
  const message = verdict.status === 'fail'
    ? `${verdict.id}: ${measuredVersusThreshold(verdict)}`
    : `${verdict.id}: not judged: ${verdict.reason ?? 'not enough data'} (threshold ${formatThreshold(verdict.threshold)})`;
  return [
    `${open}>`,
    `      <${element}${attrs({ message, type: verdict.status === 'fail' ? 'slo.fail' : 'slo.invalid' })}>${escapeXml(evidenceBody(verdict, runStartMs))}</${element}>`,
    '    </testcase>',
  ].join('\n');
}

function systemOut(input: ReportInput): string {
  const lines = [`status: ${headlineOf(input)}`, `run ${input.run.id}: ${input.run.status}${input.run.reason ? `: ${input.run.reason}` : ''}`];
  if (input.baseline) {
    lines.push(`regressions vs baseline ${input.baseline.runId}: ${input.baseline.regressions.length}`);
    for (const r of input.baseline.regressions) {
      lines.push(`- ${r.id}: ${r.measured} vs ${r.baseline} (${r.changePercent >= 0 ? '+' : ''}${r.changePercent.toFixed(1)} %)`);
    }
  }
  return lines.join('\n');
}

export function renderJunit(input: ReportInput): string {
  const { run, judgement } = input;
  const counts = countByStatus(judgement.verdicts);
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
    status: headlineOf(input),
    cluster: run.cluster,
    profile: run.profile,
    steps: run.steps.join(','),
    'harness.version': run.harnessVersion,
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
    ...judgement.verdicts.map((verdict) => testcase(verdict, run.startedAt)),
    `    <system-out>${escapeXml(systemOut(input))}</system-out>`,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
