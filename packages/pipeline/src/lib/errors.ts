import { PerfEvalError } from '@perf-eval/util';
import { formatDiagnostic, type Diagnostic } from '@perf-eval/workload-schema';

/** WORKLOADS named something that is not a recipe, or nothing is selected at all (exit 2). */
export class PipelineSelectionError extends PerfEvalError {
  constructor(
    code: 'E_PIPELINE_SELECTION_UNKNOWN' | 'E_PIPELINE_SELECTION_EMPTY' | 'E_PIPELINE_SELECTION_NO_FILES',
    message: string,
    readonly entry?: string,
    readonly closeMatches: readonly string[] = [],
  ) {
    super(code, message, { category: 'usage' });
  }
}

/** One or more selected recipes are invalid; `problems` holds every file's diagnostics (exit 2). */
export class PipelineRecipeError extends PerfEvalError {
  constructor(readonly problems: ReadonlyArray<{ file: string; diagnostics: readonly Diagnostic[] }>) {
    const first = problems[0]?.diagnostics[0];
    const total = problems.reduce((sum, problem) => sum + problem.diagnostics.length, 0);
    super(
      'E_PIPELINE_INVALID_RECIPES',
      `${problems.length} selected recipe(s) invalid; no pipeline generated${first ? `: ${formatDiagnostic(first)}${total > 1 ? ` (+${total - 1} more)` : ''}` : ''}`,
      { category: 'validation' },
    );
  }
}

/** A per-cluster override in the generator environment is malformed (`<GPU>_HF_CACHE_VOLUME`, D28). */
export class PipelineOverrideError extends PerfEvalError {
  constructor(
    readonly variable: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super('E_PIPELINE_INVALID_OVERRIDE', message, { ...options, category: 'validation' });
  }
}

export interface PipelineIssue {
  /** `schema` for JSON-schema errors, otherwise the lint rule id (`unique-key`, `queue`, …). */
  rule: string;
  /** Index of the step, or -1 for the document. */
  step: number;
  /** With several uploads (`checkUploads`): which one, 0-based. */
  upload?: number;
  message: string;
}

/** The generated (or given) pipeline fails the schema check or a lint (exit 2). */
export class PipelineInvalidError extends PerfEvalError {
  constructor(readonly issues: readonly PipelineIssue[]) {
    const first = issues[0];
    super(
      'E_PIPELINE_INVALID',
      `pipeline invalid: ${first ? first.message : 'unknown problem'}${issues.length > 1 ? ` (+${issues.length - 1} more)` : ''}`,
      { category: 'validation' },
    );
  }
}

/** The Buildkite schema file for `--validate` is missing or unreadable (exit 2). */
export class PipelineSchemaError extends PerfEvalError {
  constructor(
    readonly schemaPath: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super('E_PIPELINE_INVALID_SCHEMA', message, { ...options, category: 'validation' });
  }
}

/** A recipe's topology cannot be expressed as a step for its GPU profile (exit 2). */
export class PipelineTopologyError extends PerfEvalError {
  constructor(
    readonly file: string,
    readonly gpu: string,
    readonly runtime: string,
    readonly nodes: number,
    message: string,
  ) {
    super('E_PIPELINE_INVALID_TOPOLOGY', message, { category: 'validation' });
  }
}
