// optic report page: draws every figure from the JSON in #optic-data with Chart.js.
// The numbers (fits, winners, speed-ups, comparison) are computed by optic in C++; this script
// only groups rows into series and lays out the page. No network access.
(function () {
  'use strict';
  const D = JSON.parse(document.getElementById('optic-data').textContent);
  const app = document.getElementById('app');
  const rows = D.rows;
  const byId = new Map(rows.map((r) => [r.id, r]));
  const figures = {};  // id -> {charts, nodata}; read by the browser test and handy in devtools
  window.opticReport = { figures: figures, data: D };

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
  // series names carry the hardware only where a chart mixes machines.
  function seriesName(r, withModel, withHw) {
    let s = (withModel ? r.model + ' · ' : '') + r.backend + ' · ' + r.device + ' · ' + r.precision;
    if (r.scenario && r.scenario !== 'offline') s += ' · ' + r.scenario;  // one line per scenario
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
      const c = color(rs[0].backend + '/' + rs[0].device + ((opts && opts.colorByModel) ? '/' + rs[0].model : ''));
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

  // ---------- layout ----------
  const header = el('header', { class: 'top' }, [
    el('h1', { text: D.title }),
    el('div', { class: 'sub', text: rows.length + ' rows from ' + D.inputs.join(', ') +
      (D.comparison ? ' · compared with ' + D.comparison.base : '') }),
  ]);
  const stats = el('div', { class: 'stats' });
  const stat = (n, what, cls) => stats.append(el('span', { class: 'stat ' + (cls || '') }, [el('b', { text: String(n) }), what]));
  stat(uniq(rows.map((r) => r.model)).length, 'models');
  stat(uniq(rows.map((r) => r.backend)).length, 'backends');
  stat(uniq(rows.map((r) => r.hardware)).length, 'hardware');
  stat(notRun.length, 'cells not run', notRun.length ? 'bad' : '');
  stat(ok.filter(isUnstable).length, 'unstable', ok.some(isUnstable) ? 'warn' : '');
  if (D.warnings.length) stat(D.warnings.length, 'input warnings', 'warn');
  if (D.comparison) stat(D.comparison.regressions, 'regressions', D.comparison.regressions ? 'bad' : '');
  header.append(stats);
  const toc = el('nav', { class: 'toc' });
  const main = el('main');
  app.append(header, toc, main);

  function section(id, title, lead) {
    const s = el('section', { id: id }, [el('h2', { text: title })]);
    if (id === 'comparison') s.firstChild.textContent += ' with ' + D.comparison.base;
    if (lead) s.append(el('p', { class: 'lead', text: lead }));
    toc.append(el('a', { href: '#' + id, text: title }));
    main.append(s);
    return s;
  }
  function noData(figId, title, why) {
    figures[figId] = figures[figId] || { charts: 0, nodata: true };
    return el('div', { class: 'card', 'data-figure': figId }, [el('h3', { text: title }),
      el('div', { class: 'nodata', text: 'No data for this figure: ' + why })]);
  }
  function chartCard(figId, title, config, caption, height) {
    const canvas = el('canvas', { 'aria-label': title, role: 'img' });
    const box = el('div', { class: 'chart' }, canvas);
    // Legends above the plot grow with the series; keep the plot area itself readable.
    const series = config.data.datasets.length;
    if (height || series > 6) box.style.height = (height || 300) + (config.type === 'bar' ? 0 : 9 * Math.max(0, series - 6)) + 'px';
    const card = el('div', { class: 'card', 'data-figure': figId }, [el('h3', { text: title }), box]);
    if (caption) card.append(el('div', { class: 'caption' }, caption));
    figures[figId] = figures[figId] || { charts: 0, nodata: false };
    figures[figId].charts += 1;
    figures[figId].nodata = false;
    card.pending = () => new Chart(canvas, config);
    return card;
  }
  const pending = [];
  function addTo(parent, card) { parent.append(card); if (card.pending) pending.push(card.pending); }
  function table(headers, bodyRows, opts) {
    const t = el('table');
    t.append(el('thead', {}, el('tr', {}, headers.map((h) => el('th', { class: /^[#≈]|\/s|ms|_s|\bs\b|ratio|MB|err/.test(h) ? 'num' : '', text: h })))));
    const tb = el('tbody');
    for (const br of bodyRows) tb.append(br);
    t.append(tb);
    return el('div', { class: 'tablewrap' + (opts && opts.tall ? ' tall' : '') }, t);
  }
  const td = (v, cls) => el('td', { class: cls || '' }, v);
  const num = (v, d) => td(fmt(v, d), 'num');

  const benchRows = rows.filter((r) => r.kind === 'bench' && r.concurrency === null &&
                                       r.scenario !== 'server' && r.scenario !== 'server_search');
  const models = uniq(rows.map((r) => r.model)).sort();
  const UNSTABLE_NOTE = 'Hollow triangles: unstable measurement. Dashes: fp16/bf16/int8 (solid: fp32).';

  // ---------- 1. throughput vs batch, 2. latency vs throughput ----------
  {
    const s = section('throughput', 'Throughput vs batch size',
      'Samples per second against batch size (log2 axis), one chart per model and a line per backend, device and precision (Pochelu et al., Fig. 1-2). Red crosses at zero mark cells that did not run.');
    const g = el('div', { class: 'grid' });
    s.append(g);
    const ms = models.filter((m) => benchRows.some((r) => r.model === m));
    if (!ms.length) g.append(noData('throughput-batch', 'Throughput vs batch size', 'no bench rows.'));
    for (const m of ms) for (const hw of hardwareOf(benchRows.filter((r) => r.model === m))) {
      const rs = benchRows.filter((r) => r.model === m && r.hardware === hw);
      const ds = xyDatasets(groupBy(rs.filter((r) => r.status === 'ok'), (r) => seriesName(r)),
                            (r) => log2(r.batch_size), (r) => r.throughput)
        .concat(notRunDataset(rs.filter((r) => r.status !== 'ok'), (r) => log2(r.batch_size)));
      if (!ds.length) { g.append(noData('throughput-batch', m + ' · ' + hw, 'no successful rows with a throughput.')); continue; }
      addTo(g, chartCard('throughput-batch', m + ' · ' + hw, {
        type: 'scatter', data: { datasets: ds },
        options: { scales: { x: log2Axis('batch size'), y: linAxis('samples / s', true) },
                   plugins: { tooltip: rowTooltip((r) => fmt(r.throughput, 4) + ' samples/s') } } }, UNSTABLE_NOTE));
    }
  }
  {
    const s = section('latency', 'Latency vs throughput',
      'Median (p50) latency of one batch against throughput as the batch size grows along each line (Ulker et al., Fig. 5).');
    const g = el('div', { class: 'grid' });
    s.append(g);
    let n = 0;
    for (const m of models) for (const hw of hardwareOf(benchRows.filter((r) => r.model === m))) {
      const rs = benchRows.filter((r) => r.model === m && r.hardware === hw && r.status === 'ok' && r.latency.p50 !== null && r.throughput !== null);
      if (!rs.length) continue;
      const groups = groupBy(rs, (r) => seriesName(r));
      const ds = [];
      for (const [name, grs] of groups) {
        grs.sort((a, b) => a.batch_size - b.batch_size);
        const one = xyDatasets(new Map([[name, grs]]), (r) => r.throughput, (r) => r.latency.p50);
        // Keep the batch order along the line (throughput need not grow monotonically).
        one.forEach((d) => { d.data = grs.map((r) => ({ x: r.throughput, y: r.latency.p50, row: r.id })); });
        ds.push(...one);
      }
      n++;
      addTo(g, chartCard('latency-throughput', m + ' · ' + hw, {
        type: 'scatter', data: { datasets: ds },
        options: { scales: { x: linAxis('samples / s', true), y: linAxis('p50 latency (ms)', true) },
                   plugins: { tooltip: rowTooltip((r) => fmt(r.throughput, 4) + ' /s, p50 ' + fmt(r.latency.p50) + ' ms') } } }, UNSTABLE_NOTE));
    }
    if (!n) g.append(noData('latency-throughput', 'Latency vs throughput', 'no successful bench rows with both latency and throughput.'));
  }

  // ---------- 3. winner matrix ----------
  {
    const s = section('winners', 'Winner matrix',
      'Best framework per hardware and model (Ulker et al., Fig. 1 and 3): lowest p50 latency and highest throughput over each backend\'s best successful bench row (offline/single-stream), runner-up below. Cells that did not run are excluded and counted.');
    if (!D.winners.length) {
      s.append(noData('winner-matrix', 'Winner matrix', 'no successful bench rows.'));
    } else {
      const hws = uniq(D.winners.map((w) => w.hardware)).sort();
      const wm = el('div', { class: 'grid' });
      s.append(wm);
      for (const [metric, unit, title] of [['latency', 'ms', 'Minimum latency (p50)'], ['throughput', '/s', 'Maximum throughput']]) {
        const body = uniq(D.winners.map((w) => w.model)).sort().map((m) => el('tr', {}, [td(el('b', { text: m }))].concat(hws.map((h) => {
          const w = D.winners.find((x) => x.model === m && x.hardware === h);
          if (!w || !w[metric]) return td(el('span', { class: 'runner', text: w && w.excluded ? 'no successful row (' + w.excluded + ' not run)' : '–' }));
          const e = w[metric], ru = w[metric + '_runner_up'];
          const cell = [el('div', { class: 'win' }, [el('span', { class: 'swatch', style: 'background:' + backendColor(e.backend) }),
            e.backend + ' ' + fmt(e.value, 4) + ' ' + unit]),
            el('div', { class: 'runner', text: e.precision + ', batch ' + e.batch_size })];
          if (e.unstable) cell[0].append(el('span', { class: 'badge warn', text: 'unstable' }));
          if (ru) {
            const r = el('div', { class: 'runner', text: 'runner-up: ' + ru.backend + ' ' + fmt(ru.value, 4) + ' ' + unit + ' (' + ru.precision + ', b' + ru.batch_size + ')' });
            if (w[metric + '_tie']) r.append(el('span', { class: 'badge info', text: 'tie' }));
            cell.push(r);
          } else {
            cell.push(el('div', { class: 'runner', text: 'runner-up: none (one backend)' }));
          }
          if (w.excluded) cell.push(el('div', { class: 'runner reason', text: w.excluded + ' cell(s) not run' }));
          return td(cell);
        }))));
        const card = el('div', { class: 'card', 'data-figure': 'winner-matrix-' + metric }, [el('h3', { text: title }),
          table(['model'].concat(hws), body)]);
        wm.append(card);
      }
      figures['winner-matrix'] = { charts: 0, nodata: false, table: true };
    }
  }

  // ---------- 4. memory ----------
  {
    const s = section('memory', 'Memory vs batch size', 'Peak host resident memory and peak GPU memory against batch size (Pochelu et al., Fig. 3).');
    const g = el('div', { class: 'grid' });
    s.append(g);
    for (const [id, field, title, what] of [['memory-rss', 'peak_rss_mb', 'Peak host memory (RSS)', 'peak_rss_mb'],
                                            ['memory-gpu', 'gpu_mem_peak_mb', 'Peak GPU memory', 'gpu_mem_peak_mb']]) {
      const all = benchRows.filter((r) => r.status === 'ok' && r[field] !== null);
      if (!all.length) { g.append(noData(id, title, 'no successful rows with ' + what + '.')); continue; }
      for (const hw of hardwareOf(all)) {
      const rs = all.filter((r) => r.hardware === hw);
      addTo(g, chartCard(id, title + ' · ' + hw, {
        type: 'scatter', data: { datasets: xyDatasets(groupBy(rs, (r) => seriesName(r, true)), (r) => log2(r.batch_size), (r) => r[field], { colorByModel: true }) },
        options: { scales: { x: log2Axis('batch size'), y: linAxis('MB', true) },
                   plugins: { tooltip: rowTooltip((r) => fmt(r[field], 4) + ' MB') } } }, UNSTABLE_NOTE));
      }
    }
  }

  // ---------- 5. power and energy ----------
  {
    const s = section('power', 'Power and energy', 'Average board power against throughput with a power-law fit P = a·x^b per hardware (least squares in log-log space; Pochelu et al., Fig. 4), and energy per inference.');
    const g = el('div', { class: 'grid' });
    s.append(g);
    const rs = ok.filter((r) => r.power_w !== null && r.throughput !== null);
    if (!rs.length) {
      g.append(noData('power-throughput', 'Power vs throughput', 'no successful rows with power_w (GPU rows measured with NVML).'));
    } else {
      const ds = xyDatasets(groupBy(rs, (r) => seriesName(r, true)), (r) => r.throughput, (r) => r.power_w, { colorByModel: true });
      ds.forEach((d) => { d.showLine = false; });
      const caption = [];
      for (const f of D.power_fits) {
        const xs = rs.filter((r) => r.hardware === f.hardware).map((r) => r.throughput);
        const lo = Math.min(...xs), hi = Math.max(...xs), pts = [];
        for (let i = 0; i <= 60; i++) { const x = lo * Math.pow(hi / lo, i / 60); pts.push({ x: x, y: f.a * Math.pow(x, f.b) }); }
        const text = 'P = ' + fmt(f.a, 4) + ' · x^' + fmt(f.b, 3);
        ds.push({ label: 'fit' + (multiHw ? ' ' + f.hardware : '') + ': ' + text, data: pts, showLine: true, pointRadius: 0,
                  borderColor: '#111827', borderDash: [5, 4], borderWidth: 1.5, backgroundColor: '#111827' });
        caption.push(el('div', {}, [el('b', { text: f.hardware + ': ' }), text + ' W, x in samples/s; b = ' + fmt(f.b, 3) +
          ', a = ' + fmt(f.a, 4) + ', R² (log space) = ' + fmt(f.r2, 3) + ', ' + f.n + ' points']));
      }
      if (!D.power_fits.length) caption.push('Not enough points for a fit (at least 3 per hardware).');
      addTo(g, chartCard('power-throughput', 'Power vs throughput', {
        type: 'scatter', data: { datasets: ds },
        options: { scales: { x: linAxis('samples / s', true), y: linAxis('power (W)', true) },
                   plugins: { tooltip: rowTooltip((r) => fmt(r.power_w, 4) + ' W at ' + fmt(r.throughput, 4) + ' /s') } } }, caption));
    }
    const es = ok.filter((r) => r.energy_j !== null || r.cpu_energy_j !== null);
    if (!es.length) {
      g.append(noData('energy', 'Energy per inference', 'no successful rows with energy_j_per_inference.'));
    } else {
      const energy = (r) => (r.energy_j !== null ? r.energy_j : r.cpu_energy_j) * 1000;
      for (const hw of hardwareOf(es)) addTo(g, chartCard('energy', 'Energy per inference · ' + hw, {
        type: 'scatter', data: { datasets: xyDatasets(groupBy(es.filter((r) => r.concurrency === null && r.hardware === hw),
          (r) => seriesName(r, true) + (r.energy_j === null ? ' (CPU RAPL)' : '')), (r) => log2(r.batch_size), energy, { colorByModel: true }) },
        options: { scales: { x: log2Axis('batch size'), y: linAxis('mJ per inference', true) },
                   plugins: { tooltip: rowTooltip((r) => fmt(energy(r), 4) + ' mJ/inference') } } }, 'Against batch size. GPU board energy (NVML) where measured, else CPU package energy (RAPL).'));
    }
  }

  // ---------- 6. load time ----------
  {
    const s = section('load', 'Load time', 'Model load (read + compile) in a fresh process (cold) and with warm file caches (cached), and the first inference after loading (Pochelu et al., Table 3).');
    const seen = new Map();
    for (const r of rows) {
      if (r.load_cold_s === null && r.load_cached_s === null) continue;
      const k = [r.hardware, r.model, r.backend, r.device, r.precision].join('|');
      if (!seen.has(k)) seen.set(k, r);
    }
    if (!seen.size) {
      s.append(noData('load-time', 'Load time', 'no rows with load_s.'));
    } else {
      const list = [...seen.values()].sort((a, b) => (a.model + a.backend + a.device + a.precision).localeCompare(b.model + b.backend + b.device + b.precision));
      s.append(el('div', { 'data-figure': 'load-time' }, table(['model', 'backend', 'device', 'precision'].concat(multiHw ? ['hardware'] : [], ['cold s', 'cached s', 'first inference ms']),
        list.map((r) => el('tr', {}, [td(r.model), td(r.backend), td(r.device), td(r.precision)].concat(multiHw ? [td(r.hardware)] : [],
          [num(r.load_cold_s), num(r.load_cached_s), num(r.first_inference_ms)]))))));
      figures['load-time'] = { charts: 0, nodata: false, table: true };
    }
  }

  // ---------- 7. precision speed-up ----------
  {
    const s = section('precision', 'Reduced precision speed-up', 'Throughput of fp16/bf16/int8 over fp32 for the same model, backend, device and batch (Ulker et al., Fig. 6). Parity error of the reduced-precision row in the tooltip.');
    if (!D.speedups.length) {
      s.append(noData('speedup', 'Speed-up over fp32', 'no pair of successful fp32 and reduced-precision rows of the same cell.'));
    } else {
      const g = el('div', { class: 'grid' });
      s.append(g);
      for (const hw of uniq(D.speedups.map((x) => x.hardware)).sort()) {
        const sp = D.speedups.filter((x) => x.hardware === hw);
        const ds = [];
        for (const [name, xs] of groupBy(sp, (x) => x.model + ' · ' + x.backend + ' · ' + x.device + ' · ' + x.precision)) {
          const c = color(xs[0].backend + '/' + xs[0].device + '/' + xs[0].model);
          ds.push({ label: name, showLine: true, borderColor: c, backgroundColor: c, borderWidth: 1.8, pointRadius: 3, borderDash: dash(xs[0].precision),
                    data: xs.map((x) => ({ x: log2(x.batch_size), y: x.speedup, sp: x })).sort((a, b) => a.x - b.x) });
        }
        const xsAll = sp.map((x) => log2(x.batch_size));
        ds.push({ label: 'fp32 = 1×', data: [{ x: Math.min(...xsAll), y: 1 }, { x: Math.max(...xsAll), y: 1 }], showLine: true, pointRadius: 0,
                  borderColor: '#111827', borderDash: [4, 4], borderWidth: 1 });
        const tip = { callbacks: { label: (ctx) => {
          const x = ctx.raw.sp;
          return x ? ctx.dataset.label + ' b' + x.batch_size + ': ' + fmt(x.speedup) + '× (' + fmt(x.throughput, 4) + ' vs ' + fmt(x.fp32_throughput, 4) + ' /s fp32; parity max abs ' + fmt(x.max_abs_err, 2) + ')' : ctx.dataset.label;
        } } };
        addTo(g, chartCard('speedup', 'Speed-up over fp32 · ' + hw, {
          type: 'scatter', data: { datasets: ds },
          options: { scales: { x: log2Axis('batch size'), y: linAxis('× fp32 throughput', true) }, plugins: { tooltip: tip } } },
          'Throughput ratio against the fp32 row of the same cell; above the dashed line the reduced precision is faster.'));
      }
    }
  }

  // ---------- 8. end-to-end stages and concurrency ----------
  {
    const s = section('e2e', 'End-to-end breakdown and concurrency', 'Where the time of one request goes, stage by stage (AbouElhamayed et al., Fig. 6), and throughput, latency and queueing as concurrency grows (Fig. 5).');
    const g = el('div', { class: 'grid' });
    s.append(g);
    const st = ok.filter((r) => r.kind === 'e2e' && r.stages_ms.length);
    if (!st.length) {
      g.append(noData('stages', 'Stage breakdown', 'no successful e2e rows with stages_ms.'));
    } else {
      const ORDER = ['decode', 'preprocess', 'h2d', 'queue', 'infer', 'd2h'];
      const names = uniq(st.flatMap((r) => r.stages_ms.map((x) => x[0]))).sort((a, b) => (ORDER.indexOf(a) + 99 * (ORDER.indexOf(a) < 0)) - (ORDER.indexOf(b) + 99 * (ORDER.indexOf(b) < 0)));
      const labels = st.map((r) => r.model + ' · ' + r.backend + ' · ' + r.device + ' · ' + r.precision + ' · b' + r.batch_size);
      const SC = { decode: '#f59e0b', preprocess: '#10b981', h2d: '#6366f1', queue: '#9ca3af', infer: '#2563eb', d2h: '#a855f7' };
      const ds = names.map((n, i) => ({ label: n, backgroundColor: SC[n] || PALETTE[i % PALETTE.length],
        data: st.map((r) => { const x = r.stages_ms.find((y) => y[0] === n); return x ? x[1] : 0; }) }));
      addTo(g, chartCard('stages', 'Stage breakdown per request (ms)', {
        type: 'bar', data: { labels: labels, datasets: ds },
        options: { indexAxis: 'y', scales: { x: Object.assign(linAxis('ms', true), { stacked: true }), y: { stacked: true } } } },
        'Mean time per stage; bars add up to the end-to-end latency.', Math.max(260, labels.length * 30 + 90)));
    }
    const lr = rows.filter((r) => r.concurrency !== null);
    const lok = lr.filter((r) => r.status === 'ok');
    const cname = (r) => r.model + ' · ' + r.backend + ' · ' + r.device + ' · ' + r.precision + ' · b' + r.batch_size + (multiHw ? ' · ' + r.hardware : '');
    const conc = (r) => log2(r.concurrency);
    const figs = [
      ['concurrency-throughput', 'Throughput vs concurrency', (r) => r.throughput, 'samples / s', (r) => fmt(r.throughput, 4) + ' /s'],
      ['concurrency-latency', 'Latency (p50 solid, p99 dashed) vs concurrency', null, 'latency (ms)', (r) => 'p50 ' + fmt(r.latency.p50) + ' ms, p99 ' + fmt(r.latency.p99) + ' ms'],
      ['concurrency-queue', 'Queue time vs concurrency', (r) => { const q = r.stages_ms.find((x) => x[0] === 'queue'); return q ? q[1] : null; }, 'queue (ms)', (r) => 'queue ' + fmt((r.stages_ms.find((x) => x[0] === 'queue') || [0, null])[1]) + ' ms'],
    ];
    for (const [id, title, yFn, yTitle, tipFn] of figs) {
      if (!lok.length) { g.append(noData(id, title, 'no successful load rows with concurrency.')); continue; }
      let ds;
      if (yFn) {
        ds = xyDatasets(groupBy(lok, cname), conc, yFn, { colorByModel: true });
      } else {
        const p50 = xyDatasets(groupBy(lok, cname), conc, (r) => r.latency.p50, { colorByModel: true });
        const p99 = xyDatasets(groupBy(lok.filter((r) => r.valid.p99), cname), conc, (r) => r.latency.p99, { colorByModel: true });
        p50.forEach((d) => { d.label += ' p50'; d.borderDash = []; });
        p99.forEach((d) => { d.label += ' p99'; d.borderDash = [6, 3]; });
        ds = p50.concat(p99);
      }
      ds = ds.concat(notRunDataset(lr.filter((r) => r.status !== 'ok'), conc));
      if (!ds.some((d) => d.data.length)) { g.append(noData(id, title, 'the load rows carry no such values.')); continue; }
      addTo(g, chartCard(id, title, {
        type: 'scatter', data: { datasets: ds },
        options: { scales: { x: log2Axis('concurrent requests'), y: linAxis(yTitle, true) }, plugins: { tooltip: rowTooltip(tipFn) } } },
        id === 'concurrency-latency' ? 'p99 points computed from too few samples are left out. ' + UNSTABLE_NOTE : UNSTABLE_NOTE));
    }
  }

  // ---------- comparison ----------
  if (D.comparison) {
    const C = D.comparison;
    const s = section('comparison', 'Comparison',
      'Rows matched by cell_id. Ratios are new / base; a change beyond ' + fmt(C.threshold * 100) + '% (throughput down, or p50/p99 up) or a cell that stopped running is a regression. ' + C.regressions + ' regression(s), ' + C.improvements + ' improvement(s).');
    const matched = C.rows.filter((r) => r.throughput_ratio !== null && (r.regression || r.improvement)).sort((a, b) => a.throughput_ratio - b.throughput_ratio);
    const quiet = C.rows.filter((r) => r.throughput_ratio !== null).length - matched.length;
    if (!matched.length) {
      s.append(el('p', { text: 'No matched cell changed throughput beyond ±' + fmt(C.threshold * 100) + '%.' }));
    } else {
      addTo(s, chartCard('comparison', 'Throughput change (new / base − 1)', {
        type: 'bar', data: { labels: matched.map((r) => r.label), datasets: [{ label: 'throughput change %',
          data: matched.map((r) => (r.throughput_ratio - 1) * 100),
          backgroundColor: matched.map((r) => (r.regression ? '#dc2626' : r.improvement ? '#16a34a' : '#9ca3af')) }] },
        options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: linAxis('% change in throughput', false) } } },
        quiet + ' matched cell(s) within ±' + fmt(C.threshold * 100) + '% are in the table only.', Math.max(220, matched.length * 22 + 80)));
    }
    const rank = (r) => (r.regression ? 0 : r.improvement ? 1 : r.before && r.after ? 2 : 3);
    C.rows.sort((a, b) => rank(a) - rank(b) || a.label.localeCompare(b.label));
    const side = (x, f) => (x ? x[f] : null);
    s.append(table(['cell', 'base /s', 'new /s', 'throughput ratio', 'p50 base ms', 'p50 new ms', 'p50 ratio', 'p99 ratio', 'verdict'],
      C.rows.map((r) => el('tr', { class: r.regression ? 'regression' : r.improvement ? 'improvement' : '' }, [
        td(r.label), num(side(r.before, 'throughput'), 4), num(side(r.after, 'throughput'), 4), num(r.throughput_ratio),
        num(side(r.before, 'p50')), num(side(r.after, 'p50')), num(r.p50_ratio), num(r.p99_ratio),
        td([r.regression ? el('span', { class: 'badge bad', text: 'regression' }) : r.improvement ? el('span', { class: 'badge good', text: 'improved' }) : '', ' ' + r.note])])), { tall: true }));
  }

  // ---------- honesty: cells not run, all rows, machines, commands ----------
  {
    const s = section('failures', 'Cells that did not run', 'Every failed, unsupported or timed-out cell with the reason its producer recorded.');
    if (!notRun.length) {
      s.append(el('p', { text: 'All ' + rows.length + ' cells ran.' }));
    } else {
      s.append(el('div', { 'data-figure': 'failures' }, table(['cell', 'kind', 'status', 'reason', 'source'],
        notRun.map((r) => el('tr', {}, [td(r.label), td(r.kind), td(el('span', { class: 'badge bad', text: r.status })),
          td(r.error || '(no reason recorded)', 'reason'), td(el('code', { text: r.where }))])))));
    }
  }
  {
    const s = section('rows', 'All rows', 'Every row as measured. Underlined dotted percentiles come from fewer samples than they need (p90: 64, p99: 662, p99.9: 6,636) and are not trustworthy. Parity: error of the outputs against ' + (uniq(rows.map((r) => r.parity_reference).filter((x) => x))[0] || 'the reference') + '.');
    const pct = (r, p) => { const c = num(r.latency[p]); if (r.latency[p] !== null && !r.valid[p]) { c.classList.add('invalid'); c.title = 'too few samples for this percentile'; } return c; };
    const sorted = rows.slice().sort((a, b) => (a.model + a.kind + a.backend + a.device + a.precision).localeCompare(b.model + b.kind + b.backend + b.device + b.precision) || a.batch_size - b.batch_size || (a.concurrency || 0) - (b.concurrency || 0));
    const d = el('details', { open: '' }, [el('summary', { text: rows.length + ' rows' }),
      table(['model', 'kind', 'backend', 'device', 'prec', 'batch', 'thr', 'conc', 'scenario', 'status', 'samples/s', 'p50 ms', 'p90 ms', 'p99 ms', '#samples', 'max abs err', 'max rel err', 'source'],
        sorted.map((r) => el('tr', {}, [td(r.model), td(r.kind), td(r.backend), td(r.device), td(r.precision), num(r.batch_size), num(r.threads),
          td(r.concurrency === null ? '' : String(r.concurrency)), td(r.scenario),
          td([r.status === 'ok' ? 'ok' : el('span', { class: 'badge bad', text: r.status }), isUnstable(r) ? el('span', { class: 'badge warn', text: 'unstable' }) : null]),
          num(r.throughput, 4), num(r.latency.p50), pct(r, 'p90'), pct(r, 'p99'), num(r.samples, 6), num(r.max_abs_err, 2), num(r.max_rel_err, 2),
          td(el('code', { text: r.where }))])), { tall: true })]);
    s.append(d);
  }
  {
    const s = section('machines', 'Machines and versions', 'The hosts that produced these rows and the framework versions they ran.');
    const g = el('div', { class: 'grid' });
    s.append(g);
    const kv = (o) => table(['field', 'value'], Object.entries(o || {}).map(([k, v]) => el('tr', {}, [td(k), td(v === null ? '–' : typeof v === 'object' ? JSON.stringify(v) : String(v))])));
    const all = D.machines.concat(D.comparison ? D.comparison.base_machines.map((m) => Object.assign({ base: true }, m)) : []);
    for (const m of all) {
      const h = m.host || {};
      g.append(el('div', { class: 'card' }, [el('h3', { text: (m.base ? 'base: ' : '') + (h.hostname || 'unknown host') + (h.gpu ? ' · ' + h.gpu : '') }),
        kv(h), el('div', { style: 'height:8px' }), kv(m.versions)]));
    }
    const cs = section('commands', 'Commands', 'The commands that produced the rows, by run.');
    cs.append(table(['run', 'rows', 'command'], D.commands.map((c) => el('tr', {}, [td(el('code', { text: c.run_id || '–' })), num(c.rows), td(el('pre', { text: c.command || '(not recorded)' }))]))));
    if (D.warnings.length) {
      const ws = section('warnings', 'Input warnings', 'Lines that were skipped or replaced while reading the results files.');
      ws.append(el('ul', { class: 'warnings' }, D.warnings.map((w) => el('li', { text: w }))));
    }
  }
  app.append(el('footer', { text: 'Generated by optic report from ' + D.inputs.join(', ') + '. Charts: Chart.js ' + Chart.version + ', embedded; this page makes no network requests.' }));
  for (const make of pending) make();
})();
