import { stat } from 'node:fs/promises';
import { ResultsDirError } from './errors.js';
import { readHistory, readHistoryOf, runOfHistoryEntry, type HistoryEntry } from './history.js';
import type { RunResults } from './model.js';
import { readResultsDir, type ReadResultsOptions } from './read.js';

export interface Baseline {
  run: RunResults;
  /** Earlier runs (oldest first) to learn noise from; may include `run` itself. */
  history: HistoryEntry[];
}

/**
 * The baseline at `path`: a results directory (with its `history.jsonl`, if any), or a history file,
 * whose latest run of `recipe` (other than `excludeRunId`) is the baseline.
 */
export async function readBaseline(
  path: string,
  recipe: string,
  excludeRunId?: string,
  options: ReadResultsOptions = {},
): Promise<Baseline> {
  let isFile: boolean;
  try {
    isFile = (await stat(path)).isFile();
  } catch (error) {
    throw new ResultsDirError(
      path,
      'does not exist; pass a results/<name>/ directory or a history.jsonl file',
      { cause: error },
    );
  }
  if (!isFile) {
    const run = await readResultsDir(path, options);
    return { run, history: await readHistoryOf(path) };
  }
  const history = await readHistory(path);
  const candidates = history.filter((e) => e.identity.recipe === recipe && e.identity.runId !== excludeRunId);
  const entry = candidates.at(-1);
  if (!entry) {
    const recipes = [...new Set(history.map((e) => e.identity.recipe))];
    throw new ResultsDirError(
      path,
      `has no earlier run of recipe '${recipe}' (it has: ${recipes.join(', ') || 'no runs'}); pass the history of the same recipe`,
    );
  }
  return { run: runOfHistoryEntry(entry, path), history };
}
