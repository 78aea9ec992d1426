import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BfclRunSpec } from './argv.js';
import { packagedDriverPath } from './driver.js';
import type { BfclFailedError, BfclNoScoreError, BfclTimeoutError } from './errors.js';
import { runBfcl } from './run.js';
import type { RunBfclOptions } from './run.js';

const FAKE_PYTHON = resolve(import.meta.dirname, '../../test/fixtures/bin/fake-bfcl-python');

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bfcl-run-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '', ...extra };
}

async function setup(category: string, extra: Partial<BfclRunSpec> = {}) {
  const cwd = await tempDir();
  const lines: string[] = [];
  const output: string[] = [];
  const spec: BfclRunSpec = {
    category,
    model: 'openai/gpt-oss-120b',
    baseUrl: 'http://localhost:18199',
    numThreads: 8,
    temperature: '0.001',
    resultsDir: 'results/gpt-oss',
    ...extra,
  };
  const options = (more: Partial<RunBfclOptions> = {}): RunBfclOptions => ({
    python: FAKE_PYTHON,
    driverPath: packagedDriverPath(),
    cwd,
    env: baseEnv(),
    print: (line) => lines.push(line),
    onOutput: (line) => output.push(line),
    now: () => new Date(2026, 10, 22, 13, 0, 0),
    ...more,
  });
  return { cwd, lines, output, spec, options };
}

