import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import {
  cliEnv,
  FAKES,
  freePort,
  onPath,
  readJsonLines,
  readSummary,
  runCli,
  sandbox,
  simRecipe,
  task,
} from '../../test/harness.js';

interface Recorded {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real node:http server on 127.0.0.1 recording every request and answering `status`. */
async function ingestServer(status: number): Promise<{ base: string; requests: Recorded[] }> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      requests.push({ url: req.url ?? '', headers: req.headers, body });
      res
        .writeHead(status, { 'content-type': 'application/json' })
        .end(status < 300 ? '{"ok":true}' : '{"detail":"boom"}');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  onTestFinished(() => new Promise<void>((done) => server.close(() => done())));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const TOKEN = 'tok-3f9c1d2e8a7b6c5d';

function everyResultText(dir: string): string {
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((f) => join(dir, String(f)))
    .filter((f) => /summary\.(json|md)$|plan\.json$|server\.log$/.test(f))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
}

describe('perf-eval run: ingestion, annotation, docker', () => {
  it('posts the perf row and the eval events with the bearer token, which never leaks', async () => {
    const box = sandbox();
    const ingest = await ingestServer(200);
    box.knobs['FAKE_LMEVAL_LOG'] = box.path('lm_eval.jsonl');
    const env = cliEnv(box, await freePort(), {
      INGEST_BEARER_TOKEN: TOKEN,
      INGEST_URL: `${ingest.base}/eval`,
      PERF_INGEST_URL: `${ingest.base}/perf`,
    });
    const out = await runCli(box, ['run', box.recipe(simRecipe('ingest'))], env);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);

    const perf = ingest.requests.filter((r) => r.url === '/perf');
    const evals = ingest.requests.filter((r) => r.url === '/eval');
    expect(perf.length).toBeGreaterThanOrEqual(1);
    expect(evals.length).toBeGreaterThanOrEqual(4);
    expect(ingest.requests).toHaveLength(perf.length + evals.length);
    for (const request of ingest.requests) expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    for (const request of perf) expect(request.headers['x-source']).toBe('perf-eval');
    for (const task of ['gsm8k', 'ifeval', 'bfcl_simple_python', 'bfcl_multiple']) {
      expect(
        evals.some((r) => r.body.includes(task)),
        task,
      ).toBe(true);
    }

    const dir = box.resultsDir('ingest');
    const summary = readSummary(dir);
    expect(summary.ingest).toMatchObject({ enabled: true, failed: 0, failures: [] });
    expect(summary.ingest.posted).toBe(ingest.requests.length);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain(
      `ingest: ${ingest.requests.length} posted, 0 failed`,
    );
    // The token appears nowhere: console, summaries, plan, server log, and lm_eval's environment (D18).
    expect(out.stdout).not.toContain(TOKEN);
    expect(everyResultText(dir)).not.toContain(TOKEN);
    expect(JSON.stringify(readJsonLines(box.path('lm_eval.jsonl')))).not.toContain(TOKEN);
    // The plan records the run's date and each perf row's, so a later re-ingest posts them again.
    const plan = JSON.parse(readFileSync(join(dir, '.ingest/plan.json'), 'utf8')) as {
      context: { date?: string };
      items: Array<{ kind: string; meta?: { date?: string } }>;
    };
    expect(Number.isNaN(Date.parse(plan.context.date ?? ''))).toBe(false);
    const perfDates = plan.items.filter((item) => item.kind === 'perf').map((item) => item.meta?.date);
    const posted = perf.map((r) => (JSON.parse(r.body) as { date: string }).date);
    expect(perfDates).toEqual(posted);
  });

  it(
    'an ingest endpoint answering 500 does not fail the run; the summary lists the failure',
    { timeout: 120_000 },
    async () => {
      const box = sandbox();
      const ingest = await ingestServer(500);
      const env = cliEnv(box, await freePort(), {
        INGEST_BEARER_TOKEN: TOKEN,
        INGEST_URL: `${ingest.base}/eval`,
        PERF_INGEST_URL: `${ingest.base}/perf`,
      });
      // Bench only: one payload, retried with backoff before it is given up.
      const out = await runCli(
        box,
        ['run', box.recipe(simRecipe('ingest500', { extra: 'bench_only: true\n' }))],
        env,
      );
      expect(out.code).toBe(0);
      expect(ingest.requests.length).toBeGreaterThan(1);
      const dir = box.resultsDir('ingest500');
      const summary = readSummary(dir);
      expect(summary.status).toBe('ok');
      expect(summary.ingest.enabled).toBe(true);
      expect(summary.ingest.failed).toBeGreaterThanOrEqual(1);
      expect(summary.ingest.failures.join('\n')).toContain('500');
      const md = readFileSync(join(dir, 'summary.md'), 'utf8');
      expect(md).toMatch(/ingest: 0 posted, [1-9]\d* failed/);
      expect(md).toMatch(/\n- .*500/);
      expect(`${out.stdout}${out.stderr}${everyResultText(dir)}`).not.toContain(TOKEN);
    },
  );

  it.each([
    ['success', {}],
    ['error', { FAKE_VLLM_BENCH_MODE: 'exit1' }],
  ] as const)(
    'on Buildkite, annotates the build with summary.md (style %s) and a link to the HTML report under context wl-<stem>',
    async (style, extraEnv) => {
      const box = sandbox();
      onPath(box, 'buildkite-agent');
      const env = cliEnv(box, await freePort(), {
        BUILDKITE: 'true',
        FAKE_BUILDKITE_AGENT_LOG: box.path('agent.jsonl'),
        ...extraEnv,
      });
      const out = await runCli(
        box,
        ['run', box.recipe(simRecipe('annotated', { extra: 'bench_only: true\n' }), 'sim.demo.yaml')],
        env,
      );
      expect(out.code).toBe(style === 'success' ? 0 : 1);
      const calls = readJsonLines<{ argv: string[]; stdin: string }>(box.path('agent.jsonl'));
      expect(calls).toHaveLength(1);
      const [call] = calls;
      expect(call?.argv[0]).toBe('annotate');
      expect(call?.argv.slice(1).join(' ')).toContain('--context wl-sim-demo');
      expect(call?.argv.slice(1).join(' ')).toContain(`--style ${style}`);
      const dir = box.resultsDir('annotated');
      // The report is an artifact (results/**/*) linked by its path relative to the job's checkout (the cwd).
      expect(existsSync(join(dir, 'report.html'))).toBe(true);
      expect(call?.stdin).toBe(
        `${readFileSync(join(dir, 'summary.md'), 'utf8')}\n📊 [HTML report](artifact://${relative(box.dir, join(dir, 'report.html'))}) (charts, tables, timeline)\n`,
      );
    },
  );

  it('docker runtime: the bench runs through docker exec + docker cp inside the server container, which is removed at the end', async () => {
    const box = sandbox({ omit: ['simulator', 'vllm'] });
    onPath(box, 'docker');
    onPath(box, 'vllm', FAKES.benchVllm); // `vllm` inside the "container" (the fake exec runs it from PATH)
    const state = box.path('docker-state');
    const root = box.path('docker-root');
    mkdirSync(state);
    mkdirSync(root);
    const env = cliEnv(box, await freePort(), {
      FAKE_DOCKER_STATE: state,
      FAKE_DOCKER_ROOT: root,
      FAKE_DOCKER_LOG: box.path('docker.jsonl'),
    });
    const recipe = simRecipe('dockerized', {
      gpu: 'H200',
      lmEval: 'lm_eval:\n  tasks:\n    - name: gsm8k\n',
      bfcl: null,
    });
    const out = await runCli(box, ['run', box.recipe(recipe)], env);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);

    const dir = box.resultsDir('dockerized');
    const summary = readSummary(dir);
    expect(summary.runtime).toBe('docker');
    expect(summary.tasks.map((t) => `${t.id}=${t.status}`)).toEqual([
      'bench:short-conc-2=ok',
      'lm_eval:gsm8k=ok',
    ]);
    expect(task(summary, 'bench:short-conc-2').metrics['completed']).toBe(4);
    expect(existsSync(join(dir, 'bench-short-conc-2.json'))).toBe(true);

    const calls = readJsonLines<string[]>(box.path('docker.jsonl'));
    const run = calls.find((argv) => argv[0] === 'run');
    const name = run?.[run.indexOf('--name') + 1];
    expect(name).toMatch(/^perf-eval-dockerized-\d+$/);
    const exec = calls.find((argv) => argv[0] === 'exec') as string[];
    const at = exec.indexOf(name as string);
    expect(at).toBeGreaterThan(0);
    expect(exec.slice(at, at + 4)).toEqual([name, 'vllm', 'bench', 'serve']);
    // Forwarded variables go by name only (values never in argv).
    for (let i = 1; i < at; i += 2) expect([exec[i], exec[i + 1]?.includes('=')]).toEqual(['-e', false]);
    expect(exec).toContain('/tmp/bench-short-conc-2.json');
    expect(calls.some((argv) => argv[0] === 'cp' && argv[1] === `${name}:/tmp/bench-short-conc-2.json`)).toBe(
      true,
    );
    // The bench ran before teardown, and the container is gone afterwards.
    const rmIndex = calls.findIndex((argv) => argv[0] === 'rm');
    expect(rmIndex).toBeGreaterThan(calls.indexOf(exec as string[]));
    expect(readdirSync(state).filter((f) => f.endsWith('.json') && !f.endsWith('.exit.json'))).toEqual([]);
  });

