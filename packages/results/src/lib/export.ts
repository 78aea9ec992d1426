/**
 * Interop exports of a `RunResults`.
 *
 * PyTorch benchmark "v3" records: one metric per record with every repetition in
 * `metric.benchmark_values`, the shape vLLM's `convert_to_pytorch_benchmark_format` writes when
 * `SAVE_TO_PYTORCH_BENCHMARK_FORMAT=1` (`benchmark.name/extra_info`, `model.name`,
 * `metric.name/benchmark_values/extra_info`), plus the optional v3 fields `benchmark.mode`,
 * `model.backend` and `runners[]` (gpu kind and count) of the PyTorch OSS benchmark database.
 */
import { seriesOf, type RunResults } from './model.js';

export interface PytorchBenchmarkRecord {
  benchmark: { name: string; mode: 'inference'; extra_info: Record<string, unknown> };
  model: { name: string; backend: 'vllm' };
  metric: { name: string; benchmark_values: number[]; extra_info: Record<string, unknown> };
  runners: { name: string; type: string; gpu_count?: number }[];
}

function defined(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}

export function toPytorchBenchmarkV3(run: RunResults): PytorchBenchmarkRecord[] {
  const { identity } = run;
  const tasks = new Map(run.tasks.map((t) => [t.task, t]));
  const out: PytorchBenchmarkRecord[] = [];
  for (const series of seriesOf(run.records).values()) {
    const task = tasks.get(series.task);
    out.push({
      benchmark: {
        name: `perf-eval ${task?.kind ?? series.task.split(':')[0]}`,
        mode: 'inference',
        extra_info: defined({
          task: series.task,
          config: task ? JSON.parse(task.configKey) : undefined,
          flags: task?.flags.length ? task.flags : undefined,
          recipe: identity.recipe,
          recipe_hash: identity.recipeHash,
          run_id: identity.runId,
          vllm_commit: identity.vllmCommit,
          image: identity.image,
          image_digest: identity.imageDigest,
          serve_args: identity.serveArgs,
          build_number: identity.buildNumber,
          build_url: identity.buildUrl,
          date: identity.date,
          nightly: identity.nightly,
        }),
      },
      model: { name: identity.model ?? 'unknown', backend: 'vllm' },
      metric: {
        name: series.metric,
        benchmark_values: series.values,
        extra_info: defined({
          better: series.better,
          headline: series.value,
          stderr: series.stderr,
          n: series.n,
        }),
      },
      runners: identity.gpuKind
        ? [
            defined({
              name: identity.gpuKind,
              type: identity.gpuKind,
              gpu_count: identity.gpuCount,
            }) as PytorchBenchmarkRecord['runners'][number],
          ]
        : [],
    });
  }
  return out;
}

/** One JSON line per record (every repetition), each carrying the run's identity fields. */
export function toJsonl(run: RunResults): string {
  const { identity } = run;
  return run.records.map((record) => `${JSON.stringify({ ...identity, ...record })}\n`).join('');
}
