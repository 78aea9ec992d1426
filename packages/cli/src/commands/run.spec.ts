import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cliEnv,
  freePort,
  isAlive,
  ms,
  readJsonLines,
  readSummary,
  runCli,
  sandbox,
  serverPid,
  simRecipe,
  task,
  type SummaryJson,
} from '../../test/harness.js';

/** Every file under `dir`, relative, recursively. */
function tree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map(String).sort();
}

const accuracy = (summary: SummaryJson) => summary.tasks.filter((t) => t.kind !== 'bench');
const bench = (summary: SummaryJson) => summary.tasks.filter((t) => t.kind === 'bench');

describe('perf-eval run (sim runtime, faked tools)', () => {
  it('starts the server, runs the bench alone first, then lm_eval and BFCL, and writes the results layout', async () => {
    const box = sandbox();
    const port = await freePort();
    box.knobs['FAKE_LMEVAL_LOG'] = box.path('lm_eval.jsonl');
    const out = await runCli(
      box,
      ['run', box.recipe(simRecipe('happy'))],
      cliEnv(box, port, { FAKE_VLLM_LOG: box.path('bench.jsonl') }),
    );
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const dir = box.resultsDir('happy');
    expect(out.stdout).toContain(`results: ${dir}/summary.md`);
    expect(out.stdout).toContain(`report: ${dir}/report.html`);

    const files = tree(dir);
    for (const expected of [
      'bench-short-conc-2.json',
      'server.log',
      'summary.json',
      'summary.md',
      'report.html',
      '.ingest/plan.json',
    ])
      expect(files).toContain(expected);
    // The report has the bench's latency chart, the accuracy of every task and the timeline.
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect([...html.matchAll(/data-chart="([a-z]+)"/g)].map((m) => m[1])).toEqual([
      'latency',
      'pareto',
      'accuracy',
      'timeline',
    ]);
    for (const label of ['gsm8k · exact_match,strict-match', 'BFCL simple_python', 'BFCL multiple'])
      expect(html).toContain(`<td>${label}</td>`);
    for (const taskDir of ['gsm8k', 'ifeval'])
      expect(files.some((f) => new RegExp(`^${taskDir}/org__tiny/results_.*\\.json$`).test(f))).toBe(true);
    for (const category of ['simple_python', 'multiple'])
      expect(files.some((f) => new RegExp(`^bfcl-${category}/results_.*\\.json$`).test(f))).toBe(true);
    // Atomic writes leave no `.<name>.tmp-*` behind.
    expect(files.filter((f) => f.includes('.tmp-'))).toEqual([]);

    const summary = readSummary(dir);
    expect(summary.status).toBe('ok');
    expect(summary.runtime).toBe('sim');
    expect(summary.server.status).toBe('stopped');
    expect(summary.server.readyAfterS).toBeGreaterThan(0);
    expect(summary.tasks.map((t) => t.id)).toEqual([
      'bench:short-conc-2',
      'lm_eval:gsm8k',
      'lm_eval:ifeval',
      'bfcl:simple_python',
      'bfcl:multiple',
    ]);
    for (const t of summary.tasks) {
      expect(t.status, t.id).toBe('ok');
      expect(t.durationS, t.id).toBeGreaterThan(0);
      expect(ms(t.finishedAt)).toBeGreaterThanOrEqual(ms(t.startedAt));
      expect(Object.keys(t.metrics).length, t.id).toBeGreaterThan(0);
      expect(t.files.length, t.id).toBeGreaterThan(0);
      for (const file of t.files) expect(existsSync(file), file).toBe(true);
    }
    expect(task(summary, 'bench:short-conc-2').metrics['completed']).toBe(4);
    expect(task(summary, 'lm_eval:gsm8k').metrics['exact_match,strict-match']).toBeTypeOf('number');
    expect(task(summary, 'bfcl:multiple').metrics['accuracy:multiple']).toBe(0.87);
    // Perf first: every bench run finished before the first accuracy task started.
    const lastBench = Math.max(...bench(summary).map((t) => ms(t.finishedAt)));
    expect(Math.min(...accuracy(summary).map((t) => ms(t.startedAt)))).toBeGreaterThanOrEqual(lastBench);
    expect(summary.ingest).toMatchObject({ enabled: false, posted: 0, failed: 0 });

    const md = readFileSync(join(dir, 'summary.md'), 'utf8');
    for (const t of summary.tasks)
      expect(md).toMatch(new RegExp(`\\| ${t.id} \\| ✅ ok \\| \\d+\\.\\ds \\| \\S`));
    const plan = JSON.parse(readFileSync(join(dir, '.ingest/plan.json'), 'utf8')) as {
      items: Array<{ kind: string; task?: string; runName?: string; dir?: string }>;
    };
    // Accuracy items are added as tasks finish (concurrently), so compare as a set.
    expect(
      plan.items.map((i) => (i.kind === 'perf' ? `perf:${i.runName}` : `eval:${i.task}:${i.dir}`)).sort(),
    ).toEqual([
      'eval:bfcl_multiple:bfcl-multiple',
      'eval:bfcl_simple_python:bfcl-simple_python',
      'eval:gsm8k:gsm8k',
      'eval:ifeval:ifeval',
      'perf:short-conc-2',
    ]);
    // One bench invocation against the server's port, one lm_eval per task; the server is gone.
    const benchCalls = readJsonLines<{ argv: string[] }>(box.path('bench.jsonl'));
    expect(benchCalls).toHaveLength(1);
    expect(benchCalls[0]?.argv.join(' ')).toContain(`--port ${port}`);
    expect(readJsonLines(box.path('lm_eval.jsonl'))).toHaveLength(2);
    const pid = serverPid(dir);
    expect(pid).toBeTypeOf('number');
    expect(isAlive(pid as number)).toBe(false);
  });

  it('--jobs 1 runs the accuracy tasks in upstream order (lm_eval, then BFCL), one at a time', async () => {
    const box = sandbox();
    box.knobs['FAKE_LMEVAL_SLEEP_MS'] = '300';
    box.knobs['FAKE_BFCL_SLEEP_MS'] = '300';
    const out = await runCli(
      box,
      ['run', box.recipe(simRecipe('serial')), '--jobs', '1'],
      cliEnv(box, await freePort()),
    );
    expect(out.code).toBe(0);
    const tasks = accuracy(readSummary(box.resultsDir('serial'))).sort(
      (a, b) => ms(a.startedAt) - ms(b.startedAt),
    );
    expect(tasks.map((t) => t.id)).toEqual([
      'lm_eval:gsm8k',
      'lm_eval:ifeval',
      'bfcl:simple_python',
      'bfcl:multiple',
    ]);
    for (let i = 1; i < tasks.length; i++)
      expect(ms(tasks[i]?.startedAt)).toBeGreaterThanOrEqual(ms(tasks[i - 1]?.finishedAt));
  });

  it('--jobs 4 runs the accuracy tasks concurrently against the one server', async () => {
    const box = sandbox();
    // Each fake task waits at a barrier until all four are running: only true concurrency passes.
    box.knobs['FAKE_BARRIER_DIR'] = box.path('barrier');
    box.knobs['FAKE_BARRIER_COUNT'] = '4';
    mkdirSync(box.path('barrier'));
    const out = await runCli(
      box,
      ['run', box.recipe(simRecipe('parallel')), '--jobs', '4'],
      cliEnv(box, await freePort()),
    );
    expect(out.code).toBe(0);
    const summary = readSummary(box.resultsDir('parallel'));
    const tasks = accuracy(summary);
    expect(tasks.every((t) => t.status === 'ok')).toBe(true);
    // All four were in flight together: the last start precedes the first finish.
    expect(Math.max(...tasks.map((t) => ms(t.startedAt)))).toBeLessThan(
      Math.min(...tasks.map((t) => ms(t.finishedAt))),
    );
    // ...and still after the bench.
    expect(Math.min(...tasks.map((t) => ms(t.startedAt)))).toBeGreaterThanOrEqual(
      ms(task(summary, 'bench:short-conc-2').finishedAt),
    );
  });

  it.each([
    ['bench_only in the recipe', 'bench_only: true\n', {}],
    ['BENCH_ONLY=1 in the environment', '', { BENCH_ONLY: '1' }],
  ])('%s: runs only the bench', async (_label, extra, env) => {
    const box = sandbox();
    box.knobs['FAKE_LMEVAL_LOG'] = box.path('lm_eval.jsonl');
    box.knobs['FAKE_BFCL_MODE'] = 'fail';
    const out = await runCli(
      box,
      ['run', box.recipe(simRecipe('benchonly', { extra }))],
      cliEnv(box, await freePort(), env),
    );
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('BENCH_ONLY set; skipping lm_eval and bfcl tasks');
    const dir = box.resultsDir('benchonly');
    expect(readSummary(dir).tasks.map((t) => `${t.id}=${t.status}`)).toEqual(['bench:short-conc-2=ok']);
    expect(existsSync(join(dir, 'bench-short-conc-2.json'))).toBe(true);
    expect(existsSync(join(dir, 'gsm8k'))).toBe(false);
    expect(existsSync(join(dir, 'bfcl-simple_python'))).toBe(false);
    expect(existsSync(box.path('lm_eval.jsonl'))).toBe(false);
  });

  it('--only lm_eval runs just the lm_eval tasks and needs neither vllm (bench) nor BFCL installed', async () => {
    const box = sandbox({ omit: ['vllm', 'bfcl'] });
    const out = await runCli(
      box,
      ['run', box.recipe(simRecipe('only')), '--only', 'lm_eval'],
      cliEnv(box, await freePort()),
    );
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const summary = readSummary(box.resultsDir('only'));
    expect(summary.tasks.map((t) => `${t.id}=${t.status}`)).toEqual([
      'lm_eval:gsm8k=ok',
      'lm_eval:ifeval=ok',
    ]);
    expect(existsSync(join(box.resultsDir('only'), 'bench-short-conc-2.json'))).toBe(false);
  });

  it('--only rejects an unknown phase with exit 2 before anything starts', async () => {
    const box = sandbox();
    const out = await runCli(
      box,
      ['run', box.recipe(simRecipe('badonly')), '--only', 'bench,accuracy'],
      cliEnv(box, await freePort()),
    );
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("--only takes bench, semantic_eval, lm_eval, bfcl; got 'accuracy'");
    expect(existsSync(box.resultsRoot)).toBe(false);
  });

  it('an lm_eval failure does not discard the other tasks; the run exits 1 listing what failed', async () => {
    const box = sandbox();
    box.knobs['FAKE_LMEVAL_MODE'] = 'exit1';
    box.knobs['FAKE_LMEVAL_MODE_TASKS'] = 'gsm8k';
    const out = await runCli(box, ['run', box.recipe(simRecipe('lmfail'))], cliEnv(box, await freePort()));
    expect(out.code).toBe(1);
    const dir = box.resultsDir('lmfail');
    const summary = readSummary(dir);
    expect(summary.status).toBe('failed');
    expect(summary.tasks.map((t) => `${t.id}=${t.status}`)).toEqual([
      'bench:short-conc-2=ok',
      'lm_eval:gsm8k=failed',
      'lm_eval:ifeval=ok',
      'bfcl:simple_python=ok',
      'bfcl:multiple=ok',
    ]);
    const failed = task(summary, 'lm_eval:gsm8k');
    expect(failed.error?.code).toMatch(/^E_LMEVAL_/);
    expect(failed.error?.tail?.join('\n')).toContain('RuntimeError: API request failed after 3 retries');
    expect(failed.durationS).toBeGreaterThan(0);
    expect(out.stderr).toContain('run failed');
    expect(out.stderr).toMatch(/- lm_eval:gsm8k \(failed: /);
    expect(out.stderr).not.toMatch(/- (bench|bfcl|lm_eval:ifeval)/);
    const md = readFileSync(join(dir, 'summary.md'), 'utf8');
    expect(md).toMatch(/^### ❌ perf-eval `lmfail`/);
    expect(md).toMatch(new RegExp(`\\| lm_eval:gsm8k \\| ❌ failed \\| .* \\| ${failed.error?.code}: `));
    expect(existsSync(join(dir, 'bfcl-multiple'))).toBe(true);
  });

  it('an incomplete bench run is recorded as failed and the accuracy phase still runs', async () => {
    const box = sandbox();
    const out = await runCli(
      box,
      ['run', box.recipe(simRecipe('benchfail'))],
      cliEnv(box, await freePort(), { FAKE_VLLM_BENCH_MODE: 'partial' }),
    );
    expect(out.code).toBe(1);
    const summary = readSummary(box.resultsDir('benchfail'));
    const b = task(summary, 'bench:short-conc-2');
    expect(b.status).toBe('failed');
    expect(b.error?.code).toBe('E_BENCH_INCOMPLETE');
    expect(accuracy(summary).map((t) => t.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(out.stderr).toMatch(/- bench:short-conc-2 \(failed: vllm bench serve incomplete/);
  });

  it('a failed BFCL category is recorded with its error and exit 1', async () => {
    const box = sandbox();
    box.knobs['FAKE_BFCL_MODE'] = 'fail';
    const out = await runCli(
      box,
      [
        'run',
        box.recipe(simRecipe('bfclfail', { bfcl: 'bfcl:\n  test_categories:\n    - simple_python\n' })),
      ],
      cliEnv(box, await freePort()),
    );
    expect(out.code).toBe(1);
    const summary = readSummary(box.resultsDir('bfclfail'));
    expect(summary.tasks.map((t) => `${t.id}=${t.status}`)).toEqual([
      'bench:short-conc-2=ok',
      'lm_eval:gsm8k=ok',
      'lm_eval:ifeval=ok',
      'bfcl:simple_python=failed',
    ]);
    expect(task(summary, 'bfcl:simple_python').error?.code).toMatch(/^E_BFCL_/);
  });
});
