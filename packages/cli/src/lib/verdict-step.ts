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
import {
  compareRuns,
  evaluateGates,
  renderVerdictTable,
  type Comparison,
  type GateResult,
} from '@perf-eval/verdicts';
import type { PostRunStep, RunIdentityExtra, RunSummary } from '@perf-eval/run';
import type { ResolvedWorkload } from '@perf-eval/workload-schema';

/** What summary.json records beyond the recipe so runs can be compared (recipe hash, serve args, build). */
export async function identityOf(
  workload: ResolvedWorkload,
  env: Readonly<Record<string, string | undefined>>,
): Promise<RunIdentityExtra> {
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

export interface VerdictStepOptions {
  workload: ResolvedWorkload;
  resultsDir: string;
  env: Readonly<Record<string, string | undefined>>;
  summary: RunSummary;
  /** `--baseline` as given, or undefined. */
  baseline: string | undefined;
  print: (line: string) => void;
  warn: (line: string) => void;
  signal: AbortSignal;
}

export interface VerdictStepOutcome {
  comparison?: Comparison;
  gates: GateResult[];
}

export async function verdictStep(options: VerdictStepOptions): Promise<VerdictStepOutcome> {
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
    return { gates: [] };
  }
  const outcome: VerdictStepOutcome = { gates: [] };
  if (baseline) {
    outcome.comparison = compareRuns(baseline.run, run, { history: baseline.history });
    summary.verdicts = { baseline: baseline.description, ...outcome.comparison };
    options.print(`--- :bar_chart: verdicts vs ${baseline.description}`);
    for (const line of renderVerdictTable(outcome.comparison).trimEnd().split('\n')) options.print(line);
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
  const gates = workload.gates;
  if (gates) {
    outcome.gates = evaluateGates(run, gates, outcome.comparison);
    summary.gates = outcome.gates;
  }
  return outcome;
}

/** The verdict step as a post-run step of `executeRun`: its verdicts and gates land in the final summary. */
export function verdictPostRun(options: Omit<VerdictStepOptions, 'summary' | 'signal'>): PostRunStep {
  return {
    name: 'verdicts',
    run: async ({ summary, signal }) => {
      await verdictStep({ ...options, summary, signal });
    },
  };
}
