/**
 * The server's own view of a bench run: `/metrics` (Prometheus text format) sampled while the client
 * runs. vLLM (v1 engine, `vllm/v1/metrics/loggers.py`) and llm-d-inference-sim expose the same names;
 * counters carry a `_total` suffix in the exposition format. Gauges are summed over every series (one
 * per engine / data-parallel rank); counters are read as the difference between the first and the last
 * sample, so whatever the server did before the run does not count.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';

export const SERVER_METRIC_NAMES = {
  running: 'vllm:num_requests_running',
  waiting: 'vllm:num_requests_waiting',
  kvCacheUsage: 'vllm:kv_cache_usage_perc',
  prefixCacheQueries: 'vllm:prefix_cache_queries',
  prefixCacheHits: 'vllm:prefix_cache_hits',
  preemptions: 'vllm:num_preemptions',
} as const;

export interface MetricSample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function parseValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  return Number(text);
}

/** Samples of a Prometheus text exposition; comments, blank and malformed lines are skipped. */
export function parsePrometheusText(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) continue;
    const value = parseValue(match[4] as string);
    if (Number.isNaN(value) && match[4] !== 'NaN') continue;
    const labels: Record<string, string> = {};
    for (const label of (match[3] ?? '').matchAll(LABEL))
      labels[label[1] as string] = (label[2] as string).replace(/\\(.)/g, (_, c: string) =>
        c === 'n' ? '\n' : c,
      );
    samples.push({ name: match[1] as string, labels, value });
  }
  return samples;
}

/** One scrape reduced to the values perf-eval uses; `undefined` = the server does not expose it. */
export interface MetricsSnapshot {
  atMs: number;
  running?: number | undefined;
  waiting?: number | undefined;
  kvCacheUsage?: number | undefined;
  prefixCacheQueries?: number | undefined;
  prefixCacheHits?: number | undefined;
  preemptions?: number | undefined;
}

function sumOf(samples: readonly MetricSample[], name: string, counter: boolean): number | undefined {
  const names = counter ? [`${name}_total`, name] : [name];
  let total: number | undefined;
  for (const wanted of names) {
    for (const sample of samples) {
      if (sample.name !== wanted || !Number.isFinite(sample.value)) continue;
      total = (total ?? 0) + sample.value;
    }
    if (total !== undefined) return total;
  }
  return total;
}

export function snapshotOf(samples: readonly MetricSample[], atMs: number): MetricsSnapshot {
  return {
    atMs,
    running: sumOf(samples, SERVER_METRIC_NAMES.running, false),
    waiting: sumOf(samples, SERVER_METRIC_NAMES.waiting, false),
    kvCacheUsage: sumOf(samples, SERVER_METRIC_NAMES.kvCacheUsage, false),
    prefixCacheQueries: sumOf(samples, SERVER_METRIC_NAMES.prefixCacheQueries, true),
    prefixCacheHits: sumOf(samples, SERVER_METRIC_NAMES.prefixCacheHits, true),
    preemptions: sumOf(samples, SERVER_METRIC_NAMES.preemptions, true),
  };
}

export interface GaugeSummary {
  mean: number;
  peak: number;
}

/** Aggregates over one bench run; `null` where the server exposed no such metric. */
export interface ServerView {
  /** Successful scrapes. */
  samples: number;
  /** Scrapes from the first to the last one with a running or waiting request: the gauges' window. */
  activeSamples: number;
  /** Failed scrapes (timeouts, non-200), counted rather than fatal: the bench result stands on its own. */
  failedScrapes: number;
  durationS: number;
  running: GaugeSummary | null;
  waiting: GaugeSummary | null;
  /** Fraction 0–1 of the KV cache in use. */
  kvCacheUsage: GaugeSummary | null;
  /** Counter increase during the run (tokens for vLLM's prefix cache). */
  prefixCacheQueries: number | null;
  prefixCacheHits: number | null;
  /** hits / queries during the run; null without queries. */
  prefixCacheHitRate: number | null;
  preemptions: number | null;
  /** Metric names the server did not expose. */
  missing: string[];
}

function gauge(
  snapshots: readonly MetricsSnapshot[],
  key: 'running' | 'waiting' | 'kvCacheUsage',
): GaugeSummary | null {
  const values = snapshots.map((s) => s[key]).filter((v): v is number => v !== undefined);
  if (values.length === 0) return null;
  return { mean: values.reduce((a, b) => a + b, 0) / values.length, peak: Math.max(...values) };
}

function counterDelta(
  snapshots: readonly MetricsSnapshot[],
  key: 'prefixCacheQueries' | 'prefixCacheHits' | 'preemptions',
): number | null {
  const values = snapshots.map((s) => s[key]).filter((v): v is number => v !== undefined);
  if (values.length === 0) return null;
  // A counter only grows; a restart (smaller value) counts from zero again.
  let delta = 0;
  for (let i = 1; i < values.length; i++) {
    const step = (values[i] as number) - (values[i - 1] as number);
    delta += step >= 0 ? step : (values[i] as number);
  }
  return delta;
}

