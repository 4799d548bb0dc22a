// Browser test of the optic HTML report: generates reports from tests/fixtures with the real
// `optic report`, opens them in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; no browser download) and checks what a reader would see:
//   - no console errors or page errors, and no network request besides the file itself;
//   - every expected figure is a Chart.js chart with data points (Chart.instances);
//   - the winner matrix, load-time and failure tables exist; the failed cells' reasons appear;
//   - a report without GPU/e2e/load rows shows "No data for this figure" instead of charts;
//   - the report of the committed results (results/cpu, results/nvidia-h200/run-*) draws every
//     figure its rows have data for, and no line has two points at one x (a line zigzagging
//     between two backend configurations or two runs of the same cell).
// Usage: node report_browser_test.mjs OPTIC_BINARY SOURCE_DIR OUT_DIR
// Writes OUT_DIR/report.html, OUT_DIR/report.png (full page) and OUT_DIR/report_results.png;
// with OPTIC_UPDATE_SCREENSHOT=1 also SOURCE_DIR/docs/img/report.png (docs/report.md's picture,
// from the fixture) and SOURCE_DIR/docs/img/report-results.png (the README's, from results/).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [optic, srcArg, outArg] = process.argv.slice(2);
const src = srcArg && path.resolve(srcArg), out = outArg && path.resolve(outArg);
if (!optic || !src || !out) {
  console.error('usage: node report_browser_test.mjs OPTIC_BINARY SOURCE_DIR OUT_DIR');
  process.exit(2);
}
let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch (e) {
  console.error('playwright-core is not installed in tests/browser/node_modules: run scripts/setup.sh');
  process.exit(1);
}
const browserPath = process.env.OPTIC_CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(browserPath)) {
  console.error(`no Chromium at ${browserPath}: install Debian's chromium (scripts/setup.sh) or set OPTIC_CHROMIUM`);
  process.exit(1);
}
fs.mkdirSync(out, { recursive: true });

const failures = [];
function check(cond, what) {
  if (!cond) failures.push(what);
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
}

function report(inputs, html, extra) {
  // From the source dir with relative inputs, so the page names files as a user would.
  execFileSync(path.resolve(optic), ['report', ...inputs, '-o', html, '--quiet', ...(extra || [])], { stdio: 'inherit', cwd: src });
}

const fixture = 'tests/fixtures/results_fixture.jsonl';
const base = 'tests/fixtures/results_fixture_base.jsonl';
const full = path.join(out, 'report.html');
report([fixture], full, ['--compare', base, '--title', 'optic report (synthetic test fixture)']);
// A CPU-only subset: the figures without rows must say so.
const cpuOnly = path.join(out, 'cpu_only.jsonl');
fs.writeFileSync(cpuOnly, fs.readFileSync(path.join(src, fixture), 'utf8').split('\n')
  .filter((l) => l.includes('"fixture-cpu"') && l.includes('"kind": "bench"')).join('\n') + '\n');
const partial = path.join(out, 'report_cpu_only.html');
report([cpuOnly], partial);

// The committed results, as the README's command builds them.
// The CPU results and the H200 runs of 2026-11-22 (b: pipelined vs synchronous vs pageable; c: six
// models; e: CUDA graphs, torch_aoti, ensemble; f: end to end). Older runs are superseded.
const committedDirs = ['results/cpu', 'results/nvidia-h200/run-2026-11-22b',
  'results/nvidia-h200/run-2026-11-22c', 'results/nvidia-h200/run-2026-11-22e',
  'results/nvidia-h200/run-2026-11-22e/offline', 'results/nvidia-h200/run-2026-11-22f'];
const committed = committedDirs.filter((d) => fs.existsSync(path.join(src, d))).flatMap((d) =>
  fs.readdirSync(path.join(src, d)).filter((f) => f.endsWith('.jsonl')).sort().map((f) => d + '/' + f));
const resultsHtml = path.join(out, 'report_results.html');
if (committed.length) report(committed, resultsHtml, ['--title', 'optic report: committed CPU and H200 results']);

