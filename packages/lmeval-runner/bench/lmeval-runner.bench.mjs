#!/usr/bin/env node
// Benchmarks for @perf-eval/lmeval-runner (build first: npx tsc --build packages/lmeval-runner/tsconfig.lib.json).
// Usage: node packages/lmeval-runner/bench/lmeval-runner.bench.mjs
// Optional: LMEVAL_PYTHON=/path/to/venv/bin/python also measures the real TaskManager listing (cold and cached).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkTaskNames, listLmEvalTasks, metricsOf, parseLmEvalResults, runLmEval } from '../dist/index.js';

const here = import.meta.dirname;
const fixtures = resolve(here, '../../../../shared/reference/fixtures/lm_eval');
const bin = resolve(here, '../test/fixtures/bin');
const work = mkdtempSync(join(tmpdir(), 'lmeval-bench-'));
const rows = [];
const report = (name, value, unit, target) =>
  rows.push({ name, value: `${value.toFixed(value < 10 ? 3 : 1)} ${unit}`, target });

async function time(fn, n) {
  const start = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  return (performance.now() - start) / n;
}

try {
  // 1. Results parsing + metrics.
  const texts = [
    'akamaslabs_gsm8k_platinum_cot_llama_results_2026-10-08T12-45-17.743940.json',
    'akamaslabs_ifeval_results_2026-10-08T12-48-42.913247.json',
  ].map((f) => readFileSync(join(fixtures, f), 'utf8'));
  const parseMs = await time((i) => {
    const r = parseLmEvalResults(texts[i % 2]);
    metricsOf(r, Object.keys(r.results)[0]);
  }, 2000);
  report('parse + metricsOf (fixture, 5–8 KB)', parseMs * 1000, 'µs/file', '< 1000 µs');

  // 2. Did-you-mean over a registry the size of lm-eval 0.4.13 (14 683 names).
  const known = new Set(Array.from({ length: 14683 }, (_, i) => `task_family_${i % 300}_variant_${i}`));
  known.add('gsm8k_platinum_cot_llama');
  const checkMs = await time(
    () => checkTaskNames(['gsm8k_platinum_cot_lama', 'ifevl', 'mmlu_pro_x', 'gsm8k', 'zzz'], known),
    5,
  );
  report('checkTaskNames, 5 unknown vs 14.7k known', checkMs, 'ms', '< 250 ms');

  // 3. runLmEval end to end with the fake lm_eval (spawn + discovery + parse).
  const env = { PATH: process.env.PATH ?? '' };
  const runMs = await time(
    (i) =>
      runLmEval(
        {
          task: 'gsm8k',
          numFewshot: 5,
          modelArgs: 'model=Qwen/Qwen3-8B,base_url=http://localhost:8000/v1/completions',
          outputPath: join(work, 'results', `r${i % 3}`),
          modelName: 'Qwen/Qwen3-8B',
        },
        { command: [join(bin, 'lm_eval')], env, print: () => undefined },
      ),
    20,
  );
  report('runLmEval with fake lm_eval (incl. node startup)', runMs, 'ms/run', '< 300 ms');

  // 4. Task listing from cache (one Python version query) with the fake python.
  const cacheDir = join(work, 'cache');
  await listLmEvalTasks({ python: join(bin, 'python-lmeval'), cacheDir, env });
  const cachedMs = await time(
    () => listLmEvalTasks({ python: join(bin, 'python-lmeval'), cacheDir, env }),
    10,
  );
  report('listLmEvalTasks cache hit (fake python)', cachedMs, 'ms', '< 200 ms');

  if (process.env.LMEVAL_PYTHON) {
    const realCache = join(work, 'real-cache');
    const cold = await time(
      () => listLmEvalTasks({ python: process.env.LMEVAL_PYTHON, cacheDir: realCache }),
      1,
    );
    report(
      'listLmEvalTasks cold (real lm-eval TaskManager)',
      cold / 1000,
      's',
      "none: lm-eval's own indexing (13-31 s seen), paid once per version",
    );
    const warm = await time(
      () => listLmEvalTasks({ python: process.env.LMEVAL_PYTHON, cacheDir: realCache }),
      3,
    );
    report('listLmEvalTasks cache hit (real python, 14.7k names)', warm, 'ms', '< 500 ms');
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const rssMb = process.resourceUsage().maxRSS / 1024;
report('peak RSS of this process', rssMb, 'MB', '< 150 MB');
for (const row of rows)
  console.log(`${row.name.padEnd(56)} ${row.value.padStart(14)}   target ${row.target}`);
