import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  cliEnv,
  FAKES,
  freePort,
  GSM8K_DATA,
  isAlive,
  knobbedTool,
  readJsonLines,
  readSummary,
  rolePid,
  runCli,
  sandbox,
  simRecipe,
  startCli,
  task,
  waitFor,
  type Sandbox,
} from '../../test/harness.js';

/** The §3 fake as the recipe's semantic_eval.command (chat mode, as the simulator needs `model`). */
function semanticEval(box: Sandbox, questions = 3): string {
  const script = knobbedTool(box, 'gsm8k_eval', FAKES.gsm8kEval);
  const tokens = [
    script,
    '--host',
    'http://{host}',
    '--port',
    '{port}',
    '--num-questions',
    String(questions),
    '--num-shots',
    '2',
    '--use-chat-completions',
    '--model',
    '{model}',
    '--save-results',
    '{output_path}',
  ];
  return `semantic_eval:\n  timeout_minutes: 2\n  command: [${tokens.map((t) => JSON.stringify(t)).join(', ')}]\n`;
}

/** A temp dir holding the GSM8K files where gsm8k_eval.py looks (tempfile.gettempdir() ← TMPDIR). */
function gsm8kTmp(box: Sandbox): string {
  const dir = box.path('tmp');
  mkdirSync(dir, { recursive: true });
  for (const file of ['train.jsonl', 'test.jsonl']) copyFileSync(join(GSM8K_DATA, file), join(dir, file));
  return dir;
}

/** Prefill and decode (one GPU each) of the fake simulator behind the fake toy proxy. */
function disaggRecipe(
  name: string,
  parts: { roleEnv?: string; extra?: string; lmEval?: string | null } = {},
): string {
  const roles = `  prefill: {gpu_ids: [0]${parts.roleEnv ? `, env: ${parts.roleEnv}` : ''}}\n  decode: {gpu_ids: [1]}\n  proxy: {python: ${JSON.stringify(process.execPath)}, script: ${JSON.stringify(FAKES.toyProxy)}}\n`;
  return (
    simRecipe(name, {
      extra: roles,
      bfcl: null,
      lmEval:
        parts.lmEval === undefined
          ? 'lm_eval:\n  tasks:\n    - name: gsm8k\n      num_fewshot: 5\n'
          : parts.lmEval,
    }) + (parts.extra ?? '')
  );
}

