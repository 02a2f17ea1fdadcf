// report.html in a real headless Chromium, for a passing, a failing, an invalid and an aborted run: the
// banner, the SLO table's columns, every chart drawn on the run's time axis, offline, with no console error;
// a 400 px window without horizontal page overflow; print; a one-hour run drawn quickly. Leaves screenshots
// in test-artifacts/.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarizeRun, writeReports } from './index.ts';
import { HOSTILE, reportInputOf, syntheticReportInput, syntheticRun, type SyntheticOutcome } from '../testing/synthetic-run.ts';
import type { ReportInput } from './types.ts';

// The project compiles without the DOM lib, so code that runs in the page names the few browser shapes it uses.
interface PageCanvas { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null }
interface PageChart { root: { parentElement: { id: string } | null }; width: number; scales: { x: { min: number; max: number } }; setScale(key: string, limits: { min: number; max: number }): void }
interface PageElement { scrollWidth: number; clientWidth: number; getBoundingClientRect(): { left: number; right: number } }
interface PageWindow {
  innerWidth: number;
  document: {
    body: { dataset: Record<string, string | undefined> };
    documentElement: PageElement;
    querySelector(selector: string): (PageCanvas & PageElement) | null;
    querySelectorAll(selector: string): ArrayLike<PageElement & { open?: boolean }>;
  };
  sloCharts: PageChart[];
  sloChartsDrawnMs: number;
  dispatchEvent(event: unknown): void;
}

const CHART_IDS = ['chart-rate', 'chart-latency', 'chart-errors', 'chart-replicas', 'chart-db'];
const SLO_COLUMNS = ['SLO', 'Verdict', 'Measured', 'Threshold', 'Margin', 'Samples', 'Window'];
const ARTIFACTS = new URL('../test-artifacts/', import.meta.url);

let browser: Browser;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'slo-report-html-'));
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Loaded {
  page: Page;
  consoleErrors: string[];
  foreignRequests: string[];
}

function write(name: string, input: ReportInput): string {
  const { files } = writeReports(join(dir, name), input);
  const html = files.find((f) => f.endsWith('report.html'));
  if (!html) throw new Error('no report.html');
  return html;
}

async function open(file: string, width = 1280): Promise<Loaded> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const url = pathToFileURL(file).href;
  const consoleErrors: string[] = [];
  const foreignRequests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  // Record, then refuse, anything the page tries to fetch beyond the file itself.
  page.on('request', (request) => {
    if (request.url() !== url) foreignRequests.push(request.url());
  });
  await page.route('**', async (route) => {
    if (route.request().url() === url) return route.continue();
    foreignRequests.push(route.request().url());
    return route.abort();
  });
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as unknown as PageWindow).document.body.dataset.chartsReady !== undefined, undefined, { timeout: 10_000 });
  return { page, consoleErrors, foreignRequests };
}

/** Per chart: canvas size and how many sampled pixels are painted (neither transparent nor white). */
async function canvasStats(page: Page): Promise<Array<{ id: string; width: number; height: number; painted: number }>> {
  return page.evaluate((ids) => ids.map((id) => {
    const canvas = (globalThis as unknown as PageWindow).document.querySelector(`#${id} canvas`);
    if (!canvas) return { id, width: 0, height: 0, painted: 0 };
    const ctx = canvas.getContext('2d');
    const { width, height } = canvas;
    const pixels = ctx ? ctx.getImageData(0, 0, width, height).data : new Uint8ClampedArray();
    let painted = 0;
    for (let i = 0; i < pixels.length; i += 4 * 7) {
      const [r, g, b, a] = [pixels[i] ?? 0, pixels[i + 1] ?? 0, pixels[i + 2] ?? 0, pixels[i + 3] ?? 0];
      if (a > 0 && !(r > 245 && g > 245 && b > 245)) painted += 1;
    }
    return { id, width, height, painted };
  }), CHART_IDS);
}

/** How far the page reaches past the window sideways (0: nothing to scroll). */
const pageOverflow = (page: Page) => page.evaluate(() => (globalThis as unknown as PageWindow).document.documentElement.scrollWidth - (globalThis as unknown as PageWindow).innerWidth);

