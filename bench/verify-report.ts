// Benchmark: judge and report a one-hour run at 1000 requests/s (3600 per-second load records with real HDR
// histograms, overall and per request name, plus the events of a scale action, a spike, a pod kill, a
// failover and a rollout). Budgets: verify + writeReports under 10 s and the whole process under 300 MB
// peak RSS; report.html drawn (navigation start -> last chart drawn) in under a second in Chromium.
// Run: npx tsx bench/verify-report.ts (add `--keep <dir>` to keep the reports, e.g. to open the one-hour
// report.html; `--reports-only` skips verify and reports with no verdicts, to see the reports' own time and
// memory; `--no-browser` skips the Chromium measurement).
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defaultSpec } from '../contract/spec.ts';
import { TIMELINE_FILE, timelineHeader } from '../contract/timeline.ts';
import { readTimeline } from '../harness/timeline-file.ts';
import { verify } from '../verifiers/index.ts';
import { writeReports } from '../reports/index.ts';
import { reportInputOf, syntheticRun } from '../testing/synthetic-run.ts';

const BUDGET_MS = 10_000;
const BUDGET_RSS_MB = 300;
const BUDGET_PAGE_MS = 1000;
const PAGE_LOADS = 5;
const DURATION_S = 3600;
const RPS = 1000;
const CHROMIUM = '/usr/bin/chromium';

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
/** Peak RSS so far: maxRSS never goes down, so reading it after each phase shows which phase set the peak. */
const peakMb = () => process.resourceUsage().maxRSS / 1024;
const peaks: string[] = [];
const mark = (phase: string) => peaks.push(`${phase} ${peakMb().toFixed(0)} MB`);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const keepIndex = process.argv.indexOf('--keep');
const keep = keepIndex > 0 ? process.argv[keepIndex + 1] : undefined;

/**
 * Opens report.html in a fresh page PAGE_LOADS times and reads when the last chart was drawn and when the
 * load event ended, both in ms since navigation started (the page's own performance clock).
 */
async function measurePage(html: string): Promise<{ drawnMs: number[]; loadMs: number[]; consoleErrors: string[] }> {
  // Imported here: the budgeted part of the bench does not load Playwright.
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  const drawnMs: number[] = [];
  const loadMs: number[] = [];
  const consoleErrors: string[] = [];
  try {
    for (let i = 0; i < PAGE_LOADS; i += 1) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(message.text()); });
      page.on('pageerror', (error) => consoleErrors.push(error.message));
      await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
      const timing = await page.evaluate(() => {
        const g = globalThis as unknown as { sloChartsDrawnMs: number; performance: { getEntriesByType(type: string): Array<{ loadEventEnd: number }> } };
        return { drawn: g.sloChartsDrawnMs, load: g.performance.getEntriesByType('navigation')[0]?.loadEventEnd ?? Number.NaN };
      });
      drawnMs.push(timing.drawn);
      loadMs.push(timing.load);
      await page.close();
    }
  } finally {
    await browser.close();
  }
  return { drawnMs, loadMs, consoleErrors };
}

const dir = mkdtempSync(join(tmpdir(), 'slo-bench-report-'));
try {
  let t = performance.now();
  const run = syntheticRun({ durationS: DURATION_S, rps: RPS, outcome: 'fail' });
  const generateMs = performance.now() - t;
  mark('generate');
  const requests = run.records.reduce((sum, r) => sum + (r.kind === 'load' ? r.requests : 0), 0);
  // Through the disk like `slo verify <run-dir>`: the timeline is read and validated, then judged.
  writeFileSync(join(dir, TIMELINE_FILE), [timelineHeader('bench', run.startMs), ...run.records].map((r) => JSON.stringify(r)).join('\n') + '\n');
  run.records = []; // what verify and the reports see is what they read back

  t = performance.now();
  const records = readTimeline(join(dir, TIMELINE_FILE));
  const readMs = performance.now() - t;
  mark('readTimeline');

  t = performance.now();
  const reportsOnly = process.argv.includes('--reports-only');
  const judgement = reportsOnly ? { status: 'pass' as const, verdicts: [] } : verify(records, defaultSpec());
  const verifyMs = performance.now() - t;
  mark(reportsOnly ? 'verify skipped' : 'verify');

  t = performance.now();
  const { files } = writeReports(keep ?? dir, { ...reportInputOf({ ...run, records }, judgement) });
  const reportMs = performance.now() - t;
  mark('writeReports');

  const peakRssMb = peakMb();
  const totalMs = verifyMs + reportMs;
  const sizes = files.map((f) => `${f.split('/').at(-1)} ${(statSync(f).size / 1024).toFixed(0)} kB`).join(', ');
  const htmlFile = files.find((f) => f.endsWith('.html')) ?? '';
  const points = /"bucketS":(\d+),"t":\[([^\]]*)\]/.exec(readFileSync(htmlFile, 'utf8'));
  console.log(`synthetic run: ${DURATION_S} s at ${RPS}/s, ${records.length} records, ${requests} requests (generated in ${seconds(generateMs)})`);
  console.log(`readTimeline ${seconds(readMs)} | verify ${seconds(verifyMs)} (${judgement.verdicts.length} verdicts, ${judgement.status}) | writeReports ${seconds(reportMs)}`);
  console.log(`verify + writeReports ${seconds(totalMs)} (budget ${seconds(BUDGET_MS)}), peak RSS ${peakRssMb.toFixed(0)} MB (budget ${BUDGET_RSS_MB} MB)`);
  console.log(`peak RSS after each phase: ${peaks.join(', ')}`);
  console.log(`files: ${sizes}; HTML chart points ${points?.[2]?.split(',').length ?? '?'} per series (${points?.[1] ?? '?'} s buckets)`);
  let ok = totalMs < BUDGET_MS && peakRssMb < BUDGET_RSS_MB;

  if (process.argv.includes('--no-browser')) {
    console.log('report.html in Chromium: skipped (--no-browser)');
  } else if (!existsSync(CHROMIUM)) {
    console.log(`report.html in Chromium: skipped, no ${CHROMIUM}`);
  } else {
    const page = await measurePage(htmlFile);
    const drawn = median(page.drawnMs);
    console.log(`report.html in Chromium, ${PAGE_LOADS} loads: navigation start -> charts drawn ${page.drawnMs.map((ms) => ms.toFixed(0)).join(', ')} ms ` +
      `(median ${drawn.toFixed(0)} ms, budget ${BUDGET_PAGE_MS} ms); load event end ${page.loadMs.map((ms) => ms.toFixed(0)).join(', ')} ms; ` +
      `console errors ${page.consoleErrors.length}`);
    ok &&= drawn < BUDGET_PAGE_MS && page.consoleErrors.length === 0;
  }
  console.log(ok ? 'PASS' : 'FAIL: over budget');
  process.exitCode = ok ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
