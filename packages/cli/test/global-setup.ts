/**
 * The CLI tests spawn the built CLI (`dist/bin.js`) as a real process, so `npx vitest run` here builds it
 * first, with the packages it imports (`tsc --build` follows the project references). In-process tests
 * import sources (the "@perf-eval/source" condition) and need no build. Incremental: a no-op when dist/ is
 * current (under Nx, `test` depends on `build`, so this only checks).
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

export default function setup(): void {
  const cli = resolve(import.meta.dirname, '..');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '--build', 'tsconfig.lib.json'], { cwd: cli, stdio: 'inherit' });
}
