#!/usr/bin/env node
// `perf-eval compare` cost: (1) two results directories (8 bench runs × 3 repetitions, an lm-eval task
// with a 1,319-line samples file), (2) a results directory against a 1,000-run history.jsonl.
// Prints wall time and peak RSS next to the targets (≤ 1 s each).
// Usage: node packages/verdicts/bench/compare.mjs   (build first: npx nx run-many -t build -p @perf-eval/verdicts)
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { historyEntryOf, readBaseline, readResultsDir, renderHistory } from '@perf-eval/results';
import { compareRuns } from '../dist/index.js';

const TARGET_S = 1;
const FIXTURES = resolve(import.meta.dirname, '../../../../shared/reference/fixtures');
const bench = JSON.parse(
  await readFile(join(FIXTURES, 'vllm_bench/er0080_bench_serve_v0.25.1.json'), 'utf8'),
);
const lmEval = await readFile(
  join(FIXTURES, 'lm_eval/akamaslabs_gsm8k_platinum_cot_llama_results_2026-10-08T12-45-17.743940.json'),
  'utf8',
);
const DOCS = 1319;

async function resultsDir(root, name, scale, seed) {
  // Same directory name (= recipe) under different parents: the runs are of one recipe.
  const dir = join(root, name, 'demo');
  await mkdir(join(dir, 'gsm8k', 'm'), { recursive: true });
  for (let run = 0; run < 8; run++) {
    const values = [0, 1, 2].map((r) => ({
      ...bench,
      output_throughput: bench.output_throughput * scale * (1 + 0.01 * Math.sin(seed + run * 3 + r)),
    }));
    for (let r = 0; r < 3; r++)
      await writeFile(join(dir, `bench-run${run}-run-${r + 1}.json`), JSON.stringify(values[r]));
    await writeFile(join(dir, `bench-run${run}.json`), JSON.stringify(values[1]));
  }
  await writeFile(join(dir, 'gsm8k', 'm', 'results_2026-10-08T12-45-17.743940.json'), lmEval);
  let samples = '';
  for (let i = 0; i < DOCS; i++) {
    const right = (i * 7 + seed) % 20 !== 0;
    samples += `${JSON.stringify({ doc_id: i, doc: { question: `q${i} `.repeat(40) }, resps: [[`answer ${i} `.repeat(60)]], filter: 'strict-match', metrics: ['exact_match'], exact_match: right ? 1.0 : 0.0 })}\n`;
  }
  await writeFile(
    join(dir, 'gsm8k', 'm', 'samples_gsm8k_platinum_cot_llama_2026-10-08T12-45-17.743940.jsonl'),
    samples,
  );
  return dir;
}

function measure(label, seconds, extra) {
  const rss = process.memoryUsage().rss / 1024 / 1024;
  console.log(
    `${label}: ${seconds.toFixed(3)} s (target ≤ ${TARGET_S} s) ${seconds <= TARGET_S ? 'ok' : 'OVER TARGET'}; RSS ${rss.toFixed(0)} MB; ${extra}`,
  );
  return seconds <= TARGET_S;
}

const root = await mkdtemp(join(tmpdir(), 'perf-eval-compare-bench-'));
try {
  const base = await resultsDir(root, 'base', 1, 1);
  const fresh = await resultsDir(root, 'new', 0.9, 2);

  let started = process.hrtime.bigint();
  const comparison = compareRuns(await readResultsDir(base), await readResultsDir(fresh));
  const dirs = measure(
    'compare two results directories',
    Number(process.hrtime.bigint() - started) / 1e9,
    `${comparison.rows.length} rows, ${JSON.stringify(comparison.counts)}`,
  );

  // A 1,000-run history of the same recipe (every repetition of every series), then NEW against it.
  const template = historyEntryOf(await readResultsDir(base, { samples: false }));
  const entries = Array.from({ length: 1000 }, (_, i) => ({
    ...template,
    identity: { ...template.identity, runId: `build-${i}` },
    series: template.series.map((s) => ({
      ...s,
      value: s.value === null ? null : s.value * (1 + 0.01 * Math.sin(i)),
      ...(s.values ? { values: s.values.map((v) => v * (1 + 0.01 * Math.sin(i + 1))) } : {}),
    })),
  }));
  const historyFile = join(root, 'history.jsonl');
  await writeFile(historyFile, renderHistory(entries));
  const bytes = (await readFile(historyFile)).length;
  started = process.hrtime.bigint();
  const freshRun = await readResultsDir(fresh);
  const baseline = await readBaseline(historyFile, freshRun.identity.recipe);
  const againstHistory = compareRuns(baseline.run, freshRun, { history: baseline.history });
  const hist = measure(
    'compare against a 1,000-run history',
    Number(process.hrtime.bigint() - started) / 1e9,
    `history ${(bytes / 1024 / 1024).toFixed(1)} MB, ${againstHistory.rows.length} rows, ${JSON.stringify(againstHistory.counts)}`,
  );
  process.exitCode = dirs && hist ? 0 : 1;
} finally {
  if (!process.env.KEEP) await rm(root, { recursive: true, force: true });
  else console.log(root);
}
