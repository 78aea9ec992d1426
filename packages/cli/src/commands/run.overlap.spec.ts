/**
 * A run on a machine that lacks a tool provisions it while the server starts (issue 15: the GPU step
 * has no separate `setup`). The sandbox has the simulator but no bench client; toolchain's fake
 * CPython (on PATH as python3) makes each pip install take FAKE_PIP_MS, the fake server takes
 * FAKE_VLLM_READY_DELAY_MS to come up. The two must overlap, and the bench must use the new client.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import {
  cliEnv,
  FAKES,
  isAlive,
  freePort,
  knobbedTool,
  ms,
  onPath,
  readSummary,
  runCli,
  sandbox,
  serverPid,
  simRecipe,
  startCli,
  task,
  waitFor,
} from '../../test/harness.js';

const FAKE_PYTHON = resolve(import.meta.dirname, '../../../toolchain/test/fixtures/setup-bin/python3');

describe('perf-eval run: provisioning overlaps the server launch', () => {
  it('installs the missing bench client while the server starts, then benches with it', async () => {
    const box = sandbox({ omit: ['vllm'] });
    onPath(box, 'python3', FAKE_PYTHON);
    box.knobs['FAKE_VLLM_READY_DELAY_MS'] = '1500';
    const recipe = box.recipe(simRecipe('overlap', { lmEval: null, bfcl: null }));
    const out = await runCli(
      box,
      ['run', recipe],
      cliEnv(box, await freePort(), {
        PERF_EVAL_NO_AUTO_SETUP: '0',
        FAKE_PIP_MS: '600',
        FAKE_PIP_VLLM_CLIENT: knobbedTool(box, 'bench-client', FAKES.benchVllm),
      }),
    );
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(`provisioned bench into ${box.toolsDir}`);
    const client = join(box.toolsDir, 'venvs/vllm/bin/vllm');
    expect(existsSync(client)).toBe(true);

    const summary = readSummary(box.resultsDir('overlap'));
    expect(summary.tools?.benchClient).toEqual({ binary: client, source: 'provisioned' });
    expect(task(summary, 'bench:short-conc-2').status).toBe('ok');
    const phase = (name: string) => {
      const found = summary.timeline?.find((p) => p.name === name);
      if (!found) throw new Error(`no '${name}' phase in ${JSON.stringify(summary.timeline)}`);
      return { start: ms(found.start), end: ms(found.end) };
    };
    const provisioning = phase('tool provisioning and preflight');
    const launch = phase('server launch');
    // The two pip installs (600 ms each) ran inside this phase, not before the launch…
    expect(provisioning.end - provisioning.start).toBeGreaterThanOrEqual(1200);
    // …which started with it, and each ran while the other was still going.
    expect(Math.abs(provisioning.start - launch.start)).toBeLessThan(1000);
    expect(provisioning.start).toBeLessThan(launch.end);
    expect(launch.start).toBeLessThan(provisioning.end);
    // The first bench waits for both.
    const bench = summary.timeline?.find((p) => p.kind === 'bench');
    expect(ms(bench?.start)).toBeGreaterThanOrEqual(Math.max(provisioning.end, launch.end) - 5);
  });

  it("a failed install during the launch fails the run with pip's reason, stops the server and runs no task", async () => {
    const box = sandbox({ omit: ['vllm'] });
    onPath(box, 'python3', FAKE_PYTHON);
    const out = await runCli(
      box,
      ['run', box.recipe(simRecipe('overlap-fail', { lmEval: null, bfcl: null }))],
      cliEnv(box, await freePort(), { PERF_EVAL_NO_AUTO_SETUP: '0', FAKE_PIP_FAIL: 'vllm==' }),
    );
    expect(out.code, out.stderr).toBe(1);
    expect(out.stderr).toContain('preparing the tools failed');
    expect(out.stderr).toContain('No matching distribution found for vllm==');
    expect(out.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const summary = readSummary(box.resultsDir('overlap-fail'));
    expect(summary.prepareError?.message).toContain('setup bench');
    expect(summary.status).toBe('failed');
    expect(summary.tasks.filter((t) => t.status === 'ok' || t.status === 'running')).toEqual([]);
    expect(out.stderr).toContain('+++ :rotating_light: run failed\n  - tools: setup bench:');
    expect(summary.server.status).not.toBe('running');
    const pid = serverPid(box.resultsDir('overlap-fail'));
    expect(pid !== undefined && isAlive(pid)).toBe(false);
  });

  it('SIGTERM while a pip install runs beside the launch stops pip and the server and exits 143', async () => {
    const box = sandbox({ omit: ['vllm'] });
    onPath(box, 'python3', FAKE_PYTHON);
    const cli = startCli(
      box,
      ['run', box.recipe(simRecipe('overlap-cancel', { lmEval: null, bfcl: null }))],
      cliEnv(box, await freePort(), { PERF_EVAL_NO_AUTO_SETUP: '0', FAKE_PIP_HANG: 'vllm==' }),
    );
    const dir = box.resultsDir('overlap-cancel');
    const server = await waitFor(() => serverPid(dir), 'server pid', { cli });
    await waitFor(() => processesUnder(box.toolsDir).length > 1, 'pip running beside the server', { cli });
    cli.child.kill('SIGTERM');
    const out = await cli.done;
    expect(out.code, out.stderr).toBe(143);
    await waitFor(
      () => !isAlive(server) && processesUnder(box.toolsDir).length === 0,
      'no process left',
      5000,
    );
    expect(readSummary(dir).status).toBe('cancelled');
  });
});

describe('perf-eval run: preflight before any provisioning', () => {
  it('a failed preflight exits 2 before the missing simulator is built', async () => {
    const box = sandbox({ omit: ['simulator', 'tokenizer', 'vllm'] });
    const marker = box.path('go-was-run');
    writeFileSync(join(box.pathDir, 'go'), `#!/bin/sh\ntouch ${JSON.stringify(marker)}\nexit 1\n`, {
      mode: 0o755,
    });
    onPath(box, 'python3', FAKE_PYTHON);
    const busy = createServer();
    await new Promise<void>((done) => busy.listen(0, '127.0.0.1', done));
    onTestFinished(() => void busy.close());
    const port = (busy.address() as { port: number }).port;
    const out = await runCli(
      box,
      ['run', box.recipe(simRecipe('overlap-preflight', { lmEval: null, bfcl: null }))],
      cliEnv(box, port, { PERF_EVAL_NO_AUTO_SETUP: '0' }),
    );
    expect(out.code, out.stderr).toBe(2);
    expect(out.stderr).toContain(`preflight failed (nothing was started)`);
    expect(out.stderr).toContain(String(port));
    // Neither the simulator build nor a venv was started.
    expect(existsSync(marker)).toBe(false);
    expect(out.stdout).not.toContain('provisioning');
  });
});

/** Pids whose command line mentions `dir` (the tools directory: the simulator, pip in its temp venv). */
function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
