// Report size and render time: the demo recipe's shape; a large nightly (4 bench configs × 8 concurrencies
// with a baseline, 60 accuracy metrics, a 60-phase timeline — upstream recipes have 1–4 bench runs); and a
// stress case of 128 bench runs, far beyond any recipe (one latency chart per run).
// Usage: node bench/render.mjs   (after `tsc --build tsconfig.lib.json`)
import { performance } from 'node:perf_hooks';

const importStart = performance.now();
const { renderReport } = await import('../dist/index.js');
const importMs = performance.now() - importStart;

function bench(group, concurrency, scale) {
  const tput = 80 * concurrency ** 0.8 * scale;
  return {
    output_throughput: tput,
    request_throughput: tput / 16,
    total_token_throughput: tput * 5,
    completed: 20,
    failed: 0,
    num_prompts: 20,
    median_ttft_ms: 40 + concurrency * scale,
    p90_ttft_ms: 60 + concurrency,
    p99_ttft_ms: 90 + concurrency,
    median_tpot_ms: 5 + concurrency / 10,
    p90_tpot_ms: 6 + concurrency / 10,
    p99_tpot_ms: 7 + concurrency / 10,
    median_itl_ms: 5,
    p90_itl_ms: 6,
    p99_itl_ms: 9,
    median_e2el_ms: 200 + concurrency,
    p90_e2el_ms: 250,
    p99_e2el_ms: 300,
  };
}

function data({ configs, concurrencies, accuracy, phases, baseline }) {
  const t0 = Date.parse('2026-11-30T02:00:00Z');
  const results = [];
  for (let c = 0; c < configs; c++) {
    for (const conc of concurrencies) {
      results.push({
        name: `cfg${c}-conc-${conc}`,
        group: `cfg${c}`,
        concurrency: conc,
        metrics: bench(`cfg${c}`, conc, 1),
        ...(baseline ? { baseline: bench(`cfg${c}`, conc, 0.97) } : {}),
      });
    }
  }
  return {
    run: { name: 'bench-report', model: 'org/model', gpu: 'H200', numGpus: 8, status: 'ok' },
    ...(baseline ? { baseline: { name: 'bench-report' } } : {}),
    tasks: results.map((r) => ({
      id: `bench:${r.name}`,
      kind: 'bench',
      name: r.name,
      status: 'ok',
      durationS: 60,
    })),
    bench: results,
    accuracy: Array.from({ length: accuracy }, (_, i) => ({
      source: 'lm_eval',
      task: `task${i}`,
      metric: 'acc,none',
      value: 0.5 + (i % 40) / 100,
      stderr: 0.01,
      ...(baseline ? { baseline: { value: 0.49 + (i % 40) / 100, stderr: 0.01 } } : {}),
    })),
    timeline: Array.from({ length: phases }, (_, i) => ({
      name: `phase ${i}`,
      kind: i % 2 ? 'bench' : 'lm_eval',
      start: t0 + i * 60_000,
      end: t0 + i * 60_000 + 55_000,
    })),
    generatedAt: '2026-11-30T03:00:00Z',
  };
}

const row = (label, value, target) =>
  console.log(`${label.padEnd(52)} ${value.padStart(12)}   target ${target}`);
row('load @perf-eval/report (ECharts)', `${importMs.toFixed(0)} ms`, 'reported only (loaded on first use)');
for (const [label, shape, target] of [
  [
    'demo recipe (2 concurrencies, 3 accuracy rows)',
    { configs: 1, concurrencies: [2, 4], accuracy: 3, phases: 6, baseline: false },
    '≤ 2 MB',
  ],
  [
    'large nightly + baseline (32 runs, 60 metrics)',
    { configs: 4, concurrencies: [1, 2, 4, 8, 16, 32, 64, 128], accuracy: 60, phases: 60, baseline: true },
    '≤ 2 MB, < 10 s',
  ],
  [
    'stress: 128 runs + baseline',
    { configs: 16, concurrencies: [1, 2, 4, 8, 16, 32, 64, 128], accuracy: 60, phases: 200, baseline: true },
    'reported only',
  ],
]) {
  const input = data(shape);
  renderReport(input); // warm-up: first render compiles ECharts' code paths
  const start = performance.now();
  const html = renderReport(input);
  const ms = performance.now() - start;
  row(
    `${label}: size`,
    `${(Buffer.byteLength(html) / 1024).toFixed(0)} KiB`,
    target.split(', ')[0] ?? target,
  );
  row(`${label}: render`, `${ms.toFixed(0)} ms`, target.split(', ')[1] ?? 'reported only');
}
row('max RSS', `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`, 'reported only');
