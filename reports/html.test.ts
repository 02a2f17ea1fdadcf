// report.html in a real headless Chromium: the page renders offline, every chart draws, the verdict table
// has one row per verdict, nothing errors and nothing is fetched. Leaves a screenshot in test-artifacts/.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReports } from './index.ts';
import { HOSTILE, syntheticReportInput } from '../testing/synthetic-run.ts';

// The project compiles without the DOM lib, so code that runs in the page names the few browser shapes it uses.
interface PageCanvas { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null }
interface PageChart { root: { parentElement: { id: string } | null }; scales: { x: { min: number; max: number } }; setScale(key: string, limits: { min: number; max: number }): void }
interface PageWindow {
  document: { body: { dataset: Record<string, string | undefined> }; querySelector(selector: string): PageCanvas | null };
  sloCharts: PageChart[];
}

const CHART_IDS = ['chart-rate', 'chart-latency', 'chart-errors', 'chart-replicas', 'chart-db'];
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

async function open(file: string): Promise<Loaded> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
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

describe('report.html in Chromium', () => {
  it('renders every chart on the run, one verdict row per verdict, offline and without errors', async () => {
    const input = syntheticReportInput({ durationS: 180, rps: 40 });
    const { files } = writeReports(join(dir, 'plain'), input);
    const html = files.find((f) => f.endsWith('report.html'));
    expect(html).toBeDefined();
    const { page, consoleErrors, foreignRequests } = await open(html as string);

    expect(await page.textContent('#headline')).toBe('FAIL');
    const stats = await canvasStats(page);
    for (const chart of stats) {
      expect(chart.width, chart.id).toBeGreaterThan(300);
      expect(chart.height, chart.id).toBeGreaterThan(100);
      expect(chart.painted, chart.id).toBeGreaterThan(200);
    }
    // One shared time axis: every chart spans exactly the run, and zooming one zooms them all.
    const runS = { min: input.run.startedAt / 1000, max: input.run.endedAt / 1000 };
    const xRanges = () => page.evaluate(() => (globalThis as unknown as PageWindow).sloCharts
      .map((u) => ({ id: u.root.parentElement?.id, min: u.scales.x.min, max: u.scales.x.max })));
    expect(await xRanges()).toEqual(CHART_IDS.map((id) => ({ id, ...runS })));
    await page.evaluate((s) => (globalThis as unknown as PageWindow).sloCharts[1]?.setScale('x', { min: s.min + 60, max: s.min + 90 }), runS);
    expect(await xRanges()).toEqual(CHART_IDS.map((id) => ({ id, min: runS.min + 60, max: runS.min + 90 })));
    await page.evaluate((s) => (globalThis as unknown as PageWindow).sloCharts[0]?.setScale('x', s), runS);

    const rows = await page.$$eval('#verdicts tbody tr', (trs) => trs.map((tr) => tr.className));
    expect(rows).toHaveLength(input.judgement.verdicts.length);
    expect(rows.slice(0, 3)).toEqual(['fail', 'fail', 'invalid']);
    expect(await page.$$eval('#regressions tbody tr', (trs) => trs.length)).toBe(1);

    // The legends list the series the story needs: kill and failover show up in errors and roles.
    const legend = await page.$$eval('.u-legend .u-label', (els) => els.map((el) => el.textContent));
    expect(legend).toEqual(expect.arrayContaining(['p50', 'p95', 'p99', 'desired', 'ready', 'pg-0', 'pg-1', 'pg-2', 'connection reset', '5xx']));

    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('report.png', ARTIFACTS).pathname, fullPage: true });
    await page.close();
  });

  it('shows hostile strings as text: no injected element, no script run, data island intact', async () => {
    const input = syntheticReportInput({ durationS: 60, rps: 20, hostile: true });
    // Markers come from the timeline too: a hostile pod name must stay text inside the data island.
    input.records.push({ kind: 'event', t: input.run.startedAt + 30_000, source: 'cluster', type: 'pod.stop', data: { pod: `p${HOSTILE}`, reason: 'killed' } });
    input.records.sort((a, b) => a.t - b.t);
    const { files } = writeReports(join(dir, 'hostile'), input);
    const { page, consoleErrors, foreignRequests } = await open(files.find((f) => f.endsWith('report.html')) as string);

    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    // Only the three script elements the generator writes exist; none came from the data.
    expect(await page.$$eval('script', (els) => els.length)).toBe(3);
    const firstSlo = await page.$eval('#verdicts tbody tr td', (td) => td.textContent ?? '');
    expect(firstSlo).toContain(HOSTILE);
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
    const { files } = writeReports(join(dir, 'empty'), {
      run: { id: 'run-empty', cluster: 'local', profile: 'ci', startedAt, endedAt: startedAt + 5000, status: 'aborted', reason: 'SIGINT', harnessVersion: '0.1.0', steps: [] },
      judgement: { status: 'invalid', verdicts: [] },
      records: [],
    });
    const { page, consoleErrors, foreignRequests } = await open(files.find((f) => f.endsWith('report.html')) as string);
    expect(await page.textContent('#headline')).toBe('ABORTED');
    expect(await page.$$eval('.charts canvas', (els) => els.length)).toBe(CHART_IDS.length);
    expect(await page.$$eval('#verdicts tbody tr', (trs) => trs.length)).toBe(0);
    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
    await page.close();
  });
});
