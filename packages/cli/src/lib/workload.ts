import { resolve } from 'node:path';
import {
  defaultProfilesPath,
  formatDiagnostic,
  loadProfiles,
  loadWorkload,
  ProfileInvalidError,
  type GpuProfiles,
  type ResolvedWorkload,
} from '@perf-eval/workload-schema';
import { writeLine, type Io } from './io.js';

/** Load one recipe for plan/run: profiles resolved as upstream, warnings printed to stderr. */
export function loadRecipe(file: string, io: Io, profilesFlag: string | undefined): ResolvedWorkload {
  const absolute = resolve(io.cwd, file);
  const profilesPath = profilesFlag
    ? resolve(io.cwd, profilesFlag)
    : defaultProfilesPath(absolute, io.env, io.cwd);
  const workload = loadWorkload(absolute, { profiles: loadProfilesFile(profilesPath), env: io.env });
  for (const warning of workload.warnings) writeLine(io.stderr, formatDiagnostic({ ...warning, file }));
  return { ...workload, path: file };
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

/** `loadProfiles` with the CLI's wording for an unreadable file. */
export function loadProfilesFile(path: string): GpuProfiles {
  try {
    return loadProfiles(path);
  } catch (error) {
    throw withProfilesFlagHint(error);
  }
}
