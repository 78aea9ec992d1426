#!/usr/bin/env node
/**
 * Builds every workspace package (`tsc --build packages/<name>/tsconfig.lib.json`; incremental, so a second
 * run takes about a second). The root `prepare` script runs it after `npm ci` / `npm install`, so the README's
 * commands (`npx perf-eval …`) work right after the install, and `npm run build` runs it by hand.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const configs = readdirSync(join(root, 'packages'))
  .map((name) => join('packages', name, 'tsconfig.lib.json'))
  .filter((config) => existsSync(join(root, config)))
  .sort();
const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');

const started = Date.now();
process.stdout.write(`--- :hammer: building ${configs.length} packages (tsc --build)\n`);
try {
  execFileSync(process.execPath, [tsc, '--build', ...configs], { cwd: root, stdio: 'inherit' });
} catch {
  process.stderr.write(
    'build-packages: tsc --build failed (errors above); fix them and run `npm run build`\n',
  );
  process.exit(1);
}
process.stdout.write(`    built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
