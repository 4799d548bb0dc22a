// optic report page, part 4 of 5: the tables, one builder per section (R.build.*): winner
// matrix, load time, comparison, cells that did not run, all rows, machines and commands.
(function (R) {
  'use strict';
  const {
    D, rows, figures, el, fmt, uniq, ok, notRun, multiHw, backendColor, isUnstable, linAxis,
    section, noData, chartCard, addTo, table, td, num,
  } = R;
  // ---------- 3. winner matrix ----------
  R.build.winners = function () {
    const s = section('winners', 'Winner matrix',
      'Best framework per hardware and model (Ulker et al., Fig. 1 and 3): lowest p50 latency and highest throughput over each configuration\'s best successful bench row (offline/single-stream; a configuration is a backend with its backend options, so torch +cuda_graph competes with plain torch), runner-up below. Cells that did not run are excluded and counted. Rows out of their precision\'s parity limits (docs/architecture.md, "Parity") never win: they are excluded and counted; a winner without a parity verdict is marked "parity not checked".');
    if (!D.winners.length) {
      s.append(noData('winner-matrix', 'Winner matrix', 'no successful bench rows.'));
    } else {
      const hws = uniq(D.winners.map((w) => w.hardware)).sort();
      const wm = el('div', { class: 'grid' });
      s.append(wm);
      for (const [metric, unit, title] of [['latency', 'ms', 'Minimum latency (p50)'], ['throughput', '/s', 'Maximum throughput']]) {
        const body = uniq(D.winners.map((w) => w.model)).sort().map((m) => el('tr', {}, [td(el('b', { text: m }))].concat(hws.map((h) => {
          const w = D.winners.find((x) => x.model === m && x.hardware === h);
          if (!w || !w[metric]) return td(el('span', { class: 'runner', text: w && w.parity_excluded ? 'none within parity limits (' + w.parity_excluded + ' out of tolerance)' : w && w.excluded ? 'no successful row (' + w.excluded + ' not run)' : '–' }));
          const e = w[metric], ru = w[metric + '_runner_up'];
          const cell = [el('div', { class: 'win' }, [el('span', { class: 'swatch', style: 'background:' + backendColor(e.backend) }),
            e.config + ' ' + fmt(e.value, 4) + ' ' + unit]),
            el('div', { class: 'runner', title: e.where, text: e.precision + ', batch ' + e.batch_size })];
          if (e.unstable) cell[0].append(el('span', { class: 'badge warn', text: 'unstable' }));
          if (!e.parity_checked) cell[0].append(el('span', { class: 'badge warn', text: 'parity not checked', title: 'this row has no parity verdict (no reference, or written before optic judged parity)' }));
          if (ru) {
            const r = el('div', { class: 'runner', text: 'runner-up: ' + ru.config + ' ' + fmt(ru.value, 4) + ' ' + unit + ' (' + ru.precision + ', b' + ru.batch_size + ')' });
            if (w[metric + '_tie']) r.append(el('span', { class: 'badge info', text: 'tie' }));
            cell.push(r);
          } else {
            cell.push(el('div', { class: 'runner', text: 'runner-up: none (one configuration)' }));
          }
          if (w.excluded) cell.push(el('div', { class: 'runner reason', text: w.excluded + ' cell(s) not run' }));
          if (w.parity_excluded) cell.push(el('div', { class: 'runner reason', text: w.parity_excluded + ' row(s) out of parity tolerance, not counted' }));
          return td(cell);
        }))));
        const card = el('div', { class: 'card', 'data-figure': 'winner-matrix-' + metric }, [el('h3', { text: title }),
          table(['model'].concat(hws), body)]);
        wm.append(card);
      }
      figures['winner-matrix'] = { charts: 0, nodata: false, table: true };
    }
    // Backend x precision: each pair's best row per model; empty cells say why.
    const M = D.matrix;
    if (M && M.columns.length >= 2 && M.lines.length) {
      const part = (b, unit, win) => {
        const e = el('div', { class: win ? 'win' : 'runner', text: fmt(b.value, 4) + ' ' + unit + ' (b' + b.batch_size + (b.settings === 'defaults' ? '' : ' ' + b.settings) + ')' });
        if (b.unstable) e.append(el('span', { class: 'badge warn', text: 'unstable' }));
        return e;
      };
      const body = M.lines.map((l) => el('tr', {}, [td(l.hardware), td(el('b', { text: l.model }))].concat(l.cells.map((c, i) => {
        if (!c.throughput && !c.latency) return td(el('span', { class: 'runner reason', text: c.empty_status || '–', title: c.reason }));
        const cell = [];
        if (c.throughput) cell.push(part(c.throughput, '/s', i === l.best_throughput));
        if (c.latency) cell.push(part(c.latency, 'ms', i === l.best_latency));
        const also = [['timeout', c.timeout], ['failed', c.failed], ['out of parity', c.parity_excluded]].filter((x) => x[1]).map((x) => x[1] + ' ' + x[0]);
        if (also.length) cell.push(el('div', { class: 'runner reason', text: '+' + also.join(', ') }));
        return td(cell);
      }))));
      s.append(el('div', { class: 'card', 'data-figure': 'winner-matrix-backend-precision' }, [
        el('h3', { text: 'Backend x precision: best throughput and p50 latency per model (winner highlighted; hover an empty cell for its reason)' }),
        table(['hardware', 'model'].concat(M.columns.map((c) => c.backend + ' ' + c.precision)), body)]));
      figures['winner-matrix-backend-precision'] = { charts: 0, nodata: false, table: true };
    }
  };
  // ---------- 3b. settings search: tuned vs defaults ----------
  R.build.settings = function () {
    if (!D.settings_gains.length) return;  // no settings search in these rows
    const s = section('settings', 'Settings vs defaults',
      'Per cell, the backend\'s defaults (no backend options, every core) against the best configuration measured by the settings search (optic bench --tune-budget-s, docs/bench.md); the latency-throughput charts draw each model\'s Pareto front as a dashed black line.');
    const body = D.settings_gains.map((g) => el('tr', {}, [
      td(g.hardware), td(el('b', { text: g.model })), td(g.backend), td(g.device), td(g.precision),
      td(String(g.batch_size), 'num'), td(g.scenario), num(g.default_throughput, 4), td(g.best_config),
      num(g.best_throughput, 4), td(fmt(g.gain) + 'x', 'num'), td(String(g.configurations), 'num')]));
    s.append(el('div', { class: 'card', 'data-figure': 'settings-gain' }, [el('h3', { text: 'Best configuration per cell' }),
      table(['hardware', 'model', 'backend', 'device', 'precision', 'batch', 'scenario', 'defaults /s',
             'best configuration', 'best /s', 'gain', 'configurations'], body)]));
    figures['settings-gain'] = { charts: 0, nodata: false, table: true };
    if (D.settings_winners.length) {
      const wb = D.settings_winners.map((w) => el('tr', {}, [
        td(w.hardware), td(el('b', { text: w.model })), td(w.backend + ' ' + w.settings + ' (' + w.precision + ', b' + w.batch_size + ')'),
        num(w.throughput, 4), w.own_default_throughput ? num(w.own_default_throughput, 4) : td('–'),
        td(w.own_gain ? fmt(w.own_gain) + 'x' : '–', 'num'),
        td(w.best_default_backend ? w.best_default_backend + ' b' + w.best_default_batch + ' ' + fmt(w.best_default_throughput, 4) + '/s' : '–'),
        td(w.gain_over_best_default ? fmt(w.gain_over_best_default) + 'x' : '–', 'num')]));
      s.append(el('div', { class: 'card', 'data-figure': 'settings-winner' }, [el('h3', { text: 'Winner per model against the defaults' }),
        table(['hardware', 'model', 'winner', '/s', 'its defaults /s', 'gain', 'best defaults (any backend)', 'gain'], wb)]));
      figures['settings-winner'] = { charts: 0, nodata: false, table: true };
    }
  };
  // ---------- 6. load time ----------
  R.build.load = function () {
    const s = section('load', 'Load time', 'Model load (read + compile) in a fresh process (cold) and with warm file caches (cached), and the first inference after loading (Pochelu et al., Table 3).');
    const seen = new Map();
    for (const r of rows) {
      if (r.load_cold_s === null && r.load_cached_s === null) continue;
      const k = [r.hardware, r.model, r.series, r.device].join('|');
      if (!seen.has(k)) seen.set(k, r);
    }
    if (!seen.size) {
      s.append(noData('load-time', 'Load time', 'no rows with load_s.'));
    } else {
      const list = [...seen.values()].sort((a, b) => (a.model + a.series + a.device).localeCompare(b.model + b.series + b.device));
      s.append(el('div', { 'data-figure': 'load-time' }, table(['model', 'configuration', 'device'].concat(multiHw ? ['hardware'] : [], ['cold s', 'cached s', 'first inference ms']),
        list.map((r) => el('tr', {}, [td(r.model), td(r.series), td(r.device)].concat(multiHw ? [td(r.hardware)] : [],
          [num(r.load_cold_s), num(r.load_cached_s), num(r.first_inference_ms)]))))));
      figures['load-time'] = { charts: 0, nodata: false, table: true };
    }
  };
  // ---------- comparison ----------
  R.build.comparison = function () {
    if (!D.comparison) return;
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
  };

  // ---------- honesty: cells not run, all rows, machines, commands ----------
  R.build.failures = function () {
    const s = section('failures', 'Cells that did not run', 'Every failed, unsupported or timed-out cell with the reason its producer recorded.');
    if (!notRun.length) {
      s.append(el('p', { text: 'All ' + rows.length + ' cells ran.' }));
    } else {
      s.append(el('div', { 'data-figure': 'failures' }, table(['cell', 'kind', 'status', 'reason', 'source'],
        notRun.map((r) => el('tr', {}, [td(r.label), td(r.kind), td(el('span', { class: 'badge bad', text: r.status })),
          td(r.error || '(no reason recorded)', 'reason'), td(el('code', { text: r.where }))])))));
    }
  };
  R.build.rows = function () {
    const s = section('rows', 'All rows', 'Every row as measured. Underlined dotted percentiles come from fewer samples than they need (p90: 64, p99: 662, p99.9: 6,636) and are not trustworthy. Parity: error of the outputs against ' + (uniq(rows.map((r) => r.parity_reference).filter((x) => x))[0] || 'the reference') + '.' +
      (rows.some((r) => r.repeats > 1) ? ' A cell run several times (optic bench --repeat) is one row of medians; "repeats" gives how many and the spread, max/min throughput across them (above ' + fmt(1.1) + ': the repeats disagree by more than the 10% rule).' : ''));
    const pct = (r, p) => { const c = num(r.latency[p]); if (r.latency[p] !== null && !r.valid[p]) { c.classList.add('invalid'); c.title = 'too few samples for this percentile'; } return c; };
    const sorted = rows.slice().sort((a, b) => (a.model + a.kind + a.series + a.device).localeCompare(b.model + b.kind + b.series + b.device) || a.batch_size - b.batch_size || (a.concurrency || 0) - (b.concurrency || 0));
    const repeated = rows.some((r) => r.repeats > 1);
    const parityCell = (r) => {
      if (r.parity_pass === null) return td('–');
      const detail = 'cosine ' + fmt(r.cosine_similarity, 4) + (r.top1_agreement === null ? '' : ', top-1 ' + fmt(r.top1_agreement) + ', top-5 ' + fmt(r.top5_agreement));
      return r.parity_pass ? td(el('span', { title: detail, text: 'pass' })) : td(el('span', { class: 'badge bad', text: 'out of tolerance', title: r.parity_failure + ' (' + detail + ')' }));
    };
    const spreadCell = (r) => {
      if (!(r.repeats > 1)) return td('');
      const c = td(r.repeats + '× · ' + (r.repeat_spread === null ? '–' : fmt(r.repeat_spread)));
      if (r.repeat_spread !== null && r.repeat_spread > 1.1) c.append(el('span', { class: 'badge warn', text: 'spread' }));
      return c;
    };
    const d = el('details', { open: '' }, [el('summary', { text: rows.length + ' rows' }),
      table(['model', 'kind', 'backend', 'device', 'prec', 'batch', 'thr', 'conc', 'scenario', 'status', 'samples/s', 'p50 ms', 'p90 ms', 'p99 ms', '#samples'].concat(repeated ? ['repeats · spread'] : [], ['max abs err', 'max rel err', 'parity', 'source']),
        sorted.map((r) => el('tr', {}, [td(r.model), td(r.kind), td(r.config), td(r.device), td(r.precision), num(r.batch_size), num(r.threads),
          td(r.concurrency === null ? '' : String(r.concurrency)), td(r.scenario),
          td([r.status === 'ok' ? 'ok' : el('span', { class: 'badge bad', text: r.status }), isUnstable(r) ? el('span', { class: 'badge warn', text: 'unstable' }) : null,
            r.contended === true ? el('span', { class: 'badge warn', text: 'contended', title: 'other processes used ' + fmt(r.host_other_cpu) + ' cores during the timed phase' }) : null]),
          num(r.throughput, 4), num(r.latency.p50), pct(r, 'p90'), pct(r, 'p99'), num(r.samples, 6)].concat(repeated ? [spreadCell(r)] : [], [num(r.max_abs_err, 2), num(r.max_rel_err, 2), parityCell(r),
          td(el('code', { text: r.where }))]))), { tall: true })]);
    s.append(d);
  };
  R.build.machines = function () {
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
  };
})(window.opticReport);
