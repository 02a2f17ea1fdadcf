// The four reports of a passing, a failing, an invalid and an aborted run: snapshots (times and hosts
// masked), JUnit read back by a real XML parser, report.json read back through its schema, hostile strings
// escaped in every format, atomic writing.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { isSloError } from '../contract/errors.ts';
import { REPORT_FILES, readReportJson, renderReports, writeReports } from './index.ts';
import { parseReportJson, ReportJsonSchema } from './json.ts';
import { escapeMarkdown } from './markdown.ts';
import { HOSTILE, SYNTHETIC_OUTCOMES, syntheticReportInput, type SyntheticOutcome } from '../testing/synthetic-run.ts';
import type { ReportInput } from './types.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'slo-reports-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/**
 * Wall-clock times and the machine change with every real run; the snapshot is about everything else.
 * Durations and offsets from the run start (+1m06s, a window's 12 s) are data and stay.
 */
function mask(text: string): string {
  return text
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '<time>')
    .replace(/"(generatedAt|startedAt|endedAt|from|to|t|start|end)": \d{13}/g, '"$1": "<epoch>"')
    .replace(/\btimestamp="[^"]*"/g, 'timestamp="<time>"')
    .replace(/\bhostname="[^"]*"/g, 'hostname="<host>"')
    .replace(/linux [\w.-]+/g, '<platform>');
}

/** The page without what it inlines (uPlot, its CSS, the page script) and without the chart data. */
function maskHtml(html: string): string {
  return mask(html)
    .replace(/<style>[^<]*\.uplot[^<]*<\/style>/, '<style>/* uPlot CSS */</style>')
    .replace(/<script type="application\/json" id="report-data">[^<]*<\/script>/, '<script type="application/json" id="report-data">/* chart data */</script>')
    .replace(/<script>(?:(?!<\/script>)[\s\S])*uPlot(?:(?!<\/script>)[\s\S])*<\/script>\n<script>[\s\S]*?<\/script>/, '<script>/* uPlot */</script>\n<script>/* html-client.js */</script>');
}

const rendered = (input: ReportInput) => renderReports(input, 0);
const file = (reports: Map<string, string>, name: string) => {
  const text = reports.get(name);
  if (text === undefined) throw new Error(`no ${name}`);
  return text;
};
const inputs = new Map<SyntheticOutcome, ReportInput>();
/** The four runs, built once; the failing one compared with the passing one as its baseline. */
const inputOf = (outcome: SyntheticOutcome): ReportInput => {
  let input = inputs.get(outcome);
  if (!input) {
    input = syntheticReportInput({ outcome, baseline: outcome === 'fail' });
    inputs.set(outcome, input);
  }
  return structuredClone(input);
};

const junitParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  htmlEntities: true,
  parseAttributeValue: false,
  parseTagValue: false,
  isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
});
interface JunitCase { classname: string; name: string; time: string; 'system-out'?: string; failure?: { message: string; '#text': string }; error?: { message: string; '#text': string } }
interface JunitDoc {
  testsuites: { tests: string; failures: string; errors: string; testsuite: Array<{ tests: string; failures: string; errors: string; testcase: JunitCase[]; 'system-out': string; properties: { property: Array<{ name: string; value: string }> } }> };
}

describe.each(SYNTHETIC_OUTCOMES)('snapshots of the %s run (times and hosts masked)', (outcome) => {
  const reports = () => rendered(inputOf(outcome));
  it('report.json, junit.xml, report.md, report.html', async () => {
    const all = reports();
    await expect(mask(file(all, 'report.json'))).toMatchFileSnapshot(`./__snapshots__/${outcome}/report.json`);
    await expect(mask(file(all, 'junit.xml'))).toMatchFileSnapshot(`./__snapshots__/${outcome}/junit.xml`);
    await expect(mask(file(all, 'report.md'))).toMatchFileSnapshot(`./__snapshots__/${outcome}/report.md`);
    await expect(maskHtml(file(all, 'report.html'))).toMatchFileSnapshot(`./__snapshots__/${outcome}/report.html`);
  });
});

