// report.html: one self-contained file a person opens from a CI artifact, offline. uPlot's JS and CSS and
// the page's own script are inlined; the data travels as JSON in a <script type="application/json"> island.
// A Content-Security-Policy forbids every fetch, so the page cannot phone home even if a string slipped by.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Verdict } from '../verifiers/types.ts';
import { countByStatus, formatDuration, formatNumber, formatThreshold, formatValue, formatWindow, isoUtc, worstFirst } from './format.ts';
import { analyzeLoad, chartBucketS, dbRoleSeries, markersOf, phaseBands, replicaSeries } from './series.ts';
import type { Band, LoadSeries, LoadSummary, Marker, StepSeries } from './series.ts';
import { headlineOf } from './types.ts';
import type { ReportInput } from './types.ts';
import { escapeXml as esc } from './xml.ts';

export const HTML_FILE = 'report.html';

export interface ChartData {
  load: LoadSeries;
  replicas: StepSeries;
  dbRoles: StepSeries;
  markers: Marker[];
  bands: Band[];
}

/** Everything the charts draw; long runs get wider buckets so the page stays light (~1500 points a chart). */
export function chartDataOf(input: ReportInput, load: LoadSeries = analyzeLoad(input.records, chartBucketS(input.run.endedAt - input.run.startedAt)).series): ChartData {
  const end = input.run.endedAt;
  return {
    load,
    replicas: replicaSeries(input.records, end),
    dbRoles: dbRoleSeries(input.records, end),
    markers: markersOf(input.records),
    bands: phaseBands(input.records, end),
  };
}

let assets: { uplotJs: string; uplotCss: string; clientJs: string } | undefined;

/** Read at generation time from node_modules, so the report carries the exact library it was tested with. */
function loadAssets(): { uplotJs: string; uplotCss: string; clientJs: string } {
  if (assets) return assets;
  const require = createRequire(import.meta.url);
  const read = (file: string, closing: string) => {
    const text = readFileSync(file, 'utf8');
    // Inlined code cannot be escaped, only checked: a closing tag inside would end the element early.
    if (text.toLowerCase().includes(closing)) throw new Error(`${file} contains ${closing} and cannot be inlined`);
    return text;
  };
  assets = {
    uplotJs: read(require.resolve('uplot/dist/uPlot.iife.min.js'), '</script'),
    uplotCss: read(require.resolve('uplot/dist/uPlot.min.css'), '</style'),
    clientJs: read(fileURLToPath(new URL('./html-client.js', import.meta.url)), '</script'),
  };
  return assets;
}

