/**
 * Test harness for `perf-eval run`: a sandbox with a PERF_EVAL_TOOLS_DIR whose tools are the
 * adapters' fakes (behind tiny wrappers that load per-test knobs, because lm_eval and BFCL get an
 * explicit environment from the CLI), recipes written on the fly, free ports, and the built CLI
 * (`dist/bin.js`) spawned as a real process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const PACKAGES = resolve(import.meta.dirname, '../..');
export const REPO = resolve(PACKAGES, '..');
export const BIN = resolve(PACKAGES, 'cli/dist/bin.js');
export const PROFILES = resolve(REPO, 'profiles/gpu_profiles.yaml');
export const FIXTURE_BIN = resolve(import.meta.dirname, 'fixtures/bin');

export const FAKES = {
  lmEval: resolve(PACKAGES, 'lmeval-runner/test/fixtures/bin/lm_eval'),
  lmEvalPython: resolve(PACKAGES, 'lmeval-runner/test/fixtures/bin/python-lmeval'),
  bfclPython: resolve(PACKAGES, 'bfcl-runner/test/fixtures/bin/fake-bfcl-python'),
  benchVllm: resolve(PACKAGES, 'bench-runner/test/fixtures/bin/vllm'),
  simulator: resolve(PACKAGES, 'server-lifecycle/test/fixtures/bin/llm-d-inference-sim'),
  /** Contract-faithful fake of vLLM's toy_proxy_server.py (disaggregated prefill/decode). */
  toyProxy: resolve(PACKAGES, 'server-lifecycle/test/fixtures/fake-toy-proxy.mjs'),
  /** Fake of vLLM's tests/evals/gsm8k/gsm8k_eval.py (semantic eval). */
  gsm8kEval: resolve(import.meta.dirname, 'fixtures/bin/fake-gsm8k-eval'),
} as const;

/** The GSM8K copy of the spec (../shared/data/gsm8k: test.jsonl, train.jsonl). */
export const GSM8K_DATA = resolve(REPO, '../shared/data/gsm8k');

/**
 * An executable `<sandbox>/<name>` that loads the sandbox knobs into its env and runs `target`
 * (for tools the CLI starts with an explicit environment).
 */
export function knobbedTool(box: Sandbox, name: string, target: string): string {
  const path = join(box.dir, name);
  writeFileSync(
    path,
    `#!/usr/bin/env node\nimport { readFileSync } from 'node:fs';\nObject.assign(process.env, JSON.parse(readFileSync(${JSON.stringify(join(box.dir, 'knobs.json'))}, 'utf8')));\nawait import(${JSON.stringify(target)});\n`,
  );
  chmodSync(path, 0o755);
  return path;
}

/** The pid of a role's fake server, from its `(APIServer pid=N)` prefix in server-<role>.log. */
export function rolePid(resultsDir: string, role: string): number | undefined {
  const log = join(resultsDir, `server-${role}.log`);
  if (!existsSync(log)) return undefined;
  const match = /\(APIServer pid=(\d+)\)/.exec(readFileSync(log, 'utf8'));
  return match ? Number(match[1]) : undefined;
}

export type ToolName = 'lm_eval' | 'lmeval_python' | 'bfcl' | 'vllm' | 'simulator' | 'tokenizer';

/** server-lifecycle's fake `vllm serve` (FAKE_VLLM_* knobs). */
export const FAKE_VLLM_SERVE = resolve(PACKAGES, 'server-lifecycle/test/fixtures/bin/vllm');

const TOOL_LAYOUT: Record<Exclude<ToolName, 'tokenizer'>, { path: string; fake: string }> = {
  lm_eval: { path: 'venvs/lmeval/bin/lm_eval', fake: FAKES.lmEval },
  lmeval_python: { path: 'venvs/lmeval/bin/python', fake: FAKES.lmEvalPython },
  bfcl: { path: 'venvs/bfcl/bin/python', fake: FAKES.bfclPython },
  vllm: { path: 'venvs/vllm/bin/vllm', fake: FAKES.benchVllm },
  simulator: { path: 'bin/llm-d-inference-sim', fake: FAKES.simulator },
};

export interface Sandbox {
  dir: string;
  toolsDir: string;
  /** Extra executables put first on PATH (buildkite-agent, docker, …). */
  pathDir: string;
  resultsRoot: string;
  /** Environment variables injected into every faked tool (lm_eval and BFCL never see the CLI's env). */
  knobs: Record<string, string>;
  /** Writes `<dir>/<file>` and returns its path. */
  recipe(text: string, file?: string): string;
  resultsDir(name: string): string;
  /** A file name under the sandbox (for logs the fakes write). */
  path(name: string): string;
  /** Writes `knobs` where the tool wrappers read it (startCli calls it). */
  writeKnobs(): void;
}

