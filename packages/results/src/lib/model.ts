/**
 * The long-format record model (spec verdicts.md §3): one record per (run, task, metric, repetition),
 * plus the run's identity and each task's config key. Comparisons only read this model, never files.
 */

export type TaskKind = 'bench' | 'lm_eval' | 'bfcl' | 'semantic_eval';
export type Better = 'higher' | 'lower';

/** Who ran what, where. Every field except `recipe`/`runId` is optional: upstream layouts record less. */
export interface RunIdentity {
  /** Stable id of this run within a history: build number, else start date, else the directory name. */
  runId: string;
  /** Workload (recipe) name. */
  recipe: string;
  /** sha256 of the recipe file, when `run` recorded it. */
  recipeHash?: string;
  model?: string;
  gpuKind?: string;
  gpuCount?: number;
  image?: string;
  imageDigest?: string;
  vllmCommit?: string;
  /** Canonical serve arguments (argv after `vllm serve <model>`), when recorded. */
  serveArgs?: string[];
  buildNumber?: string;
  buildUrl?: string;
  /** ISO date the run started. */
  date?: string;
  nightly?: boolean;
}

/** One measured task of a run: `bench:<run>`, `lm_eval:<task>`, `bfcl:<category>`, `semantic_eval:<name>`. */
export interface TaskInfo {
  task: string;
  kind: TaskKind;
  /** Canonical JSON of what must be equal for two runs of this task to be comparable. */
  configKey: string;
  /** Validity flags (failed requests, flags the bench wrote); non-empty → the task's values are `invalid`. */
  flags: string[];
  /** The file(s) the values came from, relative to the results directory (the evidence). */
  files: string[];
}

/** One value. `repetition` is 1-based for per-repetition files; `null` for the headline (aggregate or only) value. */
export interface MetricRecord {
  task: string;
  metric: string;
  repetition: number | null;
  value: number | null;
  better: Better;
  /** Standard error the tool reported (lm-eval `<metric>_stderr,<filter>`), or derived from a proportion and `n`. */
  stderr?: number;
  /** Sample count behind a proportion (accuracy). */
  n?: number;
}

/** Per-document correctness for one (task, metric): lm-eval samples files, BFCL per-entry scores. */
export interface SampleOutcomes {
  task: string;
  metric: string;
  /** doc id → correct. */
  outcomes: Map<string, boolean>;
  file: string;
}

export interface RunResults {
  /** Absolute path of the results directory, or of the history file the run came from. */
  source: string;
  identity: RunIdentity;
  tasks: TaskInfo[];
  records: MetricRecord[];
  samples: SampleOutcomes[];
  /** Files skipped with a reason (e.g. a samples line that is not JSON). */
  warnings: string[];
}

/** Headline value and per-repetition values of one (task, metric). */
export interface MetricSeries {
  task: string;
  metric: string;
  better: Better;
  /** The aggregate (median file) when present, else the median of the repetitions. */
  value: number | null;
  /** Repetition values when per-repetition files exist, else the single headline value. */
  values: number[];
  stderr?: number;
  n?: number;
}

/** Joins `task` and `metric` into one map key (a tab never occurs in either). */
export function seriesKey(task: string, metric: string): string {
  return `${task}\t${metric}`;
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Groups a run's records into one series per (task, metric), in first-seen order. */
export function seriesOf(records: readonly MetricRecord[]): Map<string, MetricSeries> {
  const out = new Map<string, MetricSeries & { headline?: number | null; reps: number[] }>();
  for (const record of records) {
    const key = seriesKey(record.task, record.metric);
    let series = out.get(key);
    if (!series) {
      series = {
        task: record.task,
        metric: record.metric,
        better: record.better,
        value: null,
        values: [],
        reps: [],
      };
      out.set(key, series);
    }
    if (record.repetition === null) {
      series.headline = record.value;
      if (record.stderr !== undefined) series.stderr = record.stderr;
      if (record.n !== undefined) series.n = record.n;
    } else if (record.value !== null && Number.isFinite(record.value)) {
      series.reps.push(record.value);
    }
  }
  const result = new Map<string, MetricSeries>();
  for (const [key, { headline, reps, ...series }] of out) {
    const value = headline !== undefined ? headline : median(reps);
    const values = reps.length > 0 ? reps : value !== null && Number.isFinite(value) ? [value] : [];
    result.set(key, { ...series, value, values });
  }
  return result;
}

/** Object keys sorted recursively, so equal configs give equal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
      return Object.fromEntries(
        Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    }
    return inner;
  });
}

const BENCH_HIGHER = /(throughput|goodput|tokens_per_s|_per_second)$/;
const BENCH_LOWER = /^(mean|median|p\d+(\.\d+)?)_(ttft|tpot|itl|e2el)_ms$/;

/**
 * Direction of a `vllm bench serve` key, or undefined for keys that are not compared (counts, std_*,
 * config echoes). Throughputs are better higher; TTFT/TPOT/ITL/E2EL mean, median and percentiles lower.
 */
export function benchMetricDirection(key: string): Better | undefined {
  if (BENCH_LOWER.test(key)) return 'lower';
  if (BENCH_HIGHER.test(key)) return 'higher';
  return undefined;
}
