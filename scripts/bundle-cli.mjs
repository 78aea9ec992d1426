#!/usr/bin/env node
/**
 * Bundle the `perf-eval` CLI (the TypeScript sources of every workspace package plus its runtime
 * dependencies) into one CommonJS file with esbuild — about a second, no `tsc` and no dev
 * dependencies. The Buildkite bootstrap generates and checks the pipeline with it
 * (`node build-cli/perf-eval.cjs pipeline …`), and scripts/build-sea.mjs wraps the same bundle into the
 * self-contained executable, so both run the same code.
 *
 * Usage: node scripts/bundle-cli.mjs [--output PATH]   (default build-cli/perf-eval.cjs)
 */
import { mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');

// bin.ts uses top-level await, which CommonJS (the only SEA format on Node 20) cannot express.
const ENTRY = `
import { processIo } from './packages/cli/src/lib/io.ts';
import { run } from './packages/cli/src/lib/main.ts';
import { installSignalHandlers } from './packages/cli/src/lib/signals.ts';
const controller = new AbortController();
const force = installSignalHandlers(controller);
run(process.argv.slice(2), processIo(controller.signal, force)).then(
  (code) => { process.exitCode = code; },
  (error) => { process.stderr.write(\`perf-eval: internal error: \${error && error.stack ? error.stack : String(error)}\\n\`); process.exitCode = 1; },
);
`;

/** Write the CommonJS bundle of the CLI to `outfile`; returns the CLI version it embeds. */
export async function bundleCli(outfile) {
  const version = JSON.parse(readFileSync(join(root, 'packages/cli/package.json'), 'utf8')).version;
  mkdirSync(dirname(outfile), { recursive: true });
  await build({
    stdin: { contents: ENTRY, resolveDir: root, sourcefile: 'cli-entry.ts', loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    conditions: ['@perf-eval/source'],
    // import.meta.url does not exist in CommonJS; packages use it with createRequire (e.g. to reach
    // `node:sea`), so give it the bundle's own file URL.
    banner: { js: "const __perfEvalImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { __PERF_EVAL_VERSION__: JSON.stringify(version), 'import.meta.url': '__perfEvalImportMetaUrl' },
    outfile,
    logLevel: 'warning',
    // import.meta.url only appears in fallbacks the define above disables.
    logOverride: { 'empty-import-meta': 'silent' },
  });
  return version;
}

// Run as a script (argv[1] may be a symlink; Node resolves the module itself to its real path).
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { output: { type: 'string' } } });
  const output = resolve(root, values.output ?? 'build-cli/perf-eval.cjs');
  const started = performance.now();
  const version = await bundleCli(output);
  console.log(
    `bundle-cli: ${output} (perf-eval ${version}) in ${(performance.now() - started).toFixed(0)} ms`,
  );
}
