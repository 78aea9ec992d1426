/**
 * The verdict post-run step on real results directories (the bench fixture of ../shared) and a real
 * history file as the baseline; the CLI's run.verdicts.spec.ts covers it end to end.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ResolvedWorkload } from '@perf-eval/workload-schema';
import { tempDir, workloadOf } from '../../test/workloads.js';
import type { RunPlan } from './plan.js';
import type { RunSummary } from './summary.js';
import { runIdentityOf, verdictPostRun } from './verdict-step.js';

const BENCH = resolve(
  import.meta.dirname,
  '../../../../../shared/reference/fixtures/vllm_bench/er0080_bench_serve_v0.25.1.json',
);
const RECIPE = `name: verdicts
gpu: SIM
vllm:
  model: org/tiny
  serve_args: --max-model-len 2048
vllm_bench:
  configs:
    - {name: a, input_len: 8, output_len: 8, num_prompts: 4, max_concurrency: 2}
gates:
  accuracy:
    - {task: gsm8k, metric: 'exact_match,strict-match', expected: 0.5}
`;

function workloadIn(dir: string): ResolvedWorkload {
  return workloadOf(dir, RECIPE);
}

function historyLines(dir: string): number {
  return readFileSync(join(dir, 'history.jsonl'), 'utf8').trimEnd().split('\n').length;
}

async function step(workload: ResolvedWorkload, resultsDir: string, baseline?: string) {
  const out = { printed: [] as string[], warned: [] as string[], summary: {} as RunSummary };
  await verdictPostRun({
    workload,
    resultsDir,
    env: {},
    baseline,
    print: (line) => out.printed.push(line),
    warn: (line) => out.warned.push(line),
  }).run({ plan: {} as RunPlan, summary: out.summary, signal: new AbortController().signal });
  return out;
}

describe('runIdentityOf', () => {
  it('records the recipe hash, GPUs, serve args, nightly and the build', async () => {
    const workload = workloadIn(tempDir());
    const identity = await runIdentityOf(workload, {
      NIGHTLY: 'yes',
      BUILDKITE_BUILD_NUMBER: '41',
      BUILDKITE_BUILD_URL: 'https://buildkite.com/o/p/builds/41',
    });
    expect(identity).toEqual({
      gpuCount: workload.numGpus,
      serveArgs: workload.server.serveArgs,
      nightly: true,
      recipeHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      buildNumber: '41',
      buildUrl: 'https://buildkite.com/o/p/builds/41',
    });
    expect(
      (await runIdentityOf({ ...workload, path: '/nonexistent/recipe.yaml' }, {})).recipeHash,
    ).toBeUndefined();
  });
});

describe('verdictPostRun', () => {
  it('writes the history, compares with a baseline and evaluates the gates into the summary', async () => {
    const dir = tempDir();
    const workload = workloadIn(dir);
    const results = join(dir, 'results', 'verdicts');
    mkdirSync(results, { recursive: true });
    copyFileSync(BENCH, join(results, 'bench-a.json'));

    const first = await step(workload, results);
    expect(first.warned).toEqual([]);
    expect(first.printed).toEqual([]);
    expect(first.summary.verdicts).toBeUndefined();
    expect(first.summary.gates).toEqual([expect.objectContaining({ passed: false, measured: null })]);
    expect(historyLines(results)).toBe(1);

    const baseline = join(dir, 'baseline-history.jsonl');
    copyFileSync(join(results, 'history.jsonl'), baseline);
    const second = await step(workload, results, baseline);
    expect(second.warned).toEqual([]);
    expect(second.printed[0]).toBe(`--- :bar_chart: verdicts vs ${baseline}`);
    expect(second.summary.verdicts).toMatchObject({ baseline, counts: { regression: 0 } });
    // Carried forward from the baseline's history: the same run id replaces its entry.
    expect(historyLines(results)).toBe(1);
  });

  it('unreadable results or baseline are warnings, never failures', async () => {
    const dir = tempDir();
    const workload = workloadIn(dir);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const out = await step(workload, empty, join(dir, 'missing.jsonl'));
    expect(out.warned).toHaveLength(2);
    expect(out.warned[0]).toMatch(/^warning: no baseline: results .*missing\.jsonl: does not exist/);
    expect(out.warned[1]).toMatch(/^warning: no verdicts: /);
    expect(existsSync(join(empty, 'history.jsonl'))).toBe(false);
    expect(out.summary).toEqual({});
  });
});
