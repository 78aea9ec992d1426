import { resolve } from 'node:path';
import { PyFloat, pyStr } from '@perf-eval/util';
import { extractCommit, parseImageRef, resolveImage } from './image.js';
import { loadWorkloadFile, loadWorkloadText } from './load.js';
import {
  hasTrustRemoteCode,
  parallelismOf,
  precisionOfModel,
  servedModelNameOf,
  splitServeArgs,
} from './perf.js';
import type { ResolvedBenchRun, ResolvedBfclRun, ResolvedWorkload } from './resolve.js';

const REPO = resolve(import.meta.dirname, '../../../..');
const WORKLOADS = resolve(REPO, 'workloads');
const PROFILES = resolve(REPO, 'profiles/gpu_profiles.yaml');
const SHA = '0123456789abcdef0123456789abcdef01234567';
const WITH_IMAGE_ENV = { VLLM_IMAGE: `vllm/vllm-openai:nightly-${SHA}`, VLLM_COMMIT: SHA };

function loadStem(stem: string, env: Record<string, string> = {}): ResolvedWorkload {
  const result = loadWorkloadFile(resolve(WORKLOADS, `${stem}.yaml`), { profilesPath: PROFILES, env });
  expect(result.errors).toEqual([]);
  if (!result.workload) throw new Error(`${stem} did not resolve`);
  return result.workload;
}

/** Load recipe text as if it were `<tmp>/workloads/<stem>.yaml`; returns the result (errors included). */
function loadText(
  text: string,
  env: Record<string, string> = {},
  path = '/recipes/workloads/test_recipe.yaml',
) {
  return loadWorkloadText(text, path, { profilesPath: PROFILES, env });
}

function resolved(text: string, env: Record<string, string> = {}, path?: string): ResolvedWorkload {
  const result = loadText(text, env, path);
  expect(result.errors).toEqual([]);
  if (!result.workload) throw new Error('did not resolve');
  return result.workload;
}

const LM_BASE = 'tokenized_requests=False,tokenizer_backend=None,timeout=6000,';
const FIVE_CATS = ['simple_python', 'multiple', 'parallel', 'parallel_multiple', 'multi_turn'];
const THREE_CATS = ['simple_python', 'multiple', 'multi_turn'];
const H200_ENV_HEAD: [string, string][] = [['VLLM_DEEP_GEMM_WARMUP', 'skip']];
const B200_ENV_HEAD: [string, string][] = [
  ['VLLM_DEEP_GEMM_WARMUP', 'skip'],
  ['NCCL_CUMEM_HOST_ENABLE', '0'],
];
const H200_HF: [string, string] = ['HF_HOME', '/mnt/shared/hf-models'];
const B200_HF: [string, string] = ['HF_HOME', '/mnt/shared/hf_cache'];

interface Expected {
  name: string;
  gpu: 'H200' | 'B200' | 'MI355X';
  runtime: 'docker' | 'native';
  image: string;
  timeout: number;
  numGpus: number;
  trustRemoteCode: boolean;
  bench: Partial<ResolvedBenchRun>[];
  bfcl: ResolvedBfclRun[];
  perf: { device: string; tp: number; precision: string };
  lmArgs: string;
  env: [string, string][];
}

function bfclRows(
  categories: string[],
  numThreads: number,
  caps: Record<string, number> = {},
): ResolvedBfclRun[] {
  return categories.map((category) => {
    const row: ResolvedBfclRun = { category, numThreads, temperature: '0.001' };
    if (caps[category] !== undefined) row.maxTestCases = caps[category];
    return row;
  });
}

function run8k(
  conc: number,
  numPrompts: number,
  repetitions: number,
  extra: Partial<ResolvedBenchRun> = {},
): Partial<ResolvedBenchRun> {
  return {
    runName: `8k-in-1k-out-conc-${conc}`,
    configName: '8k-in-1k-out',
    configIndex: 0,
    backend: 'openai',
    dataset: 'random',
    inputLen: 8192,
    outputLen: 1024,
    numPrompts,
    maxConcurrency: conc,
    repetitions,
    extraArgs: repetitions === 3 ? { 'num-warmups': 128 } : {},
    ...extra,
  };
}

