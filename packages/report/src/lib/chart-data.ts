/**
 * The data behind every chart and table, derived from a `ReportData` without any rendering, so each
 * chart's numbers are unit-tested on their own. The tables under the charts print exactly these rows.
 */
import { accuracyInterval, type Interval } from './stats.js';
import type { ReportAccuracyResult, ReportAccuracyValue, ReportBenchResult, ReportPhase } from './types.js';

/** Relative change of `current` against `baseline` in percent; undefined when it is not defined. */
export function changePct(current: number | undefined, baseline: number | undefined): number | undefined {
  if (
    current === undefined ||
    baseline === undefined ||
    !Number.isFinite(current) ||
    !Number.isFinite(baseline) ||
    baseline === 0
  )
    return undefined;
  return ((current - baseline) / Math.abs(baseline)) * 100;
}

// ---------------------------------------------------------------------------------------------------
// Latency percentiles

export const LATENCY_METRICS = ['ttft', 'tpot', 'itl', 'e2el'] as const;
export type LatencyMetric = (typeof LATENCY_METRICS)[number];
export const LATENCY_PERCENTILES = [50, 90, 99] as const;

export interface LatencyRow {
  metric: LatencyMetric;
  /** 50, 90 or 99. */
  percentile: number;
  /** The bench JSON key the value came from (`median_ttft_ms` for p50, else `p<N>_<metric>_ms`). */
  key: string;
  value: number | undefined;
  baseline: number | undefined;
  changePct: number | undefined;
}

/** The bench JSON key of a percentile: p50 is the `median_*` field, which vllm always writes. */
function percentileValue(
  metrics: Readonly<Record<string, number>> | undefined,
  metric: LatencyMetric,
  percentile: number,
): { key: string; value: number | undefined } {
  const keys =
    percentile === 50 ? [`median_${metric}_ms`, `p50_${metric}_ms`] : [`p${percentile}_${metric}_ms`];
  for (const key of keys) {
    const value = metrics?.[key];
    if (typeof value === 'number' && Number.isFinite(value)) return { key, value };
  }
  return { key: keys[0] as string, value: undefined };
}

/**
 * TTFT, TPOT, ITL and E2EL at p50/p90/p99 — only the (metric, percentile) pairs the tool reported in
 * the new or the baseline result (p90 needs `--metric-percentiles`, E2EL `--percentile-metrics`).
 */
