import { PerfEvalError } from '@perf-eval/util';
import { formatDiagnostic, type Diagnostic } from './diagnostics.js';

/** One or more problems in a recipe; `diagnostics` holds every error of the file, in upstream order. */
export class RecipeInvalidError extends PerfEvalError {
  constructor(
    readonly file: string,
    readonly diagnostics: readonly Diagnostic[],
    readonly warnings: readonly Diagnostic[] = [],
  ) {
    const first = diagnostics[0];
    super(
      'E_RECIPE_INVALID',
      first ? `${formatDiagnostic(first)}${diagnostics.length > 1 ? ` (+${diagnostics.length - 1} more)` : ''}` : `${file}: invalid recipe`,
      { category: 'validation' },
    );
  }
}

/** The GPU profiles file is missing, unreadable or invalid. */
export class ProfileInvalidError extends PerfEvalError {
  constructor(
    readonly file: string,
    readonly diagnostics: readonly Diagnostic[],
    options: { cause?: unknown; message?: string } = {},
  ) {
    const first = diagnostics[0];
    super('E_PROFILE_INVALID', options.message ?? (first ? formatDiagnostic(first) : `${file}: invalid GPU profiles`), { ...options, category: 'validation' });
  }
}

/** The recipe file does not exist or cannot be read. */
export class RecipeNotFoundError extends PerfEvalError {
  constructor(
    readonly file: string,
    options: { cause?: unknown } = {},
  ) {
    super('E_RECIPE_NOT_FOUND', `not found: ${file}`, { ...options, category: 'usage' });
  }
}
