import { resolve } from 'node:path';
import { defaultProfilesPath, formatDiagnostic, loadProfiles, loadWorkload, type ResolvedWorkload } from '@perf-eval/workload-schema';
import { writeLine, type Io } from './io.js';

/** Load one recipe for plan/run: profiles resolved as upstream, warnings printed to stderr. */
export function loadRecipe(file: string, io: Io, profilesFlag: string | undefined): ResolvedWorkload {
  const absolute = resolve(io.cwd, file);
  const profilesPath = profilesFlag ? resolve(io.cwd, profilesFlag) : defaultProfilesPath(absolute, io.env, io.cwd);
  const workload = loadWorkload(absolute, { profiles: loadProfiles(profilesPath), env: io.env });
  for (const warning of workload.warnings) writeLine(io.stderr, formatDiagnostic({ ...warning, file }));
  return { ...workload, path: file };
}
