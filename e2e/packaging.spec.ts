/**
 * Packaging tier: what an outside team gets from npm. Packs every package under packages/ (`npm pack`, which
 * runs each package's `prepack` build), checks the tarballs' contents and manifests, installs them into a
 * temporary ESM project outside the repository (TypeScript strict, `module: nodenext`, registry dependencies
 * from npm), type-checks and runs the README examples of lmeval-runner, bfcl-runner and workload-schema
 * (taken from the READMEs, so they cannot drift) with the repository's fake tools as the virtualenvs, and
 * runs the installed `perf-eval --version`.
 *
 * Run: `npm run test:packaging` (part of `npm run test:e2e`; needs the npm registry or a warm npm cache).
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..');
const PACKAGES = join(REPO, 'packages');
const EXAMPLES = ['lmeval-runner', 'bfcl-runner', 'workload-schema'] as const;
const FAKES = {
  lmEvalPython: join(PACKAGES, 'lmeval-runner/test/fixtures/bin/python-lmeval'),
  lmEval: join(PACKAGES, 'lmeval-runner/test/fixtures/bin/lm_eval'),
  bfclPython: join(PACKAGES, 'bfcl-runner/test/fixtures/bin/fake-bfcl-python'),
};

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  bin?: Record<string, string>;
  scripts?: Record<string, string>;
  publishConfig?: { access?: string };
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

interface Packed {
  dir: string;
  manifest: Manifest;
  tarball: string;
  files: string[];
}

interface Ran {
  status: number | null;
  output: string;
}

function run(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Ran {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return {
    status: result.status,
    output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`,
  };
}

function ok(ran: Ran, what: string): string {
  if (ran.status !== 0) throw new Error(`${what} failed (exit ${ran.status}):\n${ran.output}`);
  return ran.output;
}

/** Every publishable package, discovered (packages land in parallel; no hard-coded list). */
function publishablePackages(): { dir: string; manifest: Manifest }[] {
  return readdirSync(PACKAGES)
    .map((name) => join(PACKAGES, name))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({
      dir,
      manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest,
    }))
    .filter(({ manifest }) => manifest.private !== true)
    .sort((a, b) => a.manifest.name.localeCompare(b.manifest.name));
}

/** The first ```ts block of a README: the runnable example every package README starts with. */
function readmeExample(readme: string): string {
  const match = /^```ts\n([\s\S]*?)^```$/m.exec(readme);
  if (!match?.[1]) throw new Error('README has no ```ts example block');
  return match[1];
}

let work = '';
let consumer = '';
const packed: Packed[] = [];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'perf-eval-packaging-'));
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  for (const { dir, manifest } of publishablePackages()) {
    process.stdout.write(`packaging: npm pack ${manifest.name}\n`);
    const output = ok(
      run('npm', ['pack', '--json', '--pack-destination', tarballs], dir),
      `npm pack in ${dir}`,
    );
    const report = JSON.parse(output.slice(output.indexOf('['), output.lastIndexOf(']') + 1)) as {
      filename: string;
      files: { path: string }[];
    }[];
    const first = report[0];
    if (!first) throw new Error(`npm pack in ${dir} reported nothing:\n${output}`);
    packed.push({
      dir,
      manifest,
      tarball: join(tarballs, first.filename),
      files: first.files.map((f) => f.path),
    });
  }

  consumer = join(work, 'consumer');
  mkdirSync(join(consumer, 'examples'), { recursive: true });
  writeFileSync(
    join(consumer, 'package.json'),
    JSON.stringify({ name: 'outside-consumer', private: true, type: 'module' }, null, 2),
  );
  writeFileSync(
    join(consumer, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          lib: ['es2022'],
          types: ['node'],
          outDir: 'out',
          rootDir: 'examples',
          skipLibCheck: false,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
        },
        include: ['examples/*.ts'],
      },
      null,
      2,
    ),
  );
  for (const name of EXAMPLES) {
    writeFileSync(
      join(consumer, 'examples', `${name}.ts`),
      readmeExample(readFileSync(join(PACKAGES, name, 'README.md'), 'utf8')),
    );
  }
  process.stdout.write(`packaging: npm install ${packed.length} tarballs into ${consumer}\n`);
  const typescript = JSON.parse(readFileSync(join(REPO, 'node_modules/typescript/package.json'), 'utf8')) as {
    version: string;
  };
  const typesNode = JSON.parse(readFileSync(join(REPO, 'node_modules/@types/node/package.json'), 'utf8')) as {
    version: string;
  };
  ok(
    run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        `typescript@${typescript.version}`,
        `@types/node@${typesNode.version}`,
        ...packed.map((p) => p.tarball),
      ],
      consumer,
    ),
    'npm install of the tarballs',
  );
}, 15 * 60_000);

