// report.html: one self-contained file a person opens from a CI artifact, offline. uPlot's JS and CSS and
// the page's own script are inlined; the chart data travels as JSON in a <script type="application/json">
// island. A Content-Security-Policy forbids every fetch, so the page cannot phone home even if a string
// slipped by. Everything but the charts is plain HTML rendered here, so it reads (and prints) without
// JavaScript; the page stays inside a narrow window (wide tables scroll sideways in their own box).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Verdict } from '../verifiers/types.ts';
import {
  formatChange, formatCounts, formatDuration, formatMargin, formatMs, formatNumber, formatPercent, formatRelative, formatThreshold, formatValue,
  formatWindow, isoUtc, sinceStart, worstFirst,
} from './format.ts';
import type { FaultEntry } from './faults.ts';
import { analyzeLoad, chartBucketS, dbRoleSeries, markersOf, phaseBands, replicaSeries } from './series.ts';
import type { Band, LoadSeries, Marker, StepSeries } from './series.ts';
import type { ReportSummary, SloRow } from './summary.ts';
import type { ReportInput } from './types.ts';
import { escapeXml as esc } from './xml.ts';

export const HTML_FILE = 'report.html';

export interface ChartData {
  load: LoadSeries;
  replicas: StepSeries;
  dbRoles: StepSeries;
  markers: Marker[];
  bands: Band[];
  /** The fault ledger's windows, drawn as a strip along the top of every chart and labelled with their key. */
  faults: Array<{ key: string; action: FaultEntry['action']; from: number; to: number }>;
  /** The whole-run p95 objective, drawn on the latency chart; null without one. */
  latencyThresholdMs: number | null;
}

/** The p95 objective of the whole run (else the first latency objective in ms) for the latency chart. */
function latencyThreshold(verdicts: readonly Verdict[]): number | null {
  const latency = verdicts.filter((v) => v.id.startsWith('latency.') && v.threshold.unit === 'ms');
  return (latency.find((v) => v.id === 'latency.p95') ?? latency[0])?.threshold.value ?? null;
}

