/**
 * `perf-eval setup`: provisions the pinned external tools under one cache directory (layout:
 * `toolPaths`). Every tool has a stamp file recording the pinned spec it was built from; a tool is
 * reused when its stamp matches and it still works, rebuilt when the pin changed or with --force.
 * Builds are atomic: a venv is built in `<venv>.tmp-<pid>`, relocated, then renamed into place, and
 * the stamp is written last, so an interrupted install never leaves a half venv that looks complete.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  formatCommand,
  LineTail,
  PerfEvalError,
  scrubText,
  secretValuesOf,
  ToolError,
  writeJsonAtomic,
  describeExit,
  InterruptedError,
  isPerfEvalError,
} from '@perf-eval/util';
import { execa } from 'execa';
import {
  BFCL_CONSTRAINTS,
  BFCL_EVAL_VERSION,
  BFCL_REQUIREMENTS,
  LM_EVAL_CONSTRAINTS,
  LM_EVAL_VERSION,
  PIP_VERSION,
  SIMULATOR_MODULE,
  SIMULATOR_PACKAGE,
  SIMULATOR_VERSION,
  TOKENIZERS_VERSION,
  TORCH_VERSION,
  VLLM_BENCH_CONSTRAINTS,
  VLLM_BENCH_REQUIREMENTS,
  VLLM_VERSION,
} from './pins.js';
import { Heartbeat, type ProgressOptions } from './progress.js';
import { BUILD_TOKENIZER_PY, SIM_TOKENIZER_VOCAB } from './tokenizer.js';
import { findOnPath, isExecutable, toolPaths, type Component } from './tools.js';

export { COMPONENTS, type Component } from './tools.js';

/** A provisioning step failed (exit 1); `fullMessage` adds the command's output tail. */
export class SetupStepError extends ToolError {
  constructor(
    readonly tool: string,
    message: string,
    context: ConstructorParameters<typeof ToolError>[2],
    options: { cause?: unknown } = {},
  ) {
    super('E_SETUP_FAILED', message, context, options);
  }
}

/** A prerequisite is missing or unusable (Python, Go, another setup holding the lock). */
export class SetupPrerequisiteError extends PerfEvalError {
  constructor(
    code: 'E_SETUP_PYTHON' | 'E_SETUP_GO' | 'E_SETUP_LOCKED',
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(code, message, { ...options, category: 'preflight' });
  }
}

export interface ProvisionOptions {
  dir: string;
  /** Base interpreter for the venvs (default `python3`). */
  python: string;
  force: boolean;
  /** Stream every command output line (default: only the tail, on failure). */
  verbose: boolean;
  env: Readonly<Record<string, string | undefined>>;
  signal: AbortSignal;
  print: (line: string) => void;
  /** Per-command timeout (default 60 min). */
  commandTimeoutMs?: number;
  /**
   * Proves a new BFCL venv works (e.g. bfcl-runner's `checkBfcl`, which the CLI injects: the toolchain
   * may not import an adapter); returns one line to print. Default: `import bfcl_eval` and its version.
   */
  verifyBfcl?: (
    python: string,
    options: { cacheDir: string; env: Record<string, string>; timeoutMs: number },
  ) => Promise<string>;
  /** Progress of long commands (a line at least every 30 s; a live status line on a TTY). */
  progress?: ProgressOptions;
  /**
   * How long to wait for another live process that holds the tools directory's lock (default 0:
   * refuse at once, as `perf-eval setup` does). A run waits instead: two jobs on one agent that lack
   * the same tool install it once — the second finds it provisioned when the lock is released.
   */
  lockWaitMs?: number;
}

export type StepStatus = 'provisioned' | 'reused' | 'path';

export interface StepReport {
  tool: string;
  status: StepStatus;
  path: string;
  durationS: number;
}

export interface Stamp {
  tool: string;
  specHash: string;
  spec: unknown;
  source: 'built' | 'path';
  path: string;
  python?: string;
  installedAt: string;
  durationS: number;
}

