/**
 * Baselines: a results directory or a history file on disk (`compare`, `run --baseline <path>`), or the
 * history artifact of a Buildkite build (`run --baseline buildkite:<n>|auto`).
 */
import { stat } from 'node:fs/promises';
import type { EnvVars } from '@perf-eval/util';
import { importBuildkiteHistory, type BuildRef } from './buildkite.js';
import { buildkiteClient, buildkiteToken, buildRefOf } from './buildkite-env.js';
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

export interface ResolvedBaseline extends Baseline {
  /** Human description: the path as given, or `Buildkite build 41 (<artifact paths>)`. */
  description: string;
}

export interface ResolveBaselineOptions {
  env: EnvVars;
  /** Why there is no baseline after all (one line each); the caller goes on without one. */
  warn: (line: string) => void;
  signal?: AbortSignal | undefined;
}

/**
 * `--baseline` of `run`: `<dir>`, `<history file>`, `buildkite:<number|url>` or `auto` (the previous
 * finished build of this pipeline and branch). Buildkite problems are warnings and give undefined (a
 * nightly without a baseline still runs); a local path that cannot be read throws.
 */
export async function resolveBaseline(
  spec: string,
  recipe: string,
  options: ResolveBaselineOptions,
): Promise<ResolvedBaseline | undefined> {
  const { env, warn, signal } = options;
  if (spec !== 'auto' && !spec.startsWith('buildkite:')) {
    const baseline = await readBaseline(spec, recipe);
    return { ...baseline, description: spec };
  }
  const { token, source } = await buildkiteToken(env, signal);
  if (!token) {
    warn(`warning: no baseline: ${source}`);
    return undefined;
  }
  try {
    const client = buildkiteClient(token, env, signal);
    let ref: BuildRef;
    if (spec === 'auto') {
      const org = env['BUILDKITE_ORGANIZATION_SLUG'];
      const pipeline = env['BUILDKITE_PIPELINE_SLUG'];
      if (!org || !pipeline) {
        warn(
          'warning: no baseline: --baseline auto needs BUILDKITE_ORGANIZATION_SLUG and BUILDKITE_PIPELINE_SLUG',
        );
        return undefined;
      }
      const current = Number(env['BUILDKITE_BUILD_NUMBER'] ?? '');
      const number = await client.previousBuild(org, pipeline, {
        branch: env['BUILDKITE_BRANCH'],
        before: Number.isFinite(current) && current > 0 ? current : undefined,
      });
      if (number === undefined) {
        warn(
          `warning: no baseline: no earlier finished build of ${org}/${pipeline}${env['BUILDKITE_BRANCH'] ? ` on ${env['BUILDKITE_BRANCH']}` : ''}`,
        );
        return undefined;
      }
      ref = { org, pipeline, number };
    } else {
      ref = buildRefOf(spec.slice('buildkite:'.length), env);
    }
    const imported = await importBuildkiteHistory(client, ref, recipe);
    const ofRecipe = imported.entries.filter((e: HistoryEntry) => e.identity.recipe === recipe);
    const latest = ofRecipe.at(-1);
    if (!latest) {
      warn(
        `warning: no baseline: build ${ref.number} of ${ref.org}/${ref.pipeline} has no history of recipe ${recipe}`,
      );
      return undefined;
    }
    return {
      run: runOfHistoryEntry(latest, `buildkite:${ref.number}`),
      history: imported.entries,
      description: `Buildkite build ${ref.number} (${imported.files.join(', ')})`,
    };
  } catch (error) {
    warn(`warning: no baseline: ${(error as Error).message}`);
    return undefined;
  }
}