/** A fresh temp sandbox (removed when the test finishes) with every tool present unless `omit`. */
export function sandbox(options: { omit?: ToolName[] } = {}): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'perf-eval-run-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));
  const toolsDir = join(dir, 'tools');
  const pathDir = join(dir, 'path');
  mkdirSync(pathDir, { recursive: true });
  const knobsFile = join(dir, 'knobs.json');
  const box: Sandbox = {
    dir,
    toolsDir,
    pathDir,
    resultsRoot: join(dir, 'results'),
    knobs: {},
    recipe(text, file = 'recipe.yaml') {
      const path = join(dir, file);
      writeFileSync(path, text);
      return path;
    },
    resultsDir: (name) => join(dir, 'results', name),
    path: (name) => join(dir, name),
    writeKnobs: () => writeFileSync(knobsFile, JSON.stringify(box.knobs)),
  };
  box.writeKnobs();
  // The offline tokenizer `perf-eval setup` builds for bench runs against the simulator (the fake
  // `vllm bench serve` only needs the directory to be passed as --tokenizer).
  if (!options.omit?.includes('tokenizer')) {
    mkdirSync(join(toolsDir, 'tokenizers/sim-bpe'), { recursive: true });
    writeFileSync(join(toolsDir, 'tokenizers/sim-bpe/tokenizer.json'), '{}');
  }
  for (const [tool, { path, fake }] of Object.entries(TOOL_LAYOUT) as Array<
    [ToolName, { path: string; fake: string }]
  >) {
    if (options.omit?.includes(tool)) continue;
    const target = join(toolsDir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(
      target,
      `#!/usr/bin/env node\nimport { readFileSync } from 'node:fs';\nObject.assign(process.env, JSON.parse(readFileSync(${JSON.stringify(knobsFile)}, 'utf8')));\nawait import(${JSON.stringify(fake)});\n`,
    );
    chmodSync(target, 0o755);
  }
  return box;
}

/** Links `FIXTURE_BIN/<name>` (or `target`) into the sandbox PATH dir as `name`. */
export function onPath(box: Sandbox, name: string, target = join(FIXTURE_BIN, name)): void {
  const link = join(box.pathDir, name);
  writeFileSync(link, `#!/usr/bin/env node\nawait import(${JSON.stringify(target)});\n`);
  chmodSync(link, 0o755);
}

/**
 * A port `p` such that `p … p+span-1` are all free on 127.0.0.1 (disaggregated runs use the
 * resolved port for the proxy and the next two for prefill and decode).
 */
export async function freePort(span = 1): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await bindAndRelease(0);
    if (base === undefined || base + span > 65535) continue;
    let free = true;
    for (let offset = 1; offset < span && free; offset++)
      free = (await bindAndRelease(base + offset)) !== undefined;
    if (free) return base;
  }
  throw new Error(`no ${span} consecutive free ports on 127.0.0.1`);
}

async function bindAndRelease(port: number): Promise<number | undefined> {
  const server = createServer();
  const bound = await new Promise<boolean>((done) => {
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => done(true));
  });
  if (!bound) return undefined;
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  return address !== null && typeof address !== 'string' ? address.port : undefined;
}

export interface CliOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  done: Promise<CliOutcome>;
  output(): { stdout: string; stderr: string };
}

export interface CliOptions {
  env?: Record<string, string>;
  /** Default: `--profiles <repo profiles> --results-dir <sandbox>/results`. */
  defaults?: boolean;
}

/** The environment of a spawned CLI: a clean PATH (sandbox first), the sandbox tools dir, and `env`. */
export function cliEnv(box: Sandbox, port: number, env: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: [box.pathDir, dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
    HOME: box.dir,
    PERF_EVAL_TOOLS_DIR: box.toolsDir,
    // Tests that omit a tool expect the preflight error, not pip or go (a test can set it to '0').
    PERF_EVAL_NO_AUTO_SETUP: '1',
    VLLM_PORT: String(port),
    ...env,
  };
}