interface Step {
  tool: string;
  emoji: string;
  title: string;
  spec: unknown;
  /** Where the usable tool ends up. */
  path: string;
  /** The existing build still works (cheap check). */
  usable(ctx: StepContext): Promise<boolean>;
  /** An external tool on PATH that replaces the build (recorded, not built). */
  external?(ctx: StepContext): string | undefined;
  build(ctx: StepContext): Promise<void>;
}

interface StepContext {
  options: ProvisionOptions;
  /** What the current step does (`building llm-d-inference-sim …`), for progress lines. */
  activity: string;
  /** Run a command; resolves to its stdout (or, with allowFailure, all output whatever the exit code). */
  run(
    tool: string,
    argv: readonly string[],
    extra?: { cwd?: string; env?: Record<string, string>; allowFailure?: boolean },
  ): Promise<string>;
}

export function stampPath(dir: string, tool: string): string {
  return join(dir, 'stamps', `${tool}.json`);
}

export function specHash(spec: unknown): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}

export async function readStamp(dir: string, tool: string): Promise<Stamp | undefined> {
  try {
    return JSON.parse(await readFile(stampPath(dir, tool), 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove `<path>.tmp-<pid>` / `<path>.old-<pid>` left by an interrupted setup whose process is gone. */
async function removeStaleSiblings(path: string): Promise<void> {
  const parent = dirname(path);
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const match = name.startsWith(prefix) ? /^(?:tmp|old)-(\d+)$/.exec(name.slice(prefix.length)) : null;
    if (match && !pidAlive(Number(match[1]))) await rm(join(parent, name), { recursive: true, force: true });
  }
}

/** Swap a finished build into place: old → `.old-<pid>`, new → final, old removed. */
async function swapIn(tmp: string, final: string): Promise<void> {
  const old = `${final}.old-${process.pid}`;
  let hadOld = false;
  try {
    await rename(final, old);
    hadOld = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await rename(tmp, final);
  if (hadOld) await rm(old, { recursive: true, force: true });
}

/**
 * Venvs are not relocatable: console scripts carry `#!<venv>/bin/python` and the activate scripts the
 * venv path. Rewrite those (text files in bin/ and pyvenv.cfg) from the temporary to the final path.
 */
export async function relocateVenv(tmp: string, final: string): Promise<void> {
  const from = Buffer.from(tmp);
  const files = [join(tmp, 'pyvenv.cfg')];
  for (const name of await readdir(join(tmp, 'bin'))) files.push(join(tmp, 'bin', name));
  for (const file of files) {
    const info = await lstat(file).catch(() => undefined);
    if (!info?.isFile() || info.size > 1_000_000) continue;
    const data = await readFile(file);
    if (data.indexOf(from) < 0) continue;
    await writeFile(file, data.toString('latin1').split(tmp).join(final), {
      encoding: 'latin1',
      mode: info.mode,
    });
  }
}

async function pythonVersion(ctx: StepContext, python: string): Promise<string> {
  return (
    await ctx.run('python', [python, '-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'])
  ).trim();
}

/** Build a venv atomically: create in `<venv>.tmp-<pid>`, install, relocate, swap in. */
async function buildVenv(
  ctx: StepContext,
  tool: string,
  venv: string,
  install: (python: string, tmp: string) => Promise<void>,
): Promise<void> {
  const tmp = `${venv}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(dirname(venv), { recursive: true });
  try {
    // --prompt: the activate scripts name the final venv, not the temporary directory.
    await ctx.run(tool, [ctx.options.python, '-m', 'venv', '--prompt', basename(venv), tmp]);
    const python = join(tmp, 'bin', 'python');
    await ctx.run(tool, [python, '-m', 'pip', 'install', '--progress-bar', 'off', `pip==${PIP_VERSION}`]);
    await install(python, tmp);
    await relocateVenv(tmp, venv);
    await swapIn(tmp, venv);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function writeList(dir: string, name: string, lines: readonly string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

const PIP = ['-m', 'pip', 'install', '--progress-bar', 'off'];

async function distributionVersion(
  ctx: StepContext,
  tool: string,
  python: string,
  dist: string,
): Promise<string> {
  return (
    await ctx.run(tool, [
      python,
      '-c',
      `import importlib.metadata as m; print(m.version(${JSON.stringify(dist)}))`,
    ])
  ).trim();
}

async function expectVersion(
  ctx: StepContext,
  tool: string,
  python: string,
  dist: string,
  version: string,
): Promise<void> {
  const found = await distributionVersion(ctx, tool, python, dist);
  if (found !== version) {
    throw new SetupStepError(
      tool,
      `setup ${tool}: expected ${dist}==${version} in ${dirname(dirname(python))}, found ${found || 'nothing'}`,
      { command: [python] },
    );
  }
}

/** The venv's interpreter still starts and has the pinned distribution (a removed base Python breaks venvs). */
async function venvHas(ctx: StepContext, python: string, dist: string, version: string): Promise<boolean> {
  if (!isExecutable(python)) return false;
  try {
    return (await distributionVersion(ctx, 'check', python, dist)) === version;
  } catch {
    return false;
  }
}

export function lmEvalStep(dir: string): Step {
  const paths = toolPaths(dir);
  return {
    tool: 'lm_eval',
    emoji: ':python:',
    title: `installing lm-eval ${LM_EVAL_VERSION}`,
    spec: {
      requirement: `lm-eval[api]==${LM_EVAL_VERSION}`,
      pip: PIP_VERSION,
      constraints: LM_EVAL_CONSTRAINTS,
    },
    path: paths.lmEvalVenv,
    usable: (ctx) => venvHas(ctx, paths.lmEvalPython, 'lm_eval', LM_EVAL_VERSION),
    build: async (ctx) => {
      await buildVenv(ctx, 'lm_eval', paths.lmEvalVenv, async (python, tmp) => {
        const constraints = await writeList(tmp, 'perf-eval-constraints.txt', LM_EVAL_CONSTRAINTS);
        await ctx.run('lm_eval', [python, ...PIP, '-c', constraints, `lm-eval[api]==${LM_EVAL_VERSION}`]);
      });
      await expectVersion(ctx, 'lm_eval', paths.lmEvalPython, 'lm_eval', LM_EVAL_VERSION);
      if (!isExecutable(paths.lmEval))
        throw new SetupStepError('lm_eval', `setup lm_eval: ${paths.lmEval} is missing after the install`, {
          command: [],
        });
    },
  };
}

export function bfclStep(dir: string): Step {
  const paths = toolPaths(dir);
  return {
    tool: 'bfcl',
    emoji: ':python:',
    title: `installing bfcl-eval ${BFCL_EVAL_VERSION}`,
    spec: {
      requirement: `bfcl-eval==${BFCL_EVAL_VERSION}`,
      pip: PIP_VERSION,
      requirements: BFCL_REQUIREMENTS,
      constraints: BFCL_CONSTRAINTS,
    },
    path: paths.bfclVenv,
    usable: (ctx) => venvHas(ctx, paths.bfclPython, 'bfcl-eval', BFCL_EVAL_VERSION),
    build: async (ctx) => {
      const version = await pythonVersion(ctx, ctx.options.python);
      const [major, minor] = version.split('.').map(Number) as [number, number];
      if (major !== 3 || minor < 10 || minor > 12) {
        throw new SetupPrerequisiteError(
          'E_SETUP_PYTHON',
          `setup bfcl: bfcl-eval ${BFCL_EVAL_VERSION} needs Python 3.10–3.12, ${ctx.options.python} is ${version}; pass --python python3.11`,
        );
      }
      await buildVenv(ctx, 'bfcl', paths.bfclVenv, async (python, tmp) => {
        const requirements = await writeList(tmp, 'perf-eval-requirements.txt', BFCL_REQUIREMENTS);
        const constraints = await writeList(tmp, 'perf-eval-constraints.txt', BFCL_CONSTRAINTS);
        await ctx.run('bfcl', [python, ...PIP, '-r', requirements, '-c', constraints]);
        // bfcl-eval's own dependency list pulls sentence-transformers → torch (GBs); only memory_vector needs it.
        await ctx.run('bfcl', [python, ...PIP, '--no-deps', `bfcl-eval==${BFCL_EVAL_VERSION}`]);
      });
      const started = Date.now();
      try {
        const verify = ctx.options.verifyBfcl ?? importBfcl(ctx);
        ctx.options.print(
          `    ${await verify(paths.bfclPython, { cacheDir: paths.cache, env: subprocessEnv(ctx.options.env), timeoutMs: 180_000 })}`,
        );
      } catch (error) {
        await rm(paths.bfclVenv, { recursive: true, force: true });
        const tail = error instanceof ToolError ? error.outputTail : [];
        throw new SetupStepError(
          'bfcl',
          `setup bfcl: the new venv does not import bfcl_eval (${(error as Error).message.split('\n')[0]})`,
          {
            command: [paths.bfclPython, 'bfcl_driver.py', '--check'],
            durationMs: Date.now() - started,
            outputTail: tail,
          },
          { cause: error },
        );
      }
    },
  };
}

export function benchStep(dir: string): Step {
  const paths = toolPaths(dir);
  return {
    tool: 'bench',
    emoji: ':python:',
    title: `installing vllm ${VLLM_VERSION} (vllm bench serve client)`,
    spec: {
      torch: TORCH_VERSION,
      vllm: VLLM_VERSION,
      pip: PIP_VERSION,
      requirements: VLLM_BENCH_REQUIREMENTS,
      constraints: VLLM_BENCH_CONSTRAINTS,
    },
    path: paths.vllmVenv,
    usable: (ctx) => venvHas(ctx, join(paths.vllmVenv, 'bin', 'python'), 'vllm', VLLM_VERSION),
    external: (ctx) => {
      const found = findOnPath('vllm', ctx.options.env);
      return found && found !== paths.vllm ? found : undefined;
    },
    build: async (ctx) => {
      await buildVenv(ctx, 'bench', paths.vllmVenv, async (python, tmp) => {
        const requirements = await writeList(tmp, 'perf-eval-requirements.txt', VLLM_BENCH_REQUIREMENTS);
        const constraints = await writeList(tmp, 'perf-eval-constraints.txt', VLLM_BENCH_CONSTRAINTS);
        // vllm's own dependency list needs GPU kernels and a certifi newer than the index may have;
        // install torch + the client's real needs, then vllm itself without dependencies.
        await ctx.run('bench', [
          python,
          ...PIP,
          `torch==${TORCH_VERSION}`,
          '-r',
          requirements,
          '-c',
          constraints,
        ]);
        await ctx.run('bench', [python, ...PIP, '--no-deps', `vllm==${VLLM_VERSION}`]);
      });
      await expectVersion(ctx, 'bench', join(paths.vllmVenv, 'bin', 'python'), 'vllm', VLLM_VERSION);
      if (!isExecutable(paths.vllm))
        throw new SetupStepError('bench', `setup bench: ${paths.vllm} is missing after the install`, {
          command: [],
        });
    },
  };
}

export function simulatorStep(dir: string): Step {
  const paths = toolPaths(dir);
  const moduleVersion = `${SIMULATOR_MODULE}@${SIMULATOR_VERSION}`;
  return {
    tool: 'simulator',
    emoji: ':gopher:',
    title: `building llm-d-inference-sim ${SIMULATOR_VERSION}`,
    spec: { module: moduleVersion, package: SIMULATOR_PACKAGE },
    path: paths.simulator,
    usable: async () => isExecutable(paths.simulator),
    external: (ctx) => {
      const found = findOnPath('llm-d-inference-sim', ctx.options.env);
      return found && found !== paths.simulator ? found : undefined;
    },
    build: async (ctx) => {
      const go = findOnPath('go', ctx.options.env);
      if (!go) {
        throw new SetupPrerequisiteError(
          'E_SETUP_GO',
          `setup sim: 'go' not found on PATH; the simulator is built from source (${moduleVersion}, Go >= 1.26.6): install Go from https://go.dev/dl, or put llm-d-inference-sim on PATH`,
        );
      }
      await mkdir(paths.bin, { recursive: true });
      // `go install …@v0.10.2` needs the proxy's version list, which some proxies refuse; download the
      // exact module version and build it in the module cache instead.
      const env = {
        GOWORK: 'off',
        GOFLAGS: [ctx.options.env['GOFLAGS'], '-buildvcs=false'].filter(Boolean).join(' '),
      };
      const downloaded = await ctx.run('simulator', [go, 'mod', 'download', '-json', moduleVersion], {
        cwd: paths.bin,
        env,
      });
      let moduleDir: string;
      try {
        const info = JSON.parse(downloaded) as { Dir?: string; Error?: string };
        if (info.Error || !info.Dir) throw new Error(info.Error ?? 'no Dir in the output');
        moduleDir = info.Dir;
      } catch (error) {
        throw new SetupStepError(
          'simulator',
          `setup sim: go mod download ${moduleVersion} failed: ${(error as Error).message}`,
          {
            command: [go, 'mod', 'download', '-json', moduleVersion],
            outputTail: downloaded.split('\n').slice(-20),
          },
        );
      }
      const tmp = `${paths.simulator}.tmp-${process.pid}`;
      try {
        await ctx.run('simulator', [go, 'build', '-o', tmp, SIMULATOR_PACKAGE], { cwd: moduleDir, env });
        const help = await ctx.run('simulator', [tmp, '--help'], { allowFailure: true });
        if (!help.includes('--force-dummy-tokenizer')) {
          throw new SetupStepError(
            'simulator',
            `setup sim: the built binary does not look like llm-d-inference-sim (no --force-dummy-tokenizer in --help)`,
            { command: [tmp, '--help'], outputTail: help.split('\n').slice(-20) },
          );
        }
        await rename(tmp, paths.simulator);
      } finally {
        await rm(tmp, { force: true });
      }
    },
  };
}