describe('the four headlines agree in every format', () => {
  it.each([
    ['pass', 'PASS', 0],
    ['fail', 'FAIL', 1],
    ['invalid', 'INVALID', 3],
    ['aborted', 'ABORTED', 3],
  ] as const)('%s: %s, exit code %i', (outcome, headline, exitCode) => {
    const all = rendered(inputOf(outcome));
    const json = parseReportJson(file(all, 'report.json'));
    expect([json.status, json.exitCode]).toEqual([headline, exitCode]);
    expect(file(all, 'report.md').split('\n')[0]).toBe(`# SLO report: ${headline} (exit code ${exitCode})`);
    expect(file(all, 'report.md')).toContain(`**Why:** ${escapeMarkdown(json.reason ?? '')}`);
    const doc = junitParser.parse(file(all, 'junit.xml')) as JunitDoc;
    const properties = doc.testsuites.testsuite[0]?.properties.property ?? [];
    expect(properties).toContainEqual({ name: 'status', value: headline });
    expect(properties).toContainEqual({ name: 'exit.code', value: String(exitCode) });
    expect(properties).toContainEqual({ name: 'reason', value: json.reason });
    expect(file(all, 'report.html')).toContain(`<span class="word" id="headline">${headline}</span>`);
  });
});

describe('junit.xml', () => {
  it('one testcase per verdict, timed by its window, with the measured value and margin in the message', () => {
    const input = inputOf('fail');
    const xml = file(rendered(input), 'junit.xml');
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = junitParser.parse(xml) as JunitDoc;
    const suites = doc.testsuites.testsuite;
    expect(suites).toHaveLength(1);
    const cases = suites[0]?.testcase ?? [];
    expect(cases).toHaveLength(input.judgement.verdicts.length);
    const failed = input.judgement.verdicts.filter((v) => v.status === 'fail').length;
    expect({ tests: doc.testsuites.tests, failures: doc.testsuites.failures, errors: doc.testsuites.errors })
      .toEqual({ tests: String(input.judgement.verdicts.length), failures: String(failed), errors: '0' });
    expect(cases.filter((c) => c.failure)).toHaveLength(failed);

    // The real time of each SLO: the length of the window it judged, never 0.
    input.judgement.verdicts.forEach((v, i) => {
      expect(Number(cases[i]?.time)).toBeCloseTo((v.window.to - v.window.from) / 1000, 3);
    });
    expect(cases.every((c) => Number(c.time) > 0)).toBe(true);

    const spike = cases.find((c) => c.name === 'p95 latency < 200 ms (phase spike of resilience)');
    expect(spike?.classname).toBe('latency');
    expect(spike?.time).toBe('12.000');
    expect(spike?.failure?.message).toMatch(/^latency\.p95\.phase\.resilience\.spike: measured [\d.]+ ms, threshold < 200 ms, margin -[\d.]+ ms \(-[\d.]+ %\)$/);
    expect(spike?.failure?.['#text']).toContain('vs baseline run-baseline: +');
    // A pass carries its numbers too, in its own system-out.
    const kill = cases.find((c) => c.classname === 'selfHealing');
    expect(kill?.['system-out']).toContain('measured 3 s, threshold <= 30 s, margin +27 s (+90 %)');

    const out = suites[0]?.['system-out'] ?? '';
    expect(out.split('\n')[0]).toMatch(/^FAIL \(exit code 1\): /);
    expect(out).toContain('error budget, availability >= 99.9 %: ');
    expect(out).toMatch(/- F3 database failover at \+1m18s, recovered in 9.5 s \(pg-1 primary\), \d+ of \d+ requests failed/);
    expect(out).toContain('- POST /api/orders: ');
    expect(out).toContain('harness 0.1.0 (commit 0123456789ab), engine embedded, profile quick, spec 5f1c0ffee0ddba11');
  });

  it('an SLO that could not be judged is an error, not a failure', () => {
    const doc = junitParser.parse(file(rendered(inputOf('invalid')), 'junit.xml')) as JunitDoc;
    const errors = doc.testsuites.testsuite[0]?.testcase.filter((c) => c.error) ?? [];
    expect(errors.map((c) => c.classname)).toContain('run');
    expect(errors[0]?.error?.message).toContain('not judged');
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
    expect(names).toContain(`p95 latency < 200 ms (whole run) ${HOSTILE}`);
    expect(doc.testsuites.testsuite[0]?.properties.property).toContainEqual({ name: 'run.id', value: `run-synthetic ${HOSTILE}` });
  });
});

