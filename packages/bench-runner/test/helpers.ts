import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Fake `vllm` / `docker` executables. */
export const FAKE_BIN = resolve(import.meta.dirname, 'fixtures/bin');

/** Real `vllm bench serve` outputs (never copied into the repo). */
export const BENCH_FIXTURES = resolve(
  import.meta.dirname,
  '../../../../shared/reference/fixtures/vllm_bench',
);

/** A fresh temp directory removed when the current test finishes. */
export async function tempDir(prefix = 'bench-runner-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

export async function readJsonl<T = unknown>(file: string): Promise<T[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}

/** The error `promise` rejects with; fails the test when it resolves. */
export async function rejection<T extends Error = Error>(promise: Promise<unknown>): Promise<T> {
  try {
    await promise;
  } catch (error) {
    return error as T;
  }
  throw new Error('expected a rejection');
}
