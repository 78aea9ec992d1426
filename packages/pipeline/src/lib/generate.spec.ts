import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { GOLDEN_DIR, makeRoot, recipe, REPO_ROOT, SCHEMA_PATH, SHA } from '../../test/helpers.js';
import { PipelineOverrideError, PipelineRecipeError } from './errors.js';
import { generatePipeline } from './generate.js';
import { lintPipeline } from './lint.js';
import { createSchemaValidator } from './schema.js';
import { ECR_PULL_THROUGH_PREFIX, EXECUTABLE_STEP_KEY } from './steps.js';
import type { CommandStep } from './types.js';

type Loose = Record<string, unknown>;

function golden(name: string): Loose[] {
  return (parse(readFileSync(join(GOLDEN_DIR, name), 'utf8')) as { steps: Loose[] }).steps;
}

/**
 * buildkite.md §2.3: drop key/retry from ours and commands from both. `depends_on` is dropped from
 * ours too: it is one of the fields the rewrite adds (buildkite.md §2.2, the executable step of
 * gpu-time.md §4; upstream built nothing before its GPU steps). Its value is asserted separately below.
 */
function comparable(steps: readonly Loose[], ours: boolean): Loose[] {
  const drop = ours ? ['commands', 'key', 'depends_on', 'retry'] : ['commands'];
  return steps.map((step) => Object.fromEntries(Object.entries(step).filter(([key]) => !drop.includes(key))));
}

function pod(step: CommandStep): Loose {
  const kubernetes = (step.plugins?.[0] as { kubernetes: Loose }).kubernetes;
  return (kubernetes['podSpec'] ?? kubernetes['podSpecPatch']) as Loose;
}

function container(step: CommandStep): Loose {
  return (pod(step)['containers'] as Loose[])[0] as Loose;
}

const schema = () => createSchemaValidator(SCHEMA_PATH);

describe('golden comparison (13 vendored recipes)', () => {
  it.each([
    ['nightly_noenv.yaml', {}],
    ['nightly_with_image_commit.yaml', { VLLM_IMAGE: `vllm/vllm-openai:nightly-${SHA}`, VLLM_COMMIT: SHA }],
  ])('matches %s in every field but commands, key order included', (file, env) => {
    const generated = generatePipeline({ root: REPO_ROOT, env });
    const ours = parse(generated.yaml) as { steps: Loose[] };
    const expected = comparable(golden(file), false);
    const actual = comparable(ours.steps, true);
    expect(actual).toEqual(expected);
    // toEqual ignores key order; upstream's order is part of the contract too.
    expect(actual.map((step) => Object.keys(step))).toEqual(expected.map((step) => Object.keys(step)));
    expect(ours.steps).toHaveLength(13);
    expect(schema().validate(ours)).toEqual([]);
    expect(lintPipeline(ours, generated.lintContext)).toEqual([]);
  });

  it('makes every step depend on the executable step of .buildkite/pipeline.yaml, right after its key', () => {
    const { pipeline } = generatePipeline({ root: REPO_ROOT, env: {} });
    expect(pipeline.steps.map((step) => step.depends_on)).toEqual(
      pipeline.steps.map(() => EXECUTABLE_STEP_KEY),
    );
    expect(pipeline.steps.map((step) => Object.keys(step).slice(0, 3))).toEqual(
      pipeline.steps.map(() => ['label', 'key', 'depends_on']),
    );
    const bootstrap = parse(readFileSync(join(REPO_ROOT, '.buildkite/pipeline.yaml'), 'utf8')) as {
      steps: Loose[];
    };
    expect(bootstrap.steps.map((step) => step['key'])).toContain(EXECUTABLE_STEP_KEY);
  });

  it('adds a unique wl-<stem> key and lost-agent retries (stack_error only on Kubernetes steps)', () => {
    const { pipeline } = generatePipeline({ root: REPO_ROOT, env: {} });
    const keys = pipeline.steps.map((step) => step.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys[1]).toBe('wl-deepseek_v4_pro_5_h200');
    const h200 = pipeline.steps.find((step) => step.agents.queue === 'H200') as CommandStep;
    const b200 = pipeline.steps.find((step) => step.agents.queue === 'b200-k8s') as CommandStep;
    expect(h200.retry).toEqual({
      automatic: [
        { exit_status: -1, limit: 2 },
        { signal_reason: 'agent_stop', limit: 2 },
      ],
    });
    expect(b200.retry.automatic).toContainEqual({ signal_reason: 'stack_error', limit: 1 });
  });
});

