import {
  checkRecipeFile,
  formatDiagnostic,
  listRecipeFiles,
  RecipeListError,
} from '@perf-eval/workload-schema';
import { UsageError } from '../lib/args.js';
import { defineCommand } from '../lib/command.js';
import { EXIT } from '../lib/exit-codes.js';
import { writeLine } from '../lib/io.js';
import { withProfilesFlagHint } from '../lib/workload.js';

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

/** The recipe files the arguments stand for, a usage error when there are none to list. */
function recipeFiles(paths: readonly string[], cwd: string): { files: string[]; empty: string[] } {
  try {
    return listRecipeFiles(paths, cwd);
  } catch (error) {
    if (!(error instanceof RecipeListError)) throw error;
    const prefix = paths.length === 0 ? 'no FILES given and ' : '';
    throw new UsageError(`perf-eval validate: ${prefix}${error.message}`, 'validate');
  }
}

export const { run } = defineCommand(
  {
    name: 'validate',
    help: HELP,
    options: {
      profiles: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
    },
    positionals: 'any',
  },
  async ({ values, positionals }, io) => {
    const { files, empty } = recipeFiles(positionals, io.cwd);
    for (const dir of empty) writeLine(io.stderr, `${dir}: no *.yaml recipes in this directory`);
    let invalid = 0;
    let warnings = 0;
    for (const file of files) {
      const check = checkRecipeFile(file, { cwd: io.cwd, env: io.env, profilesPath: values.profiles });
      for (const diagnostic of check.diagnostics) writeLine(io.stderr, formatDiagnostic(diagnostic));
      if (check.error) writeLine(io.stderr, (withProfilesFlagHint(check.error) as Error).message);
      warnings += check.warnings;
      if (!check.valid) invalid++;
      else if (!values.quiet) writeLine(io.stdout, `ok ${file}`);
    }
    const summary = `${files.length} recipe(s): ${files.length - invalid} valid, ${invalid} invalid, ${warnings} warning(s)`;
    const failed = invalid > 0 || empty.length > 0;
    writeLine(failed ? io.stderr : io.stdout, summary);
    return failed ? EXIT.usage : EXIT.ok;
  },
);
