#!/usr/bin/env node
/**
 * Bundle the `perf-eval` CLI (the TypeScript sources of every workspace package plus its runtime
 * dependencies) into CommonJS with esbuild — about a second, no `tsc` and no dev dependencies.
 *
 * `node scripts/bundle-cli.mjs [--output PATH]` (default build-cli/perf-eval.cjs) writes what the
 * Buildkite bootstrap runs (`node build-cli/perf-eval.cjs validate|pipeline …`):
 *   PATH                     the entry point (scripts/cli-launcher.cjs): runs one of the two bundles,
 *                            compiled with a V8 code cache that its first run writes beside them;
 *   <PATH>.bootstrap.cjs     (perf-eval.bootstrap.cjs) `validate` and `pipeline` only: start-up is
 *                            mostly compiling the bundle, so these commands get a bundle of their own;
 *   <PATH>.all.cjs           (perf-eval.all.cjs) the whole CLI, for every other command.
 * scripts/build-sea.mjs wraps the whole CLI (`bundleCli`: one self-contained file, as a Node 20
 * single-executable application needs) into the executable; it is built from the same sources with
 * the same options as perf-eval.all.cjs, except that the launcher's two bundles are minified (names kept).
 *
 * Usage: node scripts/bundle-cli.mjs [--output PATH]   (default build-cli/perf-eval.cjs)
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');

/** The commands of .buildkite/bootstrap.sh; the launcher runs them from the small bundle. */
export const BOOTSTRAP_COMMANDS = ['validate', 'pipeline'];

// bin.ts uses top-level await, which CommonJS (the only SEA format on Node 20) cannot express.
const entry = (imports, call) => `
import { processIo } from './packages/cli/src/lib/io.ts';
import { installSignalHandlers } from './packages/cli/src/lib/signals.ts';
${imports}
const controller = new AbortController();
const force = installSignalHandlers(controller);
${call}(process.argv.slice(2), processIo(controller.signal, force)).then(
  (code) => { process.exitCode = code; },
  (error) => { process.stderr.write(\`perf-eval: internal error: \${error && error.stack ? error.stack : String(error)}\\n\`); process.exitCode = 1; },
);
`;

const ENTRIES = {
  all: entry("import { run } from './packages/cli/src/lib/main.ts';", 'run'),
  // The same dispatch and error handling as `run`, over a table of just these commands (the launcher
  // sends nothing else here, so their one-line summaries for --help are not needed).
  bootstrap: entry(
    [
      "import { runWith } from './packages/cli/src/lib/main.ts';",
      'const commands = {',
      ...BOOTSTRAP_COMMANDS.map(
        (name) => `  ${name}: { summary: '', load: () => import('./packages/cli/src/commands/${name}.ts') },`,
      ),
      '};',
      'const run = (argv, io) => runWith(commands, argv, io);',
    ].join('\n'),
    'run',
  ),
};

/**
 * Packages bundled once per version. npm nests yaml 2.9.1 under cli, pipeline and workload-schema (the
 * root holds another version), and esbuild would bundle, compile and initialise each copy. Only
 * packages whose copies are interchangeable belong here: yaml recognises its nodes by Symbol.for
 * brands. Not ajv (8.20.0 under pipeline and under ajv-formats): ajv-formats generates code with its
 * own ajv's classes, and with one shared copy the standalone validators `require` ajv-formats, which
 * the pipeline's schema cache does not accept, so every --validate would compile the schema again.
 */
const DEDUPED_PACKAGES = ['yaml'];

/**
 * Points an import of a DEDUPED_PACKAGES copy at the canonical copy of that name and version: the
 * first of the repository root's and each workspace package's (in name order) node_modules holding
 * it. Copies of other versions stay separate.
 */
function dedupePackages() {
  const skip = Symbol('resolving');
  const versions = new Map();
  const versionOf = (dir) => {
    if (!versions.has(dir)) {
      try {
        versions.set(dir, JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version);
      } catch {
        versions.set(dir, undefined);
      }
    }
    return versions.get(dir);
  };
  const places = [
    root,
    ...readdirSync(join(root, 'packages'))
      .sort()
      .map((name) => join(root, 'packages', name)),
  ];
  const canonical = new Map();
  const canonicalCopy = (name, version) => {
    const key = `${name}@${version}`;
    if (!canonical.has(key)) {
      const copy = places
        .map((place) => join(place, 'node_modules', name))
        .find((dir) => existsSync(join(dir, 'package.json')) && versionOf(realpathSync(dir)) === version);
      canonical.set(key, copy === undefined ? undefined : realpathSync(copy));
    }
    return canonical.get(key);
  };
  const filter = new RegExp(`^(?:${DEDUPED_PACKAGES.join('|')})(?:/|$)`);
  return {
    name: 'perf-eval-dedupe-packages',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter }, async (args) => {
        if (args.pluginData === skip) return undefined;
        const result = await pluginBuild.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: skip,
        });
        if (result.errors.length > 0 || result.external) return undefined;
        // The innermost node_modules/<name> (or node_modules/@scope/<name>) holding the file.
        const match = /^(.*[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+))[\\/](.*)$/.exec(result.path);
        if (!match) return undefined;
        const [, copy, name, inside] = match;
        const version = versionOf(copy);
        const target = version === undefined ? undefined : canonicalCopy(name, version);
        return {
          path: target === undefined || target === copy ? result.path : join(target, inside),
          sideEffects: result.sideEffects,
        };
      });
    },
  };
}