/**
 * Reduce the snapshots of one run. Gauges use the active window only — from the first to the last sample
 * with a running or waiting request — so the client's start-up (a Python process importing vLLM takes
 * seconds) and the idle moments after the last request do not dilute the mean. Without any load
 * metric the window is every sample.
 */
export function summarizeSnapshots(snapshots: readonly MetricsSnapshot[], failedScrapes = 0): ServerView {
  const busy = (s: MetricsSnapshot): boolean => (s.running ?? 0) + (s.waiting ?? 0) > 0;
  const hasLoadMetric = snapshots.some((s) => s.running !== undefined || s.waiting !== undefined);
  const first = snapshots.findIndex(busy);
  const last = snapshots.length - 1 - [...snapshots].reverse().findIndex(busy);
  const inner = !hasLoadMetric ? snapshots : first >= 0 ? snapshots.slice(first, last + 1) : snapshots;
  const activeSamples = hasLoadMetric && first >= 0 ? last - first + 1 : 0;
  const queries = counterDelta(snapshots, 'prefixCacheQueries');
  const hits = counterDelta(snapshots, 'prefixCacheHits');
  const firstSample = snapshots[0];
  const lastSample = snapshots[snapshots.length - 1];
  const missing = (Object.keys(SERVER_METRIC_NAMES) as (keyof typeof SERVER_METRIC_NAMES)[])
    .filter((key) => snapshots.every((s) => s[key] === undefined))
    .map((key) => SERVER_METRIC_NAMES[key]);
  return {
    samples: snapshots.length,
    activeSamples,
    failedScrapes,
    durationS: firstSample && lastSample ? (lastSample.atMs - firstSample.atMs) / 1000 : 0,
    running: gauge(inner, 'running'),
    waiting: gauge(inner, 'waiting'),
    kvCacheUsage: gauge(inner, 'kvCacheUsage'),
    prefixCacheQueries: queries,
    prefixCacheHits: hits,
    prefixCacheHitRate: queries !== null && hits !== null && queries > 0 ? hits / queries : null,
    preemptions: counterDelta(snapshots, 'preemptions'),
    missing,
  };
}

export interface MetricsSamplerOptions {
  /** Server base URL without trailing slash. */
  url: string;
  /** Default 1000 ms. */
  intervalMs?: number;
  /** Per-scrape timeout, default 2000 ms. */
  timeoutMs?: number;
  apiKey?: string;
  dispatcher?: Dispatcher;
  signal?: AbortSignal;
  now?: () => number;
}

export interface MetricsSampler {
  /** Take a last sample, stop, and summarise. Safe to call once; later calls return the same view. */
  stop(): Promise<ServerView>;
}

/**
 * Scrape `/metrics` at once and then every `intervalMs` until `stop()`. Scrape failures are counted, never
 * thrown: a run against a server without `/metrics` still produces its bench result.
 */
export function startMetricsSampler(options: MetricsSamplerOptions): MetricsSampler {
  const interval = Math.max(50, options.intervalMs ?? 1000);
  const timeout = options.timeoutMs ?? 2000;
  const now = options.now ?? Date.now;
  const ownAgent = options.dispatcher
    ? undefined
    : new Agent({ connect: { timeout }, keepAliveTimeout: interval * 2 });
  const dispatcher = options.dispatcher ?? (ownAgent as Agent);
  const halt = new AbortController();
  const onAbort = (): void => halt.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const snapshots: MetricsSnapshot[] = [];
  let failed = 0;

  const scrape = async (signal: AbortSignal): Promise<void> => {
    try {
      const response = await request(`${options.url}/metrics`, {
        dispatcher,
        headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
        headersTimeout: timeout,
        bodyTimeout: timeout,
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeout)]),
      });
      const body = await response.body.text();
      // A metrics page is a few hundred KB at most; anything else is not a vLLM server.
      if (response.statusCode !== 200 || body.length > 8 * 1024 * 1024) {
        failed++;
        return;
      }
      snapshots.push(snapshotOf(parsePrometheusText(body), now()));
    } catch {
      if (!signal.aborted) failed++;
    }
  };

  const loop = (async () => {
    await scrape(halt.signal);
    while (!halt.signal.aborted) {
      try {
        await sleep(interval, undefined, { signal: halt.signal });
      } catch {
        break;
      }
      await scrape(halt.signal);
    }
  })();

  let result: Promise<ServerView> | undefined;
  return {
    stop(): Promise<ServerView> {
      result ??= (async () => {
        halt.abort();
        await loop;
        // The last sample closes the counter deltas; it gets its own timeout, not the stopped loop's signal.
        if (!options.signal?.aborted) await scrape(new AbortController().signal);
        options.signal?.removeEventListener('abort', onAbort);
        await ownAgent?.close();
        return summarizeSnapshots(snapshots, failed);
      })();
      return result;
    },
  };
}