// recipe-compat.md §16, with no override env.
const TABLE: Record<string, Expected> = {
  deepseek_v4_flash_b200: {
    name: 'deepseek_v4_flash-b200',
    gpu: 'B200',
    runtime: 'native',
    image: 'vllm/vllm-openai:nightly',
    timeout: 120,
    numGpus: 8,
    trustRemoteCode: true,
    bench: [],
    bfcl: bfclRows(FIVE_CATS, 8),
    perf: { device: 'b200', tp: 8, precision: 'bf16' },
    lmArgs: `${LM_BASE}num_concurrent=64,max_length=32768,max_gen_toks=8192`,
    env: [
      ...B200_ENV_HEAD,
      ['CUDA_HOME', '/usr/local/cuda'],
      ['TRITON_PTXAS_PATH', '/usr/local/cuda/bin/ptxas'],
      B200_HF,
    ],
  },
  deepseek_v4_pro_5_h200: {
    name: 'deepseek_v4_pro-h200',
    gpu: 'H200',
    runtime: 'docker',
    image: 'vllm/vllm-openai:nightly',
    timeout: 180,
    numGpus: 8,
    trustRemoteCode: true,
    bench: [run8k(128, 512, 3)],
    bfcl: bfclRows(FIVE_CATS, 16, { multi_turn: 240 }),
    perf: { device: 'h200', tp: 8, precision: 'bf16' },
    lmArgs: `${LM_BASE}num_concurrent=64,max_length=32768,max_gen_toks=8192`,
    env: [...H200_ENV_HEAD, ['TRITON_PTXAS_PATH', '/usr/local/cuda/bin/ptxas'], H200_HF],
  },
  glm_5_1_h200: {
    name: 'glm_5_1-h200',
    gpu: 'H200',
    runtime: 'docker',
    image: 'vllm/vllm-openai:nightly',
    timeout: 180,
    numGpus: 8,
    trustRemoteCode: false,
    bench: [run8k(128, 512, 3)],
    bfcl: bfclRows(FIVE_CATS, 8),
    perf: { device: 'h200', tp: 8, precision: 'fp8' },
    lmArgs: `${LM_BASE}num_concurrent=64,max_length=40960,max_gen_toks=32768`,
    env: [...H200_ENV_HEAD, H200_HF],
  },
  gpt_oss_120b_b200: {
    name: 'gpt_oss_120b-b200',
    gpu: 'B200',
    runtime: 'native',
    image: 'vllm/vllm-openai:nightly',
    timeout: 120,
    numGpus: 1,
    trustRemoteCode: false,
    bench: [run8k(128, 512, 1)],
    bfcl: bfclRows(THREE_CATS, 8),
    perf: { device: 'b200', tp: 1, precision: 'bf16' },
    lmArgs: `${LM_BASE}num_concurrent=64,max_length=32768,max_gen_toks=8192`,
    env: [...B200_ENV_HEAD, ['VLLM_USE_FLASHINFER_MOE_MXFP4_MXFP8', '1'], B200_HF],
  },
  gpt_oss_120b_h200: {
    name: 'gpt_oss_120b-h200',
    gpu: 'H200',
    runtime: 'docker',
    image: 'vllm/vllm-openai:nightly',
    timeout: 120,
    numGpus: 8,
    trustRemoteCode: false,
    bench: [run8k(128, 512, 3)],
    bfcl: bfclRows(THREE_CATS, 8),
    perf: { device: 'h200', tp: 4, precision: 'bf16' },
    lmArgs: `${LM_BASE}num_concurrent=64,max_length=32768,max_gen_toks=8192`,
    env: [...H200_ENV_HEAD, H200_HF],
  },
  gpt_oss_120b_mi355x: {
    name: 'gpt_oss_120b-mi355x',
    gpu: 'MI355X',
    runtime: 'native',
    image: 'vllm/vllm-openai-rocm:nightly',
    timeout: 120,
    numGpus: 8,
    trustRemoteCode: true,
    bench: [run8k(128, 512, 1, { speedBenchSubset: 'throughput_8k', speedBenchCategory: 'low_entropy' })],
    bfcl: [],
    perf: { device: 'mi355x', tp: 1, precision: 'bf16' },
    lmArgs: `${LM_BASE}num_concurrent=64,max_length=32768,max_gen_toks=8192`,
    env: [['VLLM_ROCM_USE_AITER', '1']],
  },
  kimi_k2_5_h200: {
    name: 'kimi_k2_5-h200',
    gpu: 'H200',
    runtime: 'docker',
    image: 'vllm/vllm-openai:nightly',
    timeout: 120,
    numGpus: 8,
    trustRemoteCode: true,
    bench: [run8k(128, 512, 3)],
    bfcl: bfclRows(FIVE_CATS, 16, { multi_turn: 240 }),
    perf: { device: 'h200', tp: 8, precision: 'bf16' },
    lmArgs: `${LM_BASE}num_concurrent=64,max_length=40960,max_gen_toks=32768`,
    env: [...H200_ENV_HEAD, H200_HF],
  },
  kimi_k2_5_mi355x: {
    name: 'kimi_k2_5-mi355x',
    gpu: 'MI355X',
    runtime: 'native',
    image: 'vllm/vllm-openai-rocm:nightly',
    timeout: 120,
    numGpus: 8,
    trustRemoteCode: true,
    bench: [run8k(128, 512, 1, { speedBenchSubset: 'throughput_8k', speedBenchCategory: 'low_entropy' })],
    bfcl: [],
    perf: { device: 'mi355x', tp: 8, precision: 'bf16' },
    lmArgs: `${LM_BASE}num_concurrent=64,max_length=40960,max_gen_toks=32768`,
    env: [
      ['VLLM_ROCM_USE_AITER', '1'],
      ['OMP_NUM_THREADS', '1'],
    ],
  },
  minimax_m2_5_h200: {
    name: 'minimax_m2_5-h200',
    gpu: 'H200',
    runtime: 'docker',
    image: 'vllm/vllm-openai:nightly',
    timeout: 120,
    numGpus: 8,
    trustRemoteCode: true,
    bench: [run8k(128, 512, 3)],
    bfcl: bfclRows(FIVE_CATS, 16, { multi_turn: 240 }),
    perf: { device: 'h200', tp: 4, precision: 'bf16' },
    lmArgs: `${LM_BASE}num_concurrent=64,max_length=40960,max_gen_toks=32768`,
    env: [...H200_ENV_HEAD, H200_HF],
  },
  minimax_m2_5_mi355x: {
    name: 'minimax_m2_5-mi355x',
    gpu: 'MI355X',
    runtime: 'native',
    image: 'vllm/vllm-openai-rocm:nightly',
    timeout: 120,
    numGpus: 8,
    trustRemoteCode: true,
    bench: [run8k(128, 512, 1)],
    bfcl: [],
    perf: { device: 'mi355x', tp: 4, precision: 'bf16' },
    lmArgs: `${LM_BASE}num_concurrent=64,max_length=40960,max_gen_toks=32768`,
    env: [['VLLM_ROCM_USE_AITER', '1']],
  },
  minimax_m3_mi355x: {
    name: 'minimax_m3-mi355x',
    gpu: 'MI355X',
    runtime: 'native',
    image: 'vllm/vllm-openai-rocm:nightly',
    timeout: 120,
    numGpus: 8,
    trustRemoteCode: true,
    bench: [run8k(16, 512, 1, { backend: 'openai-chat' })],
    bfcl: [],
    perf: { device: 'mi355x', tp: 4, precision: 'fp4' },
    lmArgs: `${LM_BASE}num_concurrent=16,max_length=32768,max_gen_toks=8192`,
    env: [
      ['VLLM_ROCM_USE_AITER', '1'],
      ['VLLM_ROCM_USE_AITER_FUSION_SHARED_EXPERTS', '1'],
      ['VLLM_ROCM_USE_AITER_MOE', '1'],
    ],
  },
  qwen3_5_b200: {
    name: 'qwen3_5-b200',
    gpu: 'B200',
    runtime: 'native',
    image: 'vllm/vllm-openai:nightly',
    timeout: 120,
    numGpus: 8,
    trustRemoteCode: true,
    bench: [run8k(128, 256, 1)],
    bfcl: [],
    perf: { device: 'b200', tp: 8, precision: 'fp4' },
    lmArgs: `${LM_BASE}num_concurrent=64,max_length=40960`,
    env: [
      ...B200_ENV_HEAD,
      ['VLLM_USE_DEEP_GEMM', '0'],
      ['VLLM_FLASHINFER_MOE_BACKEND', 'latency'],
      ['VLLM_USE_FLASHINFER_MOE_FP4', '1'],
      B200_HF,
    ],
  },
  qwen3_5_h200: {
    name: 'qwen3_5-h200',
    gpu: 'H200',
    runtime: 'docker',
    image: 'vllm/vllm-openai:nightly',
    timeout: 120,
    numGpus: 8,
    trustRemoteCode: true,
    bench: [run8k(128, 256, 3)],
    bfcl: [],
    perf: { device: 'h200', tp: 8, precision: 'fp8' },
    lmArgs: `${LM_BASE}num_concurrent=64,max_length=40960`,
    env: [...H200_ENV_HEAD, H200_HF],
  },
};

