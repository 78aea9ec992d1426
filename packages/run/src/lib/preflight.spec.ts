/**
 * The tools of a run and its preflight, in-process: real temp tools directories, real recipes, a real
 * busy port. (Provisioning beside a launched server is covered end to end by the CLI's
 * run.overlap.spec.ts.)
 */
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { simOnly, simRecipe, tempDir, workloadOf } from '../../test/workloads.js';
import {
  discoverRunTools,
  planLocalRun,
  preflightRun,
  PreflightError,
  runToolComponents,
} from './preflight.js';

const RECIPE = simRecipe('tools');

async function busyPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  onTestFinished(() => void server.close());
  return (server.address() as { port: number }).port;
}

describe('the tools of a run', () => {
  it('needs what the recipe and the selected phases run here', () => {
    const workload = workloadOf(tempDir('perf-eval-preflight-'), RECIPE);
    expect([...runToolComponents(workload, { env: {} })]).toEqual(['sim', 'bench', 'lm_eval', 'bfcl']);
    expect([...runToolComponents(workload, { env: { BENCH_ONLY: '1' } })]).toEqual(['sim', 'bench']);
    expect([...runToolComponents(workload, { env: {}, phases: new Set(['lm_eval'] as const) })]).toEqual([
      'sim',
      'lm_eval',
    ]);
    expect([...runToolComponents(workload, { env: {}, externalServer: true })]).toEqual([
      'bench',
      'lm_eval',
      'bfcl',
    ]);
  });

  it('names what it will provision at the provisioned paths, so the plan shows what runs', () => {
    const dir = tempDir('perf-eval-preflight-');
    const env = simOnly(dir);
    const workload = workloadOf(dir, RECIPE);
    const { tools, pending } = discoverRunTools(workload, { env, cwd: dir });
    expect([...pending]).toEqual(['bench', 'lm_eval', 'bfcl']);
    const plan = planLocalRun(workload, { env: { ...env, VLLM_PORT: '18125' }, cwd: dir, tools });
    expect(plan.lmEval[0]?.command[0]).toBe(
      join(env['PERF_EVAL_TOOLS_DIR'] as string, 'venvs/lmeval/bin/lm_eval'),
    );
    expect(plan.bench[0]?.argv[0]).toBe(join(env['PERF_EVAL_TOOLS_DIR'] as string, 'venvs/vllm/bin/vllm'));
    // PERF_EVAL_NO_AUTO_SETUP=1: nothing pending, the missing tools stay missing.
    const off = discoverRunTools(workload, { env: { ...env, PERF_EVAL_NO_AUTO_SETUP: '1' }, cwd: dir });
    expect([...off.pending]).toEqual([]);
    expect(off.tools.found.lm_eval).toBeUndefined();
  });

  it('preflight passes with pending tools and lists every problem at once otherwise', async () => {
    const dir = tempDir('perf-eval-preflight-');
    const env = simOnly(dir);
    const workload = workloadOf(dir, RECIPE);
    const pendingTools = discoverRunTools(workload, { env, cwd: dir });
    const port = String(await busyPort());
    const plan = planLocalRun(workload, {
      env: { ...env, VLLM_PORT: port },
      cwd: dir,
      tools: pendingTools.tools,
    });
    const error = await preflightRun(plan, workload, pendingTools, { env, cwd: dir }).catch(
      (e: unknown) => e,
    );
    // Only the busy port: the pending tools will be there when the tasks start.
    expect(error).toBeInstanceOf(PreflightError);
    expect((error as PreflightError).problems).toEqual([expect.stringContaining(`${port}`)]);

    const offEnv = { ...env, PERF_EVAL_NO_AUTO_SETUP: '1' };
    const missing = discoverRunTools(workload, { env: offEnv, cwd: dir });
    const freePlan = planLocalRun(workload, {
      env: { ...offEnv, VLLM_PORT: '18126' },
      cwd: dir,
      tools: missing.tools,
    });
    const problems = await preflightRun(freePlan, workload, missing, { env: offEnv, cwd: dir }).then(
      () => [],
      (e: unknown) => [...(e as PreflightError).problems],
    );
    expect(problems).toEqual([
      expect.stringMatching(/^bench: 'vllm' \(for vllm bench serve\) not found; run 'npx perf-eval setup /),
      expect.stringMatching(/^lm_eval: 'lm_eval' not found/),
      expect.stringMatching(/^bfcl: the BFCL virtualenv was not found/),
    ]);
  });
});
