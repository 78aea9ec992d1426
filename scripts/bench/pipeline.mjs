#!/usr/bin/env node
/**
 * Benchmark: Buildkite pipeline generation for 1000 generated recipes (target <= 3 s wall), plus the
 * Buildkite-schema check and the lints on the result. Imports the BUILT package (packages/pipeline/dist)
 * (run `npx tsc --build packages/pipeline/tsconfig.lib.json` first).
 *
 * Usage: node scripts/bench/pipeline.mjs [--recipes N] [--schema PATH]
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '../..');
// The built package by path: the root workspace is not an Nx project that may depend on libraries.
const { createSchemaValidator, generatePipeline, lintPipeline } = await import(pathToFileURL(resolve(root, 'packages/pipeline/dist/index.js')).href);
const { values } = parseArgs({ options: { recipes: { type: 'string', default: '1000' }, schema: { type: 'string' } } });
const count = Number(values.recipes);
const schemaPath = resolve(root, values.schema ?? '../shared/reference/buildkite/pipeline-schema.json');
const TARGET_MS = 3000;

const GPUS = ['H200', 'B200', 'MI300X', 'MI355X'];
function recipe(i) {
  const gpu = GPUS[i % GPUS.length];
  return [
    `name: bench-${i}-${gpu.toLowerCase()}`,
    `gpu: ${gpu}`,
    `num_gpus: ${1 + (i % 8)}`,
    'nightly: true',
    `timeout_in_minutes: ${60 + (i % 120)}`,
    'vllm:',
    `  model: org/model-${i}`,
    '  serve_args: >-',
    `    --tensor-parallel-size ${1 + (i % 8)}`,
    '    --trust-remote-code',
    'lm_eval:',
    '  tasks:',
    '    - name: gsm8k',
    '      num_fewshot: 5',
    ...(i % 3 === 0 ? ['bfcl:', '  test_categories: [simple_python, multiple]'] : []),
    'vllm_bench:',
    '  configs:',
    '    - name: 1k-in-1k-out',
    '      input_len: 1024',
    '      output_len: 1024',
    '      num_prompts: [64, 256]',
    '      max_concurrency: [16, 64]',
    '',
  ].join('\n');
}

const dir = mkdtempSync(join(tmpdir(), 'perf-eval-bench-pipeline-'));
try {
  mkdirSync(join(dir, 'workloads'));
  mkdirSync(join(dir, 'profiles'));
  cpSync(join(root, 'profiles/gpu_profiles.yaml'), join(dir, 'profiles/gpu_profiles.yaml'));
  for (let i = 0; i < count; i++) writeFileSync(join(dir, 'workloads', `bench_${String(i).padStart(5, '0')}.yaml`), recipe(i));
  const env = { VLLM_IMAGE: 'public.ecr.aws/q9t5s3a7/vllm-ci-postmerge-repo:0123456789abcdef0123456789abcdef01234567', MI355X_HF_CACHE_VOLUME: '{"persistentVolumeClaim":{"claimName":"hf"}}' };

  const t0 = performance.now();
  const generated = generatePipeline({ root: dir, env });
  const t1 = performance.now();
  const validator = createSchemaValidator(schemaPath);
  const t2 = performance.now();
  const schemaIssues = validator.validate(generated.pipeline);
  const t3 = performance.now();
  const lintIssues = lintPipeline(generated.pipeline, generated.lintContext);
  const t4 = performance.now();

  const rssMiB = (process.resourceUsage().maxRSS / 1024).toFixed(0);
  const ms = (a, b) => (b - a).toFixed(0);
  console.log(`pipeline generation, ${count} recipes -> ${generated.pipeline.steps.length} steps, ${(generated.yaml.length / 1024 / 1024).toFixed(1)} MiB YAML`);
  console.log(`  generate (load + validate recipes, steps, YAML): ${ms(t0, t1)} ms   (target <= ${TARGET_MS} ms: ${t1 - t0 <= TARGET_MS ? 'ok' : 'MISSED'})`);
  console.log(`  schema compile: ${ms(t1, t2)} ms; schema check (per step + document): ${ms(t2, t3)} ms, ${schemaIssues.length} issue(s)`);
  console.log(`  lints: ${ms(t3, t4)} ms, ${lintIssues.length} issue(s)${lintIssues.length ? ` (${lintIssues.map((issue) => issue.rule).join(', ')}: > 500 steps must be split into several uploads)` : ''}`);
  console.log(`  peak RSS: ${rssMiB} MiB`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
