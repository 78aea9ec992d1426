import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  defaultProfilesPath,
  formatDiagnostic,
  loadWorkloadFile,
  ProfileInvalidError,
  RecipeNotFoundError,
  RecipeReadError,
} from '@perf-eval/workload-schema';
import { parseCommandArgs, UsageError } from '../lib/args.js';
import { EXIT } from '../lib/exit-codes.js';
import { writeLine, type Io } from '../lib/io.js';
import { loadProfilesFile } from '../lib/workload.js';

const HELP = `Usage: perf-eval validate [FILES or DIRS...] [--profiles PATH] [--quiet]

Check recipes against the schema and the GPU profiles. Default FILES: workloads/*.yaml.
A directory stands for the *.yaml recipes directly in it.
All problems of every file are reported (file:line:col: message) on stderr.
lm_eval task names are not checked here (that needs lm-eval; 'perf-eval run' preflight does it).

Options:
  --profiles PATH  GPU profiles file (default: env PERF_EVAL_PROFILES, else profiles/gpu_profiles.yaml
                   beside the recipe's workloads/ directory, else under the current directory)
  --quiet          print nothing for valid files

Exit: 0 all valid (warnings allowed), 2 any invalid.`;

export function defaultRecipeFiles(cwd: string): string[] {
  const dir = join(cwd, 'workloads');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new UsageError(`perf-eval validate: no FILES given and no workloads/ directory in ${cwd}`);
  }
  return names
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => join('workloads', name));
}

/** `DIR` → its `*.yaml` files (sorted, not recursive); anything else stays as given (and is reported when read). */
function expandDirectories(paths: readonly string[], cwd: string): { files: string[]; empty: string[] } {
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
      names = readdirSync(resolve(cwd, path))
        .filter((name) => name.endsWith('.yaml'))
        .sort();
    } catch (error) {
      throw new UsageError(
        `perf-eval validate: cannot list directory ${path} (${(error as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied' : (error as Error).message})`,
        'validate',
      );
    }
    if (names.length === 0) empty.push(path);
    files.push(...names.map((name) => join(path, name)));
  }
  return { files, empty };
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs<{ help?: boolean; profiles?: string; quiet?: boolean }>(
    'validate',
    argv,
    {
      profiles: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
    },
  );
  if (values.help) {
    writeLine(io.stdout, HELP);
    return EXIT.ok;
  }
  const { files, empty } =
    positionals.length > 0
      ? expandDirectories(positionals, io.cwd)
      : { files: defaultRecipeFiles(io.cwd), empty: [] };
  for (const dir of empty) writeLine(io.stderr, `${dir}: no *.yaml recipes in this directory`);
  let invalid = 0;
  let warnings = 0;
  for (const file of files) {
    const absolute = resolve(io.cwd, file);
    try {
      const profilesPath = values.profiles
        ? resolve(io.cwd, values.profiles)
        : defaultProfilesPath(absolute, io.env, io.cwd);
      const result = loadWorkloadFile(file === absolute ? file : absolute, {
        profiles: loadProfilesFile(profilesPath),
        env: io.env,
      });
      for (const diagnostic of [...result.errors, ...result.warnings])
        writeLine(io.stderr, formatDiagnostic({ ...diagnostic, file }));
      warnings += result.warnings.length;
      if (result.errors.length > 0) invalid++;
      else if (!values.quiet) writeLine(io.stdout, `ok ${file}`);
    } catch (error) {
      if (error instanceof ProfileInvalidError) {
        for (const diagnostic of error.diagnostics) writeLine(io.stderr, formatDiagnostic(diagnostic));
        if (error.diagnostics.length === 0) writeLine(io.stderr, error.message);
      } else if (error instanceof RecipeNotFoundError) {
        writeLine(io.stderr, `not found: ${file}`);
      } else if (error instanceof RecipeReadError) {
        writeLine(io.stderr, error.message.replace(error.file, file));
      } else {
        throw error;
      }
      invalid++;
    }
  }
  const summary = `${files.length} recipe(s): ${files.length - invalid} valid, ${invalid} invalid, ${warnings} warning(s)`;
  const failed = invalid > 0 || empty.length > 0;
  writeLine(failed ? io.stderr : io.stdout, summary);
  return failed ? EXIT.usage : EXIT.ok;
}
