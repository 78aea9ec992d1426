/**
 * End to end: `.buildkite/bootstrap.sh` with a fake `buildkite-agent` and a fake `npm` on PATH
 * (buildkite.md §12). Slow (~30-60 s): it builds the CLI and the self-contained executable for real.
 * The unit-test step is skipped with PERF_EVAL_BOOTSTRAP_SKIP_TESTS=1 (this test runs inside it), and
 * the whole file is skipped while the bootstrap itself runs the suite (no recursion).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { FIXTURE_BIN, REPO_ROOT, SCHEMA_PATH, SHA, tempDir } from '../../test/helpers.js';
import { simulateUpload } from './interpolation.js';
import { createSchemaValidator } from './schema.js';

const NPM_BIN = resolve(import.meta.dirname, '../../test/fixtures/npm-bin');
const SCRIPT = join(REPO_ROOT, '.buildkite/bootstrap.sh');

interface Call {
  tool?: string;
  argv: string[];
  cwd: string;
}

function bootstrap(extraEnv: Record<string, string>) {
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
    PERF_EVAL_BOOTSTRAP_SKIP_TESTS: '1',
    BUILDKITE: 'true',
    ...extraEnv,
  };
  const result = spawnSync('bash', [SCRIPT], { cwd: dir, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Call) : [];
  return { dir, store, seaDir, result, calls, pipelineFile: env['PERF_EVAL_PIPELINE_FILE'] as string };
}

const describeUnlessNested = process.env['PERF_EVAL_BOOTSTRAP_RUNNING'] ? describe.skip : describe;

describeUnlessNested('.buildkite/bootstrap.sh', () => {
  it('pipeline.yaml runs the bootstrap script on the CPU queue', () => {
    const bootstrapPipeline = parse(readFileSync(join(REPO_ROOT, '.buildkite/pipeline.yaml'), 'utf8')) as { steps: Array<Record<string, unknown>> };
    expect(bootstrapPipeline.steps).toHaveLength(1);
    expect(bootstrapPipeline.steps[0]).toMatchObject({ label: ':pipeline: generate steps', agents: { queue: 'small_cpu_queue_premerge' }, command: 'bash .buildkite/bootstrap.sh' });
    expect(createSchemaValidator(SCHEMA_PATH).validate(bootstrapPipeline)).toEqual([]);
  });

  it('installs, validates, builds the executable, uploads both artifacts, then the pipeline without interpolation', () => {
    const queue = 'h200-$HOME-$(id)';
    const { result, calls, store, seaDir, pipelineFile } = bootstrap({ VLLM_IMAGE: `vllm/vllm-openai:nightly-${SHA}`, VLLM_COMMIT: SHA, H200_QUEUE: queue });
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('--- :pipeline: generate');

    expect(calls.map((call) => `${call.tool ?? 'buildkite-agent'} ${call.argv.join(' ')}`)).toEqual([
      'npm ci --no-audit --no-fund',
      `buildkite-agent artifact upload ${pipelineFile}`,
      'buildkite-agent artifact upload perf-eval',
      `buildkite-agent pipeline upload --no-interpolation ${pipelineFile}`,
    ]);
    expect(calls[2]?.cwd).toBe(seaDir);

    // The uploaded pipeline is the validated file, byte for byte, and survives the upload literally.
    const uploadedText = readFileSync(join(store, 'pipelines/1.yaml'), 'utf8');
    expect(uploadedText).toBe(readFileSync(pipelineFile, 'utf8'));
    expect(readFileSync(join(store, 'artifacts', pipelineFile), 'utf8')).toBe(uploadedText);
    const noInterpolation = calls[3]?.argv.includes('--no-interpolation') ?? false;
    const uploaded = simulateUpload(uploadedText, { noInterpolation, env: { HOME: '/home/bootstrap' } }) as { steps: Array<{ agents: { queue: string }; label: string }> };
    expect(uploaded.steps).toHaveLength(13);
    expect(uploaded.steps.filter((step) => step.label.startsWith(':h200:')).every((step) => step.agents.queue === queue)).toBe(true);
    expect(createSchemaValidator(SCHEMA_PATH).validate(uploaded)).toEqual([]);

    // The executable artifact runs with no Node on PATH.
    const executable = join(store, 'artifacts/perf-eval');
    expect(statSync(executable).mode & 0o111).not.toBe(0);
    const noNode = tempDir('perf-eval-no-node-');
    expect(readdirSync(noNode)).toEqual([]);
    expect(spawnSync('/bin/sh', ['-c', 'command -v node'], { env: { PATH: noNode } }).status).not.toBe(0);
    const version = spawnSync(executable, ['--version'], { env: { PATH: noNode }, encoding: 'utf8' });
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(REPO_ROOT, 'packages/cli/package.json'), 'utf8')) as { version: string }).version);
    const validate = spawnSync(executable, ['validate'], { cwd: REPO_ROOT, env: { PATH: noNode }, encoding: 'utf8' });
    expect(validate.status, validate.stderr).toBe(0);
    expect(validate.stdout).toMatch(/^(\d+) recipe\(s\): \1 valid, 0 invalid/m);
  }, 240_000);

  it('uploads nothing when WORKLOADS names an unknown recipe', () => {
    const { result, calls } = bootstrap({ WORKLOADS: 'qwen3_5_h200,qwen3_5_h20' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("WORKLOADS entry 'qwen3_5_h20' did not match any file in workloads/ (closest: qwen3_5_h200");
    expect(calls.filter((call) => call.tool === undefined)).toEqual([]);
  }, 120_000);

  it('stops before anything else when npm ci fails', () => {
    const { result, calls } = bootstrap({ FAKE_NPM_FAIL: '1' });
    expect(result.status).not.toBe(0);
    expect(calls.map((call) => call.tool ?? 'buildkite-agent')).toEqual(['npm']);
    expect(result.stdout).not.toContain(':test_tube:');
  });
});
