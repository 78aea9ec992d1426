import { resolve } from 'node:path';
import { DEFAULT_HISTORY_KEEP, HISTORY_FILE, importHistory, mergeHistoryFile } from '@perf-eval/results';
import { parsePositiveInt, UsageError } from '../lib/args.js';
import { defineCommand } from '../lib/command.js';
import { EXIT } from '../lib/exit-codes.js';
import { writeLine } from '../lib/io.js';

const HELP = `Usage: perf-eval history import (--build <number|url> | --results DIR) [--out FILE] [--recipe NAME] [--keep N]

Bring a run history (history.jsonl: the last N runs per recipe, every repetition) to this machine,
merged into FILE (default ./${HISTORY_FILE}); use it as a baseline with 'perf-eval compare FILE NEW'
or 'perf-eval run --baseline FILE'.

  --build <number|url>   the history.jsonl artifacts of a Buildkite build (a number needs
                         BUILDKITE_ORGANIZATION_SLUG and BUILDKITE_PIPELINE_SLUG). Token: env
                         BUILDKITE_API_TOKEN, else 'buildkite-agent secret get' inside a job; never printed.
                         With no token, or no history in that build: a warning, exit 0.
  --results DIR          a results directory: its history.jsonl plus the run itself
  --recipe NAME          only this recipe's history
  --keep N               runs kept per recipe (default ${DEFAULT_HISTORY_KEEP})

Env: BUILDKITE_API_TOKEN, BUILDKITE_API_URL (default https://api.buildkite.com/v2).
Exit: 0 imported (or nothing to import), 1 the Buildkite API failed, 2 bad arguments or a corrupt history.`;

export const { run } = defineCommand(
  {
    name: 'history',
    help: HELP,
    options: {
      build: { type: 'string' },
      results: { type: 'string' },
      out: { type: 'string' },
      recipe: { type: 'string' },
      keep: { type: 'string' },
    },
    // The one positional is the action word; its error quotes what was given instead.
    positionals: 'any',
  },
  async ({ values, positionals }, io) => {
    if (positionals[0] !== 'import' || positionals.length !== 1)
      throw new UsageError(
        `perf-eval history: expected 'import', got '${positionals.join(' ')}' (see 'perf-eval history --help')`,
      );
    if ((values.build === undefined) === (values.results === undefined))
      throw new UsageError(
        "perf-eval history import: pass exactly one of --build and --results (see 'perf-eval history --help')",
      );
    const keep = parsePositiveInt('history', '--keep', values.keep) ?? DEFAULT_HISTORY_KEEP;
    const out = resolve(io.cwd, values.out ?? HISTORY_FILE);
    const imported = await importHistory(
      values.results !== undefined
        ? { results: resolve(io.cwd, values.results) }
        : { build: values.build as string },
      { recipe: values.recipe, env: io.env, signal: io.signal },
    );
    if (imported.skipped) {
      writeLine(io.stderr, `warning: nothing imported: ${imported.skipped}`);
      return EXIT.ok;
    }
    const merged = await mergeHistoryFile(out, imported.entries, keep);
    const recipes = new Set(imported.entries.map((e) => e.identity.recipe));
    writeLine(
      io.stderr,
      `history: ${imported.entries.length} run(s) of ${recipes.size} recipe(s) from ${imported.from} → ${out} (${merged.length} run(s) kept)`,
    );
    return EXIT.ok;
  },
);