  // Upstream runs `docker exec <c> vllm bench serve …` with the container's own environment
  // (recipe-compat §9.5): host-only variables must not be forwarded with `docker exec -e NAME`.
  it('docker runtime: the host PATH/HOME/TMPDIR are not forwarded into the container', async () => {
    const box = sandbox({ omit: ['simulator', 'vllm'] });
    onPath(box, 'docker');
    onPath(box, 'vllm', FAKES.benchVllm);
    const state = box.path('docker-state');
    mkdirSync(state);
    mkdirSync(box.path('docker-root'));
    const env = cliEnv(box, await freePort(), {
      FAKE_DOCKER_STATE: state,
      FAKE_DOCKER_ROOT: box.path('docker-root'),
      FAKE_DOCKER_LOG: box.path('docker.jsonl'),
      TMPDIR: box.dir,
    });
    const out = await runCli(
      box,
      ['run', box.recipe(simRecipe('dockerenv', { gpu: 'H200', lmEval: null, bfcl: null }))],
      env,
    );
    expect(out.code).toBe(0);
    const exec = readJsonLines<string[]>(box.path('docker.jsonl')).find(
      (argv) => argv[0] === 'exec',
    ) as string[];
    const forwarded = exec.filter((_, i) => exec[i - 1] === '-e');
    for (const name of ['PATH', 'HOME', 'TMPDIR']) expect(forwarded).not.toContain(name);
  });
});