export function tokenizerStep(dir: string): Step {
  const paths = toolPaths(dir);
  const venv = join(dir, 'venvs', 'tokenizer');
  const python = join(venv, 'bin', 'python');
  const script = BUILD_TOKENIZER_PY;
  return {
    tool: 'tokenizer',
    emoji: ':abc:',
    title: `building the offline tokenizer sim-bpe (byte-level BPE, vocab ${SIM_TOKENIZER_VOCAB})`,
    spec: { tokenizers: TOKENIZERS_VERSION, pip: PIP_VERSION, script: specHash(script) },
    path: paths.simTokenizer,
    usable: async () => {
      try {
        JSON.parse(await readFile(join(paths.simTokenizer, 'tokenizer.json'), 'utf8'));
        await readFile(join(paths.simTokenizer, 'tokenizer_config.json'));
        return true;
      } catch {
        return false;
      }
    },
    build: async (ctx) => {
      if (!(await venvHas(ctx, python, 'tokenizers', TOKENIZERS_VERSION))) {
        // Only the Rust extension is needed to train and save (no hub access): no dependencies.
        await buildVenv(ctx, 'tokenizer', venv, async (py) => {
          await ctx.run('tokenizer', [py, ...PIP, '--no-deps', `tokenizers==${TOKENIZERS_VERSION}`]);
        });
      }
      const tmp = `${paths.simTokenizer}.tmp-${process.pid}`;
      await rm(tmp, { recursive: true, force: true });
      await mkdir(dirname(tmp), { recursive: true });
      const scriptFile = join(dirname(tmp), `build_tokenizer-${process.pid}.py`);
      try {
        await writeFile(scriptFile, script);
        await ctx.run('tokenizer', [python, scriptFile, tmp]);
        await swapIn(tmp, paths.simTokenizer);
      } finally {
        await rm(tmp, { recursive: true, force: true });
        await rm(scriptFile, { force: true });
      }
    },
  };
}