afterAll(() => {
  if (work && process.env['PACKAGING_KEEP'] !== '1')
    rmSync(work, { recursive: true, force: true, maxRetries: 5 });
});

describe('npm tarballs', () => {
  it('every package is packed (discovered from packages/*)', () => {
    expect(packed.map((p) => p.manifest.name)).toContain('@perf-eval/util');
    expect(packed.map((p) => p.manifest.name)).toContain('@perf-eval/cli');
    expect(packed.length).toBe(publishablePackages().length);
  });

  it('each tarball ships dist, README and the Apache-2.0 LICENSE, and no sources, tests or caches', () => {
    const license = readFileSync(join(REPO, 'LICENSE'), 'utf8');
    expect(license).toContain('Apache License');
    for (const { dir, manifest, files } of packed) {
      const where = `${manifest.name}: `;
      expect(files.map((f) => where + f)).toEqual(
        expect.arrayContaining(
          ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts'].map((f) => where + f),
        ),
      );
      expect(
        files
          .filter((f) => /(^|\/)(src|test|bench)\/|__pycache__|\.pyc$|\.tsbuildinfo$|\.spec\./.test(f))
          .map((f) => where + f),
      ).toEqual([]);
      expect(readFileSync(join(dir, 'LICENSE'), 'utf8'), `${dir}/LICENSE differs from the root LICENSE`).toBe(
        license,
      );
      expect(manifest.license, where).toBe('Apache-2.0');
    }
    const bfcl = packed.find((p) => p.manifest.name === '@perf-eval/bfcl-runner');
    expect(bfcl?.files).toContain('python/bfcl_driver.py');
    const cli = packed.find((p) => p.manifest.name === '@perf-eval/cli');
    expect(cli?.files).toEqual(expect.arrayContaining(['bin/perf-eval.js', 'dist/bin.js']));
  });

  it('each manifest publishes publicly, builds before packing and depends on siblings by range, without tslib', () => {
    const names = new Set(packed.map((p) => p.manifest.name));
    for (const { manifest } of packed) {
      expect(manifest.publishConfig?.access, manifest.name).toBe('public');
      expect(manifest.scripts?.['prepack'], manifest.name).toMatch(/tsc --build tsconfig\.lib\.json/);
      const deps = { ...manifest.dependencies, ...manifest.peerDependencies };
      expect(Object.keys(deps), manifest.name).not.toContain('tslib');
      for (const [dep, range] of Object.entries(deps)) {
        if (names.has(dep)) expect(`${manifest.name} → ${dep}@${range}`).toMatch(/@\^\d+\.\d+\.\d+$/);
      }
    }
  });
});

describe('public APIs', () => {
  it("every export of a package's src/index.ts is named in its README", () => {
    for (const { dir, manifest } of publishablePackages()) {
      const index = readFileSync(join(dir, 'src', 'index.ts'), 'utf8');
      const readme = readFileSync(join(dir, 'README.md'), 'utf8');
      const names = [...index.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)].flatMap((m) =>
        (m[1] ?? '')
          .split(',')
          .map(
            (part) =>
              part
                .trim()
                .replace(/^type\s+/, '')
                .split(/\s+as\s+/)
                .pop()
                ?.trim() ?? '',
          )
          .filter(Boolean),
      );
      expect(names.length, manifest.name).toBeGreaterThan(0);
      const undocumented = names.filter((name) => !new RegExp(`\\b${name}\\b`).test(readme));
      expect(undocumented, `${manifest.name}: exported but not in README.md`).toEqual([]);
    }
  });
});

