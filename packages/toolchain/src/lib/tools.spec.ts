import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { discoverTools, toolPaths } from './tools.js';

function executable(path: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, '#!/bin/sh\nexit 0\n');
  chmodSync(path, 0o755);
  return path;
}

describe('discoverTools: roles', () => {
  let root: string;
  let tools: string;
  let bin: string;
  let env: Record<string, string>;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'toolchain-'));
    tools = join(root, 'tools');
    bin = join(root, 'bin');
    mkdirSync(bin);
    env = { PERF_EVAL_TOOLS_DIR: tools, PATH: bin };
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('never serves with the provisioned bench client, even when its directory is on PATH', () => {
    const client = executable(toolPaths(tools).vllm);
    env['PATH'] = `${dirname(client)}:${bin}`;
    const found = discoverTools(env, { runtime: 'native' });
    expect(found.roles.server).toEqual({ binary: undefined, source: 'missing' });
    expect(found.found.vllm).toBeUndefined();
    const serving = executable(join(bin, 'vllm'));
    expect(discoverTools(env, { runtime: 'native' }).roles.server).toEqual({
      binary: serving,
      source: 'path',
    });
  });

  it('a native bench uses the server installation; the simulator and external servers use the provisioned client', () => {
    const client = executable(toolPaths(tools).vllm);
    const serving = executable(join(bin, 'vllm'));
    const native = discoverTools(env, { runtime: 'native' });
    expect(native.roles.benchClient).toEqual({ binary: serving, source: 'path' });
    expect(native.commands).toMatchObject({ vllm: [serving], benchVllm: [serving] });
    expect(discoverTools(env, { runtime: 'native', provisionedBenchClient: true }).roles.benchClient).toEqual(
      { binary: client, source: 'provisioned' },
    );
    expect(discoverTools(env, { runtime: 'sim' }).roles.benchClient).toEqual({
      binary: client,
      source: 'provisioned',
    });
    expect(discoverTools(env, { runtime: 'docker', externalServer: true }).roles.benchClient).toEqual({
      binary: client,
      source: 'provisioned',
    });
    const docker = discoverTools(env, { runtime: 'docker' });
    expect(docker.roles.server).toEqual({ binary: 'vllm', source: 'container' });
    expect(docker.roles.benchClient).toEqual({ binary: 'vllm', source: 'container' });
    expect(docker.found.benchVllm).toBeUndefined();
  });

  it('explicit overrides win for both roles', () => {
    executable(toolPaths(tools).vllm);
    executable(join(bin, 'vllm'));
    env['PERF_EVAL_VLLM'] = '/opt/vllm/bin/vllm';
    env['PERF_EVAL_BENCH_VLLM'] = '/opt/client/bin/vllm';
    const found = discoverTools(env, { runtime: 'native' });
    expect(found.roles.server).toEqual({ binary: '/opt/vllm/bin/vllm', source: 'override' });
    expect(found.roles.benchClient).toEqual({ binary: '/opt/client/bin/vllm', source: 'override' });
    delete env['PERF_EVAL_BENCH_VLLM'];
    expect(discoverTools(env, { runtime: 'native' }).roles.benchClient).toEqual({
      binary: '/opt/vllm/bin/vllm',
      source: 'override',
    });
  });

  it('the simulator, lm_eval and BFCL prefer the provisioned copies; roles are plain JSON', () => {
    const paths = toolPaths(tools);
    executable(join(bin, 'llm-d-inference-sim'));
    executable(join(bin, 'lm_eval'));
    const sim = discoverTools(env, { runtime: 'sim' });
    expect(sim.roles.server).toEqual({ binary: join(bin, 'llm-d-inference-sim'), source: 'path' });
    expect(sim.roles.lmEval.source).toBe('path');
    expect(sim.roles.bfclPython).toEqual({ binary: undefined, source: 'missing' });
    executable(paths.simulator);
    executable(paths.lmEval);
    executable(paths.bfclPython);
    const provisioned = discoverTools(env, { runtime: 'sim' });
    expect(provisioned.roles.server).toEqual({ binary: paths.simulator, source: 'provisioned' });
    expect(provisioned.roles.lmEval).toEqual({ binary: paths.lmEval, source: 'provisioned' });
    expect(provisioned.roles.bfclPython).toEqual({ binary: paths.bfclPython, source: 'provisioned' });
    expect(JSON.parse(JSON.stringify(provisioned.roles))).toEqual(
      JSON.parse(JSON.stringify({ ...provisioned.roles })),
    );
  });

  it('names pending components at their provisioned paths before they exist (a run provisions them during the launch)', () => {
    const paths = toolPaths(tools);
    const now = discoverTools(env, { runtime: 'sim' });
    expect(now.found).toMatchObject({ lm_eval: undefined, bfcl: undefined, benchVllm: undefined });
    const pending = discoverTools(env, {
      runtime: 'sim',
      pending: new Set(['bench', 'lm_eval', 'bfcl'] as const),
    });
    expect(pending.roles.benchClient).toEqual({ binary: paths.vllm, source: 'provisioned' });
    expect(pending.roles.lmEval).toEqual({ binary: paths.lmEval, source: 'provisioned' });
    expect(pending.roles.bfclPython).toEqual({ binary: paths.bfclPython, source: 'provisioned' });
    expect(pending.lmEvalPython).toBe(paths.lmEvalPython);
    expect(pending.commands).toMatchObject({ benchVllm: [paths.vllm], lmEval: [paths.lmEval] });
    // A pending bench client is still never the server.
    expect(
      discoverTools(env, { runtime: 'native', pending: new Set(['bench'] as const) }).roles.server.source,
    ).toBe('missing');
  });
});
