import { PerfEvalError, ToolError, cancellationCategory } from '@perf-eval/util';
import type { PerfEvalErrorOptions, ToolRunContext } from '@perf-eval/util';

/** The driver exited non-zero or was killed by a signal. `fullMessage` appends the output tail. */
export class BfclFailedError extends ToolError {
  readonly bfclCategory: string;

  constructor(
    category: string,
    message: string,
    context: ToolRunContext,
    options: PerfEvalErrorOptions = {},
  ) {
    super('E_BFCL_FAILED', message, context, options);
    this.bfclCategory = category;
  }
}

/** The driver ran longer than `timeoutMs` and was killed (BFCL polls a dead server forever). */
export class BfclTimeoutError extends ToolError {
  readonly bfclCategory: string;
  readonly timeoutMs: number;

  constructor(
    category: string,
    timeoutMs: number,
    context: ToolRunContext,
    options: PerfEvalErrorOptions = {},
  ) {
    super(
      'E_BFCL_TIMEOUT',
      `bfcl ${category} timed out after ${timeoutMs / 1000}s and was killed (is the server still up?)`,
      context,
      options,
    );
    this.bfclCategory = category;
    this.timeoutMs = timeoutMs;
  }
}

/** The run was cancelled through the caller's AbortSignal; the driver was killed. */
export class BfclCancelledError extends ToolError {
  readonly bfclCategory: string;

  constructor(category: string, context: ToolRunContext, options: PerfEvalErrorOptions = {}) {
    super('E_BFCL_CANCELLED', `bfcl ${category} was cancelled`, context, {
      ...options,
      category: options.category ?? cancellationCategory(options.cause),
    });
    this.bfclCategory = category;
  }
}

/**
 * The driver exited 0 but a score file is missing: for a leaf, its exact score file; for a group,
 * at least one subcategory (the group overall is only computed when all are present, D3).
 */
export class BfclNoScoreError extends ToolError {
  readonly bfclCategory: string;
  /** Leaves without a score file. */
  readonly missing: readonly string[];
  /** The exact score-file paths that were looked for and not found. */
  readonly paths: readonly string[];

  constructor(
    category: string,
    missing: readonly string[],
    paths: readonly string[],
    context: ToolRunContext,
    options: PerfEvalErrorOptions = {},
  ) {
    const message =
      missing.length === 1 && missing[0] === category
        ? `[bfcl] no score found for ${category}: ${paths[0]} does not exist`
        : `[bfcl] no score found for ${category}: missing sub-category scores: ${missing.join(', ')} (looked for ${paths.join(', ')})`;
    super('E_BFCL_NO_SCORE', message, context, options);
    this.bfclCategory = category;
    this.missing = missing;
    this.paths = paths;
  }
}

/**
 * Every generated entry of the run failed during inference (server unreachable, tool schema
 * rejected, …): BFCL still exits 0 and scores 0.0, which would be published as a real score.
 */
export class BfclInferenceFailedError extends ToolError {
  readonly bfclCategory: string;
  readonly entries: number;
  readonly firstError: string;

  constructor(
    category: string,
    entries: number,
    firstError: string,
    context: ToolRunContext,
    options: PerfEvalErrorOptions = {},
  ) {
    super(
      'E_BFCL_INFERENCE_FAILED',
      `[bfcl] all ${entries} ${category} entries failed during inference: ${firstError}`,
      context,
      options,
    );
    this.bfclCategory = category;
    this.entries = entries;
    this.firstError = firstError;
  }
}

/** A BFCL score, result or CSV file (or the driver's `--check` output) cannot be parsed. */
export class BfclParseError extends PerfEvalError {
  readonly file: string | undefined;
  /** Up to 200 characters of the offending text. */
  readonly snippet: string;

  constructor(file: string | undefined, reason: string, snippet: string, options: PerfEvalErrorOptions = {}) {
    super('E_BFCL_PARSE', `cannot parse BFCL file ${file ?? '<text>'}: ${reason}`, options);
    this.file = file;
    this.snippet = snippet.slice(0, 200);
  }
}

/** A category that bfcl-eval 2026.3.23 does not know. */
export class BfclUnknownCategoryError extends PerfEvalError {
  readonly bfclCategory: string;

  constructor(category: string, expected = 'a BFCL category or group', options: PerfEvalErrorOptions = {}) {
    super('E_BFCL_UNKNOWN_CATEGORY', `unknown bfcl test category '${category}' (expected ${expected})`, {
      ...options,
      category: 'validation',
    });
    this.bfclCategory = category;
  }
}

/** The driver script could not be read from the package / SEA asset or written to the cache dir. */
export class BfclDriverUnavailableError extends PerfEvalError {
  readonly location: string;

  constructor(location: string, detail: string, options: PerfEvalErrorOptions = {}) {
    super('E_BFCL_DRIVER_UNAVAILABLE', `cannot provide bfcl_driver.py (${location}): ${detail}`, {
      ...options,
      category: 'preflight',
    });
    this.location = location;
  }
}

/** `bfcl_driver.py --check` failed: the python is not the BFCL venv's, or bfcl_eval is broken. */
export class BfclCheckError extends ToolError {
  constructor(message: string, context: ToolRunContext, options: PerfEvalErrorOptions = {}) {
    super('E_BFCL_CHECK', message, context, { ...options, category: 'preflight' });
  }
}
