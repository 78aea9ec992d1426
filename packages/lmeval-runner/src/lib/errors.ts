import { PerfEvalError, ToolError, cancellationCategory } from '@perf-eval/util';
import type { PerfEvalErrorOptions, ToolRunContext } from '@perf-eval/util';

/** `lm_eval` exited non-zero, timed out or was killed. `fullMessage` appends the output tail. */
export class LmEvalFailedError extends ToolError {
  readonly task: string;

  constructor(task: string, message: string, context: ToolRunContext, options: PerfEvalErrorOptions = {}) {
    super('E_LMEVAL_FAILED', message, context, options);
    this.task = task;
  }
}

/** The run was cancelled through the caller's AbortSignal; the process was killed. */
export class LmEvalCancelledError extends ToolError {
  readonly task: string;

  constructor(task: string, context: ToolRunContext, options: PerfEvalErrorOptions = {}) {
    super('E_LMEVAL_CANCELLED', `lm_eval ${task} was cancelled`, context, {
      ...options,
      category: options.category ?? cancellationCategory(options.cause),
    });
    this.task = task;
  }
}

/**
 * `lm_eval` exited 0 but this invocation created no `results_*.json` (lm-eval only logs
 * "Could not save results aggregated" and keeps exit code 0 when saving fails).
 */
export class LmEvalNoResultsError extends ToolError {
  readonly task: string;
  /** The directory that was searched: `<outputPath>/<sanitized model>`. */
  readonly directory: string;
  /** Results files this invocation created elsewhere under the output path (model name mismatch). */
  readonly strayResults: readonly string[];

  constructor(
    task: string,
    directory: string,
    strayResults: readonly string[],
    context: ToolRunContext,
    options: PerfEvalErrorOptions = {},
  ) {
    const hint =
      strayResults.length > 0
        ? ` (it wrote ${strayResults.join(', ')} instead: does modelName match model= in model_args?)`
        : '';
    super(
      'E_LMEVAL_NO_RESULTS',
      `lm_eval ${task} exited 0 but wrote no results_*.json under ${directory}${hint}`,
      context,
      options,
    );
    this.task = task;
    this.directory = directory;
    this.strayResults = strayResults;
  }
}

/** A results file is not valid JSON or lacks the `results` object. */
export class LmEvalParseError extends PerfEvalError {
  readonly file: string | undefined;
  /** Up to 200 characters around the offending position. */
  readonly snippet: string;

  constructor(file: string | undefined, reason: string, snippet: string, options: PerfEvalErrorOptions = {}) {
    super('E_LMEVAL_PARSE', `cannot parse lm_eval results ${file ?? '<text>'}: ${reason}`, options);
    this.file = file;
    this.snippet = snippet;
  }
}

/** The installed lm_eval task registry could not be listed, so task names cannot be validated. */
export class LmEvalTasksUnavailableError extends PerfEvalError {
  /** The underlying error, one line (Python exception or spawn error). */
  readonly detail: string;

  constructor(detail: string, options: PerfEvalErrorOptions = {}) {
    super('E_LMEVAL_TASKS_UNAVAILABLE', `cannot validate task names: lm_eval not importable (${detail})`, {
      ...options,
      category: 'preflight',
    });
    this.detail = detail;
  }
}

/** A recipe names a task the installed lm_eval does not know. */
export class LmEvalUnknownTaskError extends PerfEvalError {
  readonly task: string;
  readonly suggestions: readonly string[];
  /** The recipe path, when the caller supplied one (it prefixes the message). */
  readonly path: string | undefined;

  constructor(
    task: string,
    suggestions: readonly string[],
    path?: string,
    options: PerfEvalErrorOptions = {},
  ) {
    const prefix = path === undefined ? '' : `${path}: `;
    const hint = suggestions.length > 0 ? ` (did you mean '${suggestions[0]}'?)` : '';
    super('E_LMEVAL_UNKNOWN_TASK', `${prefix}unknown lm_eval task '${task}'${hint}`, {
      ...options,
      category: 'validation',
    });
    this.task = task;
    this.suggestions = suggestions;
    this.path = path;
  }
}
