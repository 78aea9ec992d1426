/**
 * Can this bench result be trusted? Validity flags are computed from the client's result and, when it was
 * sampled, the server's own view of the run (`/metrics`). An `invalid` flag keeps the result out of
 * verdicts (it is still saved and shown); a `warning` is reported only.
 *
 * | code | severity | when | why |
 * |---|---|---|---|
 * | `failed-requests` | invalid | `failed > 0` | latencies and throughput describe a different workload than the one asked for |
 * | `warm-prefix-cache` | invalid | dataset `random` and prefix-cache hit rate > 1 % | random prompts share no prefixes; hits mean an earlier run's cache inflated throughput (vLLM 52884, 54227) |
 * | `client-bound` | invalid | `max_concurrency` set, at least 2 × that many prompts, mean running requests < 50 % of it, over at least 5 samples | the client, not the server, limited the load: the number measures the client |
 * | `preemptions` | warning | preemptions > 0 during the run | KV-cache pressure; real behaviour under load, but worth knowing when numbers move |
 *
 * The 1 % and 50 % thresholds are deliberately loose: they catch broken measurements, not small effects.
 * A run shorter than a few sampling intervals is not judged client-bound: with 1–4 samples the idle
 * moments around the first and last request dominate the mean.
 */

export type ValidityCode = 'failed-requests' | 'warm-prefix-cache' | 'client-bound' | 'preemptions';

export interface ValidityFlag {
  code: ValidityCode;
  severity: 'invalid' | 'warning';
  /** One line, with the numbers. */
  message: string;
  evidence: Record<string, number>;
}

/** What validity needs of the server's view (the shape of server-lifecycle's `ServerView`). */
export interface ServerLoadView {
  /** Successful `/metrics` samples behind the numbers; too few cannot judge the load (MIN_LOAD_SAMPLES). */
  samples?: number;
  running: { mean: number; peak: number } | null;
  prefixCacheQueries: number | null;
  prefixCacheHits: number | null;
  prefixCacheHitRate: number | null;
  preemptions: number | null;
}

export interface ValidityInput {
  /** From the bench result file. */
  result: {
    failed?: number | null;
    completed?: number | null;
    num_prompts?: number;
    max_concurrency?: number | null;
  };
  /** `--dataset-name` of the run (`random`, `sharegpt`, …). */
  datasetName: string | undefined;
  /** Absent when the server's metrics were not sampled (external server without /metrics, …). */
  server?: ServerLoadView | undefined;
}

export const WARM_CACHE_HIT_RATE = 0.01;
export const CLIENT_BOUND_FRACTION = 0.5;
export const MIN_LOAD_SAMPLES = 5;

export function validityFlags(input: ValidityInput): ValidityFlag[] {
  const flags: ValidityFlag[] = [];
  const { result, server } = input;
  const failed = result.failed ?? 0;
  if (failed > 0) {
    flags.push({
      code: 'failed-requests',
      severity: 'invalid',
      message: `${failed} of ${failed + (result.completed ?? 0)} requests failed`,
      evidence: { failed, completed: result.completed ?? 0 },
    });
  }
  if (!server) return flags;
  const hitRate = server.prefixCacheHitRate;
  if (input.datasetName === 'random' && hitRate !== null && hitRate > WARM_CACHE_HIT_RATE) {
    flags.push({
      code: 'warm-prefix-cache',
      severity: 'invalid',
      message: `prefix-cache hit rate ${(hitRate * 100).toFixed(1)} % on a random dataset (limit ${WARM_CACHE_HIT_RATE * 100} %): the cache was warm`,
      evidence: {
        prefixCacheHitRate: hitRate,
        prefixCacheHits: server.prefixCacheHits ?? 0,
        prefixCacheQueries: server.prefixCacheQueries ?? 0,
      },
    });
  }
  const target = result.max_concurrency ?? undefined;
  const prompts = result.num_prompts;
  const enoughSamples = (server.samples ?? MIN_LOAD_SAMPLES) >= MIN_LOAD_SAMPLES;
  if (
    enoughSamples &&
    target !== undefined &&
    target > 0 &&
    prompts !== undefined &&
    prompts >= 2 * target &&
    server.running !== null &&
    server.running.mean < CLIENT_BOUND_FRACTION * target
  ) {
    flags.push({
      code: 'client-bound',
      severity: 'invalid',
      message: `mean running requests ${server.running.mean.toFixed(1)} (peak ${server.running.peak}) against max_concurrency ${target} with ${prompts} prompts: the client limited the load`,
      evidence: {
        meanRunning: server.running.mean,
        peakRunning: server.running.peak,
        maxConcurrency: target,
        numPrompts: prompts,
      },
    });
  }
  if (server.preemptions !== null && server.preemptions > 0) {
    flags.push({
      code: 'preemptions',
      severity: 'warning',
      message: `${server.preemptions} preemptions during the run (KV-cache pressure)`,
      evidence: { preemptions: server.preemptions },
    });
  }
  return flags;
}
