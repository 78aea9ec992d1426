import { existsSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { toPlain } from '@perf-eval/util';
import { DiagnosticCollector, type Diagnostic } from './diagnostics.js';
import { ProfileInvalidError, readRecipeFile, RecipeInvalidError } from './errors.js';
import { loadProfiles, type GpuProfiles } from './profiles.js';
import { resolveWorkload, type ResolvedWorkload } from './resolve.js';
import { PARSE_OPTIONS, RecipeSchema } from './schema.js';
import { isMap, validateRecipe, workloadNameProblem, type PyMap } from './validate.js';
import { loadYaml11 } from './yaml11.js';

export const PROFILES_RELATIVE_PATH = 'profiles/gpu_profiles.yaml';

/**
 * Where the GPU profiles file is: `--profiles` > env `PERF_EVAL_PROFILES` > `profiles/gpu_profiles.yaml`
 * under the recipe's grand-parent directory (the repository root for `workloads/x.yaml`, as upstream)
 * > the same path under the current directory.
 */
export function defaultProfilesPath(
  recipePath: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd = process.cwd(),
): string {
  const fromEnv = env['PERF_EVAL_PROFILES']?.trim();
  if (fromEnv) return fromEnv;
  const beside = resolve(dirname(resolve(cwd, recipePath)), '..', PROFILES_RELATIVE_PATH);
  if (existsSync(beside)) return beside;
  return resolve(cwd, PROFILES_RELATIVE_PATH);
}

export interface LoadOptions {
  /** Already loaded profiles (fast path for many recipes). */
  profiles?: GpuProfiles;
  profilesPath?: string;
  /** Environment for VLLM_IMAGE / VLLM_COMMIT / PERF_EVAL_PROFILES; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface LoadResult {
  /** Set only when there are no errors. */
  workload?: ResolvedWorkload;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

/** Validate and resolve recipe text. Never throws for recipe problems; profile problems throw. */
export function loadWorkloadText(text: string, path: string, options: LoadOptions = {}): LoadResult {
  const env = options.env ?? process.env;
  const profiles = options.profiles ?? loadProfiles(options.profilesPath ?? defaultProfilesPath(path, env));
  const loaded = loadYaml11(text);
  if (loaded.errors.length > 0) {
    return {
      errors: loaded.errors.map((e) => ({
        severity: 'error',
        file: path,
        line: e.line,
        col: e.col,
        path: '',
        message: `invalid YAML: ${e.message}`,
      })),
      warnings: [],
    };
  }
  const out = new DiagnosticCollector(path, loaded.nodes);
  validateRecipe(out, loaded.data, {
    profileNames: profiles.names,
    profilesPath: profiles.path,
    runtimeOf: (gpu) => profiles.byName.get(gpu)?.serverRuntime,
    env,
  });
  const stem = basename(path, extname(path));
  if (isMap(loaded.data) && !('name' in loaded.data)) {
    // Without `name:` the file name names results/<stem>/, so it must be a safe name too.
    const problem = workloadNameProblem(
      stem,
      `the default name (the file name '${basename(path)}' without its extension)`,
    );
    if (problem) out.error([], `${problem}; or set name:`, [8]);
  }
  // zod is the structural backstop: anything the rules above did not already report.
  const parsed = RecipeSchema.safeParse(toPlain(loaded.data), PARSE_OPTIONS);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const issuePath = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
      if (out.covers(issuePath)) continue;
      const where = issuePath
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
        .join('')
        .replace(/^\./, '');
      out.error(issuePath, `${where || 'recipe'}: ${issue.message}`, [9]);
    }
  }
  const errors = out.sorted('error');
  const warnings = out.sorted('warning');
  if (errors.length > 0) return { errors, warnings };
  const data = loaded.data as PyMap;
  const profile = profiles.byName.get(data['gpu'] as string);
  if (!profile)
    throw new ProfileInvalidError(profiles.path, [], {
      message: `profile '${String(data['gpu'])}' vanished from ${profiles.path}`,
    });
  const workload = resolveWorkload({ path, stem, data, profile, env, warnings });
  return { workload, errors, warnings: workload.warnings };
}

/** Read (see `readRecipeFile`: regular files up to 1 MiB only), validate and resolve a recipe file. */
export function loadWorkloadFile(path: string, options: LoadOptions = {}): LoadResult {
  return loadWorkloadText(readRecipeFile(path), path, options);
}

/** Load a recipe or throw `RecipeInvalidError` carrying every diagnostic. */
export function loadWorkload(path: string, options: LoadOptions = {}): ResolvedWorkload {
  const result = loadWorkloadFile(path, options);
  if (!result.workload) throw new RecipeInvalidError(path, result.errors, result.warnings);
  return result.workload;
}