/** Everything the charts draw; long runs get wider buckets so the page stays light (~1500 points a chart). */
export function chartDataOf(
  input: ReportInput,
  load: LoadSeries = analyzeLoad(input.records, chartBucketS(input.run.endedAt - input.run.startedAt)).series,
  summary?: Pick<ReportSummary, 'faults'>,
): ChartData {
  const end = input.run.endedAt;
  return {
    load,
    replicas: replicaSeries(input.records, end),
    dbRoles: dbRoleSeries(input.records, end),
    markers: markersOf(input.records),
    bands: phaseBands(input.records, end),
    faults: (summary?.faults ?? []).map((f) => ({ key: f.key, action: f.action, from: f.window.from, to: f.window.to })),
    latencyThresholdMs: latencyThreshold(input.judgement.verdicts),
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
  * { box-sizing: border-box; }
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #24292f; margin: 0; background: #f6f8fa; overflow-wrap: anywhere; }
  main { max-width: 1200px; margin: 0 auto; padding: 16px 24px 40px; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  h2 { font-size: 17px; margin: 28px 0 8px; }
  .banner { border-radius: 8px; padding: 12px 16px; color: #fff; }
  .banner .word { font-size: 28px; font-weight: 800; letter-spacing: .04em; margin-right: 12px; }
  .banner .exit { font-weight: 600; white-space: nowrap; }
  .banner p { margin: 6px 0 0; }
  .banner #reason { font-size: 16px; font-weight: 600; }
  .banner .meta { color: rgba(255,255,255,.88); }
  .PASS { background: #1a7f37; } .FAIL { background: #d1242f; } .INVALID, .ABORTED { background: #bc4c00; }
  .meta { color: #57606a; }
  .scroll { overflow-x: auto; max-width: 100%; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; overflow-wrap: normal; }
  th { background: #eaeef2; white-space: nowrap; }
  td.num { text-align: right; white-space: nowrap; }
  td.wide { min-width: 260px; overflow-wrap: anywhere; }
  td.name { min-width: 180px; overflow-wrap: anywhere; }
  tr.fail td.status, .over { color: #d1242f; font-weight: 700; }
  tr.invalid td.status { color: #bc4c00; font-weight: 700; }
  tr.pass td.status, .under { color: #1a7f37; }
  td.status { font-weight: 600; }
  td.window { min-width: 150px; }
  ul.evidence { background: #fff; border: 1px solid #d0d7de; margin: 0 0 8px; padding: 8px 8px 8px 28px; }
  ul.evidence > li { margin: 4px 0; }
  ul.evidence > li.fail > strong { color: #d1242f; } ul.evidence > li.invalid > strong { color: #bc4c00; } ul.evidence > li.pass > strong { color: #1a7f37; }
  ul.evidence ul { padding-left: 18px; }
  details summary { cursor: pointer; color: #0969da; margin: 8px 0; }
  .bar { background: #eaeef2; height: 8px; border-radius: 4px; min-width: 120px; margin-top: 4px; overflow: hidden; }
  .bar i { display: block; height: 100%; background: #1a7f37; }
  .bar i.over { background: #d1242f; }
  .charts > div { background: #fff; border: 1px solid #d0d7de; margin: 8px 0; padding: 4px; overflow: hidden; }
  .legend-key span { margin-right: 14px; white-space: nowrap; }
  .legend-key i { display: inline-block; width: 14px; height: 0; border-top: 2px dashed; vertical-align: middle; margin-right: 4px; }
  .legend-key b { display: inline-block; width: 14px; height: 6px; vertical-align: middle; margin-right: 4px; }
  .u-legend { font-size: 12px; }
  @media (max-width: 600px) {
    main { padding: 8px 8px 24px; }
    .banner .word { font-size: 22px; }
  }
  @media print {
    body { background: #fff; font-size: 11px; }
    main { max-width: none; padding: 0; }
    .banner { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
    /* Paper does not scroll: tables fit the page width and wrap inside their cells. */
    .scroll { overflow: visible; }
    table { font-size: 9px; }
    th, td { padding: 2px 4px; }
    th, td, td.num { white-space: normal; overflow-wrap: anywhere; }
    td.name, td.window, td.wide, .bar { min-width: 0; }
    tr, .charts > div { break-inside: avoid; }
    h2 { break-after: avoid; }
    .charts .uplot, .charts canvas { max-width: 100% !important; height: auto !important; }
    .u-cursor-x, .u-cursor-y, .u-select, .no-print { display: none !important; }
  }
`;

const MARGIN_LEGEND = 'Margin: + is headroom left, - is past the threshold; in the unit (pp: percentage points) and as a share of the room the objective allows (up to the threshold, or from a minimum percentage up to 100 %).';
const STATUS_WORD: Record<Verdict['status'], string> = { pass: 'PASS', fail: 'FAIL', invalid: 'INVALID' };
const signClass = (value: number | null | undefined) => (value === null || value === undefined || value === 0 ? '' : value > 0 ? 'under' : 'over');
const table = (id: string, head: readonly string[], rows: readonly string[]) =>
  `<div class="scroll"><table id="${id}"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table></div>`;

function bannerSection(input: ReportInput, summary: ReportSummary): string {
  const { run } = input;
  const { banner: b } = summary;
  return `<header class="banner ${b.headline}" id="banner">
<h1><span class="word" id="headline">${b.headline}</span><span class="exit">exit code <span id="exit-code">${b.exitCode}</span></span></h1>
<p id="reason">${esc(b.reason)}</p>
<p class="meta">${summary.slos.length} SLOs: ${b.counts.fail} failed, ${b.counts.invalid} not judged, ${b.counts.pass} passed. Run ${esc(run.id)} on ${esc(run.cluster)}, profile ${esc(run.profile)}, ${isoUtc(run.startedAt)}, ${formatDuration(run.endedAt - run.startedAt)}, steps ${esc(run.steps.join(', ') || 'none')}${run.status !== 'completed' ? `. The run was ${run.status}${run.reason ? `: ${esc(run.reason)}` : ''}` : ''}.</p>
</header>`;
}

function sloSection(input: ReportInput, summary: ReportSummary): string {
  const baseline = summary.baselineRunId !== undefined;
  const row = (r: SloRow) => {
    const change = r.baseline
      ? `<td class="num ${r.baseline.direction === 'worse' ? 'over' : r.baseline.direction === 'better' ? 'under' : ''}">${esc(formatChange(r.baseline, r.threshold.unit))}${r.baseline.regression ? '<br><strong>regression</strong>' : ''}</td>`
      : baseline ? '<td class="num">-</td>' : '';
    return `<tr class="${r.status}" data-id="${esc(r.id)}"><td class="name">${esc(r.slo)}<br><small class="meta">${esc(r.id)}</small></td>` +
      `<td class="status">${STATUS_WORD[r.status]}</td>` +
      `<td class="num">${esc(formatValue(r.measured, r.threshold.unit))}</td>` +
      `<td class="num">${esc(formatThreshold(r.threshold))}</td>` +
      `<td class="num margin ${signClass(r.margin?.value)}">${esc(formatMargin(r.margin, r.threshold.unit))}</td>` +
      `<td class="num">${r.samples}</td>` +
      `<td class="window">${esc(formatWindow(r.window, input.run.startedAt))}<br><small class="meta">${formatDuration(r.window.seconds * 1000)}</small></td>` +
      `${change}</tr>`;
  };
  const head = ['SLO', 'Verdict', 'Measured', 'Threshold', 'Margin', 'Samples', 'Window', ...(baseline ? [`vs baseline ${esc(summary.baselineRunId ?? '')}`] : [])];
  return `<section id="slo-section"><h2>SLOs</h2>
<p class="meta">${MARGIN_LEGEND}</p>
${summary.slos.length === 0 ? '<p>No SLO was judged.</p>' : table('slos', head, summary.slos.map(row))}
</section>`;
}

/** The reason and evidence of every verdict that did not pass, open; those of the passes folded away. */
function evidenceSection(input: ReportInput): string {
  const ordered = worstFirst(input.judgement.verdicts);
  const item = (v: Verdict) => {
    const notes = [...(v.reason ? [`reason: ${v.reason}`] : []), ...v.evidence.notes];
    return `<li class="${v.status}" data-id="${esc(v.id)}"><strong>${STATUS_WORD[v.status]}</strong> ${esc(v.slo)} <small class="meta">${esc(v.id)}, ${v.evidence.samples} samples</small>` +
      `${notes.length ? `<ul>${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}</li>`;
  };
  const bad = ordered.filter((v) => v.status !== 'pass');
  const good = ordered.filter((v) => v.status === 'pass');
  const heading = bad.some((v) => v.status === 'invalid') ? 'Why each failed or could not be judged' : 'Why each failed';
  return `<section id="evidence-section">${bad.length ? `<h2>${heading}</h2>
<ul class="evidence" id="failures">${bad.map(item).join('\n')}</ul>` : ''}
${good.length ? `<details id="passed-evidence"><summary>Evidence of the ${good.length} passed SLO${good.length === 1 ? '' : 's'}</summary>
<ul class="evidence">${good.map(item).join('\n')}</ul></details>` : ''}
</section>`;
}

function budgetSection(summary: ReportSummary): string {
  if (summary.errorBudgets.length === 0) return '';
  const rows = summary.errorBudgets.map((b) => {
    const used = b.usedPercent === null ? 'no budget' : `${formatRelative(b.usedPercent)} %`;
    const width = b.usedPercent === null ? 100 : Math.min(100, b.usedPercent);
    const over = b.usedPercent === null || b.usedPercent >= 100;
    return `<tr class="${b.status}"><td class="name">${esc(b.slo)}</td><td class="status">${STATUS_WORD[b.status]}</td><td class="num">${b.requests}</td>` +
      `<td class="num">${formatNumber(b.allowed)} (${formatPercent(b.allowedPercent)})</td><td class="num">${b.used} ${b.usedWhat}</td>` +
      `<td class="num ${over ? 'over' : ''}">${used}<div class="bar"><i class="${over ? 'over' : ''}" style="width:${width.toFixed(1)}%"></i></div></td></tr>`;
  });
  return `<section id="budget-section"><h2>Error budget</h2>
<p class="meta">The failed requests each objective allows over this run's requests, and how much of that the run used.</p>
${table('budgets', ['SLO', 'Verdict', 'Requests', 'Allowed', 'Used', 'Budget used'], rows)}
</section>`;
}

function faultSection(input: ReportInput, summary: ReportSummary): string {
  if (summary.faults.length === 0) return '<section id="fault-section"><h2>Faults</h2><p>No action or fault was injected.</p></section>';
  const start = input.run.startedAt;
  const rows = summary.faults.map((f) => {
    const end = f.end === null ? '<span class="over">did not end</span>' : `${sinceStart(f.end, start)}${f.ok ? '' : `<br><span class="over">failed: ${esc(f.error ?? 'no error given')}</span>`}`;
    const recovered = f.recovered ? `${formatNumber(f.recoverS ?? 0)} s<br><small class="meta">${esc(f.recovered.what)} at ${sinceStart(f.recovered.t, start)}</small>` : '<span class="over">not recovered</span>';
    const lost = f.lostWrites === null ? '-'
      : f.lostWrites.state === 'audited' ? `<span class="${f.lostWrites.missing > 0 ? 'over' : ''}">${f.lostWrites.missing}</span> of ${f.lostWrites.acknowledged}`
        : f.lostWrites.state === 'audit failed' ? `unknown: audit failed (${esc(f.lostWrites.reason)})` : 'unknown: not audited';
    const judged = f.judgedBy.map((j) => `<span class="${j.status === 'pass' ? 'under' : 'over'}">${esc(j.id)} ${STATUS_WORD[j.status]}</span>`).join('<br>') || '-';
    return `<tr data-key="${f.key}"><td>${f.key}</td><td class="name">${esc(f.what)}</td><td class="num">${sinceStart(f.start, start)}</td><td class="num">${end}</td>` +
      `<td class="num">${recovered}</td><td class="num"><span class="${f.failed > 0 ? 'over' : ''}">${f.failed}</span> of ${f.requests}${f.failed > 0 ? `<br><small class="meta">${esc(formatCounts(f.failures))}</small>` : ''}</td>` +
      `<td class="num">${lost}</td><td>${judged}</td></tr>`;
  });
  return `<section id="fault-section"><h2>Faults</h2>
${table('faults', ['#', 'Fault', 'Start', 'End', 'Recovered', 'Failed requests', 'Lost writes', 'Judged by'], rows)}
<p class="meta">Keys match the strips along the top of the charts. Failed requests count from the start to the later of the end and the recovery. Lost writes come from the write audit after the load, which covers the whole run.</p>
</section>`;
}

function loadSection(summary: ReportSummary): string {
  const l = summary.load;
  if (l.seconds === 0) return '<section id="load-section"><h2>Load</h2><p>No load was recorded.</p></section>';
  const latency = l.latencyMs ? `p50 ${formatNumber(l.latencyMs.p50)} ms, p95 ${formatNumber(l.latencyMs.p95)} ms, p99 ${formatNumber(l.latencyMs.p99)} ms, max ${formatNumber(l.latencyMs.max)} ms` : 'no latency';
  const summaryLine = `${l.requests} requests in ${l.seconds} s (${formatNumber(l.rps?.mean ?? 0)}/s mean), ${l.failed} failed (${formatPercent(l.errorRatePercent)})` +
    `${l.failed > 0 ? `: ${formatCounts(l.errors)}` : ''}; latency ${latency}${l.dropped > 0 ? `; ${l.dropped} iterations dropped by the load generator` : ''}.`;
  const rows = l.byName.map((n) => `<tr><td class="name">${esc(n.name)}</td><td class="num">${n.requests}</td><td class="num">${n.failed}</td>` +
    `<td class="num">${formatPercent(n.errorRatePercent)}</td><td class="num">${formatMs(n.p50Ms)}</td><td class="num">${formatMs(n.p95Ms)}</td><td class="num">${formatMs(n.p99Ms)}</td></tr>`);
  return `<section id="load-section"><h2>Load by request name</h2>
<p>${esc(summaryLine)}</p>
${rows.length > 0 ? table('by-name', ['Request', 'Requests', 'Failed', 'Error rate', 'p50', 'p95', 'p99'], rows) : '<p class="meta">The load records name no requests.</p>'}
</section>`;
}

function provenanceSection(summary: ReportSummary): string {
  const p = summary.provenance;
  const versions = Object.entries(p.target.versions).map(([k, v]) => `${k} ${v}`).join(', ') || 'versions unknown';
  const rows: Array<[string, string]> = [
    ['Harness', `${p.harness.version}, commit ${p.harness.commit ?? 'unknown'}`],
    ['Target', `${p.target.cluster}: ${versions}`],
    ['Engine', p.engine ?? 'unknown'],
    ['Profile', p.profile],
    ['Spec hash', p.specHash ?? 'unknown'],
    ['Machine', p.machine ? `${p.machine.cores} cores, ${p.machine.memoryMiB} MiB, ${p.machine.platform}` : 'unknown'],
    ['Started', isoUtc(p.startedAt)],
    ['Ended', `${isoUtc(p.endedAt)} (${formatDuration(p.endedAt - p.startedAt)})`],
  ];
  return `<section id="provenance-section"><h2>Provenance</h2>
<div class="scroll"><table id="provenance">${rows.map(([k, v]) => `<tr><th>${k}</th><td>${esc(v)}</td></tr>`).join('')}</table></div>
${p.recorded ? '' : '<p class="meta">The timeline has no run.info event: what produced the run is unknown beyond run.json.</p>'}
</section>`;
}

export function renderHtml(input: ReportInput, summary: ReportSummary, charts: ChartData): string {
  const { uplotJs, uplotCss, clientJs } = loadAssets();
  const { run } = input;
  const headline = summary.banner.headline;
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
${bannerSection(input, summary)}
${sloSection(input, summary)}
${evidenceSection(input)}
${budgetSection(summary)}
<section id="timeline-section"><h2>Timeline</h2>
<p class="meta legend-key">Shaded: phases. Strips along the top: the faults below (F1, F2...). Dashed lines:
<span><i style="color:#1f6feb"></i>rollout</span><span><i style="color:#d1242f"></i>pod kill</span><span><i style="color:#8250df"></i>failover / new primary</span><span><i style="color:#1a7f37"></i>scale</span><span><i style="color:#bc4c00"></i>load generator</span>${charts.latencyThresholdMs !== null ? `<span><i style="color:#57606a"></i>p95 objective (${formatNumber(charts.latencyThresholdMs)} ms)</span>` : ''}
<span class="no-print">Drag to zoom (all charts follow), double-click to reset.</span>${bucketNote}</p>
<div class="charts">
${chartIds.map((id) => `<div id="${id}"></div>`).join('\n')}
</div>
</section>
${faultSection(input, summary)}
${loadSection(summary)}
${provenanceSection(summary)}
</main>
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
<script>${uplotJs}</script>
<script>${clientJs}</script>
</body>
</html>
`;
}
