// optic report page, part 3 of 5: the charts, one builder per section (R.build.*): throughput
// vs batch, latency vs throughput, memory, power and energy, precision speed-up, end-to-end
// stages and concurrency. Each line is one series as optic assigned it (row.series: backend,
// precision, backend options and, where needed, device, scenario, threads and run), so a line
// never joins measurements of two configurations or two runs.
(function (R) {
  'use strict';
  const {
    D, rows, el, fmt, uniq, log2, ok, multiHw, PALETTE, color, dash, seriesName, hardwareOf,
    groupBy, log2Axis, linAxis, xyDatasets, notRunDataset, rowTooltip, section, noData, chartCard,
    addTo, benchRows, models, UNSTABLE_NOTE,
  } = R;
  // ---------- 1. throughput vs batch, 2. latency vs throughput ----------
  R.build.throughput = function () {
    const s = section('throughput', 'Throughput vs batch size',
      'Samples per second against batch size (log2 axis), one chart per model and a line per configuration: backend, precision and backend options (e.g. +cuda_graph), with the run named where several runs measured the same configuration (Pochelu et al., Fig. 1-2). Red crosses at zero mark cells that did not run.');
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
  };
  R.build.latency = function () {
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
      // The Pareto front of the settings search (report/tuning.h), where the rows have one.
      const front = D.settings_gains.length && D.pareto.find((f) => f.model === m && f.hardware === hw);
      if (front && front.rows.length > 1) {
        ds.push({ label: 'Pareto front', showLine: true, borderColor: '#111', backgroundColor: '#111',
                  borderDash: [3, 3], pointRadius: 2, fill: false,
                  data: front.rows.map((id) => ({ x: rows[id].throughput, y: rows[id].latency.p50, row: id })) });
      }
      n++;
      addTo(g, chartCard('latency-throughput', m + ' · ' + hw, {
        type: 'scatter', data: { datasets: ds },
        options: { scales: { x: linAxis('samples / s', true), y: linAxis('p50 latency (ms)', true) },
                   plugins: { tooltip: rowTooltip((r) => fmt(r.throughput, 4) + ' /s, p50 ' + fmt(r.latency.p50) + ' ms') } } }, UNSTABLE_NOTE));
    }
    if (!n) g.append(noData('latency-throughput', 'Latency vs throughput', 'no successful bench rows with both latency and throughput.'));
  };
  // ---------- 4. memory ----------
  R.build.memory = function () {
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
  };

  // ---------- 5. power and energy ----------
  R.build.power = function () {
    const s = section('power', 'Power and energy', 'Average board power against throughput with a power-law fit P = a·x^b per hardware (least squares in log-log space; Pochelu et al., Fig. 4), and energy per inference.');
    const g = el('div', { class: 'grid' });
    s.append(g);
    const rs = ok.filter((r) => r.power_w !== null && r.throughput !== null);
    if (!rs.length) {
      g.append(noData('power-throughput', 'Power vs throughput', 'no successful rows with power_w (GPU rows measured with NVML).'));
    } else {
      const ds = xyDatasets(groupBy(rs, (r) => seriesName(r, true, true)), (r) => r.throughput, (r) => r.power_w, { colorByModel: true });
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
  };
  // ---------- 7. precision speed-up ----------
  R.build.precision = function () {
    const s = section('precision', 'Reduced precision speed-up', 'Throughput of fp16/bf16/int8 over fp32 for the same model, configuration (backend and options), device, batch and run (Ulker et al., Fig. 6). Agreement of the reduced-precision row with the fp32 reference (top-1/top-5, cosine, max abs error) in the tooltip.');
    if (!D.speedups.length) {
      s.append(noData('speedup', 'Speed-up over fp32', 'no pair of successful fp32 and reduced-precision rows of the same cell.'));
    } else {
      const g = el('div', { class: 'grid' });
      s.append(g);
      for (const hw of uniq(D.speedups.map((x) => x.hardware)).sort()) {
        const sp = D.speedups.filter((x) => x.hardware === hw);
        const ds = [];
        for (const [name, xs] of groupBy(sp, (x) => x.model + ' · ' + x.series)) {
          const c = color('speedup/' + xs[0].model + '/' + xs[0].series);
          ds.push({ label: name, showLine: true, borderColor: c, backgroundColor: c, borderWidth: 1.8, pointRadius: 3, borderDash: dash(xs[0].precision),
                    data: xs.map((x) => ({ x: log2(x.batch_size), y: x.speedup, sp: x })).sort((a, b) => a.x - b.x) });
        }
        const xsAll = sp.map((x) => log2(x.batch_size));
        ds.push({ label: 'fp32 = 1×', data: [{ x: Math.min(...xsAll), y: 1 }, { x: Math.max(...xsAll), y: 1 }], showLine: true, pointRadius: 0,
                  borderColor: '#111827', borderDash: [4, 4], borderWidth: 1 });
        const tip = { callbacks: { label: (ctx) => {
          const x = ctx.raw.sp;
          return x ? ctx.dataset.label + ' b' + x.batch_size + ': ' + fmt(x.speedup) + '× (' + fmt(x.throughput, 4) + ' vs ' + fmt(x.fp32_throughput, 4) + ' /s fp32; vs fp32: ' + (x.top1_agreement === null ? '' : 'top-1 ' + fmt(x.top1_agreement) + ', top-5 ' + fmt(x.top5_agreement) + ', ') + 'cosine ' + fmt(x.cosine_similarity, 4) + ', max abs ' + fmt(x.max_abs_err, 2) + ')' : ctx.dataset.label;
        } } };
        addTo(g, chartCard('speedup', 'Speed-up over fp32 · ' + hw, {
          type: 'scatter', data: { datasets: ds },
          options: { scales: { x: log2Axis('batch size'), y: linAxis('× fp32 throughput', true) }, plugins: { tooltip: tip } } },
          'Throughput ratio against the fp32 row of the same cell; above the dashed line the reduced precision is faster.'));
      }
    }
  };

  // ---------- 8. end-to-end stages and concurrency ----------
  R.build.e2e = function () {
    const s = section('e2e', 'End-to-end breakdown and concurrency', 'Where the time of one request goes, stage by stage (AbouElhamayed et al., Fig. 6), and throughput, latency and queueing as concurrency grows (Fig. 5).');
    const g = el('div', { class: 'grid' });
    s.append(g);
    const st = ok.filter((r) => r.kind === 'e2e' && r.stages_ms.length);
    if (!st.length) {
      g.append(noData('stages', 'Stage breakdown', 'no successful e2e rows with stages_ms.'));
    } else {
      const ORDER = ['decode', 'preprocess', 'h2d', 'queue', 'infer', 'd2h'];
      const names = uniq(st.flatMap((r) => r.stages_ms.map((x) => x[0]))).sort((a, b) => (ORDER.indexOf(a) + 99 * (ORDER.indexOf(a) < 0)) - (ORDER.indexOf(b) + 99 * (ORDER.indexOf(b) < 0)));
      const labels = st.map((r) => r.model + ' · ' + r.series + ' · b' + r.batch_size);
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
    const cname = (r) => seriesName(r, true, true) + ' · b' + r.batch_size;
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
  };
})(window.opticReport);
