#!/usr/bin/env node
/**
 * Build the self-contained `perf-eval` executable (Node single-executable application, linux-x64):
 *   1. esbuild bundles the CLI (TypeScript sources of every workspace package) into one CJS file
 *      (scripts/bundle-cli.mjs, the bundle the bootstrap runs);
 *   2. `node --experimental-sea-config` turns it into a preparation blob;
 *   3. a copy of this Node binary gets the blob injected with postject.
 * GPU steps download the result as a Buildkite artifact (from the `perf-eval-executable` step,
 * .buildkite/build-executable.sh), so neither the host nor the vLLM image needs Node, npm or a built
 * checkout. Needs only `npm ci --omit=dev` (esbuild and postject are runtime dependencies of the root).
 *
 * Usage: node scripts/build-sea.mjs [--output PATH] [--work-dir DIR]
 *   default output ./perf-eval, work dir ./build-sea (both relative to the repository root).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import postject from 'postject';
import { bundleCli } from './bundle-cli.mjs';

const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { output: { type: 'string' }, 'work-dir': { type: 'string' } } });
const output = resolve(root, values.output ?? 'perf-eval');
const workDir = resolve(root, values['work-dir'] ?? 'build-sea');

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(
    `build-sea: the executable is built for linux-x64 with the running Node; this is ${process.platform}-${process.arch}`,
  );
  process.exit(2);
}
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`build-sea: Node >= 20.19 is required (this is ${process.versions.node})`);
  process.exit(2);
}
if (!readFileSync(process.execPath).includes(SENTINEL_FUSE)) {
  console.error(`build-sea: ${process.execPath} has no SEA fuse; use an official Node build`);
  process.exit(2);
}

const started = process.hrtime.bigint();
rmSync(workDir, { recursive: true, force: true });
mkdirSync(workDir, { recursive: true });
const bundle = join(workDir, 'perf-eval.cjs');
const blob = join(workDir, 'sea-prep.blob');
const version = await bundleCli(bundle);
const bundled = process.hrtime.bigint();

const config = join(workDir, 'sea-config.json');
// Files the bundle cannot inline are shipped as SEA assets (read with node:sea getAsset).
const assets = { 'bfcl_driver.py': join(root, 'packages/bfcl-runner/python/bfcl_driver.py') };
writeFileSync(
  config,
  JSON.stringify(
    {
      main: bundle,
      output: blob,
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: false,
      assets,
    },
    null,
    2,
  ),
);
execFileSync(process.execPath, ['--experimental-sea-config', config], {
  stdio: ['ignore', 'ignore', 'inherit'],
});

mkdirSync(dirname(output), { recursive: true });
const temporary = `${output}.tmp-${process.pid}`;
copyFileSync(process.execPath, temporary);
chmodSync(temporary, 0o755);
await postject.inject(temporary, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SENTINEL_FUSE });
rmSync(output, { force: true });
copyFileSync(temporary, output);
rmSync(temporary, { force: true });
chmodSync(output, 0o755);

const done = process.hrtime.bigint();
const ms = (a, b) => Number(b - a) / 1e6;
const mib = (bytes) => (bytes / 1024 / 1024).toFixed(1);
console.log(
  `build-sea: ${output} (perf-eval ${version}, node ${process.versions.node}): ${mib(statSync(output).size)} MiB executable, ` +
    `${mib(statSync(bundle).size)} MiB bundle; bundle ${ms(started, bundled).toFixed(0)} ms, total ${ms(started, done).toFixed(0)} ms`,
);
