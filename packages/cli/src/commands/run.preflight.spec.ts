import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  cliEnv,
  freePort,
  PROFILES,
  runCli,
  sandbox,
  simRecipe,
  type Sandbox,
  type ToolName,
} from '../../test/harness.js';

/**
 * Preflight: every problem is reported at once, exit 2, and nothing was started — no server (the
 * fake server dumps its env on start), no server.log, no lm_eval or bench invocation.
 */
async function preflight(
  box: Sandbox,
  args: string[],
  env: Record<string, string> = {},
  options: { defaults?: boolean } = {},
) {
  box.knobs['FAKE_LMEVAL_LOG'] = box.path('lm_eval.jsonl');
  const port = await freePort();
  const out = await runCli(
    box,
    args,
    cliEnv(box, port, {
      FAKE_VLLM_ENV_DUMP: box.path('server-env.json'),
      FAKE_VLLM_LOG: box.path('bench.jsonl'),
      ...env,
    }),
    options,
  );
  expect(out.code, out.stderr).toBe(2);
  expect(existsSync(box.path('server-env.json'))).toBe(false);
  expect(existsSync(box.path('lm_eval.jsonl'))).toBe(false);
  expect(existsSync(box.path('bench.jsonl'))).toBe(false);
  return { ...out, port };
}

const noServerLog = (box: Sandbox, name: string) =>
  expect(existsSync(join(box.resultsDir(name), 'server.log'))).toBe(false);

describe('perf-eval run preflight (exit 2, nothing started)', () => {
  it.each<[ToolName, RegExp]>([
    [
      'lm_eval',
      /lm_eval: 'lm_eval' not found; run '(npx )?perf-eval setup[^']*' \(tools dir .*\) or put it on PATH/,
    ],
    ['bfcl', /bfcl: the BFCL virtualenv was not found/],
    ['simulator', /sim runtime: 'llm-d-inference-sim' not found/],
    ['vllm', /bench: 'vllm' \(for vllm bench serve\) not found; .* \(--only lm_eval,bfcl skips the bench\)/],
    [
      'tokenizer',
      /bench: the offline tokenizer for the simulator \(.*tokenizers\/sim-bpe\) is missing; run '(npx )?perf-eval setup/,
    ],
  ])('reports a missing %s', async (tool, message) => {
    const box = sandbox({ omit: [tool] });
    const out = await preflight(box, ['run', box.recipe(simRecipe('missing'))]);
    expect(out.stderr).toContain('preflight failed (nothing was started):');
    expect(out.stderr).toMatch(message);
    noServerLog(box, 'missing');
  });

  it('lists every problem at once', async () => {
    const box = sandbox({ omit: ['bfcl', 'lm_eval', 'simulator'] });
    const out = await preflight(box, ['run', box.recipe(simRecipe('many'))]);
    const problems = out.stderr.split('\n').filter((line) => line.startsWith('  - '));
    expect(problems).toHaveLength(3);
  });

  it('rejects an lm_eval task name the installed lm-eval does not know, with a suggestion (checked while the server starts)', async () => {
    const box = sandbox();
    box.knobs['FAKE_LMEVAL_LOG'] = box.path('lm_eval.jsonl');
    const recipe = simRecipe('typo', {
      lmEval: 'lm_eval:\n  tasks:\n    - name: gsm8kk\n    - name: ifeval\n',
    });
    const port = await freePort();
    const out = await runCli(
      box,
      ['run', box.recipe(recipe)],
      cliEnv(box, port, { FAKE_VLLM_LOG: box.path('bench.jsonl') }),
    );
    // The slow tool checks overlap the server start-up: exit 2, no task ran, the server was stopped again.
    expect(out.code, out.stderr).toBe(2);
    expect(out.stderr).toContain(
      'preflight failed (checked while the server started; no task ran and the server was stopped):',
    );
    expect(out.stderr).toMatch(/unknown lm_eval task 'gsm8kk' \(did you mean 'gsm8k'\?\)/);
    expect(out.stderr).not.toContain("'ifeval'");
    expect(existsSync(box.path('lm_eval.jsonl'))).toBe(false);
    expect(existsSync(box.path('bench.jsonl'))).toBe(false);
    const summary = JSON.parse(readFileSync(join(box.resultsDir('typo'), 'summary.json'), 'utf8')) as {
      status: string;
      prepareError?: { code: string };
      server: { status: string };
    };
    expect(summary).toMatchObject({
      status: 'failed',
      prepareError: { code: 'E_PREFLIGHT' },
      server: { status: 'stopped' },
    });
  });

  it('refuses a port that is already in use', async () => {
    const box = sandbox();
    const port = await freePort();
    const holder = createServer();
    await new Promise<void>((done) => holder.listen(port, done));
    onTestFinished(() => new Promise<void>((done) => holder.close(() => done())));
    const out = await runCli(
      box,
      ['run', box.recipe(simRecipe('busy'))],
      cliEnv(box, port, { FAKE_VLLM_ENV_DUMP: box.path('server-env.json') }),
    );
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`port ${port} is already in use on this host`);
    expect(existsSync(box.path('server-env.json'))).toBe(false);
    noServerLog(box, 'busy');
  });

  it('refuses a results directory that cannot be written', async () => {
    const box = sandbox();
    const blocker = box.path('not-a-dir');
    writeFileSync(blocker, '');
    const out = await preflight(
      box,
      [
        'run',
        box.recipe(simRecipe('unwritable')),
        '--profiles',
        PROFILES,
        '--results-dir',
        join(blocker, 'results'),
      ],
      {},
      { defaults: false },
    );
    expect(out.stderr).toMatch(/results dir .*not-a-dir\/results\/unwritable is not writable \(ENOTDIR\)/);
  });

  it('--strict-ingest without INGEST_BEARER_TOKEN fails before the server starts', async () => {
    const box = sandbox();
    const out = await preflight(box, ['run', box.recipe(simRecipe('strict')), '--strict-ingest']);
    expect(out.stderr).toContain('--strict-ingest: INGEST_BEARER_TOKEN is not set');
    noServerLog(box, 'strict');
  });

  it.each([
    [
      'INGEST_URL',
      'dashboards.example.com/ingest',
      /- INGEST_URL is not a URL \("dashboards\.example\.com\/ingest"\); set it to an http\(s\) endpoint/,
    ],
    ['PERF_INGEST_URL', 'file:///tmp/perf', /- PERF_INGEST_URL must be an http\(s\) URL, got a file: URL/],
  ])('an invalid %s fails before the server starts, naming the variable', async (name, value, message) => {
    const box = sandbox();
    const out = await preflight(box, ['run', box.recipe(simRecipe('badurl'))], { [name]: value });
    expect(out.stderr).toContain('preflight failed (nothing was started):');
    expect(out.stderr).toMatch(message);
    noServerLog(box, 'badurl');
  });

  it('an invalid recipe exits 2 and starts nothing', async () => {
    const box = sandbox();
    const recipe = simRecipe('invalid', {
      bench:
        'vllm_bench:\n  configs:\n    - name: a\n      input_len: eight\n      output_len: 8\n      num_prompts: 4\n      max_concurrency: 2\n',
    });
    const out = await preflight(box, ['run', box.recipe(recipe)]);
    expect(out.stderr).toContain('input_len');
    expect(existsSync(box.resultsRoot)).toBe(false);
  });
});
