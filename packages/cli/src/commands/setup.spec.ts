import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { captureIo } from '../../test/capture-io.js';
import { run } from '../lib/main.js';
import {
  LM_EVAL_VERSION,
  PIP_VERSION,
  SIMULATOR_MODULE,
  SIMULATOR_VERSION,
  TOKENIZERS_VERSION,
} from '@perf-eval/toolchain';
import type { Stamp } from '@perf-eval/toolchain';
import { InterruptedError } from '@perf-eval/util';

const FAKE_BIN = resolve(import.meta.dirname, '../../../toolchain/test/fixtures/setup-bin');
const PROFILES = resolve(import.meta.dirname, '../../../../profiles/gpu_profiles.yaml');

interface Box {
  root: string;
  tools: string;
  env: Record<string, string>;
  pyLog: string;
  goLog: string;
  path(...parts: string[]): string;
}

function sandbox(options: { go?: boolean } = {}): Box {
  const root = mkdtempSync(join(tmpdir(), 'perf-eval-setup-'));
  onTestFinished(() => rmSync(root, { recursive: true, force: true, maxRetries: 5 }));
  // Only the fakes (plus node for their shebang, plus /bin for the fake simulator's sh) on PATH.
  const bin = join(root, 'bin');
  mkdirSync(bin);
  writeFileSync(
    join(bin, 'python3'),
    `#!/bin/sh\nexec "${process.execPath}" "${join(FAKE_BIN, 'python3')}" "$@"\n`,
    { mode: 0o755 },
  );
  if (options.go !== false)
    writeFileSync(join(bin, 'go'), `#!/bin/sh\nexec "${process.execPath}" "${join(FAKE_BIN, 'go')}" "$@"\n`, {
      mode: 0o755,
    });
  const modDir = join(root, 'gomod', `llm-d-inference-sim@${SIMULATOR_VERSION}`);
  mkdirSync(modDir, { recursive: true });
  writeFileSync(join(modDir, 'go.mod'), `module ${SIMULATOR_MODULE}\n`);
  const box: Box = {
    root,
    tools: join(root, 'tools'),
    pyLog: join(root, 'python.jsonl'),
    goLog: join(root, 'go.jsonl'),
    env: {},
    path: (...parts) => join(root, 'tools', ...parts),
  };
  box.env = {
    PATH: [bin, dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
    HOME: root,
    PERF_EVAL_TOOLS_DIR: box.tools,
    FAKE_PY_LOG: box.pyLog,
    FAKE_GO_LOG: box.goLog,
    FAKE_GO_MODDIR: modDir,
  };
  return box;
}

async function setup(
  box: Box,
  argv: string[],
  env: Record<string, string> = {},
  signal = new AbortController().signal,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { io, stdout, stderr } = captureIo({ env: { ...box.env, ...env }, cwd: box.root, signal });
  const code = await run(['setup', ...argv], io);
  return { code, stdout: stdout(), stderr: stderr() };
}

function jsonLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}

const pipCalls = (box: Box): string[][] =>
  jsonLines<{ args: string[] }>(box.pyLog)
    .map((entry) => entry.args)
    .filter((args) => args[0] === '-m' && args[1] === 'pip');

