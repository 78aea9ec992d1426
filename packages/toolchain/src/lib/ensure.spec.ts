import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { componentsFor, ensureTools } from './ensure.js';
import { SIMULATOR_MODULE, SIMULATOR_VERSION } from './pins.js';
import { toolPaths } from './tools.js';

const FAKE_BIN = resolve(import.meta.dirname, '../../test/fixtures/setup-bin');

describe('componentsFor', () => {
  it('asks for what the run executes on this host', () => {
    expect([...componentsFor({ runtime: 'sim', bench: true, lmEval: true, bfcl: true })]).toEqual([
      'sim',
      'bench',
      'lm_eval',
      'bfcl',
    ]);
    // Natively the server's own vLLM runs the bench; in docker the image's.
    expect([...componentsFor({ runtime: 'native', bench: true, lmEval: false, bfcl: true })]).toEqual([
      'bfcl',
    ]);
    expect([...componentsFor({ runtime: 'docker', bench: true, lmEval: false, bfcl: false })]).toEqual([]);
    expect([
      ...componentsFor({ runtime: 'docker', bench: true, lmEval: false, bfcl: false, externalServer: true }),
    ]).toEqual(['bench']);
  });
});

/** A temp root (removed after the test) with `bin/python3`: the fake CPython of these tests. */
function sandboxWithFakePython(): { root: string; bin: string } {
  const root = mkdtempSync(join(tmpdir(), 'toolchain-ensure-'));
  onTestFinished(() => rmSync(root, { recursive: true, force: true, maxRetries: 5 }));
  const bin = join(root, 'bin');
  mkdirSync(bin);
  writeFileSync(
    join(bin, 'python3'),
    `#!/bin/sh\nexec "${process.execPath}" "${join(FAKE_BIN, 'python3')}" "$@"\n`,
    {
      mode: 0o755,
    },
  );
  return { root, bin };
}

/** Provisioning into `<root>/tools` with the sandbox's PATH, collecting the printed lines. */
function provisionOptions(root: string, bin: string, env: Record<string, string> = {}) {
  const dir = join(root, 'tools');
  const lines: string[] = [];
  const options = {
    dir,
    python: 'python3',
    force: false,
    verbose: false,
    env: { PATH: [bin, dirname(process.execPath), '/usr/bin', '/bin'].join(':'), HOME: root, ...env },
    signal: new AbortController().signal,
    print: (line: string) => lines.push(line),
  };
  return { dir, lines, options };
}

describe('ensureTools', () => {
  it('provisions only what is missing, with progress lines while a slow build runs', async () => {
    const { root, bin } = sandboxWithFakePython();
    writeFileSync(join(bin, 'go'), `#!/bin/sh\nexec "${process.execPath}" "${join(FAKE_BIN, 'go')}" "$@"\n`, {
      mode: 0o755,
    });
    const modDir = join(root, 'gomod', `llm-d-inference-sim@${SIMULATOR_VERSION}`);
    mkdirSync(modDir, { recursive: true });
    writeFileSync(join(modDir, 'go.mod'), `module ${SIMULATOR_MODULE}\n`);
    const {
      dir,
      lines,
      options: base,
    } = provisionOptions(root, bin, {
      FAKE_GO_MODDIR: modDir,
      FAKE_GO_BUILD_MS: '1500',
    });
    const options = {
      ...base,
      progress: { intervalMs: 200 },
    };

    const first = await ensureTools(new Set(['sim'] as const), options);
    expect(first.provisioned).toEqual(['sim']);
    expect(existsSync(toolPaths(dir).simulator)).toBe(true);
    expect(
      lines.filter((line) => line.startsWith(`    … building llm-d-inference-sim ${SIMULATOR_VERSION} (`))
        .length,
    ).toBeGreaterThanOrEqual(2);

    lines.length = 0;
    const second = await ensureTools(new Set(['sim'] as const), options);
    expect(second).toEqual({ provisioned: [], reports: [] });
    expect(lines).toEqual([]);
  });

  it('waits for another live process holding the lock when asked to, and otherwise refuses', async () => {
    const { root, bin } = sandboxWithFakePython();
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    onTestFinished(() => void holder.kill('SIGKILL'));
    const { dir, lines, options } = provisionOptions(root, bin);
    mkdirSync(dir, { recursive: true });
    const lock = join(dir, '.setup.lock');
    writeFileSync(lock, `${holder.pid}\n`);
    await expect(ensureTools(new Set(['lm_eval'] as const), options)).rejects.toThrow(
      `another perf-eval setup (pid ${holder.pid}) is provisioning ${dir}`,
    );

    const waiting = ensureTools(new Set(['lm_eval'] as const), { ...options, lockWaitMs: 30_000 });
    const notice = `    waiting for pid ${holder.pid}, which is provisioning ${dir} (0 s)`;
    for (let i = 0; i < 200 && !lines.includes(notice); i++)
      await new Promise((done) => setTimeout(done, 50));
    expect(lines).toContain(notice);
    rmSync(lock); // the other process is done
    expect((await waiting).provisioned).toEqual(['lm_eval']);
    expect(existsSync(toolPaths(dir).lmEval)).toBe(true);

    writeFileSync(lock, `${holder.pid}\n`);
    const controller = new AbortController();
    const cancelled = ensureTools(new Set(['bfcl'] as const), {
      ...options,
      signal: controller.signal,
      lockWaitMs: 30_000,
    });
    controller.abort(new Error('cancelled by SIGTERM'));
    await expect(cancelled).rejects.toThrow('cancelled by SIGTERM');
  });
});
