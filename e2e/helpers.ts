/** Helpers of the full-stack tier: spawn the built CLI, find the simulator process, read results. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..');
export const BIN = join(REPO, 'packages', 'cli', 'dist', 'bin.js');
export const DEMO = 'workloads/demo_sim.yaml';
export const PROFILES = join(REPO, 'profiles', 'gpu_profiles.yaml');

export interface CliOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wallS: number;
}

export interface CliProcess {
  child: ChildProcess;
  done: Promise<CliOutcome>;
  output(): string;
}

/** The CLI's environment: the caller's (tools dir, PATH for python/go), never an ingest token. */
export function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  for (const key of [
    'INGEST_BEARER_TOKEN',
    'INGEST_URL',
    'PERF_INGEST_URL',
    'BUILDKITE',
    'VITEST',
    'VITEST_MODE',
    'NODE_ENV',
  ])
    delete env[key];
  return { ...env, ...extra };
}

export function startCli(args: string[], env: Record<string, string>): CliProcess {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let both = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    both += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    both += chunk;
  });
  const done = new Promise<CliOutcome>((settle) =>
    child.on('close', (code, signal) =>
      settle({ code, signal, stdout, stderr, wallS: (Date.now() - started) / 1000 }),
    ),
  );
  // A test that fails mid-run must not leave the CLI (or the simulator it started, which runs in its
  // own process group) behind: SIGTERM lets perf-eval tear the server down, SIGKILL is the backstop.
  onTestFinished(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const exited = await Promise.race([
      done.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 10_000)),
    ]);
    if (!exited) child.kill('SIGKILL');
  });
  return { child, done, output: () => both };
}

/** `freePort(3)`: the proxy port and the two role ports after it are all free. */
export { freePort } from '../packages/cli/test/harness.js';

/** A results root that is removed after the test unless E2E_KEEP=1. */
export function resultsRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'perf-eval-e2e-'));
  onTestFinished((context) => {
    if (process.env['E2E_KEEP'] === '1' || context.task.result?.state === 'fail') {
      process.stderr.write(`e2e: kept ${dir}\n`);
      return;
    }
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });
  return dir;
}

/** Pids of llm-d-inference-sim processes serving `port` (from /proc/<pid>/cmdline). */
export function simulatorPids(port: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const portAt = argv.indexOf('--port');
    if (argv[0]?.endsWith('llm-d-inference-sim') && portAt > 0 && argv[portAt + 1] === String(port))
      pids.push(Number(name));
  }
  return pids;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped) counts as gone.
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export async function waitFor<T>(
  probe: () => T | undefined | false,
  label: string,
  timeoutMs = 120_000,
  everyMs = 100,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined | false;
    try {
      value = probe();
    } catch {
      value = undefined;
    }
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** summary.json as `perf-eval run` writes it (the CLI's own types, not a copy). */
export type { RunSummary as SummaryJson, TaskRecord as TaskJson } from '../packages/run/src/lib/summary.js';
import type { RunSummary as SummaryJson } from '../packages/run/src/lib/summary.js';

export function readJson<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function readSummary(dir: string): SummaryJson | undefined {
  try {
    return readJson<SummaryJson>(join(dir, 'summary.json'));
  } catch {
    return undefined;
  }
}

/** Every file under `dir` (recursive), relative paths. */
export function walk(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path, join(prefix, name)));
    else out.push(join(prefix, name));
  }
  return out.sort();
}

/**
 * A smaller variant of the demo recipe for the failure tests, written next to nothing in the repo:
 * one bench run and the same lm_eval task and BFCL categories (absolute include_path).
 */
export function variantRecipe(dir: string, name: string, options: { bench?: boolean } = {}): string {
  const text = readFileSync(join(REPO, DEMO), 'utf8')
    .replace(/^name: demo-sim$/m, `name: ${name}`)
    .replace(/max_concurrency: \[2, 4\]/, 'max_concurrency: 2')
    .replace(
      /include_path: tasks\/gsm8k_local/,
      `include_path: ${join(REPO, 'workloads', 'tasks', 'gsm8k_local')}`,
    );
  const body = options.bench === false ? text.replace(/\nvllm_bench:\n[\s\S]*?\n\n/, '\n') : text;
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, body);
  return path;
}
