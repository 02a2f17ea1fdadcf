// Writes the four reports of a run. Everything is rendered in memory first, so a rendering bug leaves the
// previous reports untouched; each file then lands by rename, so a reader (CI uploading artifacts, a
// browser) never sees half a file.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { renderJson, REPORT_JSON_FILE } from './json.ts';
import { chartDataOf, HTML_FILE, renderHtml } from './html.ts';
import { JUNIT_FILE, renderJunit } from './junit.ts';
import { MARKDOWN_FILE, renderMarkdown } from './markdown.ts';
import { analyzeLoad, chartBucketS } from './series.ts';
import type { ReportInput } from './types.ts';

export type { ReportInput, RunInfo, Regression, Headline } from './types.ts';
export { headlineOf } from './types.ts';
export { ReportJsonSchema, REPORT_SCHEMA_VERSION, readReportJson, parseReportJson, verdictsOf } from './json.ts';
export type { ReportJson } from './json.ts';

export const REPORT_FILES = [REPORT_JSON_FILE, JUNIT_FILE, MARKDOWN_FILE, HTML_FILE] as const;

/** Renders all four reports without touching the disk: file name -> content. */
export function renderReports(input: ReportInput, generatedAt = Date.now()): Map<string, string> {
  // One pass over the histograms gives both the exact whole-run summary and the (maybe downsampled) chart series.
  const { series, summary } = analyzeLoad(input.records, chartBucketS(input.run.endedAt - input.run.startedAt));
  return new Map([
    [REPORT_JSON_FILE, renderJson(input, summary, generatedAt)],
    [JUNIT_FILE, renderJunit(input)],
    [MARKDOWN_FILE, renderMarkdown(input, summary)],
    [HTML_FILE, renderHtml(input, summary, chartDataOf(input, series))],
  ]);
}

export function writeReports(dir: string, input: ReportInput): { files: string[] } {
  const rendered = renderReports(input);
  mkdirSync(dir, { recursive: true });
  const staged: Array<{ temp: string; file: string }> = [];
  try {
    for (const [name, content] of rendered) {
      const file = resolve(join(dir, name));
      const temp = `${file}.${process.pid}.tmp`;
      staged.push({ temp, file });
      writeFileSync(temp, content);
    }
  } catch (error) {
    for (const { temp } of staged) rmSync(temp, { force: true });
    throw error;
  }
  for (const { temp, file } of staged) renameSync(temp, file);
  return { files: staged.map(({ file }) => file) };
}
