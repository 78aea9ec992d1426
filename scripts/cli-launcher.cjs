'use strict';
/* global __PERF_EVAL_BUNDLES__ */
/**
 * The `perf-eval` entry point of a CLI bundle directory (build-cli/perf-eval.cjs), written by
 * scripts/bundle-cli.mjs. It runs one of the two bundles beside it:
 *   - <name>.bootstrap.cjs for the commands the Buildkite bootstrap runs (`validate`, `pipeline`):
 *     only their code (recipe schema, YAML, pipeline generator, ajv), under a third of the CLI;
 *   - <name>.all.cjs for everything else (the whole CLI, built like the executable's bundle).
 * Start-up was dominated by V8 compiling the bundle (~80 ms of ~290 ms for `pipeline` with the whole
 * CLI in one file, on the 2-core development machine; scripts/bench/pipeline.mjs part 3), so
 * the bundle is compiled with a V8 code cache, <bundle>.<hash>.v8-cache, that the first run without
 * one writes when it exits (atomically; silently skipped where the directory is not writable). V8
 * rejects a cache of another Node/V8 version or flags (then the bundle compiles as usual and the
 * cache is rewritten); the bundle's hash in the name ties the cache to this bundle's exact text.
 * PERF_EVAL_CODE_CACHE=off neither reads nor writes it.
 *
 * The bundle is called like a CommonJS module (Node's wrapper: `exports`, a `require` resolving from
 * the bundle, `module`, the bundle's `__filename`/`__dirname`); `process.argv` is left as it is.
 */
const { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } = require('node:fs');
const { createRequire } = require('node:module');
const { join } = require('node:path');
const vm = require('node:vm');

/** Replaced by scripts/bundle-cli.mjs: file names (beside this one) and sha256 of the two bundles. */
const BUNDLES = __PERF_EVAL_BUNDLES__;

const command = process.argv[2];
const bundle = BUNDLES.bootstrap.commands.includes(command) ? BUNDLES.bootstrap : BUNDLES.all;
const filename = join(__dirname, bundle.file);
const cacheFile = join(__dirname, `${bundle.file}.${bundle.hash.slice(0, 16)}.v8-cache`);
const useCache = process.env.PERF_EVAL_CODE_CACHE !== 'off';

// `validate` and `pipeline` of a nightly set run ~0.1 s of JavaScript, long enough for V8 to send the
// YAML lexer's and parser's loops to TurboFan (on a background thread: ~40 ms of CPU, on 2 shared
// cores also ~30 ms of wall time) but too short to profit. An interrupt budget of 8× V8 11.3's default
// keeps such runs in the interpreter and baseline code; longer ones (1000 recipes) still optimise and
// took no longer. Set before compiling (V8 keys the code cache on its flags). The V8 versions of Node
// 20-24 (11.3-13.6) have this flag; a later one might not, and would print a line for an unknown flag.
if (bundle === BUNDLES.bootstrap && Number.parseInt(process.versions.v8, 10) <= 13) {
  require('node:v8').setFlagsFromString('--interrupt-budget=540672');
}

let cachedData;
if (useCache) {
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // No cache yet: compile, and write one at exit.
  }
}

const script = new vm.Script(
  `(function (exports, require, module, __filename, __dirname) { ${readFileSync(filename, 'utf8')}\n})`,
  {
    filename,
    ...(cachedData ? { cachedData } : {}),
    // The bundles have no import() of their own (esbuild turns them into requires); should one
    // appear, it resolves like a main module's (Node >= 20.13 has this constant).
    ...(vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER
      ? { importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER }
      : {}),
  },
);

if (useCache && (!cachedData || script.cachedDataRejected)) {
  // At exit the cache also holds every function this run compiled, not only the top level.
  process.once('exit', () => {
    const temporary = `${cacheFile}.tmp-${process.pid}`;
    let fd;
    try {
      fd = openSync(temporary, 'wx');
      writeSync(fd, script.createCachedData());
      closeSync(fd);
      fd = undefined;
      renameSync(temporary, cacheFile);
    } catch {
      // Best effort: without a cache the next run only compiles again.
      try {
        if (fd !== undefined) closeSync(fd);
        rmSync(temporary, { force: true });
      } catch {
        // Nothing was written.
      }
    }
  });
}

const bundleModule = { exports: {}, filename, id: '.', loaded: false };
script
  .runInThisContext()
  .call(
    bundleModule.exports,
    bundleModule.exports,
    createRequire(filename),
    bundleModule,
    filename,
    __dirname,
  );