describe('runBfcl (fake venv python)', () => {
  it('runs a leaf: header, exact score file, results + manifest', async () => {
    const { cwd, lines, output, spec, options } = await setup('simple_python');
    const outcome = await runBfcl(spec, options());
    const results = join(cwd, 'results/gpt-oss');
    expect(outcome.scores).toEqual([
      { category: 'simple_python', accuracy: 0.8575, correctCount: 343, totalCount: 400 },
    ]);
    expect(outcome.workDir).toBe(join(results, '.bfcl_work/simple_python'));
    expect(outcome.writtenFiles).toEqual([
      join(results, 'bfcl-simple_python/results_2026-11-22T13-00-00.json'),
    ]);
    expect(outcome.manifest).toBe(join(results, '.bfcl_ingest/simple_python.txt'));
    expect(await readFile(outcome.manifest, 'utf8')).toBe('simple_python\n');
    expect(lines).toEqual([
      '--- :phone: bfcl simple_python',
      '[bfcl] simple_python: accuracy=0.8575',
      `[bfcl] results written to ${outcome.writtenFiles[0]}`,
      `[bfcl] ingest manifest written to ${outcome.manifest}`,
    ]);
    expect(output).toContain('[bfcl] maximum_step_limit=10 (from default)');
    expect(output).toContain('[bfcl] generate: model=openai/gpt-oss-120b category=simple_python');
    expect(outcome.durationMs).toBeGreaterThan(0);
  });

  it('runs a group: mean first, subcategories in mapping order, one results file each', async () => {
    const { cwd, spec, options } = await setup('multi_turn', { maxTestCases: 6 });
    const outcome = await runBfcl(spec, options());
    expect(outcome.scores.map((s) => s.category)).toEqual([
      'multi_turn',
      'multi_turn_base',
      'multi_turn_miss_func',
      'multi_turn_miss_param',
      'multi_turn_long_context',
    ]);
    expect(outcome.scores[0]?.accuracy).toBe((0.62 + 0.505 + 0.475 + 0.525) / 4);
    const total = JSON.parse(await readFile(outcome.writtenFiles[0] as string, 'utf8'));
    expect(total.results.bfcl_multi_turn.alias).toBe('bfcl_multi_turn (overall)');
    expect(await readFile(outcome.manifest, 'utf8')).toBe(
      'multi_turn\nmulti_turn_base\nmulti_turn_miss_func\nmulti_turn_miss_param\nmulti_turn_long_context\n',
    );
    const ids = JSON.parse(
      await readFile(
        join(cwd, 'results/gpt-oss/.bfcl_work/multi_turn/test_case_ids_to_generate.json'),
        'utf8',
      ),
    );
    expect(Object.keys(ids)).toEqual([
      'multi_turn_base',
      'multi_turn_long_context',
      'multi_turn_miss_func',
      'multi_turn_miss_param',
    ]);
  });

  it('accepts a 0 % score as valid (live_parallel, D2)', async () => {
    const { lines, spec, options } = await setup('live_parallel');
    const outcome = await runBfcl(spec, options());
    expect(outcome.scores).toEqual([
      { category: 'live_parallel', accuracy: 0, correctCount: 0, totalCount: 16 },
    ]);
    expect(lines[1]).toBe('[bfcl] live_parallel: accuracy=0.0');
    expect(
      JSON.parse(await readFile(outcome.writtenFiles[0] as string, 'utf8')).results.bfcl_live_parallel[
        'acc,none'
      ],
    ).toBe(0);
  });

  it('fails a group with a missing subcategory and writes nothing', async () => {
    const { cwd, spec, options } = await setup('non_python');
    const error = (await runBfcl(spec, options({ env: baseEnv({ FAKE_BFCL_MODE: 'missing-sub' }) })).catch(
      (e: unknown) => e,
    )) as BfclNoScoreError;
    expect(error.code).toBe('E_BFCL_NO_SCORE');
    expect(error.missing).toEqual(['simple_javascript']);
    expect(error.message).toContain(
      '[bfcl] no score found for non_python: missing sub-category scores: simple_javascript',
    );
    expect(error.outputTail.some((line) => line.startsWith('[bfcl] evaluate:'))).toBe(true);
    await expect(stat(join(cwd, 'results/gpt-oss/.bfcl_ingest'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(join(cwd, 'results/gpt-oss/bfcl-non_python'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('does not accept a suffix match for a leaf score (multiple vs parallel_multiple)', async () => {
    const { spec, options } = await setup('multiple');
    const error = (await runBfcl(spec, options({ env: baseEnv({ FAKE_BFCL_MODE: 'decoy-suffix' }) })).catch(
      (e: unknown) => e,
    )) as BfclNoScoreError;
    expect(error.code).toBe('E_BFCL_NO_SCORE');
    expect(error.paths[0]).toMatch(/\/score\/openai_gpt-oss-120b\/non_live\/BFCL_v4_multiple_score\.json$/);
  });

  it('exit 0 without score files is E_BFCL_NO_SCORE naming the exact path', async () => {
    const { cwd, spec, options } = await setup('irrelevance');
    await expect(runBfcl(spec, options({ env: baseEnv({ FAKE_BFCL_MODE: 'no-score' }) }))).rejects.toThrow(
      `[bfcl] no score found for irrelevance: ${join(cwd, 'results/gpt-oss/.bfcl_work/irrelevance/score/openai_gpt-oss-120b/non_live/BFCL_v4_irrelevance_score.json')} does not exist`,
    );
  });

  it('a non-zero exit is E_BFCL_FAILED with the [bfcl] reason and the output tail', async () => {
    const { spec, options } = await setup('live_simple');
    const error = (await runBfcl(spec, options({ env: baseEnv({ FAKE_BFCL_MODE: 'fail' }) })).catch(
      (e: unknown) => e,
    )) as BfclFailedError;
    expect(error.code).toBe('E_BFCL_FAILED');
    expect(error.exitCode).toBe(1);
    expect(error.message).toBe(
      'bfcl live_simple failed with exit code 1: [bfcl] generate failed for live_simple: APIConnectionError: Connection error.',
    );
    expect(error.outputTail).toContain('openai.APIConnectionError: Connection error.');
    expect(error.fullMessage).toContain('  | Traceback (most recent call last):');
    expect(error.command.slice(2, 4)).toEqual(['--model', 'openai/gpt-oss-120b']);
  });

  it('a bad workload limit from the driver surfaces as E_BFCL_FAILED with its message', async () => {
    const { spec, options } = await setup('simple_python');
    await expect(
      runBfcl(spec, options({ env: baseEnv({ BFCL_MAXIMUM_STEP_LIMIT: 'abc' }) })),
    ).rejects.toThrow(
      "bfcl simple_python failed with exit code 1: [bfcl] BFCL_MAXIMUM_STEP_LIMIT must be a positive integer, got 'abc'",
    );
  });

  it('kills a hanging driver on timeout (E_BFCL_TIMEOUT)', async () => {
    const { spec, options } = await setup('simple_python');
    const error = (await runBfcl(
      spec,
      options({ env: baseEnv({ FAKE_BFCL_MODE: 'hang' }), timeoutMs: 1500, killGraceMs: 500 }),
    ).catch((e: unknown) => e)) as BfclTimeoutError;
    expect(error.code).toBe('E_BFCL_TIMEOUT');
    expect(error.timedOut).toBe(true);
    expect(error.signal).toBe('SIGTERM');
    expect(error.message).toBe(
      'bfcl simple_python timed out after 1.5s and was killed (is the server still up?)',
    );
    expect(error.outputTail.at(-1)).toContain('waiting for the server');
  });

  it('cancels through the AbortSignal (E_BFCL_CANCELLED)', async () => {
    const { spec, options } = await setup('simple_python');
    const controller = new AbortController();
    const running = runBfcl(
      spec,
      options({
        env: baseEnv({ FAKE_BFCL_MODE: 'hang' }),
        signal: controller.signal,
        killGraceMs: 500,
        onOutput: (line) => {
          if (line.includes('waiting for the server')) controller.abort();
        },
      }),
    );
    await expect(running).rejects.toMatchObject({ code: 'E_BFCL_CANCELLED' });
  });

  it('starts from a fresh work dir (D4) and passes only the given env plus the BFCL vars', async () => {
    const { cwd, output, spec, options } = await setup('live_relevance');
    const stale = join(cwd, 'results/gpt-oss/.bfcl_work/live_relevance/score/stale.json');
    await mkdir(join(stale, '..'), { recursive: true });
    await writeFile(stale, '{}');
    await writeFile(
      join(cwd, 'results/gpt-oss/.bfcl_work/live_relevance/.env'),
      'OPENAI_BASE_URL=http://evil\n',
    );
    process.env['PERF_EVAL_TEST_LEAK'] = 'server-only';
    onTestFinished(() => {
      delete process.env['PERF_EVAL_TEST_LEAK'];
    });
    const outcome = await runBfcl(
      spec,
      options({ env: baseEnv({ FAKE_BFCL_MODE: 'echo-env', OPENAI_API_KEY: 'sk-secret-value' }) }),
    );
    expect(outcome.scores[0]?.accuracy).toBe(0.6875);
    await expect(stat(stale)).rejects.toMatchObject({ code: 'ENOENT' });
    const envLine = output.find((line) => line.startsWith('ENV ')) as string;
    expect(envLine).not.toContain('sk-secret-value'); // scrubbed from forwarded output
    const env = JSON.parse(envLine.slice(4)) as Record<string, string>;
    expect(env['PERF_EVAL_TEST_LEAK']).toBeUndefined();
    expect(env['OPENAI_API_KEY']).toBe('***');
    expect(env['LOCAL_SERVER_ENDPOINT']).toBe('localhost');
    expect(env['LOCAL_SERVER_PORT']).toBe('18199');
  });

  it('rejects an unknown category before running anything', async () => {
    const { cwd, spec, options } = await setup('web_search_x');
    await expect(runBfcl(spec, options())).rejects.toMatchObject({ code: 'E_BFCL_UNKNOWN_CATEGORY' });
    await expect(stat(join(cwd, 'results'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a missing python is E_BFCL_FAILED naming the spawn error', async () => {
    const { spec, options } = await setup('simple_python');
    await expect(runBfcl(spec, options({ python: '/nonexistent/bin/python' }))).rejects.toMatchObject({
      code: 'E_BFCL_FAILED',
      message: expect.stringContaining('ENOENT'),
    });
  });
});

describe('runBfcl inference-error detection (BFCL exits 0 when requests fail)', () => {
  it('refuses to publish 0.0 when every entry failed during inference', async () => {
    const { cwd, lines, spec, options } = await setup('simple_python');
    const error = await runBfcl(spec, options({ env: baseEnv({ FAKE_BFCL_MODE: 'dead-server' }) })).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: 'E_BFCL_INFERENCE_FAILED',
      entries: 2,
      firstError: 'Connection error.',
    });
    expect((error as Error).message).toBe(
      '[bfcl] all 2 simple_python entries failed during inference: Connection error.',
    );
    expect(lines).toContain(
      '[bfcl] warning: simple_python: 2/2 entries failed during inference (first: Connection error.)',
    );
    await expect(stat(join(cwd, 'results/gpt-oss/bfcl-simple_python'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('publishes them with allowAllInferenceErrors', async () => {
    const { spec, options } = await setup('simple_python');
    const outcome = await runBfcl(
      spec,
      options({ env: baseEnv({ FAKE_BFCL_MODE: 'dead-server' }), allowAllInferenceErrors: true }),
    );
    expect(outcome.scores).toEqual([
      { category: 'simple_python', accuracy: 0, correctCount: 0, totalCount: 2 },
    ]);
    expect(outcome.inferenceErrors).toEqual([
      { category: 'simple_python', errors: 2, total: 2, firstError: 'Connection error.' },
    ]);
  });

  it('only warns when some entries failed', async () => {
    const { lines, spec, options } = await setup('non_python');
    const outcome = await runBfcl(spec, options({ env: baseEnv({ FAKE_BFCL_MODE: 'some-errors' }) }));
    expect(outcome.inferenceErrors).toEqual([
      { category: 'simple_java', errors: 1, total: 2, firstError: 'Connection error.' },
      { category: 'simple_javascript', errors: 0, total: 1 },
    ]);
    expect(lines).toContain(
      '[bfcl] warning: simple_java: 1/2 entries failed during inference (first: Connection error.)',
    );
    expect(outcome.scores[0]).toEqual({ category: 'non_python', accuracy: (0.56 + 0.48) / 2 });
  });
});