describe('perf-eval run: disaggregated prefill/decode behind the proxy (fake simulator + fake toy proxy)', () => {
  it('starts both roles and the proxy, sends every tool to the proxy, and stops all three', async () => {
    const box = sandbox();
    box.knobs['FAKE_VLLM_LOG'] = box.path('bench.jsonl');
    box.knobs['FAKE_LMEVAL_LOG'] = box.path('lm_eval.jsonl');
    const port = await freePort(3);
    const requests = box.path('requests.jsonl');
    const recipe = box.recipe(disaggRecipe('pd', { extra: semanticEval(box) }));
    const out = await runCli(
      box,
      ['run', recipe],
      cliEnv(box, port, { FAKE_VLLM_REQUEST_LOG: requests, TMPDIR: gsm8kTmp(box) }),
    );
    expect(out.stderr).not.toContain('rotating_light');
    expect(out.code).toBe(0);
    const dir = box.resultsDir('pd');
    const summary = readSummary(dir);
    expect(summary.status).toBe('ok');
    expect(summary.server.url).toBe(`http://127.0.0.1:${port}`);
    const roles = summary.server.roles ?? {};
    expect(Object.keys(roles)).toEqual(['prefill', 'decode', 'proxy']);
    expect([roles['prefill']?.port, roles['decode']?.port, roles['proxy']?.port]).toEqual([
      port + 1,
      port + 2,
      port,
    ]);
    for (const role of ['prefill', 'decode', 'proxy']) expect(roles[role]?.status, role).toBe('stopped');
    expect(task(summary, 'bench:short-conc-2').status).toBe('ok');
    expect(task(summary, 'lm_eval:gsm8k').status).toBe('ok');
    expect(task(summary, 'semantic_eval:semantic_eval').status).toBe('ok');

    // Every tool was pointed at the proxy, with the model given explicitly (the toy proxy has no /v1/models).
    const bench = readJsonLines<{ argv: string[] }>(box.path('bench.jsonl'))[0]?.argv ?? [];
    expect(bench.slice(bench.indexOf('--port'), bench.indexOf('--port') + 2)).toEqual([
      '--port',
      String(port),
    ]);
    expect(bench).toContain('--model');
    const lmEval = readJsonLines<{ argv: string[] }>(box.path('lm_eval.jsonl'))[0]?.argv.join(' ') ?? '';
    expect(lmEval).toContain(`base_url=http://127.0.0.1:${port}/v1/completions`);
    expect(lmEval).toContain('model=org/tiny');
    // The semantic eval's real requests went through the proxy: a prefill (max_tokens 1, do_remote_decode) then the decode.
    const seen = readJsonLines<{ path: string; body: Record<string, any> }>(requests); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(seen.length).toBe(6);
    expect(
      seen.filter(
        (r) => r.body['kv_transfer_params']?.do_remote_decode === true && r.body['max_tokens'] === 1,
      ),
    ).toHaveLength(3);
    expect(seen.every((r) => r.path === '/v1/chat/completions' && r.body['model'] === 'org/tiny')).toBe(true);

    // The sim roles were launched without the KV-connector flag the simulator rejects; logs per role.
    expect(out.stdout).not.toContain('--kv-transfer-config');
    for (const file of ['server-prefill.log', 'server-decode.log', 'proxy.log'])
      expect(existsSync(join(dir, file)), file).toBe(true);
    const pids = [rolePid(dir, 'prefill'), rolePid(dir, 'decode'), roles['proxy']?.pid];
    for (const pid of pids) {
      expect(pid).toBeTypeOf('number');
      expect(isAlive(pid as number), `pid ${pid}`).toBe(false);
    }
  });

  it('a prefill crash during the run fails it at once, naming the role, and stops decode and proxy', async () => {
    const box = sandbox();
    box.knobs['FAKE_LMEVAL_MODE'] = 'hang';
    box.knobs['FAKE_LMEVAL_LOG'] = box.path('lm_eval.jsonl');
    const cli = startCli(
      box,
      ['run', box.recipe(disaggRecipe('pdcrash'))],
      cliEnv(box, await freePort(3), { FAKE_VLLM_CRASH_ON_SIGUSR1: '1' }),
    );
    const dir = box.resultsDir('pdcrash');
    await waitFor(() => readJsonLines(box.path('lm_eval.jsonl')).length === 1, 'lm_eval running', { cli });
    const prefill = await waitFor(() => rolePid(dir, 'prefill'), 'prefill pid', { cli });
    const decode = await waitFor(() => rolePid(dir, 'decode'), 'decode pid', { cli });
    const proxy = await waitFor(() => readSummary(dir).server.roles?.['proxy']?.pid, 'proxy pid', { cli });
    process.kill(prefill, 'SIGUSR1');
    const out = await cli.done;
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/vLLM server died during the run: vLLM prefill server exited while in use/);
    const summary = readSummary(dir);
    expect(summary.server.status).toBe('failed');
    expect(summary.server.roles?.['prefill']?.status).toBe('failed');
    expect(summary.server.roles?.['decode']?.status).toBe('stopped');
    expect(task(summary, 'lm_eval:gsm8k').error?.message).toMatch(/^server died: vLLM prefill server/);
    for (const pid of [prefill, decode, proxy]) expect(isAlive(pid), `pid ${pid}`).toBe(false);
  });

  it('a prefill that dies while starting fails the start naming the role; nothing is left running', async () => {
    const box = sandbox();
    const out = await runCli(
      box,
      ['run', box.recipe(disaggRecipe('pdstart', { roleEnv: '{FAKE_VLLM_CRASH: before}' }))],
      cliEnv(box, await freePort(3)),
    );
    expect(out.code).toBe(1);
    const dir = box.resultsDir('pdstart');
    const summary = readSummary(dir);
    expect(summary.server.status).toBe('failed');
    expect(summary.server.error?.message).toMatch(/^vLLM prefill server exited before becoming healthy/);
    expect(summary.server.roles?.['prefill']?.status).toBe('failed');
    expect(summary.server.roles?.['decode']?.status).toBe('stopped');
    expect(summary.tasks).toEqual([]);
    const decode = rolePid(dir, 'decode');
    if (decode !== undefined) expect(isAlive(decode)).toBe(false);
  });

  it('preflight: a busy role port and a missing proxy script exit 2 before anything starts', async () => {
    const box = sandbox();
    const port = await freePort(3);
    const busy = createServer();
    await new Promise<void>((done) => busy.listen(port + 2, '127.0.0.1', done));
    onTestFinished(() => new Promise<void>((done) => busy.close(() => done())));
    const text = disaggRecipe('pdpre').replace(
      JSON.stringify(FAKES.toyProxy),
      'tests/v1/kv_connector/nixl_integration/toy_proxy_server.py',
    );
    const out = await runCli(
      box,
      ['run', box.recipe(text)],
      cliEnv(box, port, { VLLM_SOURCE_DIR: box.path('vllm-src') }),
    );
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('preflight failed (nothing was started)');
    expect(out.stderr).toMatch(new RegExp(`- decode: .*${port + 2}`));
    expect(out.stderr).toContain(
      `proxy: script ${box.path('vllm-src')}/tests/v1/kv_connector/nixl_integration/toy_proxy_server.py not found; set VLLM_SOURCE_DIR`,
    );
    expect(existsSync(join(box.resultsDir('pdpre'), 'summary.json'))).toBe(false);
  });
});

