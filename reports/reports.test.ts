// The JSON, JUnit and Markdown reports: snapshots (times masked), JUnit read back by a real XML parser,
// report.json read back through its schema, hostile strings escaped in every format, atomic writing.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { isSloError } from '../contract/errors.ts';
import { REPORT_FILES, readReportJson, renderReports, writeReports } from './index.ts';
import { parseReportJson, ReportJsonSchema } from './json.ts';
import { escapeMarkdown } from './markdown.ts';
import { HOSTILE, syntheticReportInput } from '../testing/synthetic-run.ts';
import type { ReportInput } from './types.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'slo-reports-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Absolute times and durations change with every real run; the snapshot is about everything else. */
function maskTimes(text: string): string {
  return text
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '<time>')
    .replace(/"(generatedAt|startedAt|endedAt|from|to|t)": \d{13}/g, '"$1": "<epoch>"')
    .replace(/\btime="[\d.]+"/g, 'time="<duration>"')
    .replace(/lasted \w+/g, 'lasted <duration>');
}

const rendered = (input: ReportInput) => renderReports(input, 0);
const file = (reports: Map<string, string>, name: string) => {
  const text = reports.get(name);
  if (text === undefined) throw new Error(`no ${name}`);
  return text;
};

const junitParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  htmlEntities: true,
  parseAttributeValue: false,
  parseTagValue: false,
  isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
});
interface JunitCase { classname: string; name: string; failure?: { message: string; '#text': string }; error?: { message: string; '#text': string } }
interface JunitDoc {
  testsuites: { tests: string; failures: string; errors: string; testsuite: Array<{ tests: string; failures: string; errors: string; testcase: JunitCase[]; properties: { property: Array<{ name: string; value: string }> } }> };
}

describe('snapshots (times masked)', () => {
  const reports = rendered(syntheticReportInput());
  it('report.json', async () => {
    await expect(maskTimes(file(reports, 'report.json'))).toMatchFileSnapshot('./__snapshots__/report.json');
  });
  it('junit.xml', async () => {
    await expect(maskTimes(file(reports, 'junit.xml'))).toMatchFileSnapshot('./__snapshots__/junit.xml');
  });
  it('report.md', async () => {
    await expect(maskTimes(file(reports, 'report.md'))).toMatchFileSnapshot('./__snapshots__/report.md');
  });
});

describe('junit.xml', () => {
  it('parses as JUnit with one testcase per verdict and the right failure and error counts', () => {
    const input = syntheticReportInput();
    const xml = file(rendered(input), 'junit.xml');
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = junitParser.parse(xml) as JunitDoc;
    const suites = doc.testsuites.testsuite;
    expect(suites).toHaveLength(1);
    const cases = suites[0]?.testcase ?? [];
    expect(cases).toHaveLength(input.judgement.verdicts.length);
    expect({ tests: doc.testsuites.tests, failures: doc.testsuites.failures, errors: doc.testsuites.errors }).toEqual({ tests: '7', failures: '2', errors: '1' });
    expect({ tests: suites[0]?.tests, failures: suites[0]?.failures, errors: suites[0]?.errors }).toEqual({ tests: '7', failures: '2', errors: '1' });
    expect(cases.filter((c) => c.failure)).toHaveLength(2);
    expect(cases.filter((c) => c.error)).toHaveLength(1);

    const spike = cases.find((c) => c.name === 'p95 latency during the spike < 150 ms');
    expect(spike?.classname).toBe('latency');
    expect(spike?.failure?.message).toBe('latency.p95.phase.spike: measured 212.7 ms, threshold < 150 ms');
    expect(spike?.failure?.['#text']).toContain('worst second p99 480 ms at +52s');
    expect(cases.find((c) => c.error)?.error?.message).toContain('no writes.audit event in the timeline');
    expect(suites[0]?.properties.property).toContainEqual({ name: 'status', value: 'FAIL' });
  });

  it('survives hostile strings and characters XML cannot carry', () => {
    const input = syntheticReportInput({ hostile: true });
    const first = input.judgement.verdicts[1];
    if (!first) throw new Error('fixture changed');
    first.slo = `bell\u0007 tab\t lone\uD800 surrogate ${HOSTILE}`;
    const xml = file(rendered(input), 'junit.xml');
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).not.toContain('<script>');
    expect(xml).not.toContain(']]>');
    const doc = junitParser.parse(xml) as JunitDoc;
    const names = doc.testsuites.testsuite[0]?.testcase.map((c) => c.name) ?? [];
    // Text comes back exactly, except the characters XML forbids, which become U+FFFD.
    expect(names).toContain(`bell\uFFFD tab\t lone\uFFFD surrogate ${HOSTILE}`);
    expect(names).toContain(`p95 latency < 200 ms ${HOSTILE}`);
    expect(doc.testsuites.testsuite[0]?.properties.property).toContainEqual({ name: 'run.id', value: `run-synthetic ${HOSTILE}` });
  });
});