describe('§16 projections of the 13 vendored recipes (no override env)', () => {
  it('covers exactly the 13 vendored stems', () => {
    expect(Object.keys(TABLE)).toHaveLength(13);
  });

  describe.each(Object.entries(TABLE))('%s', (stem, expected) => {
    it('name, gpu, runtime, image, commit, step fields', () => {
      const w = loadStem(stem);
      expect(w.stem).toBe(stem);
      expect(w.name).toBe(expected.name);
      expect(w.gpu).toBe(expected.gpu);
      expect(w.server.runtime).toBe(expected.runtime);
      expect(w.server.image).toBe(expected.image);
      expect(w.server.vllmCommit).toBe('');
      expect(w.nightly).toBe(true);
      expect(w.benchOnly).toBe(false);
      expect(w.timeoutInMinutes).toBe(expected.timeout);
      expect(w.numGpus).toBe(expected.numGpus);
      expect(w.server.startupTimeoutS).toBe(3600);
      expect(w.server.trustRemoteCode).toBe(expected.trustRemoteCode);
      expect(w.server.servedModelName).toBe(w.server.model);
    });

    it('bench runs', () => {
      const w = loadStem(stem);
      expect(w.bench).toStrictEqual(expected.bench);
    });

    it('BFCL rows: category, threads, caps, temperature 0.001, no step limit', () => {
      const w = loadStem(stem);
      expect(w.bfcl).toStrictEqual(expected.bfcl);
    });

    it('perf device / tp / precision', () => {
      const w = loadStem(stem);
      expect({ device: w.perf.device, tp: w.perf.tp, precision: w.perf.precision }).toEqual(expected.perf);
    });

    it('one gsm8k 5-shot task with the exact extra model_args string', () => {
      const w = loadStem(stem);
      expect(w.lmEval).toHaveLength(1);
      expect(w.lmEval[0]).toMatchObject({
        task: 'gsm8k',
        numFewshot: 5,
        chat: false,
        extraModelArgs: expected.lmArgs,
      });
    });

    it('server env in merge order', () => {
      const w = loadStem(stem);
      expect(Object.entries(w.server.env)).toEqual(expected.env);
    });

    it('produces no tool-call-parser warning', () => {
      const w = loadStem(stem);
      expect(w.warnings.map((d) => d.message).filter((m) => m.includes('tool-call-parser'))).toEqual([]);
    });

    it('with VLLM_IMAGE + VLLM_COMMIT: CUDA profiles take the image, AMD profiles the ROCm nightly of the commit', () => {
      const w = loadStem(stem, WITH_IMAGE_ENV);
      const amd = expected.gpu === 'MI355X';
      expect(w.server.image).toBe(
        amd ? `vllm/vllm-openai-rocm:nightly-${SHA}` : `vllm/vllm-openai:nightly-${SHA}`,
      );
      expect(w.server.vllmCommit).toBe(SHA);
      expect(w.server.imageRule).toBe(amd ? 'nightly-commit' : 'VLLM_IMAGE');
      // Nothing else depends on the image env.
      expect(w.bench).toStrictEqual(expected.bench);
      expect(Object.entries(w.server.env)).toEqual(expected.env);
    });
  });

  it('only the two AMD recipes with unused speed_bench keys warn (D14)', () => {
    const warned = Object.keys(TABLE).filter((stem) => loadStem(stem).warnings.length > 0);
    expect(warned).toEqual(['gpt_oss_120b_mi355x', 'kimi_k2_5_mi355x']);
    expect(loadStem('kimi_k2_5_mi355x').warnings.map((d) => d.message)).toEqual([
      "vllm_bench config '8k-in-1k-out' sets speed_bench_dataset_subset but dataset is 'random'; it is ignored",
      "vllm_bench config '8k-in-1k-out' sets speed_bench_category but dataset is 'random'; it is ignored",
    ]);
  });

  it('serve_args tokens are verbatim: two spaces after a trailing space, JSON quotes kept (§4.1)', () => {
    const w = loadStem('deepseek_v4_pro_5_h200');
    expect(w.server.serveArgsText).toContain('--no-enable-flashinfer-autotune  --compilation-config');
    expect(w.server.serveArgs.slice(-3)).toEqual([
      '--no-enable-flashinfer-autotune',
      '--compilation-config',
      '{"mode":0,"cudagraph_mode":"FULL_DECODE_ONLY"}',
    ]);
  });
});