describe('report.html in Chromium', () => {
  it.each([
    ['pass', 'PASS', '0'],
    ['fail', 'FAIL', '1'],
    ['invalid', 'INVALID', '3'],
    ['aborted', 'ABORTED', '3'],
  ] as const)('%s run: banner %s with exit code %s and why, the SLO table, every chart, no console error', async (outcome, headline, exitCode) => {
    const input = syntheticReportInput({ outcome: outcome as SyntheticOutcome });
    const { summary } = summarizeRun(input);
    const { page, consoleErrors, foreignRequests } = await open(write(outcome, input));

    expect(await page.textContent('#headline')).toBe(headline);
    expect(await page.textContent('#exit-code')).toBe(exitCode);
    expect(await page.textContent('#reason')).toBe(summary.banner.reason);
    expect(await page.$$eval('#slos thead th', (ths) => ths.map((th) => th.textContent))).toEqual(SLO_COLUMNS);
    const rows = await page.$$eval('#slos tbody tr', (trs) => trs.map((tr) => [tr.className, tr.querySelector('td.margin')?.textContent ?? '']));
    expect(rows).toHaveLength(input.judgement.verdicts.length);
    expect(rows.map(([status]) => status)).toEqual(summary.slos.map((r) => r.status));
    expect(await page.$$eval('#faults tbody tr', (trs) => trs.length)).toBe(summary.faults.length);
    expect(await page.$$eval('#budgets tbody tr', (trs) => trs.length)).toBe(2);
    expect(await page.$$eval('#by-name tbody tr td:first-child', (tds) => tds.map((td) => td.textContent))).toEqual(['GET /api/items/:id', 'POST /api/orders', 'GET /api/cpu']);
    expect(await page.textContent('#provenance')).toContain('embedded');

    for (const chart of await canvasStats(page)) {
      expect(chart.width, chart.id).toBeGreaterThan(300);
      expect(chart.height, chart.id).toBeGreaterThan(100);
      expect(chart.painted, chart.id).toBeGreaterThan(200);
    }
    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
    await page.close();
  });

  it('failing run: one shared time axis, the legends of the story, the baseline column, the fault ledger', async () => {
    const input = syntheticReportInput({ durationS: 180, rps: 40, baseline: true });
    const { page, consoleErrors, foreignRequests } = await open(write('fail-180', input));

    // One shared time axis: every chart spans exactly the run, and zooming one zooms them all.
    const runS = { min: input.run.startedAt / 1000, max: input.run.endedAt / 1000 };
    const xRanges = () => page.evaluate(() => (globalThis as unknown as PageWindow).sloCharts.map((u) => ({ id: u.root.parentElement?.id, min: u.scales.x.min, max: u.scales.x.max })));
    expect(await xRanges()).toEqual(CHART_IDS.map((id) => ({ id, ...runS })));
    await page.evaluate((s) => (globalThis as unknown as PageWindow).sloCharts[1]?.setScale('x', { min: s.min + 60, max: s.min + 90 }), runS);
    expect(await xRanges()).toEqual(CHART_IDS.map((id) => ({ id, min: runS.min + 60, max: runS.min + 90 })));
    await page.evaluate((s) => (globalThis as unknown as PageWindow).sloCharts[0]?.setScale('x', s), runS);

    expect(await page.$$eval('#slos thead th', (ths) => ths.map((th) => th.textContent))).toEqual([...SLO_COLUMNS, 'vs baseline run-baseline']);
    expect(await page.$$eval('#slos tbody tr', (trs) => trs.slice(0, 2).map((tr) => tr.className))).toEqual(['fail', 'fail']);
    expect(await page.$$eval('#slos td strong', (els) => els.map((el) => el.textContent))).toContain('regression');
    expect(await page.$$eval('#faults tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-key')))).toEqual(['F1', 'F2', 'F3', 'F4']);
    expect(await page.$$eval('#failures > li', (lis) => lis.length)).toBe(input.judgement.verdicts.filter((v) => v.status !== 'pass').length);
    // The availability budget is overspent: its bar is full and red.
    expect(await page.$eval('#budgets tbody tr:nth-child(2) .bar i', (el) => [el.className, el.getAttribute('style')])).toEqual(['over', 'width:100.0%']);

    // The legends list the series the story needs: asked vs achieved, percentiles, failure reasons, roles.
    const legend = await page.$$eval('.u-legend .u-label', (els) => els.map((el) => el.textContent));
    expect(legend).toEqual(expect.arrayContaining(['asked/s', 'achieved/s', 'p50', 'p95', 'p99', 'desired', 'ready', 'pg-0', 'pg-1', 'pg-2', 'connection reset', '5xx', 'connection refused']));

    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('report.png', ARTIFACTS).pathname, fullPage: true });
    await page.close();
  });

  it('a 400 px window: no horizontal page overflow, wide tables scroll in their own box, charts fit', async () => {
    const { page, consoleErrors } = await open(write('narrow', syntheticReportInput({ baseline: true })), 400);
    expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
    const table = await page.evaluate(() => {
      const box = (globalThis as unknown as PageWindow).document.querySelector('#slo-section .scroll');
      return box ? { scrollWidth: box.scrollWidth, clientWidth: box.clientWidth } : null;
    });
    expect(table?.scrollWidth).toBeGreaterThan(table?.clientWidth ?? Infinity);
    const chartRights = await page.evaluate(() => Array.from((globalThis as unknown as PageWindow).document.querySelectorAll('.charts canvas')).map((c) => c.getBoundingClientRect().right));
    expect(chartRights).toHaveLength(CHART_IDS.length);
    for (const right of chartRights) expect(right).toBeLessThanOrEqual(400);
    expect(consoleErrors).toEqual([]);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('report-400px.png', ARTIFACTS).pathname, fullPage: true });
    await page.close();
  });

  it('print: unfolds the evidence, redraws the charts at a printable width, and stays on the page', async () => {
    // About an A4 page's width at 96 dpi, less the margins.
    const { page, consoleErrors } = await open(write('print', syntheticReportInput({ baseline: true })), 760);
    expect(await page.$eval('#passed-evidence', (el) => (el as unknown as { open: boolean }).open)).toBe(false);
    await page.emulateMedia({ media: 'print' });
    await page.evaluate(() => (globalThis as unknown as PageWindow).dispatchEvent(new (globalThis as unknown as { Event: new (type: string) => unknown }).Event('beforeprint')));
    expect(await page.$eval('#passed-evidence', (el) => (el as unknown as { open: boolean }).open)).toBe(true);
    expect(await page.evaluate(() => (globalThis as unknown as PageWindow).sloCharts.map((u) => u.width))).toEqual(CHART_IDS.map(() => 680));
    expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.byteLength).toBeGreaterThan(50_000);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('draws a one-hour run quickly', async () => {
    // The verdicts do not matter here; the page's weight is the hour of chart data (1200 points a series).
    const input = reportInputOf(syntheticRun({ durationS: 3600, rps: 5, outcome: 'pass' }), { status: 'pass', verdicts: [] });
    const { page, consoleErrors } = await open(write('hour', input));
    const drawnMs = await page.evaluate(() => (globalThis as unknown as PageWindow).sloChartsDrawnMs);
    // The bench (bench/verify-report.ts) measures this on the 1000 requests/s hour; here only a loose bound
    // that a shared test machine keeps.
    expect(drawnMs).toBeLessThan(5000);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('shows hostile strings as text: no injected element, no script run, data island intact', async () => {
    const input = syntheticReportInput({ durationS: 60, rps: 20, hostile: true });
    // Markers come from the timeline too: a hostile pod name must stay text inside the data island.
    input.records.push({ kind: 'event', t: input.run.startedAt + 30_000, source: 'cluster', type: 'pod.stop', data: { pod: `p${HOSTILE}`, reason: 'killed' } });
    input.records.sort((a, b) => a.t - b.t);
    const { page, consoleErrors, foreignRequests } = await open(write('hostile', input));

    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    // Only the three script elements the generator writes exist; none came from the data.
    expect(await page.$$eval('script', (els) => els.length)).toBe(3);
    const firstSlo = await page.$eval('#slos tbody tr td', (td) => td.textContent ?? '');
    expect(firstSlo).toContain(HOSTILE);
    expect(await page.textContent('#reason')).toContain(HOSTILE);
    const island = await page.$eval('#report-data', (el) => JSON.parse(el.textContent ?? '{}') as { markers: Array<{ label: string }> });
    expect(island.markers.map((m) => m.label)).toContain(`killed p${HOSTILE}`);
    expect(await page.title()).toContain(HOSTILE);
    expect(dialogs).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
    await page.close();
  });

  it('renders an aborted run with no load and no events without a script error', async () => {
    const startedAt = Date.UTC(2026, 0, 15, 10, 0, 0);
    const html = write('empty', {
      run: { id: 'run-empty', cluster: 'local', profile: 'ci', startedAt, endedAt: startedAt + 5000, status: 'aborted', reason: 'SIGINT', harnessVersion: '0.1.0', steps: [] },
      judgement: { status: 'invalid', verdicts: [] },
      records: [],
    });
    const { page, consoleErrors, foreignRequests } = await open(html);
    expect(await page.textContent('#headline')).toBe('ABORTED');
    expect(await page.textContent('#reason')).toBe('the run was aborted: SIGINT; 0 SLOs judged on the part that ran, 0 failed');
    expect(await page.$$eval('.charts canvas', (els) => els.length)).toBe(CHART_IDS.length);
    expect(await page.$$eval('#slos tbody tr', (trs) => trs.length)).toBe(0);
    expect(await page.textContent('#provenance')).toContain('unknown');
    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
    await page.close();
  });
});
