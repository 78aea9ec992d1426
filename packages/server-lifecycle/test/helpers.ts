import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerSpec } from '../src/lib/types.js';

export const FIXTURES = resolve(import.meta.dirname, 'fixtures');
export const BIN = join(FIXTURES, 'bin');
export const FAKE_VLLM = join(BIN, 'vllm');
export const FAKE_SIM = join(BIN, 'llm-d-inference-sim');
export const FAKE_DOCKER = join(BIN, 'docker');
export const SERVE_LOGS = resolve(
  import.meta.dirname,
  '../../../../shared/reference/fixtures/vllm_serve_logs',
);
export const LOG_UNRECOGNIZED = join(SERVE_LOGS, 'er0080_vllm_serve_unrecognized_argument_v0.25.1.log');
export const LOG_MAX_MODEL_LEN = join(SERVE_LOGS, 'er0080_vllm_serve_max_model_len_rejected_v0.25.1.log');
export const LOG_NO_KV_CACHE = join(SERVE_LOGS, 'er0080_vllm_serve_no_kv_cache_memory_v0.25.1.log');

/** A temp dir removed when the current test finishes. */
export async function testDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'server-lifecycle-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Poll `check` until it returns a truthy value (or throw after `timeoutMs`). */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export interface Captured {
  printed: string[];
  errors: string[];
  lines: string[];
  options: {
    print: (line: string) => void;
    printError: (line: string) => void;
    onLine: (line: string) => void;
  };
}

export function capture(): Captured {
  const printed: string[] = [];
  const errors: string[] = [];
  const lines: string[] = [];
  return {
    printed,
    errors,
    lines,
    options: {
      print: (line) => void printed.push(line),
      printError: (line) => void errors.push(line),
      onLine: (line) => void lines.push(line),
    },
  };
}

export async function nativeSpec(overrides: Partial<ServerSpec> = {}): Promise<ServerSpec> {
  const dir = await testDir();
  const port = await freePort();
  return {
    runtime: 'native',
    model: 'facebook/opt-125m',
    servedModelName: 'facebook/opt-125m',
    port,
    serveArgs: ['--max-model-len', '2048'],
    env: { FAKE_VLLM_READY_DELAY_MS: '200' },
    containerName: `perf-eval-test-${port}`,
    startupTimeoutS: 30,
    logFile: join(dir, 'results', 'server.log'),
    binary: FAKE_VLLM,
    stopGraceS: 1,
    ...overrides,
  };
}

export const FAKE_TOY_PROXY = join(FIXTURES, 'fake-toy-proxy.mjs');

/** Process ids announced in captured lines, e.g. `[decode] (APIServer pid=123) …` or `[proxy] INFO:     Started server process [456]`. */
export function pidsIn(lines: readonly string[], prefix: string): number[] {
  const pids = new Set<number>();
  for (const line of lines) {
    if (!line.startsWith(prefix)) continue;
    const match = /\(APIServer pid=(\d+)\)|Started server process \[(\d+)\]/.exec(line);
    if (match) pids.add(Number(match[1] ?? match[2]));
  }
  return [...pids];
}