const userData = fs.mkdtempSync(path.join(os.tmpdir(), 'optic-chromium-'));
const context = await chromium.launchPersistentContext(userData, {
  executablePath: browserPath,
  headless: true,
  viewport: { width: 1440, height: 1000 },
  deviceScaleFactor: 1,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function open(file) {
  const page = await context.newPage();
  const errors = [], requests = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('request', (r) => { if (!r.url().startsWith('file://')) requests.push(r.url()); });
  await page.goto('file://' + file, { waitUntil: 'load' });
  await page.waitForFunction(() => document.querySelector('footer') !== null, null, { timeout: 15000 });
  return { page, errors, requests };
}

// Chart.instances (Chart.js 3: an object keyed by id) -> figure id, title and points per chart.
const chartsOf = (page) => page.evaluate(() => Object.values(Chart.instances).map((c) => ({
  figure: c.canvas.closest('[data-figure]').dataset.figure,
  title: c.canvas.getAttribute('aria-label'),
  points: c.data.datasets.reduce((n, d) => n + d.data.filter((p) => p !== null && p !== undefined).length, 0),
  drawn: c.getSortedVisibleDatasetMetas().reduce((n, m) => n + m.data.length, 0),
})));

try {
  const { page, errors, requests } = await open(full);
  check(errors.length === 0, 'no console errors' + (errors.length ? ': ' + errors.join(' | ') : ''));
  check(requests.length === 0, 'no network requests' + (requests.length ? ': ' + requests.join(' ') : ''));
  const charts = await chartsOf(page);
  const expected = ['throughput-batch', 'latency-throughput', 'memory-rss', 'memory-gpu', 'power-throughput',
                    'energy', 'speedup', 'stages', 'concurrency-throughput', 'concurrency-latency',
                    'concurrency-queue', 'comparison'];
  for (const id of expected) {
    const mine = charts.filter((c) => c.figure === id);
    check(mine.length > 0 && mine.every((c) => c.points > 0 && c.drawn > 0),
          `figure ${id}: ${mine.length} chart(s), points ${mine.map((c) => c.points).join(',')}`);
  }
  check(charts.filter((c) => c.figure === 'throughput-batch').length === 5, 'one throughput chart per model and hardware (5)');
  const nodata = await page.locator('.nodata').count();
  check(nodata === 0, `no "no data" notes with the full fixture (found ${nodata})`);
  const text = await page.evaluate(() => document.body.innerText);
  for (const reason of ['CUDA out of memory. Tried to allocate 1.50 GiB', 'has neither', 'cell exceeded --cell-timeout 120 s']) {
    check(text.includes(reason), `failed cell reason shown: "${reason}"`);
  }
  for (const id of ['winner-matrix-latency', 'winner-matrix-throughput', 'load-time', 'failures']) {
    const n = await page.locator(`[data-figure="${id}"] tbody tr`).count();
    check(n > 0, `table ${id} has ${n} rows`);
  }
  check(/P = [0-9.]+ · x\^0\.4/.test(text), 'power-law coefficients shown');
  check(text.includes('NVIDIA H100 80GB HBM3') && text.includes('1.29.0'), 'machine and versions shown');
  check(text.includes('optic bench --models resnet50,mobilenet_v2'), 'commands shown');
  check(await page.locator('tr.regression').count() > 0, 'regressions highlighted in the comparison');
  check(await page.locator('td.invalid').count() > 0, 'low-sample percentiles marked');
  check(await page.locator('.badge.warn', { hasText: 'unstable' }).count() > 0, 'unstable row marked');
  await page.screenshot({ path: path.join(out, 'report.png'), fullPage: true });
  if (process.env.OPTIC_UPDATE_SCREENSHOT === '1') {
    await page.screenshot({ path: path.join(src, 'docs/img/report.png'), fullPage: false });
    console.log('updated docs/img/report.png');
  }
  await page.close();

  const p2 = await open(partial);
  check(p2.errors.length === 0, 'CPU-only report: no console errors' + (p2.errors.length ? ': ' + p2.errors.join(' | ') : ''));
  const missing = await p2.page.evaluate(() => [...document.querySelectorAll('[data-figure]')]
    .filter((f) => f.querySelector('.nodata')).map((f) => f.dataset.figure));
  for (const id of ['memory-gpu', 'power-throughput', 'stages', 'concurrency-throughput']) {
    check(missing.includes(id), `CPU-only report: ${id} says "no data for this figure"`);
  }
  const c2 = await chartsOf(p2.page);
  check(c2.some((c) => c.figure === 'throughput-batch' && c.points > 0), 'CPU-only report: throughput chart drawn');
  await p2.page.screenshot({ path: path.join(out, 'report_cpu_only.png'), fullPage: true });

  if (committed.length) {
    const p3 = await open(resultsHtml);
    check(p3.errors.length === 0, 'results/ report: no console errors' + (p3.errors.length ? ': ' + p3.errors.join(' | ') : ''));
    // Which figures the rows have data for, from the page's own data.
    const need = await p3.page.evaluate(() => {
      const D = window.opticReport.data, rs = D.rows.filter((r) => r.status === 'ok');
      const bench = rs.filter((r) => r.kind === 'bench' && r.concurrency === null);
      return {
        'throughput-batch': bench.some((r) => r.throughput !== null),
        'latency-throughput': bench.some((r) => r.throughput !== null && r.latency.p50 !== null),
        'memory-rss': bench.some((r) => r.peak_rss_mb !== null),
        'memory-gpu': bench.some((r) => r.gpu_mem_peak_mb !== null),
        'power-throughput': rs.some((r) => r.power_w !== null && r.throughput !== null),
        'energy': rs.some((r) => r.energy_j !== null || r.cpu_energy_j !== null),
        'speedup': D.speedups.length > 0,
        'stages': rs.some((r) => r.kind === 'e2e' && r.stages_ms.length > 0),
        'concurrency-throughput': rs.some((r) => r.concurrency !== null),
      };
    });
    const c3 = await chartsOf(p3.page);
    for (const [id, has] of Object.entries(need)) {
      if (!has) continue;
      const mine = c3.filter((c) => c.figure === id);
      check(mine.length > 0 && mine.every((c) => c.points > 0 && c.drawn > 0),
            `results/ report: figure ${id} drawn (${mine.length} chart(s), points ${mine.map((c) => c.points).join(',')})`);
    }
    check(need['throughput-batch'] && need['speedup'], 'results/ report: the committed rows have bench and fp16/bf16 pairs');
    const zigzags = await p3.page.evaluate(() => Object.values(Chart.instances).flatMap((c) =>
      c.data.datasets.filter((d) => d.showLine && d.data.length > 1)
        .filter((d) => new Set(d.data.map((p) => p.x)).size !== d.data.length)
        .map((d) => c.canvas.getAttribute('aria-label') + ': ' + d.label)));
    check(zigzags.length === 0, 'results/ report: no line has two points at one x' + (zigzags.length ? ': ' + zigzags.join(' | ') : ''));
    const labels = await p3.page.evaluate(() => Object.values(Chart.instances).flatMap((c) => c.data.datasets.map((d) => d.label)));
    check(labels.some((l) => l.includes('+cuda_graph')), 'results/ report: backend options name their lines (+cuda_graph)');
    await p3.page.screenshot({ path: path.join(out, 'report_results.png'), fullPage: true });
    if (process.env.OPTIC_UPDATE_SCREENSHOT === '1') {
      await p3.page.setViewportSize({ width: 1400, height: 2600 });
      await p3.page.waitForTimeout(300);  // Chart.js redraws on resize
      await p3.page.screenshot({ path: path.join(src, 'docs/img/report-results.png'), fullPage: false });
      console.log('updated docs/img/report-results.png');
    }
  } else {
    console.log('skip: no committed results under results/');
  }
} finally {
  await context.close();
  fs.rmSync(userData, { recursive: true, force: true });
}
console.log(`screenshots in ${out}`);
if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
