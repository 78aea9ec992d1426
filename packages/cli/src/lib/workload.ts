import {
  formatDiagnostic,
  loadRecipeFile,
  ProfileInvalidError,
  type ResolvedWorkload,
} from '@perf-eval/workload-schema';
import { writeLine, type Io } from './io.js';

/** Load one recipe for plan/run: profiles resolved as upstream, warnings printed to stderr. */
export function loadRecipe(file: string, io: Io, profilesFlag: string | undefined): ResolvedWorkload {
  let workload: ResolvedWorkload;
  try {
    workload = loadRecipeFile(file, { cwd: io.cwd, env: io.env, profilesPath: profilesFlag });
  } catch (error) {
    throw withProfilesFlagHint(error);
  }
  for (const warning of workload.warnings) writeLine(io.stderr, formatDiagnostic({ ...warning, file }));
  return workload;
}

/**
 * An unreadable profiles file, worded for the command line: workload-schema's message names its library
 * options, a CLI user sets `--profiles`. Other errors pass through unchanged.
 */
export function withProfilesFlagHint(error: unknown): unknown {
  if (!(error instanceof ProfileInvalidError) || error.diagnostics.length > 0 || error.cause === undefined)
    return error;
  // The cause is util's FileReadError: its reason says what the path is (not found, is a FIFO, …).
  const reason = (error.cause as { reason?: unknown }).reason;
  const what = typeof reason === 'string' ? reason : ((error.cause as NodeJS.ErrnoException).code ?? 'error');
  return new ProfileInvalidError(error.file, [], {
    cause: error.cause,
    message: `cannot read GPU profiles file ${error.file}: ${what}; pass --profiles PATH or set PERF_EVAL_PROFILES`,
  });
}