export function stepsFor(components: ReadonlySet<Component>, dir: string): Step[] {
  const steps: Step[] = [];
  if (components.has('sim')) steps.push(simulatorStep(dir), tokenizerStep(dir));
  if (components.has('bench')) steps.push(benchStep(dir));
  if (components.has('lm_eval')) steps.push(lmEvalStep(dir));
  if (components.has('bfcl')) steps.push(bfclStep(dir));
  return steps;
}

/** Default BFCL check: the venv's Python imports bfcl_eval and reports its version. */
function importBfcl(ctx: StepContext): NonNullable<ProvisionOptions['verifyBfcl']> {
  return async (python) => {
    const script =
      "import importlib.metadata as m, bfcl_eval, sys; print(m.version('bfcl-eval'), sys.version.split()[0])";
    const out = (await ctx.run('bfcl', [python, '-c', script])).trim();
    const [version, pythonVersion] = out.split(/\s+/);
    return `bfcl_eval ${version ?? '?'} imports (python ${pythonVersion ?? '?'})`;
  };
}

/** The environment of pip/go/python: the caller's, plus quiet pip. */
function subprocessEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  out['PIP_DISABLE_PIP_VERSION_CHECK'] = '1';
  out['PYTHONUNBUFFERED'] = '1';
  delete out['PYTHONHOME'];
  delete out['VIRTUAL_ENV'];
  return out;
}

