import { resolve } from 'node:path';
import type { PerfMeta } from '../src/lib/perf-row.js';

/** A real `vllm bench serve` result (../shared/reference/fixtures), the bench file of the plan and re-ingest tests. */
export const BENCH_RESULT = resolve(
  import.meta.dirname,
  '../../../../shared/reference/fixtures/vllm_bench/er0080_bench_serve_v0.25.1.json',
);

/** The metadata of one benchmark (gpt-oss-120b on 4 H200 in bf16, 8k in / 1k out at concurrency 128), undated as in a plan whose rows a re-ingest dates. */
export const UNDATED_PERF_META: PerfMeta = {
  device: 'h200',
  tp: 4,
  precision: 'bf16',
  model: 'openai/gpt-oss-120b',
  isl: 8192,
  osl: 1024,
  conc: 128,
};

/** The same benchmark, dated. */
export const PERF_META: PerfMeta = { ...UNDATED_PERF_META, date: '2026-08-20 01:02:03' };