describe('report.md', () => {
  it('leads with the headline word and lists failures before passes', () => {
    const md = file(rendered(syntheticReportInput()), 'report.md');
    expect(md.split('\n')[0]).toBe('# SLO report: FAIL');
    const rows = md.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| SLO') && !line.startsWith('| ---'));
    expect(rows.slice(0, 3).map((r) => r.split(' | ')[1])).toEqual(['**FAIL**', '**FAIL**', '**INVALID**']);
    expect(md.indexOf('## Failures')).toBeLessThan(md.indexOf('## Verdicts'));
  });

  it('says ABORTED for an aborted run, with its reason', () => {
    const input = syntheticReportInput();
    input.run.status = 'aborted';
    input.run.reason = 'SIGTERM';
    const md = file(rendered(input), 'report.md');
    expect(md.split('\n')[0]).toBe('# SLO report: ABORTED');
    expect(md).toContain('> The run was aborted: SIGTERM.');
  });

  it('escapes hostile strings: no HTML, no broken table row, no stray emphasis or link', () => {
    const md = file(rendered(syntheticReportInput({ hostile: true })), 'report.md');
    expect(md).not.toMatch(/<(?!\/?(br)\b)/); // no raw tag at all
    expect(md).not.toContain(']]>');
    expect(md).not.toContain('[link]');
    const tableRows = md.split('\n').filter((line) => line.startsWith('| ') && line.includes(HOSTILE.slice(0, 4).replace('<', '&lt;')));
    expect(tableRows.length).toBeGreaterThan(0);
    for (const row of tableRows) {
      const unescapedPipes = row.match(/(?<!\\)\|/g) ?? [];
      expect(unescapedPipes.length).toBe(6); // five cells
    }
    expect(escapeMarkdown('a|b*c_d`e<f>g&h\ni')).toBe('a\\|b\\*c\\_d\\`e&lt;f&gt;g&amp;h i');
  });
});

describe('report.json', () => {
  it('reads back through its schema, hostile strings intact', () => {
    const input = syntheticReportInput({ hostile: true });
    const report = parseReportJson(file(rendered(input), 'report.json'));
    expect(report.schemaVersion).toBe(1);
    expect(report.status).toBe('FAIL');
    expect(report.verdicts).toEqual(input.judgement.verdicts);
    expect(report.run.id).toBe(`run-synthetic ${HOSTILE}`);
    expect(report.load.requests).toBeGreaterThan(0);
    expect(report.load.latencyMs?.p99).toBeGreaterThan(report.load.latencyMs?.p50 ?? Infinity);
  });

  it('refuses another schema version and a broken file with SLO_ERR_REPORT_INVALID', () => {
    const text = file(rendered(syntheticReportInput()), 'report.json');
    const expectCode = (fn: () => unknown, pattern: RegExp) => {
      try {
        fn();
      } catch (error) {
        expect(isSloError(error) && error.code).toBe('SLO_ERR_REPORT_INVALID');
        expect((error as Error).message).toMatch(pattern);
        return;
      }
      throw new Error('did not throw');
    };
    expectCode(() => parseReportJson(text.replace('"schemaVersion": 1', '"schemaVersion": 2')), /schemaVersion 2/);
    expectCode(() => parseReportJson(text.replace('"status": "FAIL"', '"status": "MAYBE"')), /status/);
    expectCode(() => parseReportJson(text.slice(0, 100)), /not JSON/);
    expectCode(() => readReportJson(join(tempDir(), 'missing.json')), /cannot read/);
    expect(ReportJsonSchema.safeParse(JSON.parse(text)).success).toBe(true);
  });
});

describe('writeReports', () => {
  it('writes the four files and leaves no temp file behind', () => {
    const dir = tempDir();
    const { files } = writeReports(join(dir, 'nested', 'run'), syntheticReportInput({ durationS: 30 }));
    expect(files.map((f) => f.split('/').at(-1))).toEqual([...REPORT_FILES]);
    expect(readdirSync(join(dir, 'nested', 'run')).sort()).toEqual([...REPORT_FILES].sort());
    expect(readReportJson(join(dir, 'nested', 'run', 'report.json')).status).toBe('FAIL');
  });

  it('keeps the previous reports when rendering fails', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'report.md'), 'previous');
    const broken = syntheticReportInput({ durationS: 10 });
    // A verdict without a threshold cannot be rendered: nothing may be replaced half-way.
    (broken.judgement.verdicts[0] as { threshold?: unknown }).threshold = undefined;
    expect(() => writeReports(dir, broken)).toThrow();
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toBe('previous');
    expect(existsSync(join(dir, 'report.json'))).toBe(false);
    expect(readdirSync(dir)).toEqual(['report.md']);
  });
});
