// optic report page, part 2 of 5: page structure shared by the figures: sections with their
// table-of-contents entry, chart and "no data" cards, tables. Charts are created after the whole
// page is laid out (pending), so each canvas has its final size.
(function (R) {
  'use strict';
  const { D, rows, el, fmt, uniq, figures } = R;
  const toc = el('nav', { class: 'toc' });
  const main = el('main');

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

  Object.assign(R, {
    toc, main, section, noData, chartCard, pending, addTo, table, td, num, benchRows, models,
    UNSTABLE_NOTE,
  });
})(window.opticReport);