export function latencyRows(result: ReportBenchResult): LatencyRow[] {
  const rows: LatencyRow[] = [];
  for (const metric of LATENCY_METRICS) {
    for (const percentile of LATENCY_PERCENTILES) {
      const current = percentileValue(result.metrics, metric, percentile);
      const base = percentileValue(result.baseline, metric, percentile);
      if (current.value === undefined && base.value === undefined) continue;
      rows.push({
        metric,
        percentile,
        key: current.value !== undefined ? current.key : base.key,
        value: current.value,
        baseline: base.value,
        changePct: changePct(current.value, base.value),
      });
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------
// Throughput against concurrency

export interface ThroughputPoint {
  name: string;
  concurrency: number;
  outputThroughput: number | undefined;
  requestThroughput: number | undefined;
  baselineOutputThroughput: number | undefined;
  changePct: number | undefined;
}

export interface ThroughputCurve {
  group: string;
  points: ThroughputPoint[];
}

function num(metrics: Readonly<Record<string, number>> | undefined, key: string): number | undefined {
  const value = metrics?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Curves for groups with at least two distinct concurrencies (the concurrency-list recipes), by concurrency. */
export function throughputCurves(bench: readonly ReportBenchResult[]): ThroughputCurve[] {
  const groups = new Map<string, ReportBenchResult[]>();
  for (const result of bench) {
    if (result.concurrency === undefined) continue;
    groups.set(result.group, [...(groups.get(result.group) ?? []), result]);
  }
  const curves: ThroughputCurve[] = [];
  for (const [group, results] of groups) {
    if (new Set(results.map((r) => r.concurrency)).size < 2) continue;
    const points = results
      .map((r): ThroughputPoint => {
        const output = num(r.metrics, 'output_throughput');
        const baseline = num(r.baseline, 'output_throughput');
        return {
          name: r.name,
          concurrency: r.concurrency as number,
          outputThroughput: output,
          requestThroughput: num(r.metrics, 'request_throughput'),
          baselineOutputThroughput: baseline,
          changePct: changePct(output, baseline),
        };
      })
      .sort((a, b) => a.concurrency - b.concurrency);
    curves.push({ group, points });
  }
  return curves;
}

// ---------------------------------------------------------------------------------------------------
// Pareto view: output tokens/s per user against output tokens/s per GPU

export interface ParetoPoint {
  name: string;
  group: string;
  concurrency: number | undefined;
  /** `new` or `baseline`. */
  run: 'new' | 'baseline';
  tokensPerUser: number;
  tokensPerGpu: number;
  /** No other point of the same run is at least as good on both axes and better on one. */
  optimal: boolean;
}

/**
 * Per result: tokens/s/user = output_throughput / max_concurrency (each of the N concurrent users
 * gets an equal share, as `vllm bench sweep plot_pareto` computes it), or 1000 / median TPOT when the
 * run had no concurrency bound; tokens/s/GPU = output_throughput / numGpus. Results without an
 * output throughput (or with 0, e.g. every request failed) have no point.
 */
export function paretoPoints(
  bench: readonly ReportBenchResult[],
  numGpus: number | undefined,
): ParetoPoint[] {
  const gpus = numGpus !== undefined && numGpus > 0 ? numGpus : 1;
  const points: ParetoPoint[] = [];
  const point = (
    r: ReportBenchResult,
    run: 'new' | 'baseline',
    metrics: Readonly<Record<string, number>> | undefined,
  ): void => {
    const output = num(metrics, 'output_throughput');
    if (output === undefined || output <= 0) return;
    const tpot = num(metrics, 'median_tpot_ms');
    const perUser =
      r.concurrency !== undefined && r.concurrency > 0
        ? output / r.concurrency
        : tpot !== undefined && tpot > 0
          ? 1000 / tpot
          : undefined;
    if (perUser === undefined) return;
    points.push({
      name: r.name,
      group: r.group,
      concurrency: r.concurrency,
      run,
      tokensPerUser: perUser,
      tokensPerGpu: output / gpus,
      optimal: false,
    });
  };
  for (const r of bench) point(r, 'new', r.metrics);
  for (const r of bench) if (r.baseline) point(r, 'baseline', r.baseline);
  for (const p of points) {
    p.optimal = !points.some(
      (q) =>
        q !== p &&
        q.run === p.run &&
        q.tokensPerUser >= p.tokensPerUser &&
        q.tokensPerGpu >= p.tokensPerGpu &&
        (q.tokensPerUser > p.tokensPerUser || q.tokensPerGpu > p.tokensPerGpu),
    );
  }
  return points;
}

// ---------------------------------------------------------------------------------------------------
// Accuracy with confidence intervals

export interface AccuracyRow {
  source: ReportAccuracyResult['source'];
  /** `task · metric` (BFCL: the category). */
  label: string;
  task: string;
  metric: string;
  value: number;
  interval: Interval | undefined;
  baseline: number | undefined;
  baselineInterval: Interval | undefined;
  /** Difference in points (new − baseline), 0–100 scale. */
  deltaPoints: number | undefined;
  /** |Δ| / √(se₁² + se₂²) when both standard errors are known (the dashboard's eval statistic). */
  z: number | undefined;
}

function standardError(value: ReportAccuracyValue): number | undefined {
  if (value.stderr !== undefined && value.stderr > 0) return value.stderr;
  if (value.n !== undefined && value.n > 0) return Math.sqrt((value.value * (1 - value.value)) / value.n);
  return undefined;
}

export function accuracyRows(accuracy: readonly ReportAccuracyResult[]): AccuracyRow[] {
  return accuracy.map((a) => {
    const se1 = standardError(a);
    const se2 = a.baseline ? standardError(a.baseline) : undefined;
    const delta = a.baseline ? a.value - a.baseline.value : undefined;
    const pooled = se1 !== undefined && se2 !== undefined ? Math.sqrt(se1 * se1 + se2 * se2) : undefined;
    return {
      source: a.source,
      label: a.source === 'bfcl' ? `BFCL ${a.task}` : a.metric ? `${a.task} · ${a.metric}` : a.task,
      task: a.task,
      metric: a.metric,
      value: a.value,
      interval: accuracyInterval(a),
      baseline: a.baseline?.value,
      baselineInterval: a.baseline ? accuracyInterval(a.baseline) : undefined,
      deltaPoints: delta === undefined ? undefined : delta * 100,
      z: delta !== undefined && pooled !== undefined && pooled > 0 ? Math.abs(delta) / pooled : undefined,
    };
  });
}

// ---------------------------------------------------------------------------------------------------
// Timeline

export interface TimelineRow {
  name: string;
  kind: string;
  /** Seconds since the earliest phase start. */
  startS: number;
  endS: number;
  durationS: number;
}

export interface Timeline {
  /** Epoch ms of the earliest start. */
  origin: number;
  rows: TimelineRow[];
  /** Phases left out: unparsable times or an end before the start. */
  invalid: string[];
}

function epochMs(value: string | number): number {
  return typeof value === 'number' ? value : Date.parse(value);
}

/** Phases as offsets from the first start, in start order; undefined when there is nothing to draw. */
export function timelineRows(phases: readonly ReportPhase[] | undefined): Timeline | undefined {
  if (!phases || phases.length === 0) return undefined;
  const valid: Array<{ phase: ReportPhase; start: number; end: number }> = [];
  const invalid: string[] = [];
  for (const phase of phases) {
    const start = epochMs(phase.start);
    const end = epochMs(phase.end);
    if (!Number.isFinite(start) || !Number.isFinite(end) || end < start) invalid.push(phase.name);
    else valid.push({ phase, start, end });
  }
  if (valid.length === 0) return { origin: 0, rows: [], invalid };
  const origin = Math.min(...valid.map((v) => v.start));
  const rows = valid
    .sort((a, b) => a.start - b.start || a.end - b.end)
    .map(({ phase, start, end }) => ({
      name: phase.name,
      kind: phase.kind,
      startS: (start - origin) / 1000,
      endS: (end - origin) / 1000,
      durationS: (end - start) / 1000,
    }));
  return { origin, rows, invalid };
}
