/** Runs the generated step commands in bash, the way a Buildkite job does, against fakes. */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FIXTURE_BIN, makeRoot, recipe, REPO_ROOT, tempDir } from '../../test/helpers.js';
import { generatePipeline } from './generate.js';
import type { CommandStep } from './types.js';

const FAKE_EXECUTABLE = resolve(import.meta.dirname, '../../test/fixtures/artifacts/perf-eval');

interface Call {
  tool?: string;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
}

function job(step: CommandStep, extraEnv: Record<string, string> = {}) {
  const dir = tempDir('perf-eval-job-');
  const store = join(dir, 'store');
  const checkout = join(dir, 'checkout');
  mkdirSync(join(store, 'artifacts'), { recursive: true });
  mkdirSync(checkout);
  copyFileSync(FAKE_EXECUTABLE, join(store, 'artifacts/perf-eval'));
  const log = join(dir, 'calls.jsonl');
  const env = {
    PATH: `${FIXTURE_BIN}:${process.env['PATH'] ?? ''}`,
    HOME: join(dir, 'home'),
    FAKE_BUILDKITE_AGENT_LOG: log,
    FAKE_BUILDKITE_AGENT_STORE: store,
    BUILDKITE: 'true',
    ...step.env,
    ...extraEnv,
  };
  const results = step.commands.map((command) =>
    spawnSync('bash', ['-e', '-c', command], { cwd: checkout, env, encoding: 'utf8' }),
  );
  const calls = (): Call[] =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as Call)
      : [];
  return { checkout, results, calls };
}

function stepFor(file: string, env: Record<string, string> = {}, root = REPO_ROOT): CommandStep {
  return generatePipeline({ root, env: { ...env, WORKLOADS: file } }).pipeline.steps[0] as CommandStep;
}

describe('GPU step commands (recipe-compat.md §13.4)', () => {
  it('docker step: downloads the executable, fetches the token first, runs the recipe (no separate setup)', () => {
    const step = stepFor('glm_5_1_h200');
    const { checkout, results, calls } = job(step);
    expect(results.map((result) => result.status)).toEqual([0, 0]);
    expect(statSync(join(checkout, 'perf-eval')).mode & 0o111).not.toBe(0);
    const log = calls();
    expect(log.map((call) => `${call.tool ?? 'buildkite-agent'} ${call.argv.join(' ')}`)).toEqual([
      'buildkite-agent artifact download perf-eval . --step perf-eval-executable',
      'buildkite-agent secret get INGEST_BEARER_TOKEN',
      'perf-eval run workloads/glm_5_1_h200.yaml',
    ]);
    const run = log[2] as Call;
    expect(run.env['INGEST_BEARER_TOKEN']).toBe('fake-ingest-token');
    expect(run.env['HF_HOME']).toBe(join(checkout, '.hf-cache'));
    expect(
      run.env['PATH']?.startsWith(
        `${join(checkout, '.venv/bin')}:${join(checkout, '..', 'home/.local/bin')}:`,
      ),
    ).toBe(true);
    for (const result of results)
      expect(`${result.stdout}${result.stderr}`).not.toContain('fake-ingest-token');
  });

  it('Kubernetes step: keeps the pod HF_HOME (D19)', () => {
    const step = stepFor('minimax_m3_mi355x');
    expect(step.commands[1]).not.toContain('HF_HOME');
    const { results, calls } = job(step, { HF_HOME: '/root/.cache/huggingface' });
    expect(results.map((result) => result.status)).toEqual([0, 0]);
    const log = calls();
    expect(log.map((call) => call.argv[0])).toEqual(['artifact', 'secret', 'run']);
    expect(log[2]?.argv).toEqual(['run', 'workloads/minimax_m3_mi355x.yaml']);
    expect(log[2]?.env['HF_HOME']).toBe('/root/.cache/huggingface');
  });

  it('does not start the run when the secret cannot be fetched', () => {
    const { results, calls } = job(stepFor('qwen3_5_h200'), { FAKE_BUILDKITE_AGENT_FAIL: 'secret get' });
    expect(results[1]?.status).not.toBe(0);
    expect(calls().some((call) => call.tool === 'perf-eval' && call.argv[0] === 'run')).toBe(false);
  });

  it('passes a recipe path with $ and ( ) to the executable literally', () => {
    const root = makeRoot({ recipes: { '$HOME_$(id).yaml': recipe({ name: 'x-$HOME-$(id)' }) } });
    const step = stepFor('$HOME_$(id)', {}, root);
    expect(step.key).toBe('wl--HOME_--id-');
    const { results, calls } = job(step);
    expect(results.map((result) => result.status)).toEqual([0, 0]);
    expect(calls().at(-1)?.argv).toEqual(['run', 'workloads/$HOME_$(id).yaml']);
  });

  it('never runs a separate setup before the run: the run provisions while its server starts', () => {
    const root = makeRoot({
      recipes: {
        'docker_bfcl.yaml': recipe({ extra: 'bfcl:\n  test_categories: [simple_python]' }),
        'native.yaml': recipe({ gpu: 'B200' }),
        'sim.yaml': recipe({ gpu: 'SIM' }),
      },
    });
    const { pipeline } = generatePipeline({ root, env: { WORKLOADS: 'docker_bfcl,native,sim' } });
    for (const step of pipeline.steps as CommandStep[]) {
      expect(step.commands).toHaveLength(2);
      expect(step.commands.join('\n')).not.toMatch(/perf-eval setup|pip install/);
      expect(step.commands[1]).toMatch(/\.\/perf-eval run workloads\/\w+\.yaml$/);
    }
  });
});