describe('behaviour without a golden (recipe-compat.md §13.7)', () => {
  it('rewrites public ECR pod images, copies BENCH_ONLY verbatim, installs only bench, follows WORKLOADS order', () => {
    const image = `public.ecr.aws/q9t5s3a7/vllm-ci-postmerge-repo:${SHA}`;
    const generated = generatePipeline({
      root: REPO_ROOT,
      env: {
        VLLM_IMAGE: image,
        VLLM_COMMIT: SHA,
        BENCH_ONLY: '1',
        WORKLOADS: 'qwen3_5_h200, workloads/gpt_oss_120b_b200.yaml\nkimi_k2_5_mi355x',
      },
    });
    const steps = generated.pipeline.steps;
    expect(steps.map((step) => step.label)).toEqual([
      ':h200: qwen3_5-h200',
      ':b200: gpt_oss_120b-b200',
      ':amd: kimi_k2_5-mi355x',
    ]);
    expect(container(steps[1] as CommandStep)['image']).toBe(
      `${ECR_PULL_THROUGH_PREFIX}q9t5s3a7/vllm-ci-postmerge-repo:${SHA}`,
    );
    // A CUDA image is not accepted on ROCm; the explicit commit picks the ROCm nightly.
    expect(container(steps[2] as CommandStep)['image']).toBe(`vllm/vllm-openai-rocm:nightly-${SHA}`);
    for (const step of steps) {
      expect(step.env).toEqual({ VLLM_IMAGE: image, VLLM_COMMIT: SHA, BENCH_ONLY: '1' });
      expect(step.commands[0]).toMatch(/chmod \+x \.\/perf-eval$/);
    }
    expect(schema().validate(generated.pipeline)).toEqual([]);
  });

  it('keeps the ECR image when the profile sets ecr_pull_through_cache: false', () => {
    const root = makeRoot({
      extraProfiles:
        '\nROCMX:\n  queue: rocmx_queue\n  image_repo: vllm/vllm-openai-rocm\n  server_runtime: native\n  k8s_plugin: amd\n  ecr_pull_through_cache: false\n',
      recipes: {
        'a.yaml': recipe({ gpu: 'ROCMX', numGpus: 2, nightly: true }),
        'b.yaml': recipe({ gpu: 'MI300X', nightly: true }),
      },
    });
    const image = 'public.ecr.aws/rocm/vllm-rocm:nightly';
    const { pipeline } = generatePipeline({ root, env: { VLLM_IMAGE: image } });
    expect(container(pipeline.steps[0] as CommandStep)['image']).toBe(image);
    expect(container(pipeline.steps[1] as CommandStep)['image']).toBe(
      `${ECR_PULL_THROUGH_PREFIX}rocm/vllm-rocm:nightly`,
    );
    expect((container(pipeline.steps[0] as CommandStep)['resources'] as Loose)['limits']).toEqual({
      'amd.com/gpu': 2,
    });
  });

  it('treats the SIM profile like docker: :buildkite: emoji, no plugin, no stack_error retry', () => {
    const root = makeRoot({
      recipes: { 'sim.yaml': recipe({ name: 'sim-demo', gpu: 'SIM', nightly: true }) },
    });
    const [step] = generatePipeline({ root, env: {} }).pipeline.steps;
    expect(step?.label).toBe(':buildkite: sim-demo');
    expect(step?.agents).toEqual({ queue: 'cpu' });
    expect(step?.plugins).toBeUndefined();
    expect(step?.retry.automatic).toHaveLength(2);
    expect(step?.commands[0]).toMatch(/chmod \+x \.\/perf-eval$/);
  });

  it('emits NIGHTLY only when it is set, and BENCH_ONLY "1" from a bench_only recipe', () => {
    const root = makeRoot({ recipes: { 'x.yaml': recipe({ nightly: true, extra: 'bench_only: true' }) } });
    expect(generatePipeline({ root, env: {} }).pipeline.steps[0]?.env).toEqual({ BENCH_ONLY: '1' });
    expect(
      generatePipeline({ root, env: { NIGHTLY: '1', BENCH_ONLY: 'yes' } }).pipeline.steps[0]?.env,
    ).toEqual({ BENCH_ONLY: 'yes', NIGHTLY: '1' });
    const plain = makeRoot({ recipes: { 'x.yaml': recipe({ nightly: true }) } });
    expect(generatePipeline({ root: plain, env: {} }).pipeline.steps[0]?.env).toBeUndefined();
  });

  it('labels with the file stem when the recipe has no name, and times out after 120 minutes by default', () => {
    const root = makeRoot({ recipes: { 'no_name.yaml': recipe({ nightly: true }) } });
    const [step] = generatePipeline({ root, env: {} }).pipeline.steps;
    expect(step?.label).toBe(':h200: no_name');
    expect(step?.timeout_in_minutes).toBe(120);
  });
});

