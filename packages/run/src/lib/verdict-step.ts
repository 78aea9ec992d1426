/**
 * After the tasks of `run`: read this run's results back as records, compare them with the
 * baseline (`--baseline`), carry the history forward into `results/<name>/history.jsonl`, evaluate
 * the recipe's gates, and put verdicts and gates into summary.json / summary.md. Nothing here can
 * fail the run except a failed gate; a missing baseline or unreadable results are warnings.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  HISTORY_FILE,
  historyEntryOf,
  mergeHistory,
  readHistoryOf,
  readResultsDir,
  resolveBaseline,
  writeHistory,
  type HistoryEntry,
  type ResolvedBaseline,
} from '@perf-eval/results';
import type { EnvVars } from '@perf-eval/util';
import { compareRuns, evaluateGates, renderVerdictTable, type Comparison } from '@perf-eval/verdicts';
import type { ResolvedWorkload } from '@perf-eval/workload-schema';
import type { PostRunStep } from './execute.js';
import type { RunIdentityExtra, RunSummary } from './summary.js';

/** What summary.json records beyond the recipe so runs can be compared (recipe hash, serve args, build). */
export async function runIdentityOf(workload: ResolvedWorkload, env: EnvVars): Promise<RunIdentityExtra> {
  const identity: RunIdentityExtra = {
    gpuCount: workload.numGpus,
    serveArgs: [...workload.server.serveArgs],
    nightly: /^(1|true|yes)$/i.test(env['NIGHTLY'] ?? ''),
  };
  try {
    identity.recipeHash = createHash('sha256')
      .update(await readFile(workload.path))
      .digest('hex');
  } catch {
    // A recipe read from elsewhere (tests, stdin) has no file to hash.
  }
  if (env['BUILDKITE_BUILD_NUMBER']) identity.buildNumber = env['BUILDKITE_BUILD_NUMBER'];
  if (env['BUILDKITE_BUILD_URL']) identity.buildUrl = env['BUILDKITE_BUILD_URL'];
  return identity;
}

export interface VerdictPostRunOptions {
  workload: ResolvedWorkload;
  resultsDir: string;
  env: EnvVars;
  /** A results dir or history file (an absolute path), `buildkite:<number|url>`, `auto`, or undefined. */
  baseline: string | undefined;
  /** The verdict table (stdout). */
  print: (line: string) => void;
  /** Why there are no verdicts or history (stderr). */
  warn: (line: string) => void;
}

interface VerdictStepInput extends VerdictPostRunOptions {
  summary: RunSummary;
  signal: AbortSignal;
}

async function verdictStep(options: VerdictStepInput): Promise<void> {
  const { workload, resultsDir, summary, warn } = options;
  const recipe = workload.name;
  let baseline: ResolvedBaseline | undefined;
  if (options.baseline) {
    try {
      baseline = await resolveBaseline(options.baseline, recipe, {
        env: options.env,
        warn,
        signal: options.signal,
      });
    } catch (error) {
      warn(`warning: no baseline: ${(error as Error).message}`);
    }
  }
  let run;
  try {
    run = await readResultsDir(resultsDir);
  } catch (error) {
    warn(`warning: no verdicts: ${(error as Error).message}`);
    return;
  }
  let comparison: Comparison | undefined;
  if (baseline) {
    comparison = compareRuns(baseline.run, run, { history: baseline.history });
    summary.verdicts = { baseline: baseline.description, ...comparison };
    options.print(`--- :bar_chart: verdicts vs ${baseline.description}`);
    for (const line of renderVerdictTable(comparison).trimEnd().split('\n')) options.print(line);
  }
  // The history carries forward from the baseline's (or this directory's earlier) history.
  let prior: HistoryEntry[] = baseline?.history ?? [];
  if (!baseline) {
    try {
      prior = await readHistoryOf(resultsDir);
    } catch (error) {
      warn(`warning: ${HISTORY_FILE} starts afresh: ${(error as Error).message}`);
    }
  }
  await writeHistory(join(resultsDir, HISTORY_FILE), mergeHistory(prior, [historyEntryOf(run)]));
  if (workload.gates) summary.gates = evaluateGates(run, workload.gates, comparison);
}

/** The verdict step as a post-run step of `executeRun`: its verdicts and gates land in the final summary. */
export function verdictPostRun(options: VerdictPostRunOptions): PostRunStep {
  return {
    name: 'verdicts',
    run: ({ summary, signal }) => verdictStep({ ...options, summary, signal }),
  };
}
