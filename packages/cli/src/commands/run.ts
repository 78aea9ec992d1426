import { join } from 'node:path';
import { ALL_PHASES, runFailures, runWorkload } from '@perf-eval/run';
import { secretValuesOf } from '@perf-eval/util';
import { parseChoices, parsePositiveInt, parseServerUrl } from '../lib/args.js';
import { defineCommand } from '../lib/command.js';
import { EXIT, exitCodeFor } from '../lib/exit-codes.js';
import { writeLine, type Io } from '../lib/io.js';
import { interruptionOf } from '../lib/signals.js';
import { GateFailedError } from '@perf-eval/verdicts';
import { selectVariant } from '@perf-eval/workload-schema';
import { loadRecipe } from '../lib/workload.js';

const HELP = `Usage: perf-eval run FILE [options]

Run a recipe end to end: start vLLM (or, disaggregated, the prefill and decode servers and their
proxy), run the bench configs alone on the server, then the semantic eval, the lm_eval tasks and
BFCL categories, write results/<name>/ (bench-*.json, semantic_eval.json, <task>/, bfcl-*/,
server.log or server-<role>.log + proxy.log, summary.json, summary.md, report.html), ingest
results, and tear everything down.

Options:
  --results-dir DIR   results root (default: results); files go to DIR/<name>/
  --server-url URL    use an already-running server (no launch, no teardown)
  --only LIST         phases to run, comma-separated: bench,semantic_eval,lm_eval,bfcl (default: all)
  --variant NAME      the sweep variant to run (a recipe with sweep: needs it; each variant is its
                      own run, results in DIR/<variant name>/; names: 'perf-eval plan FILE')
  --jobs N            accuracy tasks run concurrently against the server (default: 4;
                      1 = upstream's serial order)
  --profiles PATH     GPU profiles file
  --no-ingest         do not post results (the ingest plan is still written)
  --strict-ingest     fail the run when ingestion fails or INGEST_BEARER_TOKEN is missing
  --verbose           forward every tool output line (default: server log + phase lines)
  --baseline SPEC     compare with a baseline after the run: a results dir, a history.jsonl,
                      buildkite:<number|url>, or auto (the previous finished build of this pipeline
                      and branch; needs BUILDKITE_API_TOKEN or 'buildkite-agent secret get'). Verdicts
                      go to summary.json/summary.md and the annotation; no baseline is a warning.

Tools the recipe needs and this machine lacks are provisioned while the server starts (the simulator,
being the server, first), exactly as 'perf-eval setup FILE' does; the first task waits for both
(PERF_EVAL_TOOLS_DIR, default ~/.cache/perf-eval/tools; PERF_EVAL_PYTHON picks the base Python;
PERF_EVAL_NO_AUTO_SETUP=1 turns this off). Roles: 'vllm serve' is PERF_EVAL_VLLM or the vllm on PATH,
never the provisioned CPU-only bench client; a native bench uses that same vllm, the simulator and
--server-url use the provisioned client (PERF_EVAL_BENCH_VLLM overrides). summary.json records them.
Every run writes results/<name>/history.jsonl (the last 30 runs, carried forward from the baseline).
Exit: 0 all tasks ok, 1 a task or the server failed or a gate failed (see summary.md), 2 invalid recipe
or failed preflight (nothing started), 130/143 interrupted.`;

/**
 * `results/<name>/report.html` at the end of every run that was not interrupted (failed ones too: it
 * shows what exists and what failed). A report problem is a warning, never a run failure.
 */
async function writeRunReport(resultsDir: string, io: Io): Promise<string | undefined> {
  try {
    // Loaded only here: rendering loads ECharts, which `run` otherwise never needs.
    const { writeReport } = await import('@perf-eval/report');
    return (
      await writeReport(resultsDir, join(resultsDir, 'report.html'), { secrets: secretValuesOf(io.env) })
    ).path;
  } catch (error) {
    writeLine(
      io.stderr,
      `warning: could not write the HTML report (${(error as Error).message.split('\n')[0]})`,
    );
    return undefined;
  }
}

export const { run } = defineCommand(
  {
    name: 'run',
    help: HELP,
    options: {
      'results-dir': { type: 'string' },
      'server-url': { type: 'string' },
      only: { type: 'string' },
      jobs: { type: 'string' },
      profiles: { type: 'string' },
      'no-ingest': { type: 'boolean' },
      'strict-ingest': { type: 'boolean' },
      verbose: { type: 'boolean' },
      variant: { type: 'string' },
      baseline: { type: 'string' },
    },
    positionals: { min: 1, max: 1, describe: 'recipe FILE' },
  },
  async ({ values, positionals }, io) => {
    if (values['server-url'] !== undefined) parseServerUrl('run', values['server-url']);
    const phases = values.only ? parseChoices('run', '--only', values.only, ALL_PHASES) : new Set(ALL_PHASES);
    const jobs = parsePositiveInt('run', '--jobs', values.jobs);
    const file = positionals[0] as string;
    const workload = selectVariant(loadRecipe(file, io, values.profiles), values.variant, {
      file,
      prefix: 'perf-eval run: ',
      required: true,
    });
    const { plan, summary, reportPath, toolCheckFailure, gateFailures } = await runWorkload(workload, {
      env: io.env,
      cwd: io.cwd,
      streams: io,
      signal: io.signal,
      forceSignal: io.forceSignal,
      phases,
      jobs,
      resultsRoot: values['results-dir'],
      serverUrl: values['server-url'],
      ingest: { disabled: values['no-ingest'], strict: values['strict-ingest'] },
      verbose: values.verbose,
      baseline: values.baseline,
      writeReport: (resultsDir) => writeRunReport(resultsDir, io),
    });

    const interruption = interruptionOf(io.signal);
    if (interruption) {
      writeLine(io.stderr, interruption.message);
      return exitCodeFor(interruption).code;
    }
    if (toolCheckFailure) throw toolCheckFailure;
    writeLine(io.stdout, `results: ${plan.resultsDir}/summary.md`);
    if (reportPath) writeLine(io.stdout, `report: ${reportPath}`);
    if (summary.status !== 'ok') {
      const failed = runFailures(summary).map((line) => `  - ${line}`);
      writeLine(io.stderr, `+++ :rotating_light: run failed\n${failed.join('\n')}`);
      return EXIT.failure;
    }
    if (values['strict-ingest'] && summary.ingest.failed > 0) {
      writeLine(io.stderr, `ingestion failed for ${summary.ingest.failed} payload(s) (--strict-ingest)`);
      return EXIT.failure;
    }
    if (gateFailures.length > 0) {
      writeLine(io.stderr, '+++ :rotating_light: gate failed');
      throw new GateFailedError(gateFailures);
    }
    return EXIT.ok;
  },
);