describe('image and commit resolution (§6, D25, D26)', () => {
  const ROCM = 'vllm/vllm-openai-rocm';
  const cases: [label: string, inputs: Parameters<typeof resolveImage>[0], image: string, commit: string][] =
    [
      ['H200, nothing set', {}, 'vllm/vllm-openai:nightly', ''],
      ['H200, vllm.image', { recipeImage: 'vllm/vllm-openai:minimax-m3' }, 'vllm/vllm-openai:minimax-m3', ''],
      [
        'H200, VLLM_IMAGE + VLLM_COMMIT',
        { vllmImage: `vllm/vllm-openai:nightly-${SHA}`, vllmCommit: SHA, recipeImage: 'x/y:z' },
        `vllm/vllm-openai:nightly-${SHA}`,
        SHA,
      ],
      [
        'H200, VLLM_COMMIT only',
        { vllmCommit: 'abc1234', recipeImage: 'x/y:z' },
        'vllm/vllm-openai:nightly-abc1234',
        'abc1234',
      ],
      [
        'H200, vllm.image with a hex run',
        { recipeImage: 'my/img:foo-0123456789abcdef' },
        'my/img:foo-0123456789abcdef',
        '0123456789abcdef',
      ],
      [
        'H200, VLLM_IMAGE alone: commit from its tag',
        { vllmImage: 'vllm/vllm-openai:nightly-abc1234' },
        'vllm/vllm-openai:nightly-abc1234',
        'abc1234',
      ],
      [
        'H200, VLLM_IMAGE with no commit in the tag',
        { vllmImage: 'vllm/vllm-openai:v0.11.0' },
        'vllm/vllm-openai:v0.11.0',
        '',
      ],
      [
        'H200, env values are trimmed',
        { vllmImage: '  vllm/vllm-openai:nightly-abc1234 \n', vllmCommit: ' \t' },
        'vllm/vllm-openai:nightly-abc1234',
        'abc1234',
      ],
      [
        'MI355X, CUDA VLLM_IMAGE + VLLM_COMMIT',
        { imageRepo: ROCM, vllmImage: `vllm/vllm-openai:nightly-${SHA}`, vllmCommit: SHA },
        `${ROCM}:nightly-${SHA}`,
        SHA,
      ],
      [
        'MI355X, ROCm VLLM_IMAGE',
        { imageRepo: ROCM, vllmImage: 'rocm/vllm-dev:nightly' },
        'rocm/vllm-dev:nightly',
        '',
      ],
      [
        'MI355X, ROCm VLLM_IMAGE + commit',
        { imageRepo: ROCM, vllmImage: 'rocm/vllm-dev:nightly', vllmCommit: 'abc1234' },
        'rocm/vllm-dev:nightly',
        'abc1234',
      ],
      [
        'MI355X, CUDA release VLLM_IMAGE',
        { imageRepo: ROCM, vllmImage: 'vllm/vllm-openai:v0.11.0' },
        `${ROCM}:nightly`,
        '',
      ],
      ['MI355X, VLLM_COMMIT only', { imageRepo: ROCM, vllmCommit: SHA }, `${ROCM}:nightly-${SHA}`, SHA],
      ['MI355X, vllm.image', { imageRepo: ROCM, recipeImage: 'rocm/vllm:custom' }, 'rocm/vllm:custom', ''],
    ];
  it.each(cases)('%s', (_label, inputs, image, commit) => {
    const out = resolveImage(inputs);
    expect({ image: out.image, commit: out.commit }).toEqual({ image, commit });
  });

  it('D25: a CUDA VLLM_IMAGE without VLLM_COMMIT on MI355X falls back to <repo>:nightly, with a warning', () => {
    const out = resolveImage({ imageRepo: ROCM, vllmImage: 'vllm/vllm-openai:nightly-abc1234' });
    expect(out.image).toBe(`${ROCM}:nightly`);
    expect(out.commit).toBe('');
    expect(out.rule).toBe('nightly');
    expect(out.warning).toContain(
      "VLLM_IMAGE 'vllm/vllm-openai:nightly-abc1234' is not a ROCm image and is ignored",
    );
  });

  it('D25: ... or to vllm.image when the recipe sets one', () => {
    const out = resolveImage({
      imageRepo: ROCM,
      vllmImage: 'vllm/vllm-openai:nightly-abc1234',
      recipeImage: 'rocm/vllm-dev:nightly_main',
    });
    expect(out).toMatchObject({ image: 'rocm/vllm-dev:nightly_main', commit: '', rule: 'vllm.image' });
    expect(out.warning).toMatch(/ignored/);
  });

  it('D25 through the loader: the MI355X workload warns and uses the ROCm fallback', () => {
    const w = loadStem('minimax_m3_mi355x', { VLLM_IMAGE: 'vllm/vllm-openai:nightly-abc1234' });
    expect(w.server.image).toBe(`${ROCM}:nightly`);
    expect(w.server.vllmCommit).toBe('');
    expect(w.warnings.some((d) => d.message.includes('is not a ROCm image'))).toBe(true);
  });

  it('the same CUDA VLLM_IMAGE alone is used as-is on H200, with its commit and no warning', () => {
    const w = loadStem('glm_5_1_h200', { VLLM_IMAGE: 'vllm/vllm-openai:nightly-abc1234' });
    expect(w.server.image).toBe('vllm/vllm-openai:nightly-abc1234');
    expect(w.server.vllmCommit).toBe('abc1234');
    expect(w.warnings).toEqual([]);
  });

  const commits: [string, string][] = [
    [`vllm/vllm-openai:nightly-${SHA}`, SHA],
    ['vllm/vllm-openai:nightly-abc1234', 'abc1234'],
    ['vllm/vllm-openai:NIGHTLY-ABC1234', 'ABC1234'],
    ['vllm/vllm-openai:nightly-abc1234-cu130', 'abc1234'],
    ['vllm/vllm-openai:nightly-abc1234_x', 'abc1234'],
    ['vllm/vllm-openai:nightly-abc12', ''],
    ['vllm/vllm-openai:nightly', ''],
    ['vllm/vllm-openai:v0.11.0', ''],
    ['vllm/vllm-openai', ''],
    ['my/img:foo-0123456789abcdef', '0123456789abcdef'],
    ['my/img:foo-0123456789a', ''],
    ['my/img:0123456789abcdef0123', '0123456789abcdef0123'],
    ['my/img:x0123456789abcdef-y', ''],
    ['my/img:build.0123456789ab.cu12', '0123456789ab'],
    // D26: a registry port is not a tag; a digest does not hide the tag.
    ['registry:5000/img', ''],
    [`registry:5000/vllm:nightly-${SHA}`, SHA],
    [`vllm/vllm-openai:nightly-${SHA}@sha256:${'e'.repeat(64)}`, SHA],
    [`vllm/vllm-openai@sha256:${'a'.repeat(64)}`, ''],
  ];
  it.each(commits)('extractCommit(%j) = %j', (reference, commit) => {
    expect(extractCommit(reference)).toBe(commit);
  });

  it('D26: parseImageRef splits registry, repository, tag and digest', () => {
    expect(parseImageRef('registry:5000/img')).toStrictEqual({
      registry: 'registry:5000',
      repository: 'img',
    });
    expect(parseImageRef('vllm/vllm-openai:nightly')).toStrictEqual({
      repository: 'vllm/vllm-openai',
      tag: 'nightly',
    });
    expect(parseImageRef(`repo:tag@sha256:${'b'.repeat(64)}`)).toStrictEqual({
      repository: 'repo',
      tag: 'tag',
      digest: `sha256:${'b'.repeat(64)}`,
    });
    expect(parseImageRef('public.ecr.aws/q9t5s3a7/vllm-ci-postmerge-repo:abc')).toStrictEqual({
      registry: 'public.ecr.aws',
      repository: 'q9t5s3a7/vllm-ci-postmerge-repo',
      tag: 'abc',
    });
    expect(parseImageRef('localhost/img:1')).toStrictEqual({
      registry: 'localhost',
      repository: 'img',
      tag: '1',
    });
  });
});