/**
 * JSON that is inert inside <script type="application/json">: every "<" becomes \u003c, so neither
 * "</script>" nor "<!--" can appear, and JSON.parse still yields the original strings.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const CSS = `
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #24292f; margin: 0; background: #f6f8fa; }
  main { max-width: 1200px; margin: 0 auto; padding: 16px 24px 40px; }
  header { display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; }
  h1 { font-size: 22px; margin: 8px 0; }
  h2 { font-size: 17px; margin: 24px 0 8px; }
  .badge { font-weight: 700; padding: 2px 10px; border-radius: 6px; color: #fff; letter-spacing: .04em; }
  .PASS { background: #1a7f37; } .FAIL { background: #d1242f; } .INVALID, .ABORTED { background: #bc4c00; }
  .meta { color: #57606a; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
  th { background: #eaeef2; }
  td.num { text-align: right; white-space: nowrap; }
  tr.fail td.status { color: #d1242f; font-weight: 700; }
  tr.invalid td.status { color: #bc4c00; font-weight: 700; }
  tr.pass td.status { color: #1a7f37; }
  td ul { margin: 0; padding-left: 18px; }
  .charts > div { background: #fff; border: 1px solid #d0d7de; margin: 8px 0; padding: 4px; }
  .legend-key span { margin-right: 14px; white-space: nowrap; }
  .legend-key i { display: inline-block; width: 14px; height: 0; border-top: 2px dashed; vertical-align: middle; margin-right: 4px; }
`;

function verdictRows(input: ReportInput): string {
  const row = (v: Verdict) => {
    const notes = [...(v.reason ? [`reason: ${v.reason}`] : []), ...v.evidence.notes];
    return `<tr class="${v.status}" data-id="${esc(v.id)}"><td>${esc(v.slo)}<br><small class="meta">${esc(v.id)}</small></td>` +
      `<td class="status">${v.status.toUpperCase()}</td>` +
      `<td class="num">${esc(formatValue(v.measured, v.threshold.unit))}</td>` +
      `<td class="num">${esc(formatThreshold(v.threshold))}</td>` +
      `<td>${esc(formatWindow(v.window, input.run.startedAt))}</td>` +
      `<td>${notes.length ? `<ul>${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}</td></tr>`;
  };
  return worstFirst(input.judgement.verdicts).map(row).join('\n');
}

function regressionsSection(input: ReportInput): string {
  if (!input.baseline) return '';
  const rows = input.baseline.regressions.map((r) =>
    `<tr><td>${esc(r.id)}</td><td class="num">${formatNumber(r.measured)}</td><td class="num">${formatNumber(r.baseline)}</td>` +
    `<td class="num">${r.changePercent >= 0 ? '+' : ''}${r.changePercent.toFixed(1)} %</td></tr>`).join('\n');
  return `<h2>Regressions vs baseline ${esc(input.baseline.runId)}</h2>` + (rows
    ? `<table id="regressions"><thead><tr><th>SLO</th><th>Measured</th><th>Baseline</th><th>Change</th></tr></thead><tbody>${rows}</tbody></table>`
    : '<p>None.</p>');
}

function loadLine(load: LoadSummary): string {
  if (load.seconds === 0) return 'No load was recorded.';
  const latency = load.latencyMs
    ? `p50 ${formatNumber(load.latencyMs.p50)} ms, p95 ${formatNumber(load.latencyMs.p95)} ms, p99 ${formatNumber(load.latencyMs.p99)} ms`
    : 'no latency';
  const rate = load.errorRatePercent === null ? 'n/a' : `${formatNumber(load.errorRatePercent)} %`;
  return `${load.requests} requests in ${load.seconds} s (${formatNumber(load.rps?.mean ?? 0)}/s), ${load.failed} failed (${rate}), ${latency}.`;
}

export function renderHtml(input: ReportInput, load: LoadSummary, charts: ChartData): string {
  const { uplotJs, uplotCss, clientJs } = loadAssets();
  const { run } = input;
  const headline = headlineOf(input);
  const counts = countByStatus(input.judgement.verdicts);
  const data = { run: { startedAt: run.startedAt, endedAt: run.endedAt }, ...charts };
  const chartIds = ['chart-rate', 'chart-latency', 'chart-errors', 'chart-replicas', 'chart-db'];
  const bucketNote = charts.load.bucketS > 1 ? ` Points are ${charts.load.bucketS} s buckets (percentiles from merged histograms).` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${headline}: SLO report ${esc(run.id)}</title>
<style>${uplotCss}</style>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1><span class="badge ${headline}" id="headline">${headline}</span> SLO report ${esc(run.id)}</h1>
<span class="meta">${esc(run.cluster)}, profile ${esc(run.profile)}, ${isoUtc(run.startedAt)}, ${formatDuration(run.endedAt - run.startedAt)}, steps ${esc(run.steps.join(', ') || 'none')}, harness ${esc(run.harnessVersion)}</span>
</header>
${run.status !== 'completed' ? `<p><strong>The run was ${run.status}${run.reason ? `: ${esc(run.reason)}` : ''}.</strong></p>` : ''}
<p>${input.judgement.verdicts.length} SLOs: ${counts.fail} failed, ${counts.invalid} not judged, ${counts.pass} passed. ${esc(loadLine(load))}</p>
<h2>Verdicts</h2>
<table id="verdicts"><thead><tr><th>SLO</th><th>Status</th><th>Measured</th><th>Threshold</th><th>Window</th><th>Evidence</th></tr></thead>
<tbody>
${verdictRows(input)}
</tbody></table>
${regressionsSection(input)}
<h2>Timeline</h2>
<p class="meta legend-key">Shaded: phases. Dashed lines:
<span><i style="color:#1f6feb"></i>rollout</span><span><i style="color:#d1242f"></i>pod kill</span><span><i style="color:#8250df"></i>failover / new primary</span><span><i style="color:#1a7f37"></i>scale</span><span><i style="color:#bc4c00"></i>load generator</span>
Drag to zoom (all charts follow), double-click to reset.${bucketNote}</p>
<div class="charts">
${chartIds.map((id) => `<div id="${id}"></div>`).join('\n')}
</div>
</main>
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
<script>${uplotJs}</script>
<script>${clientJs}</script>
</body>
</html>
`;
}
