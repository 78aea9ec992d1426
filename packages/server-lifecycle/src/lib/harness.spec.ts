import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { execa } from 'execa';
import ts from 'typescript';
import { FAKE_DOCKER, FIXTURES, nativeSpec, pidAlive, testDir, waitFor } from '../../test/helpers.js';
import type { ServerSpec } from './types.js';

/*
 * The harness is a plain Node process, and Node 20 cannot run TypeScript sources (no
 * --experimental-strip-types) while dist/ may be stale, concurrently rebuilt by Nx, or not built at all
 * (a package's tests run on their own from sources). So this package's sources and those of
 * @perf-eval/util are transpiled (no type-check, TypeScript's transpileModule) into a private directory
 * under test-output/ inside the package, with `@perf-eval/util` pointed at its transpiled copy. From
 * there Node resolves execa and undici like any consumer would.
 */
const PACKAGE = resolve(import.meta.dirname, '../..');
const UTIL_SRC = resolve(PACKAGE, '../util/src');
let libIndex = '';

/** Transpile `<src>/index.ts` and `<src>/lib/*.ts` (specs excluded) into `out`, rewriting `@perf-eval/util`. */
async function transpileSources(src: string, out: string, utilIndex: string): Promise<void> {
  await mkdir(join(out, 'lib'), { recursive: true });
  const files = [
    'index.ts',
    ...(await readdir(join(src, 'lib')))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
      .map((f) => `lib/${f}`),
  ];
  for (const file of files) {
    const { outputText } = ts.transpileModule(await readFile(join(src, file), 'utf8'), {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: false,
      },
      fileName: file,
    });
    const target = join(out, file.replace(/\.ts$/, '.js'));
    const specifier = relative(dirname(target), utilIndex);
    await writeFile(
      target,
      outputText.replaceAll(
        "'@perf-eval/util'",
        `'${specifier.startsWith('.') ? specifier : `./${specifier}`}'`,
      ),
    );
  }
}

beforeAll(async () => {
  const out = join(PACKAGE, 'test-output', `harness-lib-${process.pid}`);
  const utilIndex = join(out, 'util', 'index.js');
  await transpileSources(UTIL_SRC, join(out, 'util'), utilIndex);
  await transpileSources(join(PACKAGE, 'src'), out, utilIndex);
  await writeFile(join(out, 'package.json'), '{"type":"module"}\n');
  libIndex = join(out, 'index.js');
  return () => rm(out, { recursive: true, force: true, maxRetries: 5 });
});

async function runHarness(spec: ServerSpec, env: Record<string, string> = {}) {
  const harness = execa(process.execPath, [join(FIXTURES, 'harness.mjs'), libIndex, JSON.stringify(spec)], {
    env,
    reject: false,
    buffer: true,
    lines: false,
  });
  onTestFinished(() => {
    harness.kill('SIGKILL');
  });
  let stdout = '';
  harness.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const ready = await waitFor(
    () => /^READY (.*)$/m.exec(stdout)?.[1],
    15_000,
    `READY from harness (${relative(PACKAGE, libIndex)})`,
  );
  return {
    harness,
    ready: JSON.parse(ready) as { pid: number | null; container: string | null },
    output: () => stdout,
  };
}

describe('SIGTERM to an orchestrator using the package', () => {
  it('native: stops the server process group (even one ignoring SIGTERM) and exits 143', async () => {
    const spec = await nativeSpec({
      env: { FAKE_VLLM_IGNORE_SIGTERM: '1', FAKE_VLLM_WORKER: '1' },
      stopGraceS: 1,
    });
    const { harness, ready, output } = await runHarness(spec);
    const workerPid = Number(
      await waitFor(() => /\(EngineCore pid=(\d+)\)/.exec(output())?.[1], 5000, 'worker pid'),
    );
    expect(pidAlive(ready.pid as number)).toBe(true);
    harness.kill('SIGTERM');
    const result = await harness;
    expect(result.exitCode).toBe(143);
    expect(output()).toContain('STOPPED');
    expect(output()).toContain('[vllm] ');
    expect(pidAlive(ready.pid as number)).toBe(false);
    expect(pidAlive(workerPid)).toBe(false);
    expect(await readFile(spec.logFile, 'utf8')).toContain('received SIGTERM, ignoring it');
  });

  it('docker: stops and removes the container and exits 143', async () => {
    const dir = await testDir();
    const state = join(dir, 'state');
    await mkdir(state);
    const spec = await nativeSpec({
      runtime: 'docker',
      image: 'vllm/vllm-openai:test',
      docker: FAKE_DOCKER,
      binary: undefined,
    });
    const { harness, ready } = await runHarness(spec, {
      FAKE_DOCKER_STATE: state,
      FAKE_DOCKER_LOG: join(dir, 'argv.jsonl'),
    });
    expect(ready.container).toBe(spec.containerName);
    const pidFile = (await readdir(state)).find((file) => file.endsWith('.pid')) as string;
    const serverPid = Number(await readFile(join(state, pidFile), 'utf8'));
    onTestFinished(() => {
      if (pidAlive(serverPid)) process.kill(serverPid, 'SIGKILL');
    });
    expect(pidAlive(serverPid)).toBe(true);
    harness.kill('SIGTERM');
    const result = await harness;
    expect(result.exitCode).toBe(143);
    expect(pidAlive(serverPid)).toBe(false);
    expect(await readdir(state)).toEqual([]);
    const calls = (await readFile(join(dir, 'argv.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as string[]);
    expect(calls.filter((argv) => argv[0] === 'stop' || argv[0] === 'rm')).toEqual([
      ['stop', '-t', '1', spec.containerName],
      ['rm', '-f', spec.containerName],
    ]);
  });
});
