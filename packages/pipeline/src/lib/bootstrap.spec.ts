/**
 * End to end: `.buildkite/bootstrap.sh` and `.buildkite/build-executable.sh` with a fake
 * `buildkite-agent` and a fake `npm` on PATH (buildkite.md §12). The bootstrap bundles the CLI for
 * real (esbuild); the executable step builds the real self-contained executable (slow, ~30-60 s).
 * The fake npm installs nothing: the worktree's node_modules stand in for `npm ci --omit=dev`.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { FIXTURE_BIN, recipe, REPO_ROOT, SCHEMA_PATH, SHA, tempDir } from '../../test/helpers.js';
import { simulateUpload } from './interpolation.js';
import { createSchemaValidator } from './schema.js';
import { EXECUTABLE_STEP_KEY } from './steps.js';

const NPM_BIN = resolve(import.meta.dirname, '../../test/fixtures/npm-bin');
const SCRIPT = join(REPO_ROOT, '.buildkite/bootstrap.sh');
const EXECUTABLE_SCRIPT = join(REPO_ROOT, '.buildkite/build-executable.sh');

interface Call {
  tool?: string;
  argv: string[];
  cwd: string;
}

function bootstrap(extraEnv: Record<string, string>, script = SCRIPT) {
  const dir = tempDir('perf-eval-bootstrap-');
  const store = join(dir, 'store');
  const seaDir = join(dir, 'sea');
  mkdirSync(seaDir);
  const log = join(dir, 'calls.jsonl');
  const env: Record<string, string> = {
    PATH: `${NPM_BIN}:${FIXTURE_BIN}:${process.env['PATH'] ?? ''}`,
    HOME: process.env['HOME'] ?? dir,
    FAKE_BUILDKITE_AGENT_LOG: log,
    FAKE_BUILDKITE_AGENT_STORE: store,
    PERF_EVAL_BUILDKITE_SCHEMA: SCHEMA_PATH,
    PERF_EVAL_PIPELINE_FILE: join(dir, 'pipeline.generated.yaml'),
    PERF_EVAL_SEA_DIR: seaDir,
    PERF_EVAL_CLI_BUNDLE: join(dir, 'build-cli/perf-eval.cjs'),
    PERF_EVAL_SCHEMA_CACHE_DIR: join(dir, 'schema-cache'),
    BUILDKITE: 'true',
    ...extraEnv,
  };
  const result = spawnSync('bash', [script], {
    cwd: dir,
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const calls = existsSync(log)
    ? readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Call)
    : [];
  return {
    dir,
    store,
    seaDir,
    result,
    calls,
    pipelineFile: env['PERF_EVAL_PIPELINE_FILE'] as string,
    schemaCacheDir: env['PERF_EVAL_SCHEMA_CACHE_DIR'] as string,
  };
}

describe('.buildkite/pipeline.yaml', () => {
  it('starts the bootstrap and the executable step together on the CPU queue; the GPU steps depend on the latter', () => {
    const bootstrapPipeline = parse(readFileSync(join(REPO_ROOT, '.buildkite/pipeline.yaml'), 'utf8')) as {
      steps: Array<Record<string, unknown>>;
    };
    expect(bootstrapPipeline.steps.map((step) => [step['key'], step['command']])).toEqual([
      ['bootstrap', 'bash .buildkite/bootstrap.sh'],
      [EXECUTABLE_STEP_KEY, 'bash .buildkite/build-executable.sh'],
    ]);
    for (const step of bootstrapPipeline.steps) {
      expect(step).toMatchObject({ agents: { queue: 'small_cpu_queue_premerge' } });
      // Neither waits for the other.
      expect(step['depends_on']).toBeUndefined();
    }
    expect(bootstrapPipeline.steps[0]).toMatchObject({ label: ':pipeline: generate steps' });
    expect(createSchemaValidator(SCHEMA_PATH).validate(bootstrapPipeline)).toEqual([]);
  });
});

describe('.buildkite/bootstrap.sh', () => {
  it('installs the runtime only, bundles the CLI, validates, uploads the pipeline artifact, then the pipeline without interpolation', () => {
    const queue = 'h200-$HOME-$(id)';
    const { result, calls, store, pipelineFile, schemaCacheDir } = bootstrap({
      VLLM_IMAGE: `vllm/vllm-openai:nightly-${SHA}`,
      VLLM_COMMIT: SHA,
      H200_QUEUE: queue,
    });
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('--- :pipeline: generate');
    expect(result.stdout).toMatch(/^dispatched 1 upload\(s\) in \d+ s$/m);
    // Nothing of the unit suite or the executable build is left on the upload's path.
    expect(result.stdout).not.toMatch(/vitest|build-sea|:test_tube:/);

    expect(calls.map((call) => `${call.tool ?? 'buildkite-agent'} ${call.argv.join(' ')}`)).toEqual([
      'npm ci --omit=dev --no-audit --no-fund',
      `buildkite-agent artifact upload ${pipelineFile}`,
      `buildkite-agent pipeline upload --no-interpolation ${pipelineFile}`,
    ]);

    // The uploaded pipeline is the validated file, byte for byte, and survives the upload literally.
    const uploadedText = readFileSync(join(store, 'pipelines/1.yaml'), 'utf8');
    expect(uploadedText).toBe(readFileSync(pipelineFile, 'utf8'));
    expect(readFileSync(join(store, 'artifacts', pipelineFile), 'utf8')).toBe(uploadedText);
    const noInterpolation = calls[2]?.argv.includes('--no-interpolation') ?? false;
    const uploaded = simulateUpload(uploadedText, { noInterpolation, env: { HOME: '/home/bootstrap' } }) as {
      steps: Array<{ agents: { queue: string }; label: string; depends_on: string }>;
    };
    expect(uploaded.steps).toHaveLength(13);
    expect(
      uploaded.steps
        .filter((step) => step.label.startsWith(':h200:'))
        .every((step) => step.agents.queue === queue),
    ).toBe(true);
    expect(uploaded.steps.every((step) => step.depends_on === EXECUTABLE_STEP_KEY)).toBe(true);
    expect(createSchemaValidator(SCHEMA_PATH).validate(uploaded)).toEqual([]);
    // The bundled CLI caches the compiled schema validators (the re-check of the written file uses it).
    expect(readdirSync(schemaCacheDir).filter((name) => name.endsWith('.cjs'))).toHaveLength(1);
  }, 120_000);

  it('uploads a selection of more than 450 jobs as several files, in order, each schema-valid', () => {
    // A copy of the repository layout with 8 sweep recipes of 64 variants: 512 steps.
    const repo = tempDir('perf-eval-bootstrap-repo-');
    mkdirSync(join(repo, '.buildkite'));
    cpSync(SCRIPT, join(repo, '.buildkite/bootstrap.sh'));
    symlinkSync(join(REPO_ROOT, 'scripts'), join(repo, 'scripts'));
    cpSync(join(REPO_ROOT, 'profiles'), join(repo, 'profiles'), { recursive: true });
    mkdirSync(join(repo, 'workloads'));
    const sweep64 = [
      'sweep:',
      '  serve_args:',
      '    --a: [1, 2, 3, 4, 5, 6, 7, 8]',
      '    --b: [1, 2, 3, 4, 5, 6, 7, 8]',
    ].join('\n');
    for (let i = 0; i < 8; i++)
      writeFileSync(
        join(repo, 'workloads', `r${i}.yaml`),
        recipe({ name: `r${i}`, nightly: true, extra: sweep64 }),
      );
    const { result, calls, store, dir } = bootstrap(
      { PERF_EVAL_PIPELINE_FILE: 'pipeline.generated.yaml' },
      join(repo, '.buildkite/bootstrap.sh'),
    );
    expect(result.status, result.stderr).toBe(0);
    expect(dir).not.toBe(repo);
    const files = ['pipeline.generated.1.yaml', 'pipeline.generated.2.yaml'];
    expect(calls.filter((call) => call.tool === undefined).map((call) => call.argv.join(' '))).toEqual([
      ...files.map((file) => `artifact upload ${file}`),
      ...files.map((file) => `pipeline upload --no-interpolation ${file}`),
    ]);
    expect(result.stdout).toMatch(/^dispatched 2 upload\(s\) in \d+ s$/m);
    const uploads = [1, 2].map(
      (n) =>
        parse(readFileSync(join(store, `pipelines/${n}.yaml`), 'utf8')) as { steps: Array<{ key: string }> },
    );
    expect(uploads.map((upload) => upload.steps.length)).toEqual([450, 62]);
    expect(uploads[0]?.steps[0]?.key).toBe('wl-r0--a-1--b-1');
    expect(uploads[1]?.steps.at(-1)?.key).toBe('wl-r7--a-8--b-8');
    for (const upload of uploads) expect(createSchemaValidator(SCHEMA_PATH).validate(upload)).toEqual([]);
    expect(existsSync(join(repo, 'pipeline.generated.yaml'))).toBe(false);
  }, 120_000);

  it('uploads nothing when WORKLOADS names an unknown recipe', () => {
    const { result, calls } = bootstrap({ WORKLOADS: 'qwen3_5_h200,qwen3_5_h20' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      "WORKLOADS entry 'qwen3_5_h20' did not match any file in workloads/ (closest: qwen3_5_h200",
    );
    expect(calls.filter((call) => call.tool === undefined)).toEqual([]);
  }, 120_000);

  it('stops before anything else when npm ci fails', () => {
    const { result, calls } = bootstrap({ FAKE_NPM_FAIL: '1' });
    expect(result.status).not.toBe(0);
    expect(calls.map((call) => call.tool ?? 'buildkite-agent')).toEqual(['npm']);
    expect(result.stdout).not.toContain(':package: bundle');
  });
});

describe('.buildkite/build-executable.sh', () => {
  it('installs the runtime only, builds the executable, smoke-tests it and uploads it for the GPU steps', () => {
    const { result, calls, store, seaDir } = bootstrap({}, EXECUTABLE_SCRIPT);
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.status, result.stderr).toBe(0);
    expect(calls.map((call) => `${call.tool ?? 'buildkite-agent'} ${call.argv.join(' ')}`)).toEqual([
      'npm ci --omit=dev --no-audit --no-fund',
      'buildkite-agent artifact upload perf-eval',
    ]);
    expect(calls[1]?.cwd).toBe(seaDir);

    // The executable artifact runs with no Node on PATH.
    const executable = join(store, 'artifacts/perf-eval');
    expect(statSync(executable).mode & 0o111).not.toBe(0);
    const noNode = tempDir('perf-eval-no-node-');
    expect(readdirSync(noNode)).toEqual([]);
    expect(spawnSync('/bin/sh', ['-c', 'command -v node'], { env: { PATH: noNode } }).status).not.toBe(0);
    const version = spawnSync(executable, ['--version'], { env: { PATH: noNode }, encoding: 'utf8' });
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(
      (JSON.parse(readFileSync(join(REPO_ROOT, 'packages/cli/package.json'), 'utf8')) as { version: string })
        .version,
    );
    const validate = spawnSync(executable, ['validate'], {
      cwd: REPO_ROOT,
      env: { PATH: noNode },
      encoding: 'utf8',
    });
    expect(validate.status, validate.stderr).toBe(0);
    expect(validate.stdout).toMatch(/^(\d+) recipe\(s\): \1 valid, 0 invalid/m);
  }, 240_000);
});
