import { PerfEvalError, ToolError, cancellationCategory } from '@perf-eval/util';
import type { PerfEvalErrorOptions, ToolRunContext } from '@perf-eval/util';

/** `dataset` is neither `random` nor `speed_bench` (upstream: status 2, workload aborted). */
export class BenchDatasetError extends PerfEvalError {
  readonly dataset: string;
  readonly runName: string;

  constructor(runName: string, dataset: string) {
    super('E_BENCH_DATASET', `unsupported vllm_bench dataset: ${dataset}`, { category: 'validation' });
    this.dataset = dataset;
    this.runName = runName;
  }
}

/** An extra `args` key collides with a flag the wrapper emits itself (recipe-compat §9.4). */
export class BenchReservedOptionError extends PerfEvalError {
  readonly option: string;
  readonly runName: string;

  constructor(runName: string, option: string) {
    super(
      'E_BENCH_RESERVED_OPTION',
      `vllm_bench run '${runName}' args cannot override wrapper-owned option --${option}`,
      { category: 'validation' },
    );
    this.option = option;
    this.runName = runName;
  }
}

/** A `BenchRunSpec` the CLI should never have built (bad repetitions, bad key, missing dir …). */
export class BenchSpecError extends PerfEvalError {
  readonly runName: string;
  readonly field: string;

  constructor(runName: string, field: string, detail: string) {
    super('E_BENCH_SPEC_INVALID', `vllm_bench run '${runName}': ${field} ${detail}`, {
      category: 'validation',
    });
    this.runName = runName;
    this.field = field;
  }
}

/** The result JSON cannot be parsed, is not an object, or lacks a required key. */
export class BenchResultInvalidError extends PerfEvalError {
  readonly file: string | undefined;
  readonly snippet: string | undefined;

  constructor(
    message: string,
    context: { file?: string | undefined; snippet?: string | undefined },
    options: PerfEvalErrorOptions = {},
  ) {
    super('E_BENCH_RESULT_INVALID', message, options);
    this.file = context.file;
    this.snippet = context.snippet;
  }
}

/** `vllm bench serve` exited 0 but the result file is not there. */
export class BenchResultMissingError extends PerfEvalError {
  readonly file: string;

  constructor(file: string, options: PerfEvalErrorOptions = {}) {
    super('E_BENCH_RESULT_MISSING', `vllm bench serve exited 0 but wrote no result file: ${file}`, options);
    this.file = file;
  }
}

/**
 * Requests failed or were not all completed (the bench still exits 0). The raw file is kept on disk;
 * `file` points at it.
 */
export class BenchIncompleteError extends PerfEvalError {
  readonly completed: number;
  readonly failed: number;
  readonly expected: number;
  readonly file: string | undefined;

  constructor(counts: { completed: number; failed: number; expected: number }, file?: string) {
    super(
      'E_BENCH_INCOMPLETE',
      `vllm bench serve incomplete: completed=${counts.completed} failed=${counts.failed} expected=${counts.expected}` +
        (file === undefined ? '' : ` (result kept at ${file})`),
    );
    this.completed = counts.completed;
    this.failed = counts.failed;
    this.expected = counts.expected;
    this.file = file;
  }
}

/** Median aggregation refused its inputs (recipe-compat §9.6, upstream `aggregate_perf.py` wording). */
export class BenchAggregateError extends PerfEvalError {
  readonly files: readonly string[];

  constructor(message: string, files: readonly string[]) {
    super('E_BENCH_AGGREGATE', message);
    this.files = files;
  }
}

/** `vllm bench serve` (or the `docker exec` around it) exited non-zero, was killed, or did not start. */
export class BenchFailedError extends ToolError {
  readonly runName: string;

  constructor(runName: string, message: string, context: ToolRunContext, options: PerfEvalErrorOptions = {}) {
    super('E_BENCH_FAILED', message, context, options);
    this.runName = runName;
  }
}

/** The per-repetition timeout elapsed; the process was terminated. */
export class BenchTimeoutError extends ToolError {
  readonly runName: string;
  readonly timeoutMs: number;

  constructor(
    runName: string,
    timeoutMs: number,
    message: string,
    context: ToolRunContext,
    options: PerfEvalErrorOptions = {},
  ) {
    super('E_BENCH_TIMEOUT', message, { ...context, timedOut: true }, options);
    this.runName = runName;
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's AbortSignal fired; the process was terminated. */
export class BenchCancelledError extends ToolError {
  readonly runName: string;

  constructor(runName: string, message: string, context: ToolRunContext, options: PerfEvalErrorOptions = {}) {
    super('E_BENCH_CANCELLED', message, context, {
      ...options,
      category: options.category ?? cancellationCategory(options.cause),
    });
    this.runName = runName;
  }
}

/** A `docker exec mkdir` / `docker cp` around the bench failed. */
export class BenchDockerError extends ToolError {
  constructor(message: string, context: ToolRunContext, options: PerfEvalErrorOptions = {}) {
    super('E_BENCH_DOCKER', message, context, options);
  }
}

/** SPEED-Bench data is absent and cannot be prepared here (offline, or python `datasets` missing). */
export class SpeedBenchOfflineError extends ToolError {
  readonly dir: string;
  readonly file: string;
  readonly reason: string;

  constructor(
    dir: string,
    file: string,
    reason: string,
    context: ToolRunContext,
    options: PerfEvalErrorOptions = {},
  ) {
    super(
      'E_BENCH_SPEED_BENCH_OFFLINE',
      `cannot prepare SPEED-Bench data (${reason}); pre-populate ${file} (or set VLLM_SPEED_BENCH_DIR to a directory that has it)`,
      context,
      { ...options, category: 'preflight' },
    );
    this.dir = dir;
    this.file = file;
    this.reason = reason;
  }
}

/** SPEED-Bench preparation failed for another reason (unknown subset, no rows for the category …). */
export class SpeedBenchPrepError extends ToolError {
  readonly dir: string;

  constructor(dir: string, message: string, context: ToolRunContext, options: PerfEvalErrorOptions = {}) {
    super('E_BENCH_SPEED_BENCH_PREP', message, context, options);
    this.dir = dir;
  }
}
