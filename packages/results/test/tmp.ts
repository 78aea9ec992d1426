import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach } from 'vitest';

/** Real reference outputs (read-only), `../shared/reference/fixtures` relative to the repository root. */
export const FIXTURES = resolve(import.meta.dirname, '../../../../shared/reference/fixtures');

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 5 })));
});

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'perf-eval-results-'));
  dirs.push(dir);
  return dir;
}
