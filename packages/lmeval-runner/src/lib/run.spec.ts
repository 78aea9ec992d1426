import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { buildLmEvalArgv, renderBaseUrl, renderModelArgs } from './argv.js';
import type { LmEvalTaskSpec } from './argv.js';
import { LmEvalCancelledError, LmEvalFailedError, LmEvalNoResultsError } from './errors.js';
import { metricsOf } from './results.js';
import { runLmEval } from './run.js';
import type { RunLmEvalOptions } from './run.js';
import { rejection, tempDir } from '../../test/helpers.js';

const FAKE_LMEVAL = resolve(import.meta.dirname, '../../test/fixtures/bin/lm_eval');

function specIn(dir: string, overrides: Partial<LmEvalTaskSpec> = {}): LmEvalTaskSpec {
  return {
    task: 'gsm8k',
    numFewshot: 5,
    modelArgs: renderModelArgs('Qwen/Qwen3-8B', renderBaseUrl('http://localhost:8000'), {
      tokenized_requests: false,
      tokenizer_backend: null,
    }),
    outputPath: join(dir, 'results', 'qwen3_8b', 'gsm8k'),
    modelName: 'Qwen/Qwen3-8B',
    ...overrides,
  };
}

interface Harness {
  log: string;
  lines: string[];
  options: (extraEnv?: Record<string, string>, more?: RunLmEvalOptions) => RunLmEvalOptions;
  calls: () => { pid: number; argv: string[]; env: Record<string, string> }[];
}

function harness(dir: string): Harness {
  const log = join(dir, 'fake-lmeval.jsonl');
  const lines: string[] = [];
  return {
    log,
    lines,
    options: (extraEnv = {}, more = {}) => ({
      command: [FAKE_LMEVAL],
      env: {
        PATH: process.env['PATH'] ?? '',
        HF_HUB_OFFLINE: '1',
        HF_DATASETS_OFFLINE: '1',
        FAKE_LMEVAL_LOG: log,
        ...extraEnv,
      },
      print: (line) => lines.push(line),
      killGraceMs: 1000,
      ...more,
    }),
    calls: () =>
      readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { pid: number; argv: string[]; env: Record<string, string> }),
  };
}