describe('perf-eval run: semantic eval (gsm8k_eval.py contract)', () => {
  it('runs after the bench against the live server and records accuracy, invalid_rate, questions_per_second', async () => {
    const box = sandbox();
    const requests = box.path('requests.jsonl');
    const recipe = box.recipe(simRecipe('sem', { lmEval: null, bfcl: null }) + semanticEval(box, 4));
    const out = await runCli(
      box,
      ['run', recipe],
      cliEnv(box, await freePort(), { FAKE_VLLM_REQUEST_LOG: requests, TMPDIR: gsm8kTmp(box) }),
    );
    expect(out.code).toBe(0);
    const dir = box.resultsDir('sem');
    const summary = readSummary(dir);
    expect(summary.tasks.map((t) => t.id)).toEqual(['bench:short-conc-2', 'semantic_eval:semantic_eval']);
    const record = task(summary, 'semantic_eval:semantic_eval');
    expect(record.status).toBe('ok');
    expect(Object.keys(record.metrics)).toEqual(['accuracy', 'invalid_rate', 'questions_per_second']);
    const saved = JSON.parse(readFileSync(join(dir, 'semantic_eval.json'), 'utf8')) as Record<string, number>;
    expect(record.metrics['accuracy']).toBe(saved['accuracy']);
    expect(record.metrics['invalid_rate']).toBe(saved['invalid_rate']);
    expect(saved['num_questions']).toBe(4);
    expect(record.files).toEqual([join(dir, 'semantic_eval.json')]);
    expect(readJsonLines(requests)).toHaveLength(4);
    expect(Date.parse(record.startedAt as string)).toBeGreaterThanOrEqual(
      Date.parse(task(summary, 'bench:short-conc-2').finishedAt as string),
    );
  });

  it.each([
    ['exit1', 'E_SEMANTIC_EVAL_FAILED', /failed with exit code 1/, 'RuntimeError: fake gsm8k_eval failure'],
    ['no_file', 'E_SEMANTIC_EVAL_RESULT', /the command exited 0 but wrote no result file/, 'Accuracy: '],
    ['bad_json', 'E_SEMANTIC_EVAL_RESULT', /: not JSON \(/, 'Results saved to '],
  ] as const)(
    '%s: the task fails with %s and the tool tail; the run exits 1',
    async (mode, code, message, tailLine) => {
      const box = sandbox();
      box.knobs['FAKE_GSM8K_MODE'] = mode;
      const recipe = box.recipe(simRecipe('semfail', { lmEval: null, bfcl: null }) + semanticEval(box));
      const out = await runCli(
        box,
        ['run', recipe],
        cliEnv(box, await freePort(), { TMPDIR: gsm8kTmp(box) }),
      );
      expect(out.code).toBe(1);
      const record = task(readSummary(box.resultsDir('semfail')), 'semantic_eval:semantic_eval');
      expect(record.status).toBe('failed');
      expect(record.error?.code).toBe(code);
      expect(record.error?.message).toMatch(message);
      expect(record.error?.tail?.join('\n')).toContain(tailLine);
    },
  );

  it('without the GSM8K files in the temp dir the eval fails like the offline download', async () => {
    const box = sandbox();
    const recipe = box.recipe(simRecipe('semdata', { lmEval: null, bfcl: null }) + semanticEval(box));
    const tmp = box.path('empty-tmp');
    mkdirSync(tmp);
    const out = await runCli(box, ['run', recipe], cliEnv(box, await freePort(), { TMPDIR: tmp }));
    expect(out.code).toBe(1);
    const record = task(readSummary(box.resultsDir('semdata')), 'semantic_eval:semantic_eval');
    expect(record.error?.code).toBe('E_SEMANTIC_EVAL_FAILED');
    expect(record.error?.tail?.join('\n')).toContain('could not download train.jsonl');
  });

  it('bench_only skips it; --only semantic_eval runs only it; a missing command fails preflight', async () => {
    const box = sandbox();
    const env = cliEnv(box, await freePort(), { TMPDIR: gsm8kTmp(box) });
    const benchOnly = await runCli(
      box,
      [
        'run',
        box.recipe(
          simRecipe('semskip', { lmEval: null, bfcl: null }) + 'bench_only: true\n' + semanticEval(box),
        ),
      ],
      env,
    );
    const skipped = readSummary(box.resultsDir('semskip'));
    expect(benchOnly.code, benchOnly.stderr).toBe(0);
    expect(skipped.tasks.map((t) => t.id)).toEqual(['bench:short-conc-2']);

    const only = await runCli(
      box,
      [
        'run',
        box.recipe(simRecipe('semonly', { bfcl: null }) + semanticEval(box)),
        '--only',
        'semantic_eval',
      ],
      env,
    );
    expect(only.code, only.stderr).toBe(0);
    expect(readSummary(box.resultsDir('semonly')).tasks.map((t) => t.id)).toEqual([
      'semantic_eval:semantic_eval',
    ]);

    const missing =
      simRecipe('semmiss', { lmEval: null, bfcl: null }) +
      'semantic_eval:\n  command: [/nonexistent/gsm8k_eval, --port, "{port}"]\n';
    const pre = await runCli(box, ['run', box.recipe(missing)], env);
    expect(pre.code).toBe(2);
    expect(pre.stderr).toContain("semantic_eval: '/nonexistent/gsm8k_eval' not found");
  });
});

describe('perf-eval run --variant (sweeps: one variant per run)', () => {
  const sweep = 'sweep:\n  serve_args:\n    --max-num-seqs: [8, 16]\n';

  it('a sweep recipe without --variant exits 2 listing the variants; nothing starts', async () => {
    const box = sandbox();
    const out = await runCli(
      box,
      ['run', box.recipe(simRecipe('sw', { lmEval: null, bfcl: null }) + sweep)],
      cliEnv(box, await freePort()),
    );
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('sweeps 2 variants and each needs its own server, so each is its own run');
    expect(out.stderr).toContain('  sw--max-num-seqs-8\n  sw--max-num-seqs-16');
    expect(existsSync(box.resultsRoot)).toBe(false);
  });

  it('unknown variant names and --variant without a sweep exit 2', async () => {
    const box = sandbox();
    const env = cliEnv(box, await freePort());
    const unknown = await runCli(
      box,
      [
        'run',
        box.recipe(simRecipe('sw', { lmEval: null, bfcl: null }) + sweep),
        '--variant',
        'sw--max-num-seqs-9',
      ],
      env,
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("perf-eval run: unknown variant 'sw--max-num-seqs-9'; ");
    expect(unknown.stderr).toContain('has 2: sw--max-num-seqs-8, sw--max-num-seqs-16');
    const plain = await runCli(
      box,
      ['run', box.recipe(simRecipe('plain', { lmEval: null, bfcl: null }), 'plain.yaml'), '--variant', 'x'],
      env,
    );
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain("--variant 'x' given but ");
  });

  it('--variant NAME runs that variant with its serve args into results/<variant name>/', async () => {
    const box = sandbox();
    const out = await runCli(
      box,
      [
        'run',
        box.recipe(simRecipe('sw', { lmEval: null, bfcl: null }) + sweep),
        '--variant',
        'sw--max-num-seqs-16',
      ],
      cliEnv(box, await freePort()),
    );
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/llm-d-inference-sim --model org\/tiny --port \d+ .*--max-num-seqs 16/);
    const summary = readSummary(box.resultsDir('sw--max-num-seqs-16'));
    expect(summary.workload).toBe('sw--max-num-seqs-16');
    expect(summary.variant).toEqual({
      name: 'sw--max-num-seqs-16',
      baseName: 'sw',
      settings: { '--max-num-seqs': '16' },
    });
    expect(existsSync(box.resultsDir('sw--max-num-seqs-8'))).toBe(false);
  });
});
