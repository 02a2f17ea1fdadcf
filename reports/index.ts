// Writes the four reports of a run. Everything is rendered in memory first, so a rendering bug leaves the
// previous reports untouched; each file then lands by rename, so a reader (CI uploading artifacts, a
// browser) never sees half a file.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { renderJson, REPORT_JSON_FILE } from './json.ts';
import { chartDataOf, HTML_FILE, renderHtml } from './html.ts';
import { JUNIT_FILE, renderJunit } from './junit.ts';
import { MARKDOWN_FILE, renderMarkdown } from './markdown.ts';
import { analyzeLoad, chartBucketS, sliceWidthS, type LoadAnalysis } from './series.ts';
import { summarize } from './summary.ts';
import type { ReportSummary } from './summary.ts';
import type { ReportInput } from './types.ts';

export type { ReportInput, RunInfo, Regression, Headline, BaselineInput } from './types.ts';
export { headlineOf, EXIT_CODE_OF } from './types.ts';
export type { ReportSummary } from './summary.ts';
export { ReportJsonSchema, REPORT_SCHEMA_VERSION, readReportJson, parseReportJson, verdictsOf } from './json.ts';
export type { ReportJson } from './json.ts';

export const REPORT_FILES = [REPORT_JSON_FILE, JUNIT_FILE, MARKDOWN_FILE, HTML_FILE] as const;

/** The model every report renders: computed once, from one pass over the timeline's histograms. */
export function summarizeRun(input: ReportInput): { summary: ReportSummary; analysis: LoadAnalysis } {
  const durationMs = input.run.endedAt - input.run.startedAt;
  const sliceS = sliceWidthS(durationMs);
  // One pass gives the exact whole-run summary, the (maybe downsampled) chart series and the coarse slices.
  const analysis = analyzeLoad(input.records, chartBucketS(durationMs), { sliceS, originMs: input.run.startedAt });
  return { summary: summarize(input, analysis, sliceS), analysis };
}

/** Renders all four reports without touching the disk: file name -> content. */
export function renderReports(input: ReportInput, generatedAt = Date.now()): Map<string, string> {
  const { summary, analysis } = summarizeRun(input);
  return new Map([
    [REPORT_JSON_FILE, renderJson(input, summary, generatedAt)],
    [JUNIT_FILE, renderJunit(input, summary)],
    [MARKDOWN_FILE, renderMarkdown(input, summary)],
    [HTML_FILE, renderHtml(input, summary, chartDataOf(input, analysis.series, summary))],
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
