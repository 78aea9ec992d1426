/**
 * Recipe files on disk: which files a list of paths and directories stands for, and checking one file
 * with every problem reported rather than thrown (a validator goes on with the next file).
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PerfEvalError } from '@perf-eval/util';
import type { Diagnostic } from './diagnostics.js';
import { ProfileInvalidError, readRecipeFile, RecipeNotFoundError, RecipeReadError } from './errors.js';
import { defaultProfilesPath, loadWorkload, loadWorkloadText } from './load.js';
import { loadProfiles, type GpuProfiles } from './profiles.js';
import type { ResolvedWorkload } from './resolve.js';

/** Where recipes live in a repository, and what `listRecipeFiles([])` lists. */
const RECIPES_DIR = 'workloads';

/** No recipe files can be listed: no `workloads/` directory, or a directory that cannot be read (exit 2). */
export class RecipeListError extends PerfEvalError {
  constructor(
    readonly dir: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super('E_RECIPE_LIST', message, { ...options, category: 'usage' });
  }
}

const yamlNames = (names: readonly string[]): string[] =>
  names.filter((name) => name.endsWith('.yaml')).sort();

/**
 * The recipe files `paths` (relative to `cwd`) stand for, in order: a directory stands for the `*.yaml`
 * files directly in it (sorted; `empty` lists directories without any), anything else stays as given
 * and is reported when it is read. No paths: `workloads/*.yaml`. Throws `RecipeListError`.
 */
export function listRecipeFiles(
  paths: readonly string[],
  cwd = process.cwd(),
): { files: string[]; empty: string[] } {
  if (paths.length === 0) {
    const dir = join(cwd, RECIPES_DIR);
    try {
      return { files: yamlNames(readdirSync(dir)).map((name) => join(RECIPES_DIR, name)), empty: [] };
    } catch (error) {
      throw new RecipeListError(dir, `no ${RECIPES_DIR}/ directory in ${cwd}`, { cause: error });
    }
  }
  const files: string[] = [];
  const empty: string[] = [];
  for (const path of paths) {
    let isDirectory = false;
    try {
      isDirectory = statSync(resolve(cwd, path)).isDirectory();
    } catch {
      // Missing or unreadable: reading it reports what it is.
    }
    if (!isDirectory) {
      files.push(path);
      continue;
    }
    let names: string[];
    try {
      names = yamlNames(readdirSync(resolve(cwd, path)));
    } catch (error) {
      const reason =
        (error as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied' : (error as Error).message;
      throw new RecipeListError(path, `cannot list directory ${path} (${reason})`, { cause: error });
    }
    if (names.length === 0) empty.push(path);
    files.push(...names.map((name) => join(path, name)));
  }
  return { files, empty };
}

export interface RecipeFileOptions {
  /** Base of relative paths (default: the process's). */
  cwd?: string;
  /** For VLLM_IMAGE / VLLM_COMMIT / PERF_EVAL_PROFILES (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** The GPU profiles file, relative to `cwd`; default: `defaultProfilesPath` of the recipe. */
  profilesPath?: string | undefined;
}

export interface RecipeFileCheck {
  /** As given. */
  file: string;
  valid: boolean;
  /** The recipe's errors then its warnings (attributed to `file` as given), or the profiles file's errors. */
  diagnostics: Diagnostic[];
  /** How many of `diagnostics` are warnings. */
  warnings: number;
  /**
   * Why the file could not be checked, when no position says it: the recipe is missing or unreadable
   * (named as given), or the profiles file is (`ProfileInvalidError` without diagnostics).
   */
  error?: RecipeNotFoundError | RecipeReadError | ProfileInvalidError;
}

/** The recipe's GPU profiles, loaded before the recipe is read: `profilesPath`, else the default. */
function profilesFor(absolute: string, cwd: string, options: RecipeFileOptions): GpuProfiles {
  return loadProfiles(
    options.profilesPath
      ? resolve(cwd, options.profilesPath)
      : defaultProfilesPath(absolute, options.env ?? process.env, cwd),
  );
}

/**
 * Load one recipe file (relative to `cwd`) to run it: its profiles first, then the recipe. The
 * workload's `path` is `file` as given. Throws as `loadProfiles` and `loadWorkload` do.
 */
export function loadRecipeFile(file: string, options: RecipeFileOptions = {}): ResolvedWorkload {
  const cwd = options.cwd ?? process.cwd();
  const absolute = resolve(cwd, file);
  const profiles = profilesFor(absolute, cwd, options);
  return { ...loadWorkload(absolute, { profiles, env: options.env ?? process.env }), path: file };
}

/**
 * Validate one recipe file against the schema and its GPU profiles (loaded first), reporting every
 * problem instead of throwing for it; only unexpected errors are thrown.
 */
export function checkRecipeFile(file: string, options: RecipeFileOptions = {}): RecipeFileCheck {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const absolute = resolve(cwd, file);
  try {
    const profiles = profilesFor(absolute, cwd, options);
    const result = loadWorkloadText(readRecipeFile(absolute, file), absolute, { profiles, env });
    return {
      file,
      valid: result.errors.length === 0,
      diagnostics: [...result.errors, ...result.warnings].map((diagnostic) => ({ ...diagnostic, file })),
      warnings: result.warnings.length,
    };
  } catch (error) {
    if (error instanceof ProfileInvalidError && error.diagnostics.length > 0)
      return { file, valid: false, diagnostics: [...error.diagnostics], warnings: 0 };
    if (
      error instanceof ProfileInvalidError ||
      error instanceof RecipeNotFoundError ||
      error instanceof RecipeReadError
    )
      return { file, valid: false, diagnostics: [], warnings: 0, error };
    throw error;
  }
}