describe('perf metadata (§11)', () => {
  const tpdp: [string, number][] = [
    ['--tensor-parallel-size 2 --data-parallel-size 4', 8],
    ['--data-parallel-size 8', 8],
    ['-tp 2 --dp=4 --tensor-parallel-size=8', 8],
    ['--tensor-parallel-size 4 --enable-expert-parallel', 4],
    ['--tp=2 -dp 2', 4],
    ['', 1],
    ['--max-model-len 32768', 1],
    ['--tensor-parallel-size', 1],
    ['--tensor-parallel-size 0 --data-parallel-size 2', 2],
    ['--tensor-parallel-size x --tensor-parallel-size 4', 1],
    ['--tensor-parallel-size --data-parallel-size 2', 2],
    ['  --tensor-parallel-size   8  ', 8],
  ];
  it.each(tpdp)('TP × DP of %j is %d', (args, product) => {
    expect(parallelismOf(splitServeArgs(args)).product).toBe(product);
  });

  const precisions: [string, string][] = [
    ['nvidia/Qwen3.5-397B-A17B-NVFP4', 'fp4'],
    ['amd/MiniMax-M3-MXFP4', 'fp4'],
    ['zai-org/GLM-5.1-FP8', 'fp8'],
    ['deepseek-ai/DeepSeek-V4-Pro', 'bf16'],
    ['openai/gpt-oss-120b', 'bf16'],
    ['RedHatAI/Llama-3-INT8', 'int8'],
    ['org/model-w4a16-int4', 'int4'],
    ['org/model-FP16', 'fp16'],
    ['org/model-FP8-then-FP4', 'fp4'],
  ];
  it.each(precisions)('precision of %s is %s', (model, precision) => {
    expect(precisionOfModel(model)).toBe(precision);
  });

  it('vllm_bench.metadata overrides device, tp and precision', () => {
    const w = resolved(`gpu: H200
vllm:
  model: zai-org/GLM-5.1-FP8
  serve_args: --tensor-parallel-size 8
vllm_bench:
  metadata: {device: h200-nvl, tp: 16, precision: fp4}
  configs:
    - {name: a, input_len: 1, output_len: 1, num_prompts: 1, max_concurrency: 1}
`);
    expect(w.perf).toEqual({
      device: 'h200-nvl',
      tp: 16,
      precision: 'fp4',
      sources: { device: 'metadata', tp: 'metadata', precision: 'metadata' },
    });
  });

  it('empty metadata strings fall back to the heuristics', () => {
    const w = resolved(`gpu: MI355X
vllm:
  model: amd/MiniMax-M3-MXFP4
  serve_args: -tp 2 -dp 2
vllm_bench:
  metadata: {device: '', precision: ''}
  configs:
    - {name: a, input_len: 1, output_len: 1, num_prompts: 1, max_concurrency: 1}
`);
    expect(w.perf).toEqual({
      device: 'mi355x',
      tp: 4,
      precision: 'fp4',
      sources: { device: 'gpu', tp: 'serve_args', precision: 'model' },
    });
  });
});

