/**
 * A run on a machine that lacks a tool provisions it while the server starts (issue 15: the GPU step
 * has no separate `setup`). The sandbox has the simulator but no bench client; toolchain's fake
 * CPython (on PATH as python3) makes each pip install take FAKE_PIP_MS, the fake server takes
 * FAKE_VLLM_READY_DELAY_MS to come up. The two must overlap, and the bench must use the new client.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  cliEnv,
  FAKES,
  freePort,
  knobbedTool,
  ms,
  onPath,
  readSummary,
  runCli,
  sandbox,
  simRecipe,
  task,
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
});