function esbuildOptions(version) {
  return {
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    conditions: ['@perf-eval/source'],
    // import.meta.url does not exist in CommonJS; packages use it with createRequire (e.g. to reach
    // `node:sea`), so give it the bundle's own file URL.
    banner: { js: "const __perfEvalImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { __PERF_EVAL_VERSION__: JSON.stringify(version), 'import.meta.url': '__perfEvalImportMetaUrl' },
    plugins: [dedupePackages()],
    logLevel: 'warning',
    // import.meta.url only appears in fallbacks the define above disables.
    logOverride: { 'empty-import-meta': 'silent' },
  };
}

const cliVersion = () => JSON.parse(readFileSync(join(root, 'packages/cli/package.json'), 'utf8')).version;

/** Write the whole CLI as one self-contained CommonJS file to `outfile`; returns the CLI version it embeds. */
export async function bundleCli(outfile) {
  const version = cliVersion();
  mkdirSync(dirname(outfile), { recursive: true });
  await build({
    ...esbuildOptions(version),
    stdin: { contents: ENTRIES.all, resolveDir: root, sourcefile: 'cli-entry.ts', loader: 'ts' },
    outfile,
  });
  return version;
}

/**
 * Write the launcher to `outfile` and the two bundles beside it (see the top of this file), and
 * remove code caches of earlier bundles there. Returns the CLI version and the written files.
 */
export async function bundleCliWithLauncher(outfile) {
  const version = cliVersion();
  const dir = dirname(outfile);
  const name = basename(outfile).replace(/\.c?js$/, '');
  mkdirSync(dir, { recursive: true });
  const options = esbuildOptions(version);
  const result = await build({
    ...options,
    // Whitespace and syntax only (names stay, so stack traces still name functions): the bootstrap
    // bundle is 1.2 MiB instead of 1.7, and `pipeline` for the nightly set starts ~10 ms sooner
    // (reading the file and its code cache; scripts/bench/pipeline.mjs part 3).
    minifyWhitespace: true,
    minifySyntax: true,
    plugins: [
      {
        name: 'perf-eval-entries',
        setup(pluginBuild) {
          pluginBuild.onResolve({ filter: /^perf-eval-entry:/ }, (args) => ({
            path: args.path.slice('perf-eval-entry:'.length),
            namespace: 'perf-eval-entry',
          }));
          pluginBuild.onLoad({ filter: /.*/, namespace: 'perf-eval-entry' }, (args) => ({
            contents: ENTRIES[args.path],
            resolveDir: root,
            loader: 'ts',
          }));
        },
      },
      ...options.plugins,
    ],
    entryPoints: Object.keys(ENTRIES).map((kind) => ({
      in: `perf-eval-entry:${kind}`,
      out: `${name}.${kind}`,
    })),
    outdir: dir,
    outExtension: { '.js': '.cjs' },
    write: false,
  });
  const bundles = {};
  for (const file of result.outputFiles) {
    const kind = Object.keys(ENTRIES).find((key) => basename(file.path) === `${name}.${key}.cjs`);
    bundles[kind] = {
      file: basename(file.path),
      hash: createHash('sha256').update(file.contents).digest('hex'),
      ...(kind === 'bootstrap' ? { commands: BOOTSTRAP_COMMANDS } : {}),
    };
    writeFileSync(file.path, file.contents);
  }
  for (const file of readdirSync(dir)) {
    if (file.startsWith(`${name}.`) && /\.v8-cache(\.tmp-\d+)?$/.test(file))
      rmSync(join(dir, file), { force: true });
  }
  const launcher = readFileSync(join(root, 'scripts/cli-launcher.cjs'), 'utf8');
  const placeholder = 'const BUNDLES = __PERF_EVAL_BUNDLES__;';
  if (!launcher.includes(placeholder)) throw new Error(`scripts/cli-launcher.cjs: no '${placeholder}'`);
  writeFileSync(
    outfile,
    launcher.replace(placeholder, `const BUNDLES = ${JSON.stringify(bundles, null, 2)};`),
  );
  return { version, files: [outfile, ...Object.values(bundles).map((bundle) => join(dir, bundle.file))] };
}

// Run as a script (argv[1] may be a symlink; Node resolves the module itself to its real path).
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { output: { type: 'string' } } });
  const output = resolve(root, values.output ?? 'build-cli/perf-eval.cjs');
  const started = performance.now();
  const { version, files } = await bundleCliWithLauncher(output);
  console.log(
    `bundle-cli: ${output} (perf-eval ${version}) in ${(performance.now() - started).toFixed(0)} ms: ${files
      .slice(1)
      .map((file) => `${basename(file)} ${(readFileSync(file).length / 1024 / 1024).toFixed(1)} MiB`)
      .join(', ')}`,
  );
}