describe('report.md', () => {
  const tableRows = (md: string, header: string) => {
    const lines = md.split('\n');
    const start = lines.findIndex((line) => line.startsWith(header));
    if (start < 0) throw new Error(`no table ${header}`);
    const rows: string[] = [];
    for (const line of lines.slice(start + 2)) {
      if (!line.startsWith('| ')) break;
      rows.push(line);
    }
    return rows.map((line) => line.slice(2, -2).split(' | '));
  };

  it('leads with the headline, the exit code and why; then the SLO table with margins and the baseline, worst first', () => {
    const md = file(rendered(inputOf('fail')), 'report.md');
    const lines = md.split('\n');
    expect(lines[0]).toBe('# SLO report: FAIL (exit code 1)');
    expect(lines[2]).toMatch(/^\*\*Why:\*\* at most 0 acknowledged writes lost in a failover: measured 2 writes, 2 writes past the threshold \(and \d+ more failed of \d+ SLOs\)$/);
    expect(md).toContain('| SLO | Verdict | Measured | Threshold | Margin | Samples | Window | vs baseline |');
    const rows = tableRows(md, '| SLO | Verdict');
    const firstPass = rows.findIndex((r) => r[1] === 'pass');
    expect(rows.slice(0, firstPass).every((r) => r[1] === '**FAIL**')).toBe(true);
    const availability = rows.find((r) => r[0] === 'availability &gt;= 99.9 %');
    expect(availability?.[4]).toMatch(/^-0\.\d+ pp \(-\d+ %\)$/);
    expect(rows.find((r) => r[0] === 'a killed pod is replaced within 30 s')?.slice(2, 6)).toEqual(['3 s', '&lt;= 30 s', '+27 s (+90 %)', '1']);
    expect(rows.filter((r) => r[7]?.includes('**regression**')).length).toBeGreaterThan(0);
    expect(md.indexOf('## SLOs')).toBeLessThan(md.indexOf('## Why each failed\n'));
  });

  it('error budget, faults, load over time and per request name, provenance', () => {
    const md = file(rendered(inputOf('fail')), 'report.md');
    const budget = tableRows(md, '| SLO | Verdict | Requests | Allowed');
    expect(budget.map((r) => r[0])).toEqual(['error rate &lt; 1 %', 'availability &gt;= 99.9 %']);
    expect(budget[1]?.[5]).toMatch(/^\*\*\d+ %\*\*$/); // over budget, in bold
    const faults = tableRows(md, '| # | Fault');
    expect(faults.map((r) => r.slice(0, 3))).toEqual([['F1', 'scale to 4 replicas', '+24s'], ['F2', 'kill app-2', '+1m06s'], ['F3', 'database failover', '+1m18s'], ['F4', 'rollout to v2', '+1m36s']]);
    expect(faults[2]?.[4]).toBe('9.5 s: pg-1 primary');
    expect(faults[2]?.[6]).toMatch(/^2 of \d+$/);
    expect(md).toContain('### Over time (15s slices)');
    expect(tableRows(md, '| From | Asked/s')).toHaveLength(8); // 120 s of load in 15 s slices
    expect(tableRows(md, '| Request | Requests').map((r) => r[0])).toEqual(['GET /api/items/:id', 'POST /api/orders', 'GET /api/cpu']);
    expect(md).toContain('| Harness | 0.1.0, commit 0123456789ab |');
    expect(md).toContain('| Machine | 2 cores, 7940 MiB, linux 6.1.0-28-amd64 |');
  });

  it('says ABORTED with its reason, and what the aborted run left unfinished', () => {
    const md = file(rendered(inputOf('aborted')), 'report.md');
    expect(md.split('\n')[0]).toBe('# SLO report: ABORTED (exit code 3)');
    expect(md).toContain('> The run was aborted: interrupted (Ctrl-C or SIGTERM).');
    expect(md).toMatch(/\| F3 \| database failover \| \+1m18s \| did not end \| .* \| unknown: not audited \|/);
  });

  it('says unknown where the timeline has no provenance, and "-" for a p95 the records cannot give', () => {
    const input = inputOf('pass');
    input.records = input.records.filter((r) => !(r.kind === 'event' && r.type === 'run.info'));
    for (const record of input.records) if (record.kind === 'load') for (const entry of Object.values(record.byName)) delete entry.latencyUs;
    const md = file(rendered(input), 'report.md');
    expect(md).toContain('| Engine | unknown |');
    expect(md).toContain('| Harness | 0.1.0, commit unknown |');
    expect(md).toContain('The timeline has no run.info event');
    expect(tableRows(md, '| Request | Requests').every((r) => r.slice(4).every((cell) => cell === '-'))).toBe(true);
  });

  it('escapes hostile strings: no HTML, no broken table row, no stray emphasis or link', () => {
    const md = file(rendered(syntheticReportInput({ hostile: true })), 'report.md');
    expect(md).not.toMatch(/<(?!\/?(br)\b)/); // no raw tag at all
    expect(md).not.toContain(']]>');
    expect(md).not.toContain('[link]');
    const hostileRows = md.split('\n').filter((line) => line.startsWith('| ') && line.includes(HOSTILE.slice(0, 4).replace('<', '&lt;')));
    expect(hostileRows.length).toBeGreaterThan(10);
    // Every row of every table has as many cells as its header: no value broke out of its cell.
    const pipes = (line: string) => (line.match(/(?<!\\)\|/g) ?? []).length;
    const lines = md.split('\n');
    let header = 0;
    lines.forEach((line, i) => {
      if (!line.startsWith('| ')) return;
      if (lines[i + 1]?.startsWith('| ---')) header = pipes(line);
      expect(pipes(line), line).toBe(header);
    });
    expect(escapeMarkdown('a|b*c_d`e<f>g&h\ni')).toBe('a\\|b\\*c\\_d\\`e&lt;f&gt;g&amp;h i');
  });
});