describe('installed into a strict TypeScript ESM project outside the repository', () => {
  it('one copy of each package (ranges dedupe), resolved from the tarballs', () => {
    const nested = packed
      .map((p) => join('node_modules', p.manifest.name, 'node_modules', '@perf-eval'))
      .filter((dir) => existsSync(join(consumer, dir)));
    expect(nested).toEqual([]);
    for (const { manifest } of packed) {
      const installed = JSON.parse(
        readFileSync(join(consumer, 'node_modules', manifest.name, 'package.json'), 'utf8'),
      ) as Manifest;
      expect(installed.version).toBe(manifest.version);
    }
  });

  it('the README examples type-check (strict, module nodenext)', () => {
    const tsc = run(
      process.execPath,
      [join(consumer, 'node_modules/typescript/bin/tsc'), '-p', consumer],
      consumer,
    );
    expect(tsc.output).toBe('');
    expect(tsc.status).toBe(0);
  });

  describe('the README examples run', () => {
    function exampleEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
      const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: join(work, 'cache'), ...extra };
      for (const key of [
        'PERF_EVAL_PROFILES',
        'VLLM_IMAGE',
        'VLLM_COMMIT',
        'BFCL_MAXIMUM_STEP_LIMIT',
        'BFCL_MAX_TEST_CASES',
      ])
        delete env[key];
      return env;
    }

    /** A directory shaped like a virtualenv whose bin/ holds the given fakes. */
    function fakeVenv(name: string, bins: Record<string, string>): string {
      const venv = join(work, name);
      mkdirSync(join(venv, 'bin'), { recursive: true });
      for (const [bin, target] of Object.entries(bins)) symlinkSync(target, join(venv, 'bin', bin));
      return venv;
    }

    function runExample(
      name: (typeof EXAMPLES)[number],
      env: NodeJS.ProcessEnv,
    ): { cwd: string; output: string } {
      const cwd = join(work, `run-${name}`);
      mkdirSync(cwd, { recursive: true });
      const ran = run(process.execPath, [join(consumer, 'out', `${name}.js`)], cwd, env);
      expect(ran.status, ran.output).toBe(0);
      return { cwd, output: ran.output };
    }

    it('lmeval-runner: task preflight, run, results and metrics', () => {
      const venv = fakeVenv('venv-lmeval', { python: FAKES.lmEvalPython, lm_eval: FAKES.lmEval });
      const { cwd, output } = runExample('lmeval-runner', exampleEnv({ LMEVAL_VENV: venv }));
      expect(output).toContain('--- :microscope: lm_eval gsm8k (5-shot)');
      expect(output).toMatch(/metric: 'exact_match',\s+filter: 'strict-match'/);
      const modelDir = join(cwd, 'results/qwen3_8b/gsm8k/Qwen__Qwen3-8B');
      expect(readdirSync(modelDir).filter((f) => f.startsWith('results_'))).toHaveLength(1);
    });

    it('bfcl-runner: the packaged driver, scores and lm-eval-shaped results', () => {
      const venv = fakeVenv('venv-bfcl', { python: FAKES.bfclPython });
      const { cwd, output } = runExample('bfcl-runner', exampleEnv({ BFCL_VENV: venv }));
      expect(output).toContain('--- :phone: bfcl multi_turn');
      expect(output).toContain("category: 'multi_turn_base'");
      expect(
        readFileSync(join(cwd, 'results/gpt-oss-120b-h200/.bfcl_ingest/multi_turn.txt'), 'utf8'),
      ).toContain('multi_turn');
      // The driver came from the installed package, not from the repository.
      expect(
        readdirSync(join(work, 'cache', 'perf-eval')).some((f) => /^bfcl_driver-[0-9a-f]{12}\.py$/.test(f)),
      ).toBe(true);
    });

    it('workload-schema: profiles and recipe from text, resolved', () => {
      const { output } = runExample('workload-schema', exampleEnv({}));
      expect(output.split('\n')).toEqual(
        expect.arrayContaining([
          'vllm/vllm-openai:nightly',
          '8k-in-1k-out-conc-128',
          'tokenized_requests=False,tokenizer_backend=None,timeout=6000,num_concurrent=64',
          'h200 8 fp8',
        ]),
      );
    });
  });

  it('the installed perf-eval prints its version', () => {
    const cli = packed.find((p) => p.manifest.name === '@perf-eval/cli');
    const version = run(join(consumer, 'node_modules/.bin/perf-eval'), ['--version'], consumer);
    expect(version.status, version.output).toBe(0);
    expect(version.output.trim()).toBe(cli?.manifest.version);
  });
});
