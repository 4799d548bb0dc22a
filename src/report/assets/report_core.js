// optic report page, part 1 of 5 (src/report/CMakeLists.txt joins the parts in order into one
// inline script): the data from #optic-data, Chart.js defaults and the helpers every figure uses
// (formatting, series names and colours, datasets, tooltips). The numbers (fits, winners,
// speed-ups, comparison, series assignment) are computed by optic in C++; the page only draws.
// Everything hangs off window.opticReport (figures: what each figure drew, read by the browser
// test and handy in devtools; data: the JSON). No network access.
window.opticReport = (function () {
  'use strict';
  const D = JSON.parse(document.getElementById('optic-data').textContent);
  const app = document.getElementById('app');
  const rows = D.rows;
  const byId = new Map(rows.map((r) => [r.id, r]));
  const figures = {};  // id -> {charts, nodata}; read by the browser test and handy in devtools

  Chart.defaults.animation = false;
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif';
  Chart.defaults.font.size = 11;
  Chart.defaults.color = '#3e4c59';
  Chart.defaults.plugins.legend.labels.boxWidth = 14;
  Chart.defaults.plugins.legend.labels.boxHeight = 2;
  Chart.defaults.maintainAspectRatio = false;

  // ---------- small helpers ----------
  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') e.textContent = v; else if (k === 'class') e.className = v; else e.setAttribute(k, v);
    }
    for (const c of [].concat(children || [])) {
      if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  function fmt(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    const d = digits || 3;
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e7)) return v.toExponential(d - 1);
    if (a >= Math.pow(10, d)) return Math.round(v).toLocaleString('en-US');
    return String(Number(v.toPrecision(d)));
  }
  const uniq = (xs) => [...new Set(xs)];
  const log2 = (x) => Math.log(x) / Math.LN2;
  const ok = rows.filter((r) => r.status === 'ok');
  const notRun = rows.filter((r) => r.status !== 'ok');
  const multiHw = uniq(rows.map((r) => r.hardware)).length > 1;
  const PALETTE = ['#2563eb', '#ea580c', '#16a34a', '#7c3aed', '#db2777', '#0891b2', '#ca8a04',
                   '#4b5563', '#dc2626', '#65a30d', '#9333ea', '#0d9488'];
  const colorKeys = [];
  function color(key) {
    let i = colorKeys.indexOf(key);
    if (i < 0) { colorKeys.push(key); i = colorKeys.length - 1; }
    return PALETTE[i % PALETTE.length];
  }
  const BACKENDS = uniq(rows.map((r) => r.backend)).sort();
  const backendColor = (b) => PALETTE[BACKENDS.indexOf(b) % PALETTE.length];
  const DASH = { fp32: [], fp16: [6, 3], bf16: [2, 2], int8: [8, 3, 2, 3] };
  const dash = (p) => DASH[p] || [4, 4];
  // Charts are split per hardware where CPU and GPU numbers differ by orders of magnitude, so
  // series names carry the hardware only where a chart mixes machines. r.series is optic's
  // series label (AssignSeries): backend, precision, backend options, and where needed device,
  // scenario, threads and run; rows of one hardware, model and series differ only in batch size
  // or concurrency, so grouping by this name never draws a line between two configurations.
  function seriesName(r, withModel, withHw) {
    let s = (withModel ? r.model + ' · ' : '') + r.series;
    if (withHw && multiHw) s += ' · ' + r.hardware;
    return s;
  }
  const hardwareOf = (list) => uniq(list.map((r) => r.hardware)).sort();
  function groupBy(list, keyFn) {
    const m = new Map();
    for (const x of list) { const k = keyFn(x); if (!m.has(k)) m.set(k, []); m.get(k).push(x); }
    return m;
  }
  const isUnstable = (r) => r.stable === false;
  function flags(r) {
    const f = [];
    if (isUnstable(r)) f.push('UNSTABLE');
    if (r.latency.p99 !== null && !r.valid.p99) f.push('p99 from too few samples');
    if (r.max_abs_err !== null) f.push('parity max abs ' + fmt(r.max_abs_err, 2));
    return f.length ? ' [' + f.join('; ') + ']' : '';
  }
  function log2Axis(title) {
    return { type: 'linear', min: 0, title: { display: true, text: title },
             ticks: { stepSize: 1, callback: (v) => (Number.isInteger(v) ? String(Math.pow(2, v)) : '') } };
  }
  const linAxis = (title, zero) => ({ type: 'linear', beginAtZero: !!zero, title: { display: true, text: title } });

  // One series of xy points per group; unstable points are hollow triangles.
  function xyDatasets(groups, xFn, yFn, opts) {
    const out = [];
    for (const [name, rs] of groups) {
      const pts = rs.filter((r) => xFn(r) !== null && yFn(r) !== null)
        .map((r) => ({ x: xFn(r), y: yFn(r), row: r.id })).sort((a, b) => a.x - b.x);
      if (!pts.length) continue;
      // One colour per configuration (and run); precisions of it differ by dashes.
      const c = color(rs[0].color_key + ((opts && opts.colorByModel) ? '/' + rs[0].model : ''));
      out.push({
        label: name, data: pts, showLine: true, borderColor: c, backgroundColor: c, borderWidth: 1.8,
        borderDash: dash(rs[0].precision),
        pointStyle: (ctx) => (ctx.raw && isUnstable(byId.get(ctx.raw.row)) ? 'triangle' : 'circle'),
        pointBackgroundColor: (ctx) => (ctx.raw && isUnstable(byId.get(ctx.raw.row)) ? '#ffffff' : c),
        pointRadius: (ctx) => (ctx.raw && isUnstable(byId.get(ctx.raw.row)) ? 5 : 3),
      });
    }
    return out;
  }
  function notRunDataset(rs, xFn) {
    if (!rs.length) return [];
    return [{ label: 'not run (see table)', data: rs.map((r) => ({ x: xFn(r), y: 0, row: r.id })),
              showLine: false, pointStyle: 'crossRot', pointRadius: 7, pointHoverRadius: 8, borderWidth: 2,
              borderColor: '#b91c1c', backgroundColor: '#b91c1c' }];
  }
  function rowTooltip(extra) {
    return { callbacks: { label: (ctx) => {
      const r = ctx.raw && ctx.raw.row !== undefined ? byId.get(ctx.raw.row) : null;
      if (!r) return ctx.dataset.label + ': ' + fmt(ctx.parsed.y);
      if (r.status !== 'ok') return r.label + ': ' + r.status.toUpperCase() + ' — ' + r.error;
      return ctx.dataset.label + ' b' + r.batch_size + (r.concurrency !== null ? ' c' + r.concurrency : '') +
             ': ' + extra(r) + flags(r);
    } } };
  }
  return {
    D, app, rows, byId, figures, el, fmt, uniq, log2, ok, notRun, multiHw, PALETTE, color,
    backendColor, dash, seriesName, hardwareOf, groupBy, isUnstable, flags, log2Axis, linAxis,
    xyDatasets, notRunDataset, rowTooltip,
    data: D, build: {},
  };
})();