describe('report.json', () => {
  it('reads back through its schema with the summary the other reports render, hostile strings intact', () => {
    const input = syntheticReportInput({ hostile: true, baseline: true });
    const report = parseReportJson(file(rendered(input), 'report.json'));
    expect(report.schemaVersion).toBe(1);
    expect([report.status, report.exitCode]).toEqual(['FAIL', 1]);
    expect(report.verdicts).toEqual(input.judgement.verdicts);
    expect(report.run.id).toBe(`run-synthetic ${HOSTILE}`);
    expect(report.slos?.map((r) => r.id).sort()).toEqual(input.judgement.verdicts.map((v) => v.id).sort());
    expect(report.slos?.find((r) => r.id === 'selfHealing.replace')).toMatchObject({ margin: { value: 27, percent: 90 }, samples: 1, window: { seconds: 3 } });
    expect(report.slos?.find((r) => r.id === 'latency.p95')?.baseline).toMatchObject({ direction: 'worse', regression: true });
    expect(report.errorBudgets?.map((b) => b.id)).toEqual(['errorRate.overall', 'availability.overall']);
    expect(report.faults?.map((f) => f.key)).toEqual(['F1', 'F2', 'F3', 'F4']);
    expect(report.provenance).toMatchObject({ engine: 'embedded', harness: { commit: '0123456789ab' } });
    expect(report.load.byName?.map((n) => n.name)).toEqual(['GET /api/items/:id', 'POST /api/orders', 'GET /api/cpu']);
    expect(report.loadOverTime?.slices.length).toBeGreaterThan(5);
    expect(report.load.latencyMs?.p99).toBeGreaterThan(report.load.latencyMs?.p50 ?? Infinity);
  });

  it('still reads a version 1 report written before the summary fields', () => {
    const text = file(rendered(inputOf('pass')), 'report.json');
    const old = JSON.parse(text) as Record<string, unknown> & { load: Record<string, unknown> };
    for (const key of ['exitCode', 'reason', 'slos', 'errorBudgets', 'faults', 'provenance', 'loadOverTime']) delete old[key];
    delete old.load.byName;
    const report = parseReportJson(JSON.stringify(old));
    expect(report.status).toBe('PASS');
    expect(report.slos).toBeUndefined();
  });

  it('refuses another schema version and a broken file with SLO_ERR_REPORT_INVALID', () => {
    const text = file(rendered(inputOf('fail')), 'report.json');
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
