/**
 * Everything one report shows, as plain data. `assembleReportData` makes it from a results directory
 * (and a baseline); the renderer never reads files, so a report is a pure function of this value.
 */

/** Who and what ran. Every field is optional so a partial or failed run still renders. */
export interface ReportRunInfo {
  /** The recipe's `name` (names `results/<name>/`). */
  name: string;
  /** Recipe file, e.g. `workloads/qwen3_5_h200.yaml`. */
  recipe?: string | undefined;
  model?: string | undefined;
  /** GPU kind, e.g. `H200`. */
  gpu?: string | undefined;
  numGpus?: number | undefined;
  image?: string | undefined;
  vllmCommit?: string | undefined;
  /** Buildkite build URL (or any link to where the run happened). Only http(s) URLs become links. */
  buildUrl?: string | undefined;
  runtime?: string | undefined;
  variant?: string | undefined;
  /** `ok` | `failed` | `cancelled` | `running` (a run still in progress or killed hard). */
  status?: string | undefined;
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
  durationS?: number | undefined;
}

export interface ReportError {
  code: string;
  message: string;
  /** Last lines of the tool's output. */
  tail?: readonly string[] | undefined;
}

/** One task of the run (bench config, lm-eval task, BFCL category, semantic eval) and how it ended. */
export interface ReportTask {
  id: string;
  kind: string;
  name: string;
  status: string;
  durationS?: number | undefined;
  error?: ReportError | undefined;
  /** Why the task did not run. */
  reason?: string | undefined;
}

export interface ReportServer {
  status: string;
  readyAfterS?: number | undefined;
  error?: ReportError | undefined;
  diagnosis?: string | undefined;
}

/** One `vllm bench serve` result (the median aggregate when there were repetitions). */
export interface ReportBenchResult {
  /** Run name, e.g. `8k-in-1k-out-conc-128`. */
  name: string;
  /** Results that differ only in concurrency share a group (e.g. the config name `8k-in-1k-out`). */
  group: string;
  /** `max_concurrency` of the run; undefined for an unbounded run. */
  concurrency?: number | undefined;
  /** The numeric fields of the bench JSON as the tool wrote them (`median_ttft_ms`, `p99_itl_ms`, …). */
  metrics: Readonly<Record<string, number>>;
  /** The same fields from the baseline run, when one was given and had this run name. */
  baseline?: Readonly<Record<string, number>> | undefined;
}

export interface ReportAccuracyValue {
  /** 0–1. */
  value: number;
  /** Standard error as lm-eval reports it (`<metric>_stderr,<filter>`); absent or 0 when unknown. */
  stderr?: number | undefined;
  /** Number of scored samples, for a Wilson interval when there is no stderr. */
  n?: number | undefined;
}

/** One accuracy number: an lm-eval metric, a BFCL category, or the semantic eval. */
export interface ReportAccuracyResult extends ReportAccuracyValue {
  source: 'lm_eval' | 'bfcl' | 'semantic_eval';
  /** lm-eval task, BFCL category or semantic-eval name. */
  task: string;
  /** e.g. `exact_match,strict-match`, `accuracy`. */
  metric: string;
  baseline?: ReportAccuracyValue | undefined;
}

/** One row of the verdict table (from the verdicts package), already ordered worst first. */
export interface ReportVerdict {
  subject: string;
  metric: string;
  /** e.g. `regression`, `suspected`, `improvement`, `noise`, `unchanged`, `not comparable`. */
  verdict: string;
  baseline?: number | undefined;
  current?: number | undefined;
  /** Relative change in percent (new vs baseline). */
  changePct?: number | undefined;
  detail?: string | undefined;
}

/** A phase of the step (what the GPUs were doing), start/end as ISO strings or epoch milliseconds. */
export interface ReportPhase {
  name: string;
  /** e.g. `server`, `bench`, `lm_eval`, `bfcl`, `idle`. */
  kind: string;
  start: string | number;
  end: string | number;
}

/**
 * A reason not to trust a number: a task's validity flags from `@perf-eval/results` (failed requests,
 * flags the bench wrote), an unreadable result file. `invalid` results are left out of verdicts;
 * `warning` is shown only.
 */
export interface ReportValidityFlag {
  /** What the flag is about, e.g. `bench 8k-in-1k-out-conc-128`. */
  subject: string;
  /** e.g. `failed-requests`. */
  flag: string;
  message: string;
  severity: 'invalid' | 'warning';
}

export interface ReportData {
  run: ReportRunInfo;
  /** Identity of the baseline run, when one was given. */
  baseline?: ReportRunInfo | undefined;
  server?: ReportServer | undefined;
  tasks: readonly ReportTask[];
  bench: readonly ReportBenchResult[];
  accuracy: readonly ReportAccuracyResult[];
  verdicts?: readonly ReportVerdict[] | undefined;
  timeline?: readonly ReportPhase[] | undefined;
  /** Validity flags of the results, shown in their own section. */
  validity?: readonly ReportValidityFlag[] | undefined;
  /** ISO time the report was made (default: now). */
  generatedAt?: string | undefined;
}
