/**
 * ReportData built from the real tool outputs in ../shared/reference/fixtures (vllm bench serve JSON,
 * lm-eval results files), the way the CLI assembles it from a results directory.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ReportAccuracyResult, ReportBenchResult, ReportData } from '../src/index.js';

export const FIXTURES = resolve(import.meta.dirname, '../../../../shared/reference/fixtures');

export function readFixture<T = Record<string, unknown>>(...path: string[]): T {
  return JSON.parse(readFileSync(join(FIXTURES, ...path), 'utf8')) as T;
}

/** The numeric fields of a bench JSON, as the CLI passes them. */
export function numericFields(json: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(json))
    if (typeof value === 'number' && Number.isFinite(value)) out[key] = value;
  return out;
}

export const BENCH = numericFields(readFixture('vllm_bench', 'er0080_bench_serve_v0.25.1.json'));
export const SWEEP = numericFields(readFixture('vllm_bench', 'er0080_sweep_run0_openai_e2el.json'));
export const FAILED = numericFields(
  readFixture('vllm_bench', 'er0080_bench_serve_all_requests_failed_v0.25.1.json'),
);
export const LEGACY = numericFields(readFixture('vllm_bench', 'nv-action_serving_llama8B_tp1_1.json'));

interface LmEvalFile {
  results: Record<string, Record<string, unknown>>;
  'n-samples': Record<string, { effective: number }>;
}

/** Every `<metric>,<filter>` of an lm-eval results file, with its stderr (a number, or "N/A" → absent) and n. */
export function lmEvalAccuracy(file: string): ReportAccuracyResult[] {
  const doc = readFixture<LmEvalFile>('lm_eval', file);
  const out: ReportAccuracyResult[] = [];
  for (const [task, metrics] of Object.entries(doc.results)) {
    for (const [key, value] of Object.entries(metrics)) {
      if (typeof value !== 'number' || !key.includes(',') || key.includes('_stderr,')) continue;
      const [metric, filter] = key.split(',') as [string, string];
      const stderr = metrics[`${metric}_stderr,${filter}`];
      out.push({
        source: 'lm_eval',
        task,
        metric: key,
        value,
        ...(typeof stderr === 'number' ? { stderr } : {}),
        n: doc['n-samples'][task]?.effective,
      });
    }
  }
  return out;
}

export const GSM8K = 'akamaslabs_gsm8k_platinum_cot_llama_results_2026-10-08T12-45-17.743940.json';
export const IFEVAL = 'akamaslabs_ifeval_results_2026-10-08T12-48-42.913247.json';

/** Two concurrencies of one config (new), the baseline being the other fixture of the same tool version. */
export function benchResults(withBaseline: boolean): ReportBenchResult[] {
  return [
    {
      name: '32-in-16-out-conc-2',
      group: '32-in-16-out',
      concurrency: 2,
      metrics: BENCH,
      ...(withBaseline ? { baseline: SWEEP } : {}),
    },
    {
      name: '32-in-16-out-conc-4',
      group: '32-in-16-out',
      concurrency: 4,
      metrics: SWEEP,
      ...(withBaseline ? { baseline: BENCH } : {}),
    },
    { name: 'sharegpt-rate-1', group: 'sharegpt-rate-1', metrics: LEGACY },
  ];
}

export function reportData(withBaseline: boolean): ReportData {
  const accuracy = [...lmEvalAccuracy(GSM8K), ...lmEvalAccuracy(IFEVAL)].map((a) =>
    withBaseline
      ? {
          ...a,
          baseline: {
            value: Math.max(0, a.value - 0.02),
            ...(a.stderr !== undefined ? { stderr: a.stderr } : {}),
            ...(a.n !== undefined ? { n: a.n } : {}),
          },
        }
      : a,
  );
  accuracy.push({ source: 'bfcl', task: 'simple_python', metric: 'accuracy', value: 0.955, n: 400 });
  const start = Date.parse('2026-11-30T02:00:00Z');
  return {
    run: {
      name: 'opt-125m-h200',
      recipe: 'workloads/opt_125m_h200.yaml',
      model: 'facebook/opt-125m',
      gpu: 'H200',
      numGpus: 2,
      image: 'vllm/vllm-openai:nightly-0123456789abcdef',
      vllmCommit: '0123456789abcdef0123456789abcdef01234567',
      buildUrl: 'https://buildkite.com/vllm/perf-eval/builds/42',
      status: 'ok',
      startedAt: new Date(start).toISOString(),
      durationS: 900,
    },
    ...(withBaseline
      ? { baseline: { name: 'opt-125m-h200', status: 'ok', vllmCommit: 'fedcba9876543210' } }
      : {}),
    server: { status: 'stopped', readyAfterS: 41.2 },
    tasks: [
      {
        id: 'bench:32-in-16-out-conc-2',
        kind: 'bench',
        name: '32-in-16-out-conc-2',
        status: 'ok',
        durationS: 12,
      },
      {
        id: 'lm_eval:gsm8k_platinum_cot_llama',
        kind: 'lm_eval',
        name: 'gsm8k_platinum_cot_llama',
        status: 'ok',
        durationS: 300,
      },
    ],
    bench: benchResults(withBaseline),
    accuracy,
    timeline: [
      { name: 'server start', kind: 'server', start: start, end: start + 41_200 },
      { name: 'bench:32-in-16-out-conc-2', kind: 'bench', start: start + 41_200, end: start + 53_000 },
      {
        name: 'lm_eval:gsm8k',
        kind: 'lm_eval',
        start: new Date(start + 53_000).toISOString(),
        end: new Date(start + 353_000).toISOString(),
      },
    ],
    generatedAt: '2026-11-30T03:00:00.000Z',
  };
}
