/**
 * Tool roles with provisioned tools: the sandbox's tools dir holds the CPU-only bench client at
 * `venvs/vllm/bin/vllm` (as `perf-eval setup` leaves it). A native recipe must serve with the `vllm`
 * on PATH and bench with the same installation; the client must never be started as the server.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  cliEnv,
  FAKE_VLLM_SERVE,
  FAKES,
  freePort,
  isAlive,
  readJsonLines,
  readSummary,
  sandbox,
  serverPid,
  startCli,
  waitFor,
  type Sandbox,
} from '../../test/harness.js';

const CRASH_LOG = resolve(
  import.meta.dirname,
  '../../../../../shared/reference/fixtures/vllm_serve_logs/er0080_vllm_serve_no_kv_cache_memory_v0.25.1.log',
);

/** A native recipe (B200 runs `vllm serve` directly) with one bench config and no accuracy tasks. */
function nativeRecipe(name: string): string {
  return `name: ${name}\ngpu: B200\nnum_gpus: 1\nvllm:\n  model: org/tiny\nvllm_bench:\n  configs:\n    - name: short\n      input_len: 8\n      output_len: 8\n      num_prompts: 4\n      max_concurrency: 2\n`;
}

/**
 * `<sandbox>/path/vllm`: the serving vLLM installation on PATH. `vllm serve` is server-lifecycle's
 * fake server, `vllm bench serve` bench-runner's fake client; both read the sandbox knobs.
 */
function servingVllmOnPath(box: Sandbox): string {
  const path = join(box.pathDir, 'vllm');
  const knobs = box.path('knobs.json');
  writeFileSync(
    path,
    `#!/usr/bin/env node\nimport { readFileSync } from 'node:fs';\nObject.assign(process.env, JSON.parse(readFileSync(${JSON.stringify(knobs)}, 'utf8')));\nawait import(process.argv[2] === 'serve' ? ${JSON.stringify(FAKE_VLLM_SERVE)} : ${JSON.stringify(FAKES.benchVllm)});\n`,
  );
  chmodSync(path, 0o755);
  return path;
}

describe('perf-eval run: tool roles with provisioned tools', () => {
  it('a native run serves with the vllm on PATH, not the provisioned bench client, and reports its crash reason', async () => {
    const box = sandbox();
    const serving = servingVllmOnPath(box);
    // The provisioned client would fail differently (it has no `serve`): the reason proves which one ran.
    box.knobs['FAKE_VLLM_CRASH'] = 'before';
    box.knobs['FAKE_VLLM_CRASH_AFTER_MS'] = '50';
    box.knobs['FAKE_VLLM_CRASH_LOG'] = CRASH_LOG;
    const cli = startCli(
      box,
      ['run', box.recipe(nativeRecipe('native-crash'))],
      cliEnv(box, await freePort()),
    );
    const out = await cli.done;
    expect(out.code, out.stderr).toBe(1);
    expect(out.stderr).toContain('out of memory / no KV-cache memory');
    expect(out.stderr).not.toContain('unknown failure');

    const summary = readSummary(box.resultsDir('native-crash'));
    expect(summary.server.status).toBe('failed');
    expect(summary.server.diagnosis).toContain('out of memory');
    expect(summary.tools).toMatchObject({
      server: { binary: serving, source: 'path' },
      benchClient: { binary: serving, source: 'path' },
      lmEval: { binary: join(box.toolsDir, 'venvs/lmeval/bin/lm_eval'), source: 'provisioned' },
    });
    expect(readFileSync(join(box.resultsDir('native-crash'), 'server.log'), 'utf8')).toContain(
      'EngineCore failed to start',
    );
  });

  it('SIGTERM during a native bench stops the bench client and the server within 5 s', async () => {
    const box = sandbox();
    servingVllmOnPath(box);
    box.knobs['FAKE_VLLM_BENCH_MODE'] = 'hang';
    box.knobs['FAKE_VLLM_LOG'] = box.path('bench.jsonl');
    const cli = startCli(
      box,
      ['run', box.recipe(nativeRecipe('native-cancel'))],
      cliEnv(box, await freePort()),
    );
    const dir = box.resultsDir('native-cancel');
    const bench = await waitFor(
      () => readJsonLines<{ pid: number; argv: string[] }>(box.path('bench.jsonl'))[0],
      'vllm bench serve running',
      { cli },
    );
    const server = await waitFor(() => serverPid(dir), 'server pid', { cli });
    expect(bench.argv.slice(0, 2)).toEqual(['bench', 'serve']);
    expect(isAlive(bench.pid) && isAlive(server)).toBe(true);
    cli.child.kill('SIGTERM');
    await waitFor(
      () => !isAlive(bench.pid) && !isAlive(server),
      `bench pid ${bench.pid} and server pid ${server} to exit`,
      5000,
    );
    const out = await cli.done;
    expect(out.code).toBe(143);
    expect(readSummary(dir).status).toBe('cancelled');
  });
});
