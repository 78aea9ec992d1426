import { FileReadError, PerfEvalError, readRegularFileSync } from '@perf-eval/util';
import { formatDiagnostic, type Diagnostic } from './diagnostics.js';
import { MAX_YAML_BYTES } from './yaml11.js';

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
      first
        ? `${formatDiagnostic(first)}${diagnostics.length > 1 ? ` (+${diagnostics.length - 1} more)` : ''}`
        : `${file}: invalid recipe`,
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
    super(
      'E_PROFILE_INVALID',
      options.message ?? (first ? formatDiagnostic(first) : `${file}: invalid GPU profiles`),
      { category: 'validation', ...options },
    );
  }
}

/** The recipe file does not exist or cannot be read. */
export class RecipeNotFoundError extends PerfEvalError {
  constructor(
    readonly file: string,
    options: { cause?: unknown } = {},
  ) {
    super('E_RECIPE_NOT_FOUND', `not found: ${file}`, { category: 'usage', ...options });
  }
}

/** What to do about a recipe path that is not a readable regular file of sensible size. */
const RECIPE_READ_FIX: Record<string, string> = {
  'is-directory': "give a recipe file, or 'perf-eval validate DIR' to check every recipe in it",
  'not-regular-file': 'give a recipe file (YAML on disk)',
  'permission-denied': 'make it readable (chmod +r) or run as its owner',
  'not-a-directory': 'check the path',
  'too-large': 'a recipe is a few KB; check that this is the right file',
  unreadable: 'check the path',
};

/** The recipe path exists but is a directory, a FIFO or device, unreadable, or too large. */
export class RecipeReadError extends PerfEvalError {
  readonly problem: FileReadError['problem'];
  constructor(
    readonly file: string,
    cause: FileReadError,
  ) {
    super(
      'E_RECIPE_UNREADABLE',
      `cannot read recipe ${file}: ${cause.reason}; ${RECIPE_READ_FIX[cause.problem] ?? 'check the path'}`,
      { category: 'usage', cause },
    );
    this.problem = cause.problem;
  }
}

/**
 * Read a recipe file: only a regular file of at most `MAX_YAML_BYTES`, never blocking (a FIFO or
 * /dev/zero is refused, not read). Throws `RecipeNotFoundError` or `RecipeReadError`.
 */
export function readRecipeFile(path: string, shownAs = path): string {
  try {
    return readRegularFileSync(path, { maxBytes: MAX_YAML_BYTES });
  } catch (error) {
    if (!(error instanceof FileReadError)) throw error;
    if (error.problem === 'not-found') throw new RecipeNotFoundError(shownAs, { cause: error });
    throw new RecipeReadError(shownAs, error);
  }
}
