import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import {
  capture,
  FAKE_DOCKER,
  LOG_NO_KV_CACHE,
  nativeSpec,
  pidAlive,
  testDir,
  waitFor,
} from '../../test/helpers.js';
import { buildkiteLabels } from './argv.js';
import { ServerExitedError, ServerLaunchError } from './errors.js';
import { startServer } from './server.js';
import { findStaleContainers, removeContainers } from './stale.js';
import type { ServerSpec } from './types.js';

interface FakeDocker {
  state: string;
  calls: () => Promise<string[][]>;
  container: (
    name: string,
  ) => Promise<
    { Id: string; Labels: Record<string, string>; Env: Record<string, string>; Init: boolean } | undefined
  >;
  serverPid: (id: string) => Promise<number>;
}

async function fakeDocker(): Promise<FakeDocker> {
  const dir = await testDir();
  const state = join(dir, 'docker-state');
  await mkdir(state);
  const log = join(dir, 'docker-argv.jsonl');
  vi.stubEnv('FAKE_DOCKER_STATE', state);
  vi.stubEnv('FAKE_DOCKER_LOG', log);
  onTestFinished(async () => {
    // Leave nothing running even when an assertion failed mid-test.
    for (const file of await readdir(state)) {
      if (file.endsWith('.pid')) {
        try {
          process.kill(Number(await readFile(join(state, file), 'utf8')), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    vi.unstubAllEnvs();
  });
  return {
    state,
    calls: async () =>
      existsSync(log)
        ? (await readFile(log, 'utf8'))
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line) as string[])
        : [],
    container: async (name) => {
      for (const file of await readdir(state)) {
        if (!/^[0-9a-f]{64}\.json$/.test(file)) continue;
        const container = JSON.parse(await readFile(join(state, file), 'utf8'));
        if (container.Name === name) return container;
      }
      return undefined;
    },
    serverPid: async (id) => Number(await readFile(join(state, `${id}.pid`), 'utf8')),
  };
}

async function dockerSpec(overrides: Partial<ServerSpec> = {}): Promise<ServerSpec> {
  return nativeSpec({
    runtime: 'docker',
    image: 'vllm/vllm-openai:nightly-test',
    docker: FAKE_DOCKER,
    binary: undefined,
    labels: buildkiteLabels('opt', {
      BUILDKITE_JOB_ID: 'job-123',
      BUILDKITE_STEP_KEY: 'opt-h200',
      BUILDKITE_BUILD_NUMBER: '7',
      BUILDKITE_PIPELINE_SLUG: 'perf-eval',
    }),
    ...overrides,
  });
}

describe('docker runtime', () => {
  it('runs a labelled --init container, follows its logs, and removes it on stop', async () => {
    const docker = await fakeDocker();
    const dir = await testDir();
    const dump = join(dir, 'env.json');
    const spec = await dockerSpec({
      env: { FAKE_VLLM_READY_DELAY_MS: '200', FAKE_VLLM_ENV_DUMP: dump, HF_TOKEN: 'hf_dockersecret' },
    });
    const out = capture();
    const handle = await startServer(spec, out.options);
    expect(handle.containerName).toBe(spec.containerName);
    const container = await docker.container(spec.containerName);
    expect(container?.Init).toBe(true);
    expect(container?.Labels).toEqual({
      'com.buildkite.job-id': 'job-123',
      'com.buildkite.step_key': 'opt-h200',
      'com.buildkite.build_number': '7',
      'com.buildkite.pipeline_slug': 'perf-eval',
      'perf-eval.workload': 'opt',
    });
    const containerEnv = JSON.parse(await readFile(dump, 'utf8')) as Record<string, string>;
    expect(containerEnv['HF_TOKEN']).toBe('hf_dockersecret');
    expect(containerEnv['VLLM_ENGINE_READY_TIMEOUT_S']).toBe('30');
    const pid = await docker.serverPid(container?.Id as string);
    expect(pidAlive(pid)).toBe(true);

    await handle.stop();
    expect(pidAlive(pid)).toBe(false);
    expect(await readdir(docker.state)).toEqual([]);
    const calls = await docker.calls();
    const run = calls.find((argv) => argv[0] === 'run') as string[];
    expect(run.slice(0, 7)).toEqual([
      'run',
      '-d',
      '--name',
      spec.containerName,
      '--init',
      '--stop-timeout',
      '1',
    ]);
    expect(run).toContain('HF_TOKEN');
    expect(JSON.stringify(calls)).not.toContain('hf_dockersecret');
    expect(out.printed.join('\n')).not.toContain('hf_dockersecret');
    expect(calls.map((argv) => argv[0])).toEqual(
      expect.arrayContaining(['run', 'logs', 'wait', 'stop', 'rm']),
    );
    expect(calls.find((argv) => argv[0] === 'stop')).toEqual(['stop', '-t', '1', spec.containerName]);
    expect(calls.find((argv) => argv[0] === 'rm')).toEqual(['rm', '-f', spec.containerName]);
    expect(calls.some((argv) => argv[0] === 'exec')).toBe(false);
    expect(await readFile(spec.logFile, 'utf8')).toContain('Application startup complete.');
    expect(out.lines.some((line) => line.includes('Application startup complete.'))).toBe(true);
  });

  it('forceSignal during a graceful docker stop: docker kill ends it at once, then the container is removed', async () => {
    const docker = await fakeDocker();
    const spec = await dockerSpec({ env: { FAKE_VLLM_IGNORE_SIGTERM: '1' }, stopGraceS: 600 });
    const out = capture();
    const force = new AbortController();
    const handle = await startServer(spec, { ...out.options, forceSignal: force.signal });
    const container = await docker.container(spec.containerName);
    const pid = await docker.serverPid(container?.Id as string);
    const stopping = handle.stop();
    await waitFor(
      () => out.lines.find((line) => line.includes('received SIGTERM, ignoring it')),
      5000,
      'SIGTERM ignored',
    );
    force.abort();
    await stopping;
    expect(pidAlive(pid)).toBe(false);
    expect(await readdir(docker.state)).toEqual([]);
    const calls = (await docker.calls()).map((argv) => argv.join(' '));
    expect(calls).toEqual(
      expect.arrayContaining([
        `stop -t 600 ${spec.containerName}`,
        `kill ${spec.containerName}`,
        `rm -f ${spec.containerName}`,
      ]),
    );
  });

  it('a container that dies during startup is reported with its class and tail, and removed', async () => {
    const docker = await fakeDocker();
    const spec = await dockerSpec({
      env: { FAKE_VLLM_CRASH: 'before', FAKE_VLLM_CRASH_LOG: LOG_NO_KV_CACHE },
    });
    const out = capture();
    const error = (await startServer(spec, out.options).catch((e: unknown) => e)) as ServerExitedError;
    expect(error).toBeInstanceOf(ServerExitedError);
    expect(error.runtime).toBe('docker');
    expect(error.exitCode).toBe(1);
    expect(error.diagnosis.kind).toBe('out_of_memory');
    expect(error.outputTail.some((line) => line.includes('Engine core initialization failed'))).toBe(true);
    expect(out.errors).toEqual(['vLLM server exited before becoming healthy']);
    expect(await docker.container(spec.containerName)).toBeUndefined();
    expect((await docker.calls()).some((argv) => argv[0] === 'inspect')).toBe(true);
  });

  it('an image pull failure is a launch error classified as image_pull', async () => {
    const docker = await fakeDocker();
    const spec = await dockerSpec({ image: 'vllm/no-such-image:nightly-deadbeef' });
    const error = (await startServer(spec, capture().options).catch((e: unknown) => e)) as ServerLaunchError;
    expect(error).toBeInstanceOf(ServerLaunchError);
    expect(error.exitCode).toBe(125);
    expect(error.diagnosis.kind).toBe('image_pull');
    expect(error.message).toContain('pull access denied for vllm/no-such-image');
    expect((await docker.calls()).map((argv) => argv[0])).toEqual(['run', 'rm']);
  });

  it('a container that dies while in use resolves exited', async () => {
    await fakeDocker();
    const spec = await dockerSpec({ env: { FAKE_VLLM_CRASH: 'after', FAKE_VLLM_CRASH_AFTER_MS: '300' } });
    const handle = await startServer(spec, capture().options);
    onTestFinished(() => handle.stop());
    const exit = await handle.exited;
    expect(exit).toMatchObject({ exitCode: 1, stopped: false });
    expect(() => handle.assertAlive()).toThrow(
      /^vLLM server exited while in use \(failed with exit code 1\)/,
    );
  });
});

describe('stale containers', () => {
  it('finds perf-eval containers of other jobs and removes them', async () => {
    const docker = await fakeDocker();
    const port = 1;
    const start = (name: string, labels: string[]) =>
      execa(FAKE_DOCKER, [
        'run',
        '-d',
        '--name',
        name,
        ...labels.flatMap((label) => ['--label', label]),
        '-e',
        'FAKE_VLLM_READY_DELAY_MS=600000',
        'img',
        'm',
        '--port',
        String(port),
      ]);
    await start('mine', ['perf-eval.workload=a', 'com.buildkite.job-id=job-current']);
    await start('old', ['perf-eval.workload=b', 'com.buildkite.job-id=job-old']);
    await start('local', ['perf-eval.workload=c']);
    await start('unrelated', ['other=1']);

    const stale = await findStaleContainers({ jobId: 'job-current', docker: FAKE_DOCKER });
    expect(stale.map((c) => [c.name, c.jobId, c.workload, c.state]).sort()).toEqual([
      ['local', undefined, 'c', 'running'],
      ['old', 'job-old', 'b', 'running'],
    ]);
    await removeContainers(
      stale.map((c) => c.id),
      { docker: FAKE_DOCKER, stopTimeoutS: 0 },
    );
    expect(await docker.container('old')).toBeUndefined();
    expect(await docker.container('local')).toBeUndefined();
    expect(await docker.container('mine')).toBeDefined();
    const ps = (await docker.calls()).find((argv) => argv[0] === 'ps');
    expect(ps?.slice(0, 4)).toEqual(['ps', '-a', '--filter', 'label=perf-eval.workload']);
    await removeContainers(['mine', 'unrelated'], { docker: FAKE_DOCKER });
    expect(await readdir(docker.state)).toEqual([]);
  });
});