function makeContext(options: ProvisionOptions): StepContext {
  const secrets = secretValuesOf(options.env);
  const baseEnv = subprocessEnv(options.env);
  const context: StepContext = {
    options,
    activity: '',
    run: async (tool, argv, extra = {}) => {
      const started = Date.now();
      const tail = new LineTail(40);
      const everything: string[] = [];
      if (options.verbose) options.print(`    $ ${formatCommand(argv)}`);
      const heartbeat = new Heartbeat(
        context.activity || `${tool}: ${formatCommand(argv.slice(0, 3))}`,
        options.print,
        options.progress,
      );
      const subprocess = execa(argv[0] as string, argv.slice(1), {
        cwd: extra.cwd,
        env: { ...baseEnv, ...(extra.env ?? {}) },
        extendEnv: false,
        stdin: 'ignore',
        all: true,
        buffer: { stdout: true, stderr: false, all: false },
        reject: false,
        cancelSignal: options.signal,
        forceKillAfterDelay: 5_000,
        timeout: options.commandTimeoutMs ?? 60 * 60_000,
      });
      for await (const raw of subprocess.iterable({ from: 'all' })) {
        const line = scrubText(raw, secrets);
        tail.push(line);
        heartbeat.saw(line);
        if (extra.allowFailure && everything.length < 5_000) everything.push(line);
        if (options.verbose) options.print(`    ${line}`);
      }
      const result = await subprocess.finally(() => heartbeat.stop());
      if (options.signal.aborted)
        throw isPerfEvalError(options.signal.reason)
          ? options.signal.reason
          : new InterruptedError('SIGTERM');
      if (extra.allowFailure && result.exitCode !== undefined && !result.timedOut)
        return everything.join('\n');
      if (result.failed) {
        const context = {
          command: argv,
          exitCode: result.exitCode,
          signal: result.signal,
          durationMs: Date.now() - started,
          timedOut: result.timedOut,
          outputTail: tail.lines(),
        };
        const spawnError = (result as { code?: string }).code === 'ENOENT' ? `: ${argv[0]} not found` : '';
        throw new SetupStepError(
          tool,
          `setup ${tool}: ${formatCommand(argv)} ${describeExit(context)}${spawnError}`,
          context,
          { cause: result },
        );
      }
      return typeof result.stdout === 'string' ? result.stdout : '';
    },
  };
  return context;
}