describe('serve_args scans (§4.1, §19)', () => {
  const trust: [string, boolean][] = [
    ['--trust-remote-code', true],
    ['--a 1 --trust-remote-code --b', true],
    ['--trust-remote-code=true', true],
    ['--trust-remote-code=True', true],
    ['--trust-remote-code=1', true],
    ['--trust-remote-code=yes', true],
    ['--trust-remote-code=Yes', true],
    ['--trust-remote-code=false', false],
    ['--trust-remote-code=TRUE', false],
    ['--trust-remote-code=YES', false],
    ['--trust-remote-code=', false],
    ['--no-trust-remote-code', false],
    ['--trust-remote-code-x', false],
    ['x--trust-remote-code', false],
    ['', false],
  ];
  it.each(trust)('trust-remote-code in %j: %s', (args, expected) => {
    expect(hasTrustRemoteCode(splitServeArgs(args))).toBe(expected);
  });

  it('splits on whitespace only, no quote processing', () => {
    expect(splitServeArgs(` --a "b c"\t'd'\n--e=* `)).toEqual(['--a', '"b', 'c"', "'d'", '--e=*']);
  });

  it('served model name: --served-model-name X, --served-model-name=X, else the model', () => {
    expect(servedModelNameOf(splitServeArgs('--port 1 --served-model-name gpt --x'))).toBe('gpt');
    expect(servedModelNameOf(splitServeArgs('--served-model-name=gpt'))).toBe('gpt');
    expect(servedModelNameOf(splitServeArgs('--x 1'))).toBeUndefined();
    const base = `gpu: H200
vllm:
  model: org/model
  serve_args: --tool-call-parser x --served-model-name served
bfcl:
  test_categories: [simple_python]
`;
    expect(resolved(base).server.servedModelName).toBe('served');
    expect(resolved(base.replace(' --served-model-name served', '')).server.servedModelName).toBe(
      'org/model',
    );
  });
});