describe('runLmEval with the fake lm_eval', () => {
  it('runs the built argv with exactly the given env and finds results and samples', async () => {
    const dir = await tempDir();
    const h = harness(dir);
    const spec = specIn(dir);
    const outputLines: string[] = [];
    const outcome = await runLmEval(spec, {
      ...h.options(),
      onOutput: (line, stream) => outputLines.push(`${stream}:${line}`),
    });

    expect(h.lines).toEqual(['--- :microscope: lm_eval gsm8k (5-shot)']);
    const [call] = h.calls();
    expect(call?.argv).toEqual(buildLmEvalArgv(spec).slice(1));
    // Explicit env only (D18): nothing from this process leaks in except what was passed.
    expect(
      Object.keys(call?.env ?? {})
        .filter((k) => k !== 'PWD' && k !== 'SHLVL' && k !== '_')
        .sort(),
    ).toEqual(['FAKE_LMEVAL_LOG', 'HF_DATASETS_OFFLINE', 'HF_HUB_OFFLINE', 'PATH'].sort());

    const modelDir = join(spec.outputPath, 'Qwen__Qwen3-8B');
    expect(outcome.task).toBe('gsm8k');
    expect(outcome.resultsFile.startsWith(`${modelDir}/results_`)).toBe(true);
    const dateId = basename(outcome.resultsFile).slice('results_'.length, -'.json'.length);
    expect(dateId).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{6}$/);
    expect(outcome.samplesFiles).toEqual([join(modelDir, `samples_gsm8k_${dateId}.jsonl`)]);
    expect(outcome.createdFiles).toEqual([outcome.resultsFile, ...outcome.samplesFiles].sort());
    expect(outcome.durationMs).toBeGreaterThan(0);
    expect(outcome.results.model_name).toBe('Qwen/Qwen3-8B');
    expect(outcome.results['n-shot']).toEqual({ gsm8k: 5 });
    expect(outcome.results.config?.model).toBe('local-completions');
    expect(metricsOf(outcome.results, 'gsm8k').map((m) => `${m.metric},${m.filter}`)).toEqual([
      'exact_match,strict-match',
      'exact_match,flexible-extract',
    ]);
    expect(outputLines).toContain('stdout:INFO Selected tasks: gsm8k');
  });

  it('accepts process.env as is (the EnvVars type of every adapter); unset values stay unset', async () => {
    const dir = await tempDir();
    const h = harness(dir);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      FAKE_LMEVAL_LOG: h.log,
      PERF_EVAL_TEST_UNSET: undefined,
    };
    const outcome = await runLmEval(specIn(dir), { command: [FAKE_LMEVAL], env, print: () => undefined });
    expect(outcome.samplesFiles).toHaveLength(1);
    const [call] = h.calls();
    expect(call?.env['FAKE_LMEVAL_LOG']).toBe(h.log);
    expect(call?.env).not.toHaveProperty('PERF_EVAL_TEST_UNSET');
  });

  it('resolves a relative outputPath against cwd and runs chat with optional flags', async () => {
    const dir = await tempDir();
    const h = harness(dir);
    const spec = specIn(dir, {
      outputPath: 'results/x/gsm8k',
      chat: true,
      numFewshot: 0,
      limit: 3,
      seed: 42,
      genKwargs: 'temperature=0',
    });
    const outcome = await runLmEval(spec, { ...h.options(), cwd: dir });
    expect(outcome.resultsFile.startsWith(join(dir, 'results/x/gsm8k/Qwen__Qwen3-8B/results_'))).toBe(true);
    expect(outcome.results.config?.model).toBe('local-chat-completions');
    expect(h.calls()[0]?.argv).toContain('--apply_chat_template');
    expect(h.lines).toEqual(['--- :microscope: lm_eval gsm8k (0-shot)']);
  });

  it('ignores results left by an earlier run in the same directory (D33)', async () => {
    const dir = await tempDir();
    const h = harness(dir);
    const spec = specIn(dir);
    const first = await runLmEval(spec, h.options());
    const second = await runLmEval({ ...spec, numFewshot: 8 }, h.options());
    expect(second.resultsFile).not.toBe(first.resultsFile);
    expect(second.createdFiles).not.toContain(first.resultsFile);
    expect(second.createdFiles).not.toContain(first.samplesFiles[0]);
    expect(second.results['n-shot']).toEqual({ gsm8k: 8 });

    // A third run that saves nothing must fail although two results files are present.
    const error = (await rejection(
      runLmEval(spec, h.options({ FAKE_LMEVAL_MODE: 'no_results' })),
    )) as LmEvalNoResultsError;
    expect(error).toBeInstanceOf(LmEvalNoResultsError);
    expect(
      (await readdir(join(spec.outputPath, 'Qwen__Qwen3-8B'))).filter((f) => f.startsWith('results_')),
    ).toHaveLength(2);
  });

  it('does not pick up a stale results file whose name sorts newer', async () => {
    const dir = await tempDir();
    const h = harness(dir);
    const spec = specIn(dir);
    const modelDir = join(spec.outputPath, 'Qwen__Qwen3-8B');
    await mkdir(modelDir, { recursive: true });
    await writeFile(join(modelDir, 'results_2999-01-01T00-00-00.000000.json'), '{"results": {}}');
    const outcome = await runLmEval(spec, h.options());
    expect(basename(outcome.resultsFile)).not.toBe('results_2999-01-01T00-00-00.000000.json');
    expect(outcome.results.results['gsm8k']).toBeDefined();
  });

  it('exit 0 without a results file → E_LMEVAL_NO_RESULTS', async () => {
    const dir = await tempDir();
    const h = harness(dir);
    const spec = specIn(dir, { modelArgs: `${specIn(dir).modelArgs},auth_token=hf_tailsecret` });
    const error = (await rejection(
      runLmEval(spec, h.options({ FAKE_LMEVAL_MODE: 'no_results' })),
    )) as LmEvalNoResultsError;
    expect(error.code).toBe('E_LMEVAL_NO_RESULTS');
    // lm-eval echoes model_args in its summary line; secret-named values are scrubbed from the tail.
    expect(
      error.outputTail.some(
        (line) => line.startsWith('local-completions (') && line.includes('auth_token=***'),
      ),
    ).toBe(true);
    expect(JSON.stringify(error.outputTail)).not.toContain('hf_tailsecret');
    expect(error.message).toBe(
      `lm_eval gsm8k exited 0 but wrote no results_*.json under ${join(spec.outputPath, 'Qwen__Qwen3-8B')}`,
    );
    expect(error.exitCode).toBe(0);
    expect(error.outputTail).toContain('WARNING Could not save results aggregated');
  });

  it('names results written under another model directory when modelName does not match model_args', async () => {
    const dir = await tempDir();
    const h = harness(dir);
    const spec = specIn(dir, { modelName: 'served-name' });
    const error = (await rejection(runLmEval(spec, h.options()))) as LmEvalNoResultsError;
    expect(error.code).toBe('E_LMEVAL_NO_RESULTS');
    expect(error.strayResults).toHaveLength(1);
    expect(error.strayResults[0]).toContain('/Qwen__Qwen3-8B/results_');
    expect(error.message).toContain('does modelName match model= in model_args?');
  });

  it('non-zero exit → E_LMEVAL_FAILED with a bounded, scrubbed output tail', async () => {
    const dir = await tempDir();
    const h = harness(dir);
    const spec = specIn(dir, { modelArgs: `${specIn(dir).modelArgs},auth_token=hf_modelargsecret` });
    const error = (await rejection(
      runLmEval(
        spec,
        h.options(
          {
            FAKE_LMEVAL_MODE: 'exit1',
            OPENAI_API_KEY: 'sk-supersecret-123',
            FAKE_LMEVAL_ECHO_ENV: 'OPENAI_API_KEY',
          },
          { tailLines: 20 },
        ),
      ),
    )) as LmEvalFailedError;
    expect(error).toBeInstanceOf(LmEvalFailedError);
    expect(error.code).toBe('E_LMEVAL_FAILED');
    expect(error.message).toBe('lm_eval gsm8k failed with exit code 1');
    expect(error.exitCode).toBe(1);
    expect(error.task).toBe('gsm8k');
    expect(error.outputTail).toHaveLength(20);
    expect(error.outputTail).toContain('RuntimeError: API request failed after 3 retries');
    expect(error.fullMessage).toContain('  | RuntimeError: API request failed after 3 retries');
    expect(error.command[0]).toBe(FAKE_LMEVAL);
    expect(error.command).toContain('--model_args');
    const serialized = JSON.stringify({
      command: error.command,
      tail: error.outputTail,
      message: error.fullMessage,
    });
    expect(serialized).not.toContain('hf_modelargsecret');
    expect(error.command.join(' ')).toContain('auth_token=***');
    // The echoed key appears early in the output; scrub it wherever it is (check with a full tail too).
    const full = (await rejection(
      runLmEval(
        spec,
        h.options(
          {
            FAKE_LMEVAL_MODE: 'exit1',
            OPENAI_API_KEY: 'sk-supersecret-123',
            FAKE_LMEVAL_ECHO_ENV: 'OPENAI_API_KEY',
          },
          { tailLines: 500 },
        ),
      ),
    )) as LmEvalFailedError;
    expect(full.outputTail).toContain('DEBUG value=***');
    expect(JSON.stringify(full.outputTail)).not.toContain('sk-supersecret-123');
  });

  it('rejects flags the real lm_eval does not know (argparse exit 2)', async () => {
    const dir = await tempDir();
    const h = harness(dir);
    const error = (await rejection(
      runLmEval(specIn(dir), { ...h.options(), command: [FAKE_LMEVAL, '--tokenizer', 'x'] }),
    )) as LmEvalFailedError;
    expect(error.message).toBe('lm_eval gsm8k failed with exit code 2');
    expect(error.outputTail.at(-1)).toBe('lm-eval: error: unrecognized arguments: --tokenizer x');
  });

  it('a missing executable → E_LMEVAL_FAILED naming the spawn error', async () => {
    const dir = await tempDir();
    const h = harness(dir);
    const error = (await rejection(
      runLmEval(specIn(dir), { ...h.options(), command: [join(dir, 'no-such-lm_eval')] }),
    )) as LmEvalFailedError;
    expect(error.code).toBe('E_LMEVAL_FAILED');
    expect(error.message).toMatch(/^lm_eval gsm8k failed: .*ENOENT/);
  });

  it('abort kills the process → E_LMEVAL_CANCELLED', async () => {
    const dir = await tempDir();
    const h = harness(dir);
    const controller = new AbortController();
    const running = runLmEval(specIn(dir), {
      ...h.options({ FAKE_LMEVAL_MODE: 'hang' }),
      signal: controller.signal,
      onOutput: (line) => {
        if (line.startsWith('Requesting API')) controller.abort();
      },
    });
    const error = (await rejection(running)) as LmEvalCancelledError;
    expect(error).toBeInstanceOf(LmEvalCancelledError);
    expect(error.code).toBe('E_LMEVAL_CANCELLED');
    expect(error.message).toBe('lm_eval gsm8k was cancelled');
    expect(error.signal).toBe('SIGTERM');
    const pid = h.calls()[0]?.pid as number;
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it('timeout kills the process → E_LMEVAL_FAILED timed out', async () => {
    const dir = await tempDir();
    const h = harness(dir);
    const error = (await rejection(
      runLmEval(specIn(dir), { ...h.options({ FAKE_LMEVAL_MODE: 'hang' }), timeoutMs: 1500 }),
    )) as LmEvalFailedError;
    expect(error.code).toBe('E_LMEVAL_FAILED');
    expect(error.timedOut).toBe(true);
    expect(error.message).toBe('lm_eval gsm8k timed out after 1.5s');
    expect(existsSync(join(specIn(dir).outputPath, 'Qwen__Qwen3-8B'))).toBe(false);
  });
});