/** Spawns `node dist/bin.js run …` in the sandbox. */
export function startCli(
  box: Sandbox,
  args: string[],
  env: Record<string, string>,
  options: { defaults?: boolean } = {},
): CliProcess {
  box.writeKnobs();
  const argv =
    options.defaults === false ? args : [...args, '--profiles', PROFILES, '--results-dir', box.resultsRoot];
  const child = spawn(process.execPath, [BIN, ...argv], {
    cwd: box.dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<CliOutcome>((settle) =>
    child.on('close', (code, signal) => settle({ code, signal, stdout, stderr })),
  );
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, done, output: () => ({ stdout, stderr }) };
}

export function runCli(
  box: Sandbox,
  args: string[],
  env: Record<string, string>,
  options: { defaults?: boolean } = {},
): Promise<CliOutcome> {
  return startCli(box, args, env, options).done;
}

/**
 * Polls `probe` until it returns a value. With `cli`, fails at once — with the CLI's exit code and
 * output — when the CLI exits first, instead of spinning until the timeout.
 */
export async function waitFor<T>(
  probe: () => T | undefined | false,
  label: string,
  options: number | { timeoutMs?: number; cli?: CliProcess } = {},
): Promise<T> {
  const { timeoutMs = 20_000, cli } = typeof options === 'number' ? { timeoutMs: options } : options;
  const end = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined | false;
    try {
      value = probe();
    } catch {
      value = undefined; // e.g. a log line being appended right now
    }
    if (value !== undefined && value !== false) return value;
    const exited = cli !== undefined && (cli.child.exitCode !== null || cli.child.signalCode !== null);
    if (exited || Date.now() > end) {
      const why = exited
        ? `the CLI exited (code ${cli.child.exitCode}, signal ${cli.child.signalCode}) first`
        : `timed out after ${timeoutMs} ms`;
      const output =
        cli === undefined
          ? ''
          : `\n--- CLI stdout\n${cli.output().stdout.slice(-4000)}\n--- CLI stderr\n${cli.output().stderr.slice(-4000)}`;
      throw new Error(`waiting for ${label}: ${why}${output}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** summary.json as `perf-eval run` writes it (the CLI's own types, not a copy). */
export type { RunSummary as SummaryJson, TaskRecord as TaskRecordJson } from '@perf-eval/run';
import type { RunSummary as SummaryJson, TaskRecord as TaskRecordJson } from '@perf-eval/run';

export function readSummary(resultsDir: string): SummaryJson {
  return JSON.parse(readFileSync(join(resultsDir, 'summary.json'), 'utf8')) as SummaryJson;
}

export function tryReadSummary(resultsDir: string): SummaryJson | undefined {
  try {
    return readSummary(resultsDir);
  } catch {
    return undefined;
  }
}

export function task(summary: SummaryJson, id: string): TaskRecordJson {
  const found = summary.tasks.find((t) => t.id === id);
  if (!found) throw new Error(`no task ${id} in summary (have ${summary.tasks.map((t) => t.id).join(', ')})`);
  return found;
}

/** The fake server's pid, from its `(APIServer pid=N)` log prefix in server.log. */
export function serverPid(resultsDir: string): number | undefined {
  const log = join(resultsDir, 'server.log');
  if (!existsSync(log)) return undefined;
  const match = /\(APIServer pid=(\d+)\)/.exec(readFileSync(log, 'utf8'));
  return match ? Number(match[1]) : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export const ms = (iso: string | undefined): number => {
  if (!iso) throw new Error('missing timestamp');
  return Date.parse(iso);
};

export function readJsonLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}

/** A sim-runtime recipe; sections can be replaced or dropped (`null`). */
export function simRecipe(
  name: string,
  parts: {
    lmEval?: string | null;
    bfcl?: string | null;
    bench?: string | null;
    extra?: string;
    gpu?: string;
  } = {},
): string {
  const lmEval =
    parts.lmEval === undefined
      ? 'lm_eval:\n  tasks:\n    - name: gsm8k\n      num_fewshot: 5\n    - name: ifeval\n'
      : (parts.lmEval ?? '');
  const bfcl =
    parts.bfcl === undefined
      ? 'bfcl:\n  test_categories:\n    - simple_python\n    - multiple\n'
      : (parts.bfcl ?? '');
  const bench =
    parts.bench === undefined
      ? 'vllm_bench:\n  configs:\n    - name: short\n      input_len: 8\n      output_len: 8\n      num_prompts: 4\n      max_concurrency: 2\n'
      : (parts.bench ?? '');
  return `name: ${name}\ngpu: ${parts.gpu ?? 'SIM'}\nvllm:\n  model: org/tiny\n  serve_args: --tool-call-parser openai --enable-auto-tool-choice\n${parts.extra ?? ''}${lmEval}${bfcl}${bench}`;
}