/** Line cadence while waiting for another process's lock (as long-running work prints in CI). */
const LOCK_WAIT_NOTICE_MS = 30_000;
const LOCK_POLL_MS = 250;

/**
 * One exclusive setup per tools dir: `<dir>/.setup.lock` holds the pid; a dead holder's lock is taken
 * over. A live holder is waited for up to `options.lockWaitMs` (a line every 30 s), else refused.
 */
async function acquireLock(options: ProvisionOptions): Promise<() => Promise<void>> {
  const { dir } = options;
  const lock = join(dir, '.setup.lock');
  await mkdir(dir, { recursive: true });
  const started = Date.now();
  let noticeAt = started;
  let staleTakeovers = 0;
  for (;;) {
    try {
      const handle = await open(lock, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => rm(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
    if (!(Number.isInteger(holder) && holder > 0 && holder !== process.pid && pidAlive(holder))) {
      // A dead holder's lock (or one being written right now: retried once more before giving up).
      if (++staleTakeovers > 2)
        throw new SetupPrerequisiteError('E_SETUP_LOCKED', `setup: could not take the lock ${lock}`);
      await rm(lock, { force: true });
      continue;
    }
    const waited = Date.now() - started;
    if (waited >= (options.lockWaitMs ?? 0)) {
      throw new SetupPrerequisiteError(
        'E_SETUP_LOCKED',
        `setup: another perf-eval setup (pid ${holder}) is provisioning ${dir}; wait for it to finish${options.lockWaitMs ? ` (waited ${Math.round(waited / 1000)} s)` : ''}`,
      );
    }
    if (Date.now() - noticeAt >= LOCK_WAIT_NOTICE_MS || noticeAt === started) {
      options.print(
        `    waiting for pid ${holder}, which is provisioning ${dir} (${Math.round(waited / 1000)} s)`,
      );
      noticeAt = Date.now();
    }
    await abortableDelay(LOCK_POLL_MS, options.signal);
  }
}

/** `ms` of waiting that an abort ends at once (with the abort's reason). */
function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done, fail) => {
    if (signal.aborted) return fail(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      done();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      fail(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const seconds = (ms: number): number => Math.round(ms / 100) / 10;

/** Provision the given components; returns what each step did. Throws the first failure. */
export async function provision(
  components: ReadonlySet<Component>,
  options: ProvisionOptions,
): Promise<StepReport[]> {
  const ctx = makeContext(options);
  const release = await acquireLock(options);
  const reports: StepReport[] = [];
  try {
    for (const step of stepsFor(components, options.dir)) {
      reports.push(await runStep(step, ctx));
    }
  } finally {
    await release();
  }
  return reports;
}

async function runStep(step: Step, ctx: StepContext): Promise<StepReport> {
  const { options } = ctx;
  const started = Date.now();
  const hash = specHash(step.spec);
  const stamp = await readStamp(options.dir, step.tool);
  options.print(`~~~ ${step.emoji} ${step.title}`);
  ctx.activity = step.title;
  const external = step.external?.(ctx);
  if (external) {
    options.print(`    using ${external} from PATH (not building ${step.tool})`);
    await writeStamp(options, step, hash, 'path', external, started);
    return { tool: step.tool, status: 'path', path: external, durationS: seconds(Date.now() - started) };
  }
  if (!options.force && stamp?.specHash === hash && stamp.source === 'built' && (await step.usable(ctx))) {
    options.print(
      `    up to date: ${step.path} (provisioned ${stamp.installedAt}, took ${stamp.durationS} s)`,
    );
    return { tool: step.tool, status: 'reused', path: step.path, durationS: seconds(Date.now() - started) };
  }
  const why = options.force
    ? '--force'
    : !stamp
      ? 'not provisioned yet'
      : stamp.specHash !== hash
        ? 'the pinned spec changed'
        : 'the existing install does not work';
  options.print(`    provisioning ${step.path} (${why})`);
  await removeStaleSiblings(step.path);
  // The stamp goes first: a crash from here on leaves no stamp, so the next setup rebuilds.
  await rm(stampPath(options.dir, step.tool), { force: true });
  await step.build(ctx);
  await writeStamp(options, step, hash, 'built', step.path, started);
  const took = seconds(Date.now() - started);
  options.print(`    done in ${took} s`);
  return { tool: step.tool, status: 'provisioned', path: step.path, durationS: took };
}

async function writeStamp(
  options: ProvisionOptions,
  step: Step,
  hash: string,
  source: Stamp['source'],
  path: string,
  started: number,
): Promise<void> {
  const stamp: Stamp = {
    tool: step.tool,
    specHash: hash,
    spec: step.spec,
    source,
    path,
    installedAt: new Date().toISOString(),
    durationS: seconds(Date.now() - started),
  };
  if (source === 'built' && step.tool !== 'simulator') stamp.python = options.python;
  await writeJsonAtomic(stampPath(options.dir, step.tool), stamp);
}
