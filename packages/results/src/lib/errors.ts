import { PerfEvalError } from '@perf-eval/util';

/** The path given is not a readable results directory (or history file). Exit 2. */
export class ResultsDirError extends PerfEvalError {
  constructor(
    readonly path: string,
    problem: string,
    options: { cause?: unknown } = {},
  ) {
    super('E_RESULTS_DIR', `results ${path}: ${problem}`, { ...options, category: 'usage' });
  }
}

/** A result file inside a results directory is corrupt (not JSON, wrong shape). Exit 2. */
export class ResultsFileError extends PerfEvalError {
  constructor(
    readonly file: string,
    readonly field: string | undefined,
    problem: string,
    options: { cause?: unknown } = {},
  ) {
    super('E_RESULTS_FILE_INVALID', `result file ${file}${field ? ` (${field})` : ''}: ${problem}`, {
      ...options,
      category: 'validation',
    });
  }
}

/** A history file is corrupt or of an unknown version. Exit 2. */
export class HistoryFileError extends PerfEvalError {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    problem: string,
    options: { cause?: unknown } = {},
  ) {
    super('E_HISTORY_INVALID', `history ${file}${line !== undefined ? ` line ${line}` : ''}: ${problem}`, {
      ...options,
      category: 'validation',
    });
  }
}
