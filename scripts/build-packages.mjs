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
let tsc;
try {
  tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  // `npm ci --omit=dev` (enough for scripts/bundle-cli.mjs) has no TypeScript: nothing to build with.
  const message =
    'build-packages: TypeScript is not installed (dev dependencies omitted?); packages not built';
  if (process.env['npm_lifecycle_event'] === 'prepare') {
    process.stdout.write(`${message}; run \`npm ci\` with dev dependencies to build them\n`);
    process.exit(0);
  }
  process.stderr.write(`${message}; run \`npm ci\` first\n`);
  process.exit(1);
}

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
