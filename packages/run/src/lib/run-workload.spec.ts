/**
 * runWorkload in-process: real recipes and a real tools dir of fake tools (so discovery and preflight
 * pass), fake adapters for the server and the bench, a recording report writer.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakes, recorder } from '../../test/adapters.js';
import { executable, simOnly, simRecipe, tempDir, workloadOf } from '../../test/workloads.js';
import { BaselineMissingError, runWorkload, type RunWorkloadOptions } from './run-workload.js';
import type { RunSummary } from './summary.js';

/** A simulator run of the bench phase on this machine: the simulator, its tokenizer and a bench client. */
function benchRun(dir: string, signal = new AbortController().signal) {
  const env = { ...simOnly(dir), VLLM_PORT: '18131' };
  executable(join(dir, 'tools/venvs/vllm/bin/vllm'));
  const recorded = recorder();
  const stderr: string[] = [];
  const reports: string[] = [];
  const options: RunWorkloadOptions = {
    env,
    cwd: dir,
    streams: { stdout: { write: () => true }, stderr: { write: (text: string) => stderr.push(text) } },
    signal,
    phases: new Set(['bench'] as const),
    ingest: { disabled: true },
    adapters: fakes(recorded),
    writeReport: async (resultsDir) => {
      reports.push(resultsDir);
      return join(resultsDir, 'report.html');
    },
  };
  return { options, recorded, stderr, reports };
}

describe('runWorkload', () => {
  it('plans, passes preflight, runs the tasks, writes the report through the callback and returns the summary', async () => {
    const dir = tempDir();
    const { options, recorded, stderr, reports } = benchRun(dir);
    // `auto` outside a Buildkite build has no previous build to compare with: a warning.
    const run = await runWorkload(workloadOf(dir, simRecipe('whole')), { ...options, baseline: 'auto' });

    expect(recorded.calls).toEqual(['startServer:18131', 'bench:short-conc-2', 'stop']);
    expect(run.summary.status).toBe('ok');
    expect(run.plan.resultsDir).toBe(join(dir, 'results/whole'));
    expect(JSON.parse(readFileSync(run.plan.files.summaryJson, 'utf8')) as RunSummary).toEqual(run.summary);
    // History is written by the verdict step even without a baseline.
    expect(existsSync(join(run.plan.resultsDir, 'history.jsonl'))).toBe(true);
    expect(reports).toEqual([run.plan.resultsDir]);
    expect(run.reportPath).toBe(join(run.plan.resultsDir, 'report.html'));
    expect(run.toolCheckFailure).toBeUndefined();
    expect(run.gateFailures).toEqual([]);
    expect(stderr).toEqual([
      'warning: no baseline: no BUILDKITE_API_TOKEN and no buildkite-agent (outside a Buildkite job)\n',
    ]);
  });

  it('a cancelled run writes no report', async () => {
    const dir = tempDir();
    const controller = new AbortController();
    controller.abort(new Error('SIGTERM'));
    const { options, reports } = benchRun(dir, controller.signal);
    const run = await runWorkload(workloadOf(dir, simRecipe('cancelled')), options);
    expect(run.summary.status).toBe('cancelled');
    expect(run.reportPath).toBeUndefined();
    expect(reports).toEqual([]);
  });

  it('a --baseline path that does not exist is a usage error before anything starts', async () => {
    const dir = tempDir();
    const { options, recorded } = benchRun(dir);
    const error = await runWorkload(workloadOf(dir, simRecipe('baseline')), {
      ...options,
      baseline: 'missing/history.jsonl',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BaselineMissingError);
    expect(error).toMatchObject({
      code: 'E_RUN_BASELINE_MISSING',
      category: 'usage',
      message:
        'perf-eval run: --baseline missing/history.jsonl does not exist; pass a results dir, a history.jsonl, buildkite:<build> or auto',
    });
    expect(recorded.calls).toEqual([]);
    expect(existsSync(join(dir, 'results'))).toBe(false);
  });
});