describe('server env merge (§7)', () => {
  const tail = `bfcl:
  test_categories: [simple_python]
`;
  it('existing keys keep their position; values render the Python way; HF_HOME is appended last', () => {
    const w = resolved(`gpu: H200
vllm:
  model: m
  serve_args: --tool-call-parser x
  env:
    A_ZERO: 0
    VLLM_DEEP_GEMM_WARMUP: true
    B_NULL: null
    C_FLOAT: 1.5
    D_FLOAT: 1.0
    E_EMPTY:
    F_FALSE: off
    G_STR: "010"
    H_OCT: 010
${tail}`);
    expect(Object.entries(w.server.env)).toEqual([
      ['VLLM_DEEP_GEMM_WARMUP', 'True'],
      ['A_ZERO', '0'],
      ['B_NULL', 'None'],
      ['C_FLOAT', '1.5'],
      ['D_FLOAT', '1.0'],
      ['E_EMPTY', 'None'],
      ['F_FALSE', 'False'],
      ['G_STR', '010'],
      ['H_OCT', '8'],
      ['HF_HOME', '/mnt/shared/hf-models'],
    ]);
  });

  it('a recipe HF_HOME keeps its recipe position and value; nothing is appended', () => {
    const w = resolved(`gpu: B200
vllm:
  model: m
  serve_args: --tool-call-parser x
  env:
    HF_HOME: /data/hf
    X: y
${tail}`);
    expect(Object.entries(w.server.env)).toEqual([
      ['VLLM_DEEP_GEMM_WARMUP', 'skip'],
      ['NCCL_CUMEM_HOST_ENABLE', '0'],
      ['HF_HOME', '/data/hf'],
      ['X', 'y'],
    ]);
  });

  it('profiles without hf_home add no HF_HOME', () => {
    const w = resolved(`gpu: MI300X
vllm:
  model: m
  serve_args: --tool-call-parser x
${tail}`);
    expect(w.server.env).toEqual({});
  });

  it('values with = , and newlines pass through unchanged', () => {
    const w = resolved(`gpu: MI355X
vllm:
  model: m
  serve_args: --tool-call-parser x
  env:
    A: "k=v,w"
    B: "line1\\nline2"
${tail}`);
    expect(w.server.env).toEqual({ A: 'k=v,w', B: 'line1\nline2' });
  });
});

describe('lm_eval model_args merge and rendering (§8.3)', () => {
  it('task args overlay block args in place; new keys are appended; floats keep their repr', () => {
    const w = resolved(`gpu: H200
vllm:
  model: m
lm_eval:
  model_args:
    a: 1
    max_length: 32768
    c: true
    t: 0.001
  tasks:
    - name: gsm8k
      model_args:
        max_length: 40960.0
        d: null
        e: "x,y=z"
        f: 1.5e-5
    - name: mmlu
      num_fewshot: null
`);
    expect(w.lmEval[0]?.extraModelArgs).toBe(
      'a=1,max_length=40960.0,c=True,t=0.001,d=None,e=x,y=z,f=1.5e-05',
    );
    expect(w.lmEval[0]?.numFewshot).toBe(0);
    expect(Object.keys(w.lmEval[0]?.modelArgs ?? {})).toEqual(['a', 'max_length', 'c', 't', 'd', 'e', 'f']);
    expect(w.lmEval[0]?.modelArgs['max_length']).toBeInstanceOf(PyFloat);
    expect(w.lmEval[1]).toMatchObject({
      task: 'mmlu',
      numFewshot: 0,
      extraModelArgs: 'a=1,max_length=32768,c=True,t=0.001',
    });
  });

  it('no model_args anywhere gives an empty extra-args string', () => {
    const w = resolved(`gpu: H200
vllm:
  model: m
lm_eval:
  tasks:
    - name: gsm8k
      num_fewshot: 3
`);
    expect(w.lmEval).toStrictEqual([
      { task: 'gsm8k', numFewshot: 3, modelArgs: {}, extraModelArgs: '', chat: false },
    ]);
  });

  it('perf-eval extensions: include_path relative to the recipe file, limit, seed, gen_kwargs, chat', () => {
    const w = resolved(
      `gpu: H200
vllm:
  model: m
lm_eval:
  chat: true
  include_path: ../tasks
  seed: 1234
  gen_kwargs: {temperature: 0.0, do_sample: false, max_gen_toks: 10}
  tasks:
    - name: a
    - name: b
      chat: false
      include_path: /abs/tasks
      limit: 0.5
      seed: 7
      gen_kwargs: "top_p=0.9,until=x"
    - name: c
      limit: 100
      chat: null
`,
      {},
      '/repo/workloads/ext.yaml',
    );
    const [a, b, c] = w.lmEval;
    expect(a).toMatchObject({
      task: 'a',
      chat: true,
      includePath: '/repo/tasks',
      seed: 1234,
      genKwargs: 'temperature=0.0,do_sample=False,max_gen_toks=10',
    });
    expect(a?.limit).toBeUndefined();
    expect(b).toMatchObject({
      task: 'b',
      chat: false,
      includePath: '/abs/tasks',
      limit: 0.5,
      seed: 7,
      genKwargs: 'top_p=0.9,until=x',
    });
    expect(c).toMatchObject({ task: 'c', chat: true, includePath: '/repo/tasks', limit: 100, seed: 1234 });
  });
});