describe('recipe validation at generation time', () => {
  const broken = 'gpu: H200\nvllm:\n  model: org/m\nnigthly: true\n';

  it('fails when any selected recipe is invalid, reporting every invalid file', () => {
    const root = makeRoot({
      recipes: { 'good.yaml': recipe({ nightly: true }), 'bad.yaml': broken, 'worse.yaml': 'gpu: NOPE\n' },
    });
    const error = (() => {
      try {
        generatePipeline({ root, env: {} });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(PipelineRecipeError);
    expect((error as PipelineRecipeError).code).toBe('E_PIPELINE_INVALID_RECIPES');
    expect((error as PipelineRecipeError).problems.map((problem) => problem.file)).toEqual([
      'workloads/bad.yaml',
      'workloads/worse.yaml',
    ]);
    expect((error as Error).message).toMatch(
      /^2 selected recipe\(s\) invalid; no pipeline generated: workloads\/bad\.yaml:\d+:\d+: /,
    );
  });

  it('loads only the selected recipes when WORKLOADS is set (D10)', () => {
    const root = makeRoot({ recipes: { 'good.yaml': recipe(), 'bad.yaml': broken } });
    const { pipeline } = generatePipeline({ root, env: { WORKLOADS: 'good' } });
    expect(pipeline.steps.map((step) => step.key)).toEqual(['wl-good']);
    expect(() => generatePipeline({ root, env: { WORKLOADS: 'good,bad' } })).toThrow(PipelineRecipeError);
  });
});

describe('per-cluster overrides (recipe-compat.md §13.6)', () => {
  const root = () =>
    makeRoot({
      recipes: {
        'a_mi300x.yaml': recipe({ gpu: 'MI300X', numGpus: 8, nightly: true }),
        'b_mi355x.yaml': recipe({ gpu: 'MI355X', numGpus: 4, nightly: true }),
        'c_h200.yaml': recipe({ gpu: 'H200', nightly: true }),
      },
    });
  const volumes = (step: CommandStep | undefined) => pod(step as CommandStep)['volumes'] as Loose[];

  it('<GPU>_QUEUE replaces one profile queue (trimmed) and the lint accepts it', () => {
    const generated = generatePipeline({
      root: root(),
      env: { H200_QUEUE: '  h200-canary ', MI300X_QUEUE: '   ' },
    });
    expect(generated.pipeline.steps.map((step) => step.agents.queue)).toEqual([
      'mi300_perf_eval',
      'mi355_perf_eval',
      'h200-canary',
    ]);
    expect(lintPipeline(generated.pipeline, generated.lintContext)).toEqual([]);
  });

  it('MI355X_HF_CACHE_VOLUME (JSON) replaces the hf-cache source for MI355X only', () => {
    const { pipeline } = generatePipeline({
      root: root(),
      env: { MI355X_HF_CACHE_VOLUME: '{"persistentVolumeClaim":{"claimName":"x"}}' },
    });
    expect(volumes(pipeline.steps[1])[1]).toEqual({
      name: 'hf-cache',
      persistentVolumeClaim: { claimName: 'x' },
    });
    expect(volumes(pipeline.steps[0])[1]).toEqual({ name: 'hf-cache', emptyDir: {} });
    expect(container(pipeline.steps[1] as CommandStep)['volumeMounts']).toContainEqual({
      name: 'hf-cache',
      mountPath: '/root/.cache/huggingface',
    });
  });

  it('accepts a YAML volume source too', () => {
    const { pipeline } = generatePipeline({
      root: root(),
      env: { MI300X_HF_CACHE_VOLUME: 'hostPath: {path: /data/hf, type: Directory}' },
    });
    expect(volumes(pipeline.steps[0])[1]).toEqual({
      name: 'hf-cache',
      hostPath: { path: '/data/hf', type: 'Directory' },
    });
  });

  it.each([
    [
      '{"name":"mine","persistentVolumeClaim":{"claimName":"x"}}',
      "MI355X_HF_CACHE_VOLUME must not set 'name' (the volume is always named hf-cache)",
    ],
    [
      '{"emptyDir":{},"hostPath":{"path":"/x"}}',
      'MI355X_HF_CACHE_VOLUME must have exactly one volume-source key (e.g. emptyDir, hostPath, persistentVolumeClaim), got emptyDir, hostPath',
    ],
    [
      '[1, 2]',
      'MI355X_HF_CACHE_VOLUME must be a Kubernetes volume source map such as {"persistentVolumeClaim":{"claimName":"hf-cache"}}',
    ],
    ['{"a": [', /^MI355X_HF_CACHE_VOLUME is not valid YAML\/JSON: /],
  ])('rejects %s (D28)', (value, message) => {
    let caught: unknown;
    try {
      generatePipeline({ root: root(), env: { MI355X_HF_CACHE_VOLUME: value } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PipelineOverrideError);
    expect((caught as PipelineOverrideError).code).toBe('E_PIPELINE_INVALID_OVERRIDE');
    if (typeof message === 'string') expect((caught as Error).message).toBe(message);
    else expect((caught as Error).message).toMatch(message);
  });

  it('uses the profile hf_cache_volume when no override is set', () => {
    const custom = makeRoot({
      extraProfiles:
        '\nROCMX:\n  queue: q\n  image_repo: vllm/vllm-openai-rocm\n  server_runtime: native\n  k8s_plugin: amd\n  hf_home: /cache/hf\n  hf_cache_volume:\n    persistentVolumeClaim: {claimName: shared-hf}\n',
      recipes: { 'x.yaml': recipe({ gpu: 'ROCMX', nightly: true }) },
    });
    const generated = generatePipeline({ root: custom, env: {} });
    const step = generated.pipeline.steps[0] as CommandStep;
    expect(volumes(step)[1]).toEqual({ name: 'hf-cache', persistentVolumeClaim: { claimName: 'shared-hf' } });
    expect(container(step)['env']).toContainEqual({ name: 'HF_HOME', value: '/cache/hf' });
    expect(container(step)['volumeMounts']).toContainEqual({ name: 'hf-cache', mountPath: '/cache/hf' });
    expect(lintPipeline(generated.pipeline, generated.lintContext)).toEqual([]);
  });
});
