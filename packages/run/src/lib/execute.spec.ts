/**
 * executeRun in-process: the adapters are fakes that record what they were given, the files are
 * real (a temp results root), and the summary and ingest plan on disk are read back.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchRunOutcome } from '@perf-eval/bench-runner';
import type { ResolvedWorkload } from '@perf-eval/workload-schema';
import { fakes, recorder, reporter, type Recorded } from '../../test/adapters.js';
import { simRecipe, tempDir, workloadOf as loadRecipe } from '../../test/workloads.js';
import { serverEnvironments } from './environment.js';
import { executeRun, type ExecuteRunOptions, type RunAdapters } from './execute.js';
import { planRun, type RunPlan } from './plan.js';
import { writeSummary, type RunSummary } from './summary.js';

const RECIPE = `${simRecipe('inproc')}semantic_eval:
  command: [gsm8k-eval, --port, '{port}', --save-results, '{output_path}']
`;

function workloadOf(dir: string, text = RECIPE, env: Record<string, string> = {}): ResolvedWorkload {
  return loadRecipe(dir, text, env);
}

const TOOLS = {
  vllm: ['/opt/vllm/bin/vllm'],
  lmEval: ['/opt/lmeval/bin/lm_eval'],
  bfclPython: '/opt/bfcl/bin/python',
  simulator: '/opt/bin/sim',
  docker: 'docker',
  simTokenizer: '/opt/tok',
};

function planOf(
  dir: string,
  env: Record<string, string> = { PATH: '/usr/bin', HOME: '/home/x' },
  text = RECIPE,
): { plan: RunPlan; workload: ResolvedWorkload; env: Record<string, string> } {
  const workload = workloadOf(dir, text, env);
  // One accuracy task at a time: the call order below is deterministic (upstream's serial order).
  const plan = planRun(workload, {
    env: { ...env, VLLM_PORT: '18123' },
    cwd: dir,
    tools: TOOLS,
    pid: 42,
    jobs: 1,
    bfclDriverCacheDir: join(dir, 'cache'),
  });
  return { plan, workload, env };
}

function optionsFor(
  workload: ResolvedWorkload,
  env: Record<string, string>,
  recorded: Recorded,
  extra: Partial<ExecuteRunOptions> = {},
): ExecuteRunOptions {
  return {
    env,
    serverEnv: serverEnvironments(workload),
    signal: new AbortController().signal,
    reporter: reporter(recorded),
    ...extra,
  };
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

describe('executeRun (in-process, fake adapters)', () => {
  it('runs the plan in order with the planned specs and env, and derives the summary and ingest items from the outcomes', async () => {
    const dir = tempDir();
    const { plan, workload, env } = planOf(dir);
    const recorded = recorder();
    const summary = await executeRun(plan, {
      ...optionsFor(workload, env, recorded),
      adapters: fakes(recorded),
    });

    expect(recorded.calls).toEqual([
      'startServer:18123',
      'bench:short-conc-2',
      'semantic_eval',
      'lm_eval:gsm8k',
      'bfcl:multiple',
      'stop',
    ]);
    expect(summary.status).toBe('ok');
    // The adapters got exactly the plan's specs and only the planned env names.
    expect(recorded.bench[0]?.[0]).toEqual(plan.bench[0]?.spec);
    expect(Object.keys(recorded.bench[0]?.[1]?.env ?? {}).sort()).toEqual(
      [...(plan.bench[0]?.envNames ?? [])].sort(),
    );
    expect(recorded.lmEval[0]?.[1]?.command).toEqual(TOOLS.lmEval);
    expect(Object.keys(recorded.lmEval[0]?.[1]?.env ?? {}).sort()).toEqual(
      [...(plan.lmEval[0]?.envNames ?? [])].sort(),
    );
    expect(recorded.bfcl[0]?.[0]).toEqual(plan.bfcl[0]?.spec);
    expect(recorded.bfcl[0]?.[1]?.cacheDir).toBe(join(dir, 'cache'));
    // Metrics are the adapters' own: every number bench-runner parsed, every lm-eval metric.
    const bench = summary.tasks.find((t) => t.id === 'bench:short-conc-2');
    expect(bench?.metrics).toEqual({ completed: 4, failed: 0, output_throughput: 12.5, p99_ttft_ms: 7 });
    expect(summary.tasks.find((t) => t.id === 'lm_eval:gsm8k')?.metrics).toEqual({
      'exact_match,strict-match': 0.25,
    });

    // The summary on disk is the returned one; the ingest plan lists lm-eval's own result files only.
    expect(readJson<RunSummary>(plan.files.summaryJson)).toEqual(summary);
    const ingestPlan = readJson<{ items: Array<Record<string, unknown>> }>(plan.files.ingestPlan);
    expect(ingestPlan.items).toEqual([
      {
        kind: 'perf',
        runName: 'short-conc-2',
        file: 'bench-short-conc-2.json',
        // The date the bench finished, in upstream's format, kept for re-ingests.
        meta: {
          ...plan.ingest.perf[0]?.meta,
          date: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
        },
      },
      {
        kind: 'eval',
        task: 'gsm8k',
        dir: 'gsm8k',
        files: ['org__tiny/results_2026.json', 'org__tiny/samples_gsm8k_2026.jsonl'],
        samples: true,
      },
      {
        kind: 'eval',
        task: 'bfcl_multiple',
        dir: 'bfcl-multiple',
        files: ['results_x.json'],
        samples: false,
      },
    ]);
  });

  it('post-run steps see the final summary; a failing step is reported and the final summary is still written', async () => {
    const dir = tempDir();
    const { plan, workload, env } = planOf(dir);
    const recorded = recorder();
    const seen: string[] = [];
    const summary = await executeRun(plan, {
      ...optionsFor(workload, env, recorded),
      adapters: fakes(recorded),
      postRun: [
        { name: 'broken', run: async () => Promise.reject(new Error('report generator crashed')) },
        {
          name: 'history',
          run: async ({ summary: final }) => void seen.push(`${final.status}:${final.tasks.length}`),
        },
      ],
    });
    expect(seen).toEqual(['ok:4']);
    expect(recorded.errors).toContain('post-run step broken: report generator crashed');
    expect(readJson<RunSummary>(plan.files.summaryJson).status).toBe(summary.status);
  });

  it('a cancelled run stops the server, marks unfinished tasks cancelled and ends cancelled', async () => {
    const dir = tempDir();
    const { plan, workload, env } = planOf(dir);
    const recorded = recorder();
    const controller = new AbortController();
    const summary = await executeRun(plan, {
      ...optionsFor(workload, env, recorded, { signal: controller.signal }),
      adapters: fakes(recorded, {
        runBench: async (_spec, options) => {
          controller.abort(new Error('SIGTERM'));
          expect(options.signal?.aborted).toBe(true);
          throw new Error('bench cancelled');
        },
      }),
    });
    expect(summary.status).toBe('cancelled');
    expect(recorded.stopped).toBe(1);
    expect(summary.tasks.map((t) => `${t.id}=${t.status}`)).toEqual([
      'bench:short-conc-2=cancelled',
      'semantic_eval:semantic_eval=cancelled',
      'lm_eval:gsm8k=cancelled',
      'bfcl:multiple=cancelled',
    ]);
    expect(recorded.calls).toEqual(['startServer:18123', 'stop']);
    expect(readJson<RunSummary>(plan.files.summaryJson).status).toBe('cancelled');
  });

  it('env values that do not match the plan (another recipe) are refused before anything starts', async () => {
    const dir = tempDir();
    const { plan, env } = planOf(dir);
    const recorded = recorder();
    const summary = await executeRun(plan, {
      env,
      serverEnv: { server: { OTHER: '1' }, roles: {} },
      signal: new AbortController().signal,
      reporter: reporter(recorded),
      adapters: fakes(recorded),
    });
    expect(summary.status).toBe('failed');
    expect(summary.server.error?.code).toBe('E_RUN_PLAN_ENV');
    expect(recorded.calls).toEqual([]);
  });
});

describe('executeRun: failed writes (issue 12 item 2)', () => {
  const enospc = (): NodeJS.ErrnoException =>
    Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

  it('a rejected summary write is reported naming the cause; later tasks and saves still run; the final summary is valid and final', async () => {
    const dir = tempDir();
    const { plan, workload, env } = planOf(dir);
    const recorded = recorder();
    let writes = 0;
    const summary = await executeRun(plan, {
      ...optionsFor(workload, env, recorded),
      adapters: fakes(recorded, {
        // The disk is full from the 2nd to the 5th write, then space is freed.
        writeSummary: async (resultsDir, snapshot) => {
          writes++;
          if (writes >= 2 && writes <= 5) throw enospc();
          await writeSummary(resultsDir, snapshot);
        },
      }),
    });
    expect(recorded.calls).toEqual([
      'startServer:18123',
      'bench:short-conc-2',
      'semantic_eval',
      'lm_eval:gsm8k',
      'bfcl:multiple',
      'stop',
    ]);
    expect(recorded.errors).toEqual([
      `+++ :rotating_light: could not write the run summary: no space left on ${plan.resultsDir} (ENOSPC)`,
    ]);
    expect(summary.status).toBe('failed');
    const onDisk = readJson<RunSummary>(plan.files.summaryJson);
    expect(onDisk.status).toBe('failed');
    expect(onDisk.writeErrors).toEqual([
      `could not write the run summary: no space left on ${plan.resultsDir} (ENOSPC)`,
    ]);
    expect(onDisk.tasks.map((t) => t.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(existsSync(plan.files.ingestPlan)).toBe(true);
  });

  it('when every write fails the run still finishes, reports once per cause, and the ingest plan failure is reported too', async () => {
    const dir = tempDir();
    const { plan, workload, env } = planOf(dir);
    const recorded = recorder();
    const summary = await executeRun(plan, {
      ...optionsFor(workload, env, recorded),
      adapters: fakes(recorded, {
        writeSummary: async () => Promise.reject(enospc()),
        ingest: {
          ...(await import('./ingest.js')).realIngestAdapter,
          writeIngestPlan: async () => Promise.reject(enospc()),
        },
      }),
    });
    expect(recorded.calls.at(-1)).toBe('stop');
    expect(summary.status).toBe('failed');
    expect(summary.tasks.every((t) => t.status === 'ok')).toBe(true);
    expect(summary.writeErrors).toEqual([
      `could not write the run summary: no space left on ${plan.resultsDir} (ENOSPC)`,
      `could not write the ingest plan: no space left on ${join(plan.resultsDir, '.ingest')} (ENOSPC)`,
    ]);
  });
});

describe('executeRun: GPU time, caches and the server view (issue 15)', () => {
  const DOCKER_RECIPE = RECIPE.replace('gpu: SIM', 'gpu: H200').replace(
    '{name: short, input_len: 8, output_len: 8, num_prompts: 4, max_concurrency: 2}',
    '{name: short, input_len: 8, output_len: 8, num_prompts: 4, max_concurrency: 2, repetitions: 3}',
  );

  /** A bench fake that honours the repetition hooks like bench-runner does. */
  function hookedBench(recorded: Recorded): Partial<RunAdapters> {
    return {
      runBench: async (spec, options) => {
        const files: string[] = [];
        for (let r = 1; r <= spec.repetitions; r++) {
          await options.beforeRepetition?.(r);
          recorded.calls.push(`bench:${spec.runName}:${r}`);
          const file = join(options.resultsDir, `bench-${spec.runName}-run-${r}.json`);
          writeFileSync(file, '{}');
          files.push(file);
          await options.afterRepetition?.(r, {
            file,
            result: { completed: 4, failed: 0, num_prompts: 4, max_concurrency: 2 },
          });
        }
        const resultFile = join(options.resultsDir, `bench-${spec.runName}.json`);
        writeFileSync(resultFile, '{}');
        return {
          runName: spec.runName,
          resultFile,
          repetitionFiles: files,
          result: { completed: 4, failed: 0 },
          counts: [],
          nonFiniteKeys: [],
          durationMs: 1,
        } as unknown as BenchRunOutcome;
      },
      resetServerCaches: async ({ url }) => {
        recorded.calls.push(`reset:${url}`);
        return { reset: true, endpoints: [] };
      },
      startMetricsSampler: () => {
        recorded.calls.push('sample');
        return {
          stop: async () => ({
            samples: 5,
            activeSamples: 5,
            failedScrapes: 0,
            durationS: 4,
            running: { mean: 0.5, peak: 1 },
            waiting: { mean: 0, peak: 0 },
            kvCacheUsage: null,
            prefixCacheQueries: 100,
            prefixCacheHits: 50,
            prefixCacheHitRate: 0.5,
            preemptions: 2,
            missing: ['vllm:kv_cache_usage_perc'],
          }),
        };
      },
    };
  }

  it('servers perf-eval starts get VLLM_SERVER_DEV_MODE=1; caches are reset before every repetition; each repetition records the server view and validity flags; the GPU time adds up', async () => {
    const dir = tempDir();
    const { plan, workload, env } = planOf(dir, undefined, DOCKER_RECIPE);
    expect(plan.cacheReset).toEqual({ enabled: true });
    expect(plan.launch.kind === 'server' && plan.launch.server.envNames).toContain('VLLM_SERVER_DEV_MODE');
    const recorded = recorder();
    const summary = await executeRun(plan, {
      ...optionsFor(workload, env, recorded, { stepStartedAtMs: Date.now() - 2000 }),
      adapters: { ...fakes(recorded), ...hookedBench(recorded) },
    });
    const url = `http://127.0.0.1:${plan.server.port}`;
    expect(
      recorded.calls.filter((c) => c.startsWith('reset') || c.startsWith('bench') || c === 'sample'),
    ).toEqual([1, 2, 3].flatMap((r) => [`reset:${url}`, 'sample', `bench:short-conc-2:${r}`]));
    const bench = summary.tasks.find((t) => t.kind === 'bench');
    expect(
      bench?.repetitions?.map((r) => [r.repetition, r.cacheReset.reset, r.server?.prefixCacheHitRate]),
    ).toEqual([
      [1, true, 0.5],
      [2, true, 0.5],
      [3, true, 0.5],
    ]);
    expect(bench?.validity?.map((f) => `${f.code}:${f.severity}`)).toEqual([
      'warm-prefix-cache:invalid',
      'client-bound:invalid',
      'preemptions:warning',
    ]);
    const onDisk = readJson<RunSummary>(plan.files.summaryJson);
    expect(onDisk.tasks.find((t) => t.kind === 'bench')?.validity).toHaveLength(3);
    // Timeline and accounting: every phase kind that happened, and the parts add up to the held time.
    const kinds = new Set(onDisk.timeline?.map((p) => p.kind));
    for (const kind of [
      'setup',
      'server-launch',
      'cache-reset',
      'bench',
      'lm_eval',
      'bfcl',
      'semantic_eval',
      'teardown',
      'ingest',
    ])
      expect(kinds, kind).toContain(kind);
    const gpu = onDisk.gpuTime;
    expect(gpu).toBeDefined();
    const parts = (gpu?.measuringS ?? 0) + Object.values(gpu?.idleS ?? {}).reduce((a, b) => a + b, 0);
    expect(Math.abs(parts - (gpu?.heldS ?? 0))).toBeLessThanOrEqual((gpu?.heldS ?? 0) * 0.01 + 0.005);
    expect(gpu?.idleS.setup).toBeGreaterThanOrEqual(1.9);
    const markdown = readFileSync(plan.files.summaryMd, 'utf8');
    expect(markdown).toMatch(/^GPUs busy \d+ % \(measuring .* of .*\); idle: /m);
    expect(markdown).toContain(
      '`client-bound`: mean running requests 0.5 (peak 1) against max_concurrency 2 with 4 prompts',
    );
  });

  it('the simulator and recipes that opt out are never reset, and each repetition says why', async () => {
    const dir = tempDir();
    const sim = planOf(
      dir,
      undefined,
      RECIPE.replace('max_concurrency: 2}', 'max_concurrency: 2, repetitions: 3}'),
    );
    expect(sim.plan.cacheReset).toEqual({
      enabled: false,
      reason: 'the simulator (llm-d-inference-sim) has no cache-reset endpoints',
    });
    expect(sim.plan.launch.kind === 'server' && sim.plan.launch.server.envNames).not.toContain(
      'VLLM_SERVER_DEV_MODE',
    );
    const recorded = recorder();
    const summary = await executeRun(sim.plan, {
      ...optionsFor(sim.workload, sim.env, recorded),
      adapters: { ...fakes(recorded), ...hookedBench(recorded) },
    });
    expect(recorded.calls.some((c) => c.startsWith('reset'))).toBe(false);
    expect(summary.tasks.find((t) => t.kind === 'bench')?.repetitions?.map((r) => r.cacheReset)).toEqual(
      Array(3).fill({
        reset: false,
        reason: 'the simulator (llm-d-inference-sim) has no cache-reset endpoints',
      }),
    );
    const optOut = planOf(
      tempDir(),
      undefined,
      DOCKER_RECIPE.replace('  model: org/tiny', "  model: org/tiny\n  env:\n    VLLM_SERVER_DEV_MODE: '0'"),
    );
    expect(optOut.plan.cacheReset).toEqual({
      enabled: false,
      reason: 'the recipe sets VLLM_SERVER_DEV_MODE=0 (cache-reset endpoints off)',
    });
  });

  it('prepare runs while the server starts (overlap), and the first task waits for it', async () => {
    const dir = tempDir();
    const { plan, workload, env } = planOf(dir);
    const recorded = recorder();
    let serverCalled!: () => void;
    const serverStarted = new Promise<void>((resolve) => (serverCalled = resolve));
    const base = fakes(recorded);
    const summary = await executeRun(plan, {
      ...optionsFor(workload, env, recorded, {
        // Deadlocks (and times the test out) unless the server launch starts while prepare is still running.
        prepare: async () => {
          recorded.calls.push('prepare:start');
          await serverStarted;
          await new Promise((resolve) => setTimeout(resolve, 20));
          recorded.calls.push('prepare:end');
        },
      }),
      adapters: {
        ...base,
        startServer: async (spec, options) => {
          recorded.calls.push('server:start');
          serverCalled();
          return (base.startServer as RunAdapters['startServer'])(spec, options);
        },
      },
    });
    expect(summary.status).toBe('ok');
    expect(recorded.calls.slice(0, 5)).toEqual([
      'prepare:start',
      'server:start',
      `startServer:${plan.server.port}`,
      'prepare:end',
      'bench:short-conc-2',
    ]);
    expect(
      summary.timeline?.find((p) => p.kind === 'setup' && p.name === 'tool provisioning and preflight')
        ?.status,
    ).toBe('ok');
  });

  it('a failed prepare fails the run before any task, tears the server down and records why', async () => {
    const dir = tempDir();
    const { plan, workload, env } = planOf(dir);
    const recorded = recorder();
    const summary = await executeRun(plan, {
      ...optionsFor(workload, env, recorded, {
        prepare: async () => {
          throw new Error('pip install lm-eval failed');
        },
      }),
      adapters: fakes(recorded),
    });
    expect(summary.status).toBe('failed');
    expect(summary.prepareError?.message).toBe('pip install lm-eval failed');
    expect(recorded.calls.filter((c) => c.startsWith('bench') || c.startsWith('lm_eval'))).toEqual([]);
    expect(recorded.stopped).toBe(1);
  });
});