describe('bench runs (§9.3, §9.4, D5)', () => {
  const head = `gpu: H200
vllm:
  model: m
vllm_bench:
  configs:
`;
  it('a scalar max_concurrency still gets the -conc- suffix; old-style names get it twice', () => {
    const w =
      resolved(`${head}    - {name: 1k-in-1k-out-conc-256, input_len: 1024, output_len: 1024, num_prompts: 1000, max_concurrency: 256}
`);
    expect(w.bench.map((r) => r.runName)).toEqual(['1k-in-1k-out-conc-256-conc-256']);
  });

  it('concurrency lists pair element-wise with num_prompts lists, in order', () => {
    const w =
      resolved(`${head}    - {name: 8k-in-1k-out, input_len: 8192, output_len: 1024, num_prompts: [10, 512], max_concurrency: [1, 128]}
    - {name: 1k, input_len: 1024, output_len: 1024, num_prompts: 64, max_concurrency: [4, 8], dataset: speed_bench, speed_bench_dataset_subset: qualitative}
`);
    expect(w.bench.map((r) => [r.runName, r.numPrompts, r.maxConcurrency, r.configIndex, r.dataset])).toEqual(
      [
        ['8k-in-1k-out-conc-1', 10, 1, 0, 'random'],
        ['8k-in-1k-out-conc-128', 512, 128, 0, 'random'],
        ['1k-conc-4', 64, 4, 1, 'speed_bench'],
        ['1k-conc-8', 64, 8, 1, 'speed_bench'],
      ],
    );
    expect(w.bench[2]?.speedBenchSubset).toBe('qualitative');
    expect(w.bench[0]?.backend).toBeUndefined();
  });

  it('args keys are normalised (leading - and _ stripped, _ → -) in recipe order, values kept', () => {
    const w = resolved(`${head}    - name: a
      input_len: 1
      output_len: 1
      num_prompts: 1
      max_concurrency: 1
      backend: ""
      args:
        --num_warmups: 4
        _request_rate: 1.0
        percentile-metrics: ttft,tpot
        metric_percentiles: [50, 99]
        disable_tqdm: on
        extra_body: {a: 1}
        skip: null
`);
    const run = w.bench[0];
    expect(run?.backend).toBeUndefined();
    expect(Object.keys(run?.extraArgs ?? {})).toEqual([
      'num-warmups',
      'request-rate',
      'percentile-metrics',
      'metric-percentiles',
      'disable-tqdm',
      'extra-body',
      'skip',
    ]);
    expect(run?.extraArgs['num-warmups']).toBe(4);
    expect(pyStr(run?.extraArgs['request-rate'])).toBe('1.0');
    expect(run?.extraArgs['disable-tqdm']).toBe(true);
    expect(run?.extraArgs['metric-percentiles']).toEqual([50, 99]);
    expect(run?.extraArgs['skip']).toBeNull();
  });

  it('D5: __max_concurrency normalises to a reserved option and is rejected', () => {
    const result = loadText(`${head}    - name: a
      input_len: 1
      output_len: 1
      num_prompts: 1
      max_concurrency: 1
      args:
        __max_concurrency: 3
`);
    expect(result.workload).toBeUndefined();
    expect(result.errors.map((d) => d.message)).toEqual([
      "vllm_bench config 'a' args cannot override wrapper-owned option --max-concurrency",
    ]);
  });
});

describe('BFCL rows (§10.1)', () => {
  const head = `gpu: H200
vllm:
  model: m
  serve_args: --enable-auto-tool-choice --tool-call-parser hermes
bfcl:
  test_categories: [simple_python, multi_turn]
`;
  it('defaults: 8 threads, temperature 0.001, no limits', () => {
    expect(resolved(head).bfcl).toStrictEqual(bfclRows(['simple_python', 'multi_turn'], 8));
  });

  it('an int cap applies to every category; temperature renders the Python way; the step limit is kept', () => {
    const w = resolved(
      `${head}  max_test_cases: 50\n  temperature: 0.0\n  maximum_step_limit: 5\n  num_threads: 2\n`,
    );
    expect(w.bfcl).toStrictEqual([
      { category: 'simple_python', numThreads: 2, temperature: '0.0', maximumStepLimit: 5, maxTestCases: 50 },
      { category: 'multi_turn', numThreads: 2, temperature: '0.0', maximumStepLimit: 5, maxTestCases: 50 },
    ]);
  });

  it('a map cap applies only to exactly that category name (a leaf key does not cap its group)', () => {
    const w = resolved(`${head}  max_test_cases: {multi_turn_base: 10, simple_python: 3}\n`);
    expect(w.bfcl.map((r) => r.maxTestCases)).toEqual([3, undefined]);
  });

  it('bfcl: {} counts as absent', () => {
    const result = loadText(`gpu: H200\nvllm:\n  model: m\nbfcl: {}\n`);
    expect(result.errors.map((d) => d.message)).toEqual([
      'workload must define at least one of lm_eval, vllm_bench, or bfcl',
    ]);
  });
});

describe('top-level defaults', () => {
  const body = `gpu: H200
vllm:
  model: m
  serve_args: --tool-call-parser x
  startup_timeout_s: 600
bfcl:
  test_categories: [simple_python]
`;
  it('name defaults to the file stem (also for name: null); num_gpus 1; timeout 120', () => {
    const w = resolved(body, {}, '/r/workloads/my_stem.yaml');
    expect(w).toMatchObject({
      name: 'my_stem',
      stem: 'my_stem',
      numGpus: 1,
      timeoutInMinutes: 120,
      nightly: false,
      benchOnly: false,
    });
    expect(w.server.startupTimeoutS).toBe(600);
    expect(resolved(`name: null\n${body}`, {}, '/r/workloads/other.yaml').name).toBe('other');
    expect(resolved(`name: given\n${body}`, {}, '/r/workloads/other.yaml').name).toBe('given');
  });

  it('D23: vllm.image: null is treated as absent (no image named None)', () => {
    const w = resolved(body.replace('  startup_timeout_s: 600\n', '  image: null\n'));
    expect(w.server.image).toBe('vllm/vllm-openai:nightly');
    expect(w.server.imageRule).toBe('nightly');
    expect(resolved(body.replace('  startup_timeout_s: 600\n', '  image: my/img:v1\n')).server.image).toBe(
      'my/img:v1',
    );
  });

  it('bench_only: true is the recipe flag', () => {
    expect(resolved(`bench_only: true\n${body}`).benchOnly).toBe(true);
  });
});
