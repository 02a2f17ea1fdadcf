/* global document, window, performance, uPlot */
// Browser half of report.html, inlined into the page at generation time (no network, no build step).
// Reads the data island, draws every chart with uPlot on one shared time axis (cursor and zoom are synced
// across charts), and paints phase bands, the fault ledger's windows and disruption markers on each of them.
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const start = data.run.startedAt / 1000;
  const end = Math.max(data.run.endedAt / 1000, start + 1);
  const markerColors = { rollout: '#1f6feb', kill: '#d1242f', failover: '#8250df', scale: '#1a7f37', loadgen: '#bc4c00' };
  const CHART_HEIGHT = 190;
  const bandColors = ['rgba(31,111,235,0.07)', 'rgba(130,80,223,0.07)', 'rgba(26,127,55,0.07)', 'rgba(188,76,0,0.07)'];
  const roleNames = ['down', 'replica', 'primary'];
  const charts = [];
  let syncing = false; // guards the zoom sync against echoing between charts

  const seconds = (ms) => ms.map((t) => t / 1000);

  // Every chart spans exactly the run: an empty point at the start and at the end pins the shared x range,
  // and zooming still works because the range comes from the data.
  function pinned(ts, columns) {
    const xs = seconds(ts);
    const ys = columns.map((c) => c.slice());
    if (xs.length === 0 || xs[0] > start) {
      xs.unshift(start);
      ys.forEach((c) => c.unshift(null));
    }
    if (xs[xs.length - 1] < end) {
      xs.push(end);
      ys.forEach((c) => c.push(null));
    }
    return [xs, ...ys];
  }

  function overlay(u, withLabels) {
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    const dpr = window.devicePixelRatio || 1;
    const x = (s) => Math.round(u.valToPos(s, 'x', true));
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    data.bands.forEach((band, i) => {
      const x0 = x(band.from / 1000);
      const x1 = x(band.to / 1000);
      ctx.fillStyle = bandColors[i % bandColors.length];
      ctx.fillRect(x0, top, x1 - x0, height);
      if (withLabels) {
        ctx.fillStyle = '#57606a';
        ctx.font = `${11 * dpr}px sans-serif`;
        // At the bottom of the band: the top holds the fault strips and their keys.
        ctx.fillText(band.label, x0 + 3 * dpr, top + height - 4 * dpr);
      }
    });
    // The fault ledger's windows: a strip along the top in the action's colour, keyed F1, F2... as in the table.
    data.faults.forEach((fault) => {
      const x0 = x(fault.from / 1000);
      const x1 = Math.max(x0 + 2 * dpr, x(fault.to / 1000));
      ctx.fillStyle = markerColors[fault.action] || '#57606a';
      ctx.globalAlpha = 0.55;
      ctx.fillRect(x0, top, x1 - x0, 5 * dpr);
      ctx.globalAlpha = 1;
      ctx.font = `bold ${10 * dpr}px sans-serif`;
      ctx.fillText(fault.key, x0 + 2 * dpr, top + 16 * dpr);
    });
    // The p95 objective on the latency chart: how close the lines came to it, at a glance.
    if (u.root.parentElement && u.root.parentElement.id === 'chart-latency' && data.latencyThresholdMs != null) {
      const y = Math.round(u.valToPos(data.latencyThresholdMs, 'y', true));
      ctx.strokeStyle = '#57606a';
      ctx.lineWidth = 1.5 * dpr;
      ctx.setLineDash([8 * dpr, 4 * dpr]);
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + width, y);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = '#57606a';
      ctx.font = `${10 * dpr}px sans-serif`;
      ctx.textAlign = 'right';
      ctx.fillText(`p95 objective ${data.latencyThresholdMs} ms`, left + width - 4 * dpr, y - 4 * dpr);
      ctx.textAlign = 'left';
    }
    data.markers.forEach((marker, i) => {
      const mx = x(marker.t / 1000);
      ctx.strokeStyle = markerColors[marker.kind] || '#57606a';
      ctx.lineWidth = 1.5 * dpr;
      ctx.setLineDash([4 * dpr, 3 * dpr]);
      ctx.beginPath();
      ctx.moveTo(mx, top);
      ctx.lineTo(mx, top + height);
      ctx.stroke();
      // Labels need room: on a narrow chart the legend above and the fault table carry the same story.
      if (withLabels && width / dpr >= 560) {
        ctx.setLineDash([]);
        ctx.fillStyle = ctx.strokeStyle;
        ctx.font = `${10 * dpr}px sans-serif`;
        // Stagger labels over four rows so markers close in time stay readable.
        // Near the right edge the label goes to the left of its line so it is not cut off.
        const fits = mx + 3 * dpr + ctx.measureText(marker.label).width <= left + width;
        ctx.textAlign = fits ? 'left' : 'right';
        ctx.fillText(marker.label, fits ? mx + 3 * dpr : mx - 3 * dpr, top + (30 + (i % 4) * 12) * dpr);
        ctx.textAlign = 'left';
      }
    });
    ctx.restore();
  }

  function chart(id, title, unit, series, columns, ts, extra) {
    const host = document.getElementById(id);
    const opts = Object.assign({
      title,
      width: host.clientWidth || 900,
      height: CHART_HEIGHT,
      tzDate: (s) => uPlot.tzDate(new Date(s * 1000), 'Etc/UTC'),
      cursor: { sync: { key: 'run', setSeries: true }, drag: { x: true, y: false } },
      scales: { x: { time: true } },
      axes: [{}, { label: unit, size: 60 }],
      series: [{ label: 'time (UTC)' }].concat(series),
      hooks: {
        drawClear: [(u) => overlay(u, id === 'chart-rate')],
        setScale: [(u, key) => {
          if (key !== 'x' || syncing) return;
          syncing = true;
          charts.forEach((other) => {
            if (other !== u) other.setScale('x', { min: u.scales.x.min, max: u.scales.x.max });
          });
          syncing = false;
        }],
      },
    }, extra || {});
    const u = new uPlot(opts, pinned(ts, columns), host);
    charts.push(u);
    return u;
  }

  const load = data.load;
  const line = (label, stroke, more) => Object.assign({ label, stroke, width: 1.5, spanGaps: false }, more || {});
  const stepped = uPlot.paths.stepped({ align: 1 });
  const noPoints = { show: false }; // step series are sparse, and uPlot marks every point of sparse data

  chart('chart-rate', 'Rate: asked vs achieved', 'per s', [
    line('asked/s', '#8c959f', { dash: [6, 4], width: 2 }),
    line('achieved/s', '#1f6feb'),
    line('requests/s', '#0a3069', { width: 1 }),
    line('dropped/s', '#bc4c00'),
  ], [load.targetRate, load.iterationsPerS, load.rps, load.droppedPerS], load.t);

  const threshold = data.latencyThresholdMs;
  chart('chart-latency', 'Latency', 'ms', [
    line('p50', '#1a7f37'),
    line('p95', '#bf8700'),
    line('p99', '#d1242f'),
  ], [load.p50Ms, load.p95Ms, load.p99Ms], load.t, threshold == null ? undefined : {
    // Room for the objective's line even when every percentile stays far below it.
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max || 0, threshold * 1.15)] } },
  });

  const errorPalette = ['#d1242f', '#8250df', '#bc4c00', '#1f6feb', '#1a7f37', '#57606a'];
  const kinds = Object.keys(load.errorsPerS);
  chart('chart-errors', 'Failures by reason', 'per s',
    [line('failed/s', '#24292f', { width: 2 })].concat(kinds.map((k, i) => line(k, errorPalette[i % errorPalette.length]))),
    [load.failedPerS].concat(kinds.map((k) => load.errorsPerS[k])), load.t);

  chart('chart-replicas', 'Replicas', 'replicas', [
    line('desired', '#8c959f', { paths: stepped, points: noPoints, dash: [6, 4], width: 2 }),
    line('ready', '#1a7f37', { paths: stepped, points: noPoints, width: 2 }),
  ], [data.replicas.values.desired || [], data.replicas.values.ready || []], data.replicas.t);

  const members = Object.keys(data.dbRoles.values);
  const memberPalette = ['#8250df', '#1f6feb', '#bf8700', '#1a7f37', '#d1242f'];
  // Members sharing a role would draw on top of each other: nudge each one a little off its level.
  const nudge = (i) => (i - (members.length - 1) / 2) * 0.08;
  chart('chart-db', 'Database role', 'role',
    members.map((m, i) => line(m, memberPalette[i % memberPalette.length], {
      paths: stepped, points: noPoints, width: 2, value: (u, v) => (v == null ? '-' : roleNames[Math.round(v)]),
    })),
    members.map((m, i) => data.dbRoles.values[m].map((v) => (v == null ? null : v + nudge(i)))),
    data.dbRoles.t,
    {
      scales: { x: { time: true }, y: { range: [-0.4, 2.4] } },
      axes: [{}, { label: 'role', size: 60, splits: () => [0, 1, 2], values: (u, splits) => splits.map((v) => roleNames[v] || '') }],
    });

  const fit = (width) => charts.forEach((u) => u.setSize({ width: width || u.root.parentElement.clientWidth, height: CHART_HEIGHT }));
  window.addEventListener('resize', () => fit());
  // A printed page is narrower than most screens: redraw at a printable width, and back afterwards.
  // Folded evidence is printed too.
  window.addEventListener('beforeprint', () => {
    document.querySelectorAll('details').forEach((d) => { d.open = true; });
    fit(Math.min(680, document.querySelector('main').clientWidth));
  });
  window.addEventListener('afterprint', () => fit());
  window.sloCharts = charts; // for tests and for poking at the data from the devtools console
  // When the last chart was drawn, in ms since navigation started (the benchmark reads it).
  window.sloChartsDrawnMs = performance.now();
  document.body.dataset.chartsReady = String(charts.length);
})();
