/**
 * The runs `history import` brings to this machine: a results directory's (its history plus the run
 * itself) or a Buildkite build's `history.jsonl` artifacts.
 */
import type { EnvVars } from '@perf-eval/util';
import { importBuildkiteHistory } from './buildkite.js';
import { buildkiteClient, buildkiteToken, buildRefOf } from './buildkite-env.js';
import { HISTORY_FILE, historyEntryOf, mergeHistory, readHistoryOf, type HistoryEntry } from './history.js';
import { readResultsDir } from './read.js';

/** A results directory, or a Buildkite build (a URL, or a number of this job's pipeline). */
export type HistorySource = { results: string } | { build: string };

export interface ImportHistoryOptions {
  /** Only this recipe's runs (from a build, only its `results/<recipe>/history.jsonl`). */
  recipe?: string | undefined;
  /** BUILDKITE_API_TOKEN, BUILDKITE_API_URL, BUILDKITE_* slugs, PATH (for buildkite-agent). */
  env: EnvVars;
  signal?: AbortSignal | undefined;
}

export interface ImportedRuns {
  /** Oldest first. */
  entries: HistoryEntry[];
  /** Where they came from: the directory, or `build 41 (<artifact paths>)`. */
  from: string;
  /** Why nothing was imported (no token, no history artifact): a warning, not an error. */
  skipped?: string;
}

export async function importHistory(source: HistorySource, options: ImportHistoryOptions): Promise<ImportedRuns> {
  const { recipe, env, signal } = options;
  const ofRecipe = (entries: HistoryEntry[]): HistoryEntry[] =>
    recipe ? entries.filter((e) => e.identity.recipe === recipe) : entries;
  if ('results' in source) {
    const run = await readResultsDir(source.results, { samples: false });
    const entries = mergeHistory(await readHistoryOf(source.results), [historyEntryOf(run)], Number.MAX_SAFE_INTEGER);
    return { entries: ofRecipe(entries), from: source.results };
  }
  // A bad reference is a usage error even without a token.
  const ref = buildRefOf(source.build, env);
  const from = `build ${ref.number}`;
  const { token, source: tokenSource } = await buildkiteToken(env, signal);
  if (!token) return { entries: [], from, skipped: tokenSource };
  const imported = await importBuildkiteHistory(buildkiteClient(token, env, signal), ref, recipe);
  if (imported.files.length === 0) {
    return {
      entries: [],
      from,
      skipped: `build ${ref.number} of ${ref.org}/${ref.pipeline} has no ${recipe ? `results/${recipe}/` : ''}${HISTORY_FILE} artifact`,
    };
  }
  return { entries: ofRecipe(imported.entries), from: `${from} (${imported.files.join(', ')})` };
}