async function waitFor(probe: () => boolean): Promise<void> {
  const end = Date.now() + 20_000;
  while (!probe()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const stamp = (box: Box, tool: string): Stamp =>
  JSON.parse(readFileSync(box.path('stamps', `${tool}.json`), 'utf8')) as Stamp;

const leftovers = (dir: string): string[] =>
  existsSync(dir) ? readdirSync(dir).filter((name) => /\.(tmp|old)-\d+$/.test(name)) : [];

describe('perf-eval setup', () => {
  it('builds the lm-eval venv from the pinned spec, relocates it, and stamps it', async () => {
    const box = sandbox();
    const out = await setup(box, ['--only', 'lm_eval']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`~~~ :python: installing lm-eval ${LM_EVAL_VERSION}`);
    expect(out.stdout).toMatch(/provisioning .*venvs\/lmeval \(not provisioned yet\)/);
    expect(out.stdout).toMatch(/lm_eval\s+provisioned/);

    const calls = pipCalls(box);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toEqual(['-m', 'pip', 'install', '--progress-bar', 'off', `pip==${PIP_VERSION}`]);
    expect(calls[1]?.slice(-3, -1)).toEqual([
      '-c',
      expect.stringMatching(/venvs\/lmeval\.tmp-\d+\/perf-eval-constraints\.txt$/),
    ]);
    expect(calls[1]?.at(-1)).toBe(`lm-eval[api]==${LM_EVAL_VERSION}`);

    const venv = box.path('venvs', 'lmeval');
    // Console scripts and activate point at the final venv, not the temporary build directory.
    expect(readFileSync(join(venv, 'bin', 'lm_eval'), 'utf8').split('\n')[0]).toBe(
      `#!${join(venv, 'bin', 'python')}`,
    );
    expect(readFileSync(join(venv, 'bin', 'activate'), 'utf8')).toContain(`VIRTUAL_ENV="${venv}"`);
    expect(readFileSync(join(venv, 'bin', 'activate'), 'utf8')).toContain('PS1="(lmeval) ');
    expect(readFileSync(join(venv, 'perf-eval-constraints.txt'), 'utf8')).toMatch(/^datasets==/m);
    expect(leftovers(box.path('venvs'))).toEqual([]);
    const written = stamp(box, 'lm_eval');
    expect(written).toMatchObject({ tool: 'lm_eval', source: 'built', path: venv, python: 'python3' });
    expect(written.specHash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('reuses a stamped install, rebuilds on --force and when the pinned spec changed', async () => {
    const box = sandbox();
    expect((await setup(box, ['--only', 'lm_eval'])).code).toBe(0);
    const first = stamp(box, 'lm_eval');

    const again = await setup(box, ['--only', 'lm_eval']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`up to date: ${box.path('venvs', 'lmeval')}`);
    expect(again.stdout).toMatch(/lm_eval\s+reused/);
    expect(pipCalls(box)).toHaveLength(2);

    const forced = await setup(box, ['--only', 'lm_eval', '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('(--force)');
    expect(pipCalls(box)).toHaveLength(4);
    expect(stamp(box, 'lm_eval').installedAt >= first.installedAt).toBe(true);

    writeFileSync(
      box.path('stamps', 'lm_eval.json'),
      JSON.stringify({ ...first, specHash: '0000000000000000' }),
    );
    const changed = await setup(box, ['--only', 'lm_eval']);
    expect(changed.code).toBe(0);
    expect(changed.stdout).toContain('(the pinned spec changed)');
    expect(pipCalls(box)).toHaveLength(6);
    expect(stamp(box, 'lm_eval').specHash).toBe(first.specHash);
  });

  it('rebuilds a stamped venv that no longer works (package gone)', async () => {
    const box = sandbox();
    expect((await setup(box, ['--only', 'lm_eval'])).code).toBe(0);
    writeFileSync(box.path('venvs', 'lmeval', 'fake-site.json'), '{}');
    const out = await setup(box, ['--only', 'lm_eval']);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('(the existing install does not work)');
    expect(pipCalls(box)).toHaveLength(4);
  });

  it('a failed pip install exits 1 with the output tail and leaves no venv, temp dir or stamp', async () => {
    const box = sandbox();
    const out = await setup(box, ['--only', 'lm_eval'], { FAKE_PIP_FAIL: 'lm-eval[api]' });
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(
      /^setup lm_eval: .*python -m pip install --progress-bar off -c .* failed with exit code 1/,
    );
    expect(out.stderr).toContain(
      `  | ERROR: No matching distribution found for lm-eval[api]==${LM_EVAL_VERSION}`,
    );
    expect(out.stderr).toContain('  | Collecting dependency-59');
    expect(out.stderr).not.toContain('Collecting dependency-0\n');
    expect(existsSync(box.path('venvs', 'lmeval'))).toBe(false);
    expect(leftovers(box.path('venvs'))).toEqual([]);
    expect(existsSync(box.path('stamps', 'lm_eval.json'))).toBe(false);
  });

  it('a failed --force rebuild keeps the previous venv in place and drops its stamp', async () => {
    const box = sandbox();
    expect((await setup(box, ['--only', 'lm_eval'])).code).toBe(0);
    writeFileSync(box.path('venvs', 'lmeval', 'marker'), 'old');
    const out = await setup(box, ['--only', 'lm_eval', '--force'], { FAKE_PIP_FAIL: 'lm-eval[api]' });
    expect(out.code).toBe(1);
    expect(readFileSync(box.path('venvs', 'lmeval', 'marker'), 'utf8')).toBe('old');
    expect(leftovers(box.path('venvs'))).toEqual([]);
    // No stamp: the next setup rebuilds instead of trusting a half-replaced install.
    expect(existsSync(box.path('stamps', 'lm_eval.json'))).toBe(false);
  });

  it('SIGTERM during pip stops it, removes the temp venv and exits 143', async () => {
    const box = sandbox();
    const controller = new AbortController();
    const pending = setup(box, ['--only', 'lm_eval'], { FAKE_PIP_HANG: 'lm-eval[api]' }, controller.signal);
    await waitFor(() => pipCalls(box).some((args) => args.at(-1) === `lm-eval[api]==${LM_EVAL_VERSION}`));
    controller.abort(new InterruptedError('SIGTERM'));
    const out = await pending;
    expect(out.code).toBe(143);
    expect(out.stderr).toBe('perf-eval: received SIGTERM; stopped\n');
    expect(leftovers(box.path('venvs'))).toEqual([]);
    expect(existsSync(box.path('venvs', 'lmeval'))).toBe(false);
    expect(existsSync(box.path('.setup.lock'))).toBe(false);
  });

  it('removes temp dirs left by a dead setup process before building', async () => {
    const box = sandbox();
    const stale = box.path('venvs', 'lmeval.tmp-999999999');
    mkdirSync(join(stale, 'bin'), { recursive: true });
    const out = await setup(box, ['--only', 'lm_eval']);
    expect(out.code).toBe(0);
    expect(existsSync(stale)).toBe(false);
  });

  it('refuses to run while another live setup holds the lock', async () => {
    const box = sandbox();
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    onTestFinished(() => {
      holder.kill('SIGKILL');
    });
    mkdirSync(box.tools, { recursive: true });
    writeFileSync(box.path('.setup.lock'), `${holder.pid}\n`);
    const out = await setup(box, ['--only', 'lm_eval']);
    expect(out.code).toBe(2); // a missing prerequisite is a preflight error: nothing was built
    expect(out.stderr).toContain(
      `setup: another perf-eval setup (pid ${holder.pid}) is provisioning ${box.tools}; wait for it to finish`,
    );
    expect(pipCalls(box)).toHaveLength(0);
  });

  it('builds the simulator with go and the offline tokenizer in its own venv', async () => {
    const box = sandbox();
    const out = await setup(box, ['--only', 'sim']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`~~~ :gopher: building llm-d-inference-sim ${SIMULATOR_VERSION}`);
    const goCalls = jsonLines<{ args: string[]; cwd: string }>(box.goLog);
    expect(goCalls.map((c) => c.args.slice(0, 2))).toEqual([
      ['mod', 'download'],
      ['build', '-o'],
    ]);
    expect(goCalls[0]?.args).toEqual([
      'mod',
      'download',
      '-json',
      `${SIMULATOR_MODULE}@${SIMULATOR_VERSION}`,
    ]);
    expect(goCalls[1]?.cwd).toBe(box.env['FAKE_GO_MODDIR']);
    expect(existsSync(box.path('bin', 'llm-d-inference-sim'))).toBe(true);
    expect(leftovers(box.path('bin'))).toEqual([]);
    expect(stamp(box, 'simulator').path).toBe(box.path('bin', 'llm-d-inference-sim'));

    expect(pipCalls(box).at(-1)).toEqual([
      '-m',
      'pip',
      'install',
      '--progress-bar',
      'off',
      '--no-deps',
      `tokenizers==${TOKENIZERS_VERSION}`,
    ]);
    expect(JSON.parse(readFileSync(box.path('tokenizers', 'sim-bpe', 'tokenizer.json'), 'utf8'))).toEqual({
      model: { type: 'BPE' },
    });
    expect(leftovers(box.path('tokenizers'))).toEqual([]);
    expect(readdirSync(box.path('tokenizers'))).toEqual(['sim-bpe']);

    const again = await setup(box, ['--only', 'sim']);
    expect(again.stdout.match(/up to date:/g)).toHaveLength(2);
    expect(jsonLines(box.goLog)).toHaveLength(2);
  });

  it('without go on PATH the sim step fails with an actionable message', async () => {
    const box = sandbox({ go: false });
    const out = await setup(box, ['--only', 'sim']);
    expect(out.code).toBe(2); // a missing prerequisite is a preflight error: nothing was built
    expect(out.stderr).toBe(
      `setup sim: 'go' not found on PATH; the simulator is built from source (${SIMULATOR_MODULE}@${SIMULATOR_VERSION}, Go >= 1.26.6): install Go from https://go.dev/dl, or put llm-d-inference-sim on PATH\n`,
    );
  });

  it('a failed go build exits 1 with the compiler tail and leaves no binary', async () => {
    const box = sandbox();
    const out = await setup(box, ['--only', 'sim'], { FAKE_GO_FAIL: 'build' });
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^setup simulator: .*go build -o .* failed with exit code 1/);
    expect(out.stderr).toContain('  | cmd/llm-d-inference-sim/main.go:12:2: undefined: simulator.Run');
    expect(existsSync(box.path('bin', 'llm-d-inference-sim'))).toBe(false);
    expect(leftovers(box.path('bin'))).toEqual([]);
  });

  it('uses a simulator already on PATH and records it', async () => {
    const box = sandbox();
    writeFileSync(join(box.root, 'bin', 'llm-d-inference-sim'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const out = await setup(box, ['--only', 'sim']);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`using ${join(box.root, 'bin', 'llm-d-inference-sim')} from PATH`);
    expect(stamp(box, 'simulator')).toMatchObject({
      source: 'path',
      path: join(box.root, 'bin', 'llm-d-inference-sim'),
    });
    expect(jsonLines(box.goLog)).toHaveLength(0);
  });

  it('bfcl refuses a Python outside 3.10–3.12 before creating anything', async () => {
    const box = sandbox();
    const out = await setup(box, ['--only', 'bfcl'], { FAKE_PYTHON_VERSION: '3.13.1' });
    expect(out.code).toBe(2); // a missing prerequisite is a preflight error: nothing was built
    expect(out.stderr).toBe(
      'setup bfcl: bfcl-eval 2026.3.23 needs Python 3.10–3.12, python3 is 3.13.1; pass --python python3.11\n',
    );
    expect(existsSync(box.path('venvs'))).toBe(false);
  });

  it('with a recipe FILE provisions exactly what run needs (sim runtime, lm_eval task, no bench, no bfcl)', async () => {
    const box = sandbox();
    const recipe = join(box.root, 'demo.yaml');
    writeFileSync(
      recipe,
      'name: d\ngpu: SIM\nvllm:\n  model: org/tiny\nlm_eval:\n  tasks:\n    - name: gsm8k\n',
    );
    const out = await setup(box, [recipe, '--profiles', PROFILES]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`perf-eval setup: sim, lm_eval → ${box.tools}`);
    expect(existsSync(box.path('venvs', 'vllm'))).toBe(false);
    expect(existsSync(box.path('venvs', 'bfcl'))).toBe(false);
  });

  it('rejects bad flags with exit 2', async () => {
    const box = sandbox();
    expect(await setup(box, ['--only', 'bench,gpu'])).toMatchObject({
      code: 2,
      stderr: "perf-eval setup: --only takes bench, lm_eval, bfcl, sim; got 'gpu'\n",
    });
    expect((await setup(box, ['x.yaml', '--only', 'sim'])).stderr).toBe(
      'perf-eval setup: give either a recipe FILE or --only, not both\n',
    );
    expect((await setup(box, ['--frobnicate'])).code).toBe(2);
    expect(existsSync(box.tools)).toBe(false);
  });

  it('--tools-dir overrides PERF_EVAL_TOOLS_DIR and says how run finds the tools', async () => {
    const box = sandbox();
    const other = join(box.root, 'elsewhere');
    const out = await setup(box, ['--only', 'lm_eval', '--tools-dir', other]);
    expect(out.code).toBe(0);
    expect(existsSync(join(other, 'venvs', 'lmeval', 'bin', 'lm_eval'))).toBe(true);
    expect(out.stdout).toContain(`'perf-eval run' finds these tools with PERF_EVAL_TOOLS_DIR=${other}`);
  });
});
