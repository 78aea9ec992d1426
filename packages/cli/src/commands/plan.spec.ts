import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { captureIo } from '../../test/capture-io.js';
import { run } from '../lib/main.js';

const REPO = resolve(import.meta.dirname, '../../../..');
const SHA = '0123456789abcdef0123456789abcdef01234567';
const LM_BASE = 'tokenized_requests=False,tokenizer_backend=None,timeout=6000';

async function plan(
  args: string[],
  env: Record<string, string> = {},
  cwd = REPO,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { io, stdout, stderr } = captureIo({
    // No tools dir, an empty PATH and no provisioning by run: tool commands are the bare names.
    env: {
      PERF_EVAL_TOOLS_DIR: '/nonexistent/perf-eval-tools',
      PATH: '',
      PERF_EVAL_NO_AUTO_SETUP: '1',
      ...env,
    },
    cwd,
  });
  const code = await run(['plan', ...args], io);
  return { code, stdout: stdout(), stderr: stderr() };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function planJson(stem: string, env: Record<string, string> = {}): Promise<any> {
  const out = await plan([`workloads/${stem}.yaml`, '--json'], env);
  expect(out.code, out.stderr).toBe(0);
  return JSON.parse(out.stdout);
}

/** recipe-compat.md §16: runtime, bench (n / c / repetitions / args), BFCL (threads, capped category), perf, per-task lm-eval args. */
const EXPECTED: Record<
  string,
  {
    runtime: string;
    bench: [string, number, number, number, Record<string, number>][];
    bfcl: [number, string[], string | null];
    perf: [string, number, string];
    lm: string;
  }
> = {
  deepseek_v4_flash_b200: {
    runtime: 'native',
    bench: [],
    bfcl: [8, ['simple_python', 'multiple', 'parallel', 'parallel_multiple', 'multi_turn'], null],
    perf: ['b200', 8, 'bf16'],
    lm: 'num_concurrent=64,max_length=32768,max_gen_toks=8192',
  },
  deepseek_v4_pro_5_h200: {
    runtime: 'docker',
    bench: [['8k-in-1k-out-conc-128', 512, 128, 3, { 'num-warmups': 128 }]],
    bfcl: [16, ['simple_python', 'multiple', 'parallel', 'parallel_multiple', 'multi_turn'], 'multi_turn'],
    perf: ['h200', 8, 'bf16'],
    lm: 'num_concurrent=64,max_length=32768,max_gen_toks=8192',
  },
  glm_5_1_h200: {
    runtime: 'docker',
    bench: [['8k-in-1k-out-conc-128', 512, 128, 3, { 'num-warmups': 128 }]],
    bfcl: [8, ['simple_python', 'multiple', 'parallel', 'parallel_multiple', 'multi_turn'], null],
    perf: ['h200', 8, 'fp8'],
    lm: 'num_concurrent=64,max_length=40960,max_gen_toks=32768',
  },
  gpt_oss_120b_b200: {
    runtime: 'native',
    bench: [['8k-in-1k-out-conc-128', 512, 128, 1, {}]],
    bfcl: [8, ['simple_python', 'multiple', 'multi_turn'], null],
    perf: ['b200', 1, 'bf16'],
    lm: 'num_concurrent=64,max_length=32768,max_gen_toks=8192',
  },
  gpt_oss_120b_h200: {
    runtime: 'docker',
    bench: [['8k-in-1k-out-conc-128', 512, 128, 3, { 'num-warmups': 128 }]],
    bfcl: [8, ['simple_python', 'multiple', 'multi_turn'], null],
    perf: ['h200', 4, 'bf16'],
    lm: 'num_concurrent=64,max_length=32768,max_gen_toks=8192',
  },
  gpt_oss_120b_mi355x: {
    runtime: 'native',
    bench: [['8k-in-1k-out-conc-128', 512, 128, 1, {}]],
    bfcl: [0, [], null],
    perf: ['mi355x', 1, 'bf16'],
    lm: 'num_concurrent=64,max_length=32768,max_gen_toks=8192',
  },
  kimi_k2_5_h200: {
    runtime: 'docker',
    bench: [['8k-in-1k-out-conc-128', 512, 128, 3, { 'num-warmups': 128 }]],
    bfcl: [16, ['simple_python', 'multiple', 'parallel', 'parallel_multiple', 'multi_turn'], 'multi_turn'],
    perf: ['h200', 8, 'bf16'],
    lm: 'num_concurrent=64,max_length=40960,max_gen_toks=32768',
  },
  kimi_k2_5_mi355x: {
    runtime: 'native',
    bench: [['8k-in-1k-out-conc-128', 512, 128, 1, {}]],
    bfcl: [0, [], null],
    perf: ['mi355x', 8, 'bf16'],
    lm: 'num_concurrent=64,max_length=40960,max_gen_toks=32768',
  },
  minimax_m2_5_h200: {
    runtime: 'docker',
    bench: [['8k-in-1k-out-conc-128', 512, 128, 3, { 'num-warmups': 128 }]],
    bfcl: [16, ['simple_python', 'multiple', 'parallel', 'parallel_multiple', 'multi_turn'], 'multi_turn'],
    perf: ['h200', 4, 'bf16'],
    lm: 'num_concurrent=64,max_length=40960,max_gen_toks=32768',
  },
  minimax_m2_5_mi355x: {
    runtime: 'native',
    bench: [['8k-in-1k-out-conc-128', 512, 128, 1, {}]],
    bfcl: [0, [], null],
    perf: ['mi355x', 4, 'bf16'],
    lm: 'num_concurrent=64,max_length=40960,max_gen_toks=32768',
  },
  minimax_m3_mi355x: {
    runtime: 'native',
    bench: [['8k-in-1k-out-conc-16', 512, 16, 1, {}]],
    bfcl: [0, [], null],
    perf: ['mi355x', 4, 'fp4'],
    lm: 'num_concurrent=16,max_length=32768,max_gen_toks=8192',
  },
  qwen3_5_b200: {
    runtime: 'native',
    bench: [['8k-in-1k-out-conc-128', 256, 128, 1, {}]],
    bfcl: [0, [], null],
    perf: ['b200', 8, 'fp4'],
    lm: 'num_concurrent=64,max_length=40960',
  },
  qwen3_5_h200: {
    runtime: 'docker',
    bench: [['8k-in-1k-out-conc-128', 256, 128, 3, { 'num-warmups': 128 }]],
    bfcl: [0, [], null],
    perf: ['h200', 8, 'fp8'],
    lm: 'num_concurrent=64,max_length=40960',
  },
};

const AMD = (stem: string) => stem.endsWith('mi355x');

describe('perf-eval plan --json for the 13 upstream recipes (recipe-compat §16)', () => {
  describe.each(Object.entries(EXPECTED))('%s', (stem, expected) => {
    it('without VLLM_IMAGE/VLLM_COMMIT', async () => {
      const p = await planJson(stem);
      expect(p.workload.path).toBe(`workloads/${stem}.yaml`);
      expect(p.server.runtime).toBe(expected.runtime);
      expect(p.server.image).toBe(AMD(stem) ? 'vllm/vllm-openai-rocm:nightly' : 'vllm/vllm-openai:nightly');
      expect(p.server.vllmCommit).toBe('');
      expect(p.server.port).toBe(8000);
      expect(
        p.bench.map(
          (b: {
            runName: string;
            numPrompts: number;
            maxConcurrency: number;
            repetitions: number;
            extraArgs: object;
          }) => [b.runName, b.numPrompts, b.maxConcurrency, b.repetitions, b.extraArgs],
        ),
      ).toEqual(expected.bench);
      expect(p.lmEval).toHaveLength(1);
      expect(p.lmEval[0].task).toBe('gsm8k');
      expect(p.lmEval[0].numFewshot).toBe(5);
      expect(p.lmEval[0].modelArgs).toBe(
        `model=${p.server.model},base_url=http://localhost:8000/v1/completions,${LM_BASE},${expected.lm}`,
      );
      expect(p.lmEval[0].argv).toEqual([
        'lm_eval',
        '--model',
        'local-completions',
        '--model_args',
        p.lmEval[0].modelArgs,
        '--tasks',
        'gsm8k',
        '--num_fewshot',
        '5',
        '--log_samples',
        '--output_path',
        `${REPO}/results/${p.workload.name}/gsm8k`,
      ]);
      const [threads, categories, capped] = expected.bfcl;
      expect(p.bfcl.map((r: { category: string }) => r.category)).toEqual(categories);
      for (const row of p.bfcl) {
        expect(row.numThreads).toBe(threads);
        expect(row.temperature).toBe('0.001');
        expect(row.maximumStepLimit).toBeNull();
        expect(row.maxTestCases).toBe(row.category === capped ? 240 : null);
      }
      expect([p.perf.device, p.perf.tp, p.perf.precision]).toEqual(expected.perf);
      // The exact launch command: docker puts the image's entrypoint first, native runs `vllm serve`.
      if (expected.runtime === 'docker') {
        expect(p.server.argv.slice(0, 3)).toEqual(['docker', 'run', '-d']);
        expect(p.server.argv).toEqual(
          expect.arrayContaining(['--gpus', 'all', '--ipc=host', '--init', '-p', '8000:8000']),
        );
        expect(
          p.server.argv.slice(
            p.server.argv.indexOf(p.server.image),
            p.server.argv.indexOf(p.server.image) + 4,
          ),
        ).toEqual([p.server.image, p.server.model, '--port', '8000']);
        for (const run of p.bench)
          expect(run.argv.slice(0, 4)).toEqual([
            'docker',
            'exec',
            expect.stringMatching(/^perf-eval-/),
            'vllm',
          ]);
      } else {
        expect(p.server.argv.slice(0, 5)).toEqual(['vllm', 'serve', p.server.model, '--port', '8000']);
        for (const run of p.bench) expect(run.argv.slice(0, 3)).toEqual(['vllm', 'bench', 'serve']);
      }
      expect(p.server.argv.slice(-p.server.serveArgs.length)).toEqual(p.server.serveArgs);
      // HF_HOME comes last of upstream's env, from the profile's hf_home; AMD profiles have none (§16).
      // perf-eval then adds VLLM_SERVER_DEV_MODE=1 (cache-reset endpoints) to servers it starts.
      expect(Object.entries(p.server.env).at(-1)).toEqual(['VLLM_SERVER_DEV_MODE', '1']);
      expect(p.cacheReset).toEqual({ enabled: true });
      if (AMD(stem)) expect(p.server.env).not.toHaveProperty('HF_HOME');
      else expect(Object.keys(p.server.env).at(-2)).toBe('HF_HOME');
    });

    it('with VLLM_IMAGE and VLLM_COMMIT', async () => {
      const p = await planJson(stem, { VLLM_IMAGE: `vllm/vllm-openai:nightly-${SHA}`, VLLM_COMMIT: SHA });
      // AMD profiles reject a CUDA VLLM_IMAGE but use the commit for their ROCm nightly.
      expect(p.server.image).toBe(
        AMD(stem) ? `vllm/vllm-openai-rocm:nightly-${SHA}` : `vllm/vllm-openai:nightly-${SHA}`,
      );
      expect(p.server.vllmCommit).toBe(SHA);
    });
  });
});

describe('perf-eval plan details', () => {
  it('server env keeps upstream merge order and renders values the Python way (B200)', async () => {
    const p = await planJson('deepseek_v4_flash_b200');
    expect(Object.entries(p.server.env)).toEqual([
      ['VLLM_DEEP_GEMM_WARMUP', 'skip'],
      ['NCCL_CUMEM_HOST_ENABLE', '0'],
      ['CUDA_HOME', '/usr/local/cuda'],
      ['TRITON_PTXAS_PATH', '/usr/local/cuda/bin/ptxas'],
      ['HF_HOME', '/mnt/shared/hf_cache'],
      ['VLLM_SERVER_DEV_MODE', '1'],
    ]);
  });

  it('the port follows VLLM_PORT, then BUILDKITE_JOB_ID; every URL uses it', async () => {
    const fixed = await planJson('gpt_oss_120b_h200', { VLLM_PORT: '9123' });
    expect(fixed.server.port).toBe(9123);
    expect(fixed.lmEval[0].modelArgs).toContain('base_url=http://localhost:9123/v1/completions');
    expect(fixed.bench[0].argv).toEqual(expect.arrayContaining(['--base-url', 'http://127.0.0.1:9123']));
    expect(fixed.server.argv).toEqual(expect.arrayContaining(['-p', '9123:9123']));
    const derived = await planJson('gpt_oss_120b_h200', {
      BUILDKITE_JOB_ID: '0190a5e3-0000-4000-8000-000000000001',
    });
    expect(derived.server.port).toBeGreaterThanOrEqual(20000);
    expect(derived.server.port).toBeLessThan(60000);
    expect(
      await planJson('gpt_oss_120b_h200', { BUILDKITE_JOB_ID: '0190a5e3-0000-4000-8000-000000000001' }),
    ).toEqual(derived);
  });

  it('tools a run would provision while its server starts are shown at their provisioned paths', async () => {
    const p = await planJson('gpt_oss_120b_h200', { PERF_EVAL_NO_AUTO_SETUP: '' });
    expect(p.lmEval[0].argv[0]).toBe('/nonexistent/perf-eval-tools/venvs/lmeval/bin/lm_eval');
    // The docker server benches inside its container: nothing to provision for that.
    expect(p.bench[0].argv.slice(0, 2)).toEqual(['docker', 'exec']);
    expect(p.bfcl[0].argv[0]).toBe('/nonexistent/perf-eval-tools/venvs/bfcl/bin/python');
  });

  it('BENCH_ONLY=1 plans only the bench phase', async () => {
    const p = await planJson('kimi_k2_5_h200', { BENCH_ONLY: '1' });
    expect(p.workload.benchOnly).toBe(true);
    expect(p.bench).toHaveLength(1);
    expect(p.lmEval).toEqual([]);
    expect(p.bfcl).toEqual([]);
  });

  it('secret env values are shown as *** and never reach the launch command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'perf-eval-plan-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));
    const recipe = join(dir, 'secret.yaml');
    writeFileSync(
      recipe,
      'gpu: H200\nvllm:\n  model: org/m\n  env:\n    HF_TOKEN: hf_topsecretvalue\n    PLAIN: 1\n  serve_args: --api-key sk-anothersecret\nvllm_bench:\n  configs:\n    - {name: a, input_len: 1, output_len: 1, num_prompts: 1, max_concurrency: 1}\n',
    );
    const out = await plan([recipe, '--json', '--profiles', resolve(REPO, 'profiles/gpu_profiles.yaml')]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).not.toContain('hf_topsecretvalue');
    expect(out.stdout).not.toContain('sk-anothersecret');
    const p = JSON.parse(out.stdout);
    expect(p.server.env).toEqual({
      VLLM_DEEP_GEMM_WARMUP: 'skip',
      HF_TOKEN: '***',
      PLAIN: '1',
      HF_HOME: '/mnt/shared/hf-models',
      VLLM_SERVER_DEV_MODE: '1',
    });
    const human = await plan([recipe, '--profiles', resolve(REPO, 'profiles/gpu_profiles.yaml')]);
    expect(human.stdout).not.toContain('hf_topsecretvalue');
    expect(human.stdout).toContain('HF_TOKEN=***');
  });

  it('recipe values equal to a secret of the environment (an lm_eval model_args token) are masked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'perf-eval-plan-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));
    const recipe = join(dir, 'model-args.yaml');
    writeFileSync(
      recipe,
      'gpu: H200\nvllm:\n  model: org/m\nlm_eval:\n  model_args:\n    revision: hf_envsecretvalue42\n  tasks:\n    - name: gsm8k\n      num_fewshot: 5\n',
    );
    const env = { HF_TOKEN: 'hf_envsecretvalue42', STORAGE_KEY: 'storage-key-value' };
    const args = [recipe, '--profiles', resolve(REPO, 'profiles/gpu_profiles.yaml')];
    const json = await plan([...args, '--json'], env);
    expect(json.code, json.stderr).toBe(0);
    expect(json.stdout).not.toContain('hf_envsecretvalue42');
    expect(JSON.parse(json.stdout).lmEval[0].argv.join(' ')).toContain('revision=***');
    const human = await plan(args, env);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).not.toContain('hf_envsecretvalue42');
    expect(human.stdout).toContain('revision=***');
  });

  it('human form shows every phase with its exact command', async () => {
    const out = await plan(['workloads/deepseek_v4_pro_5_h200.yaml']);
    expect(out.code).toBe(0);
    for (const heading of [
      'workload  deepseek_v4_pro-h200',
      'server (docker, port 8000',
      'bench (1 run(s)',
      'lm_eval (1 task(s))',
      'bfcl (5 categories)',
    ]) {
      expect(out.stdout).toContain(heading);
    }
    expect(out.stdout).toContain('--compilation-config \'{"mode":0,"cudagraph_mode":"FULL_DECODE_ONLY"}\'');
  });

  it('usage and validation errors exit 2', async () => {
    expect((await plan([])).code).toBe(2);
    expect((await plan(['workloads/nope.yaml', '--json'])).stderr).toContain('not found: ');
    expect((await plan(['workloads/qwen3_5_h200.yaml', '--bogus'])).code).toBe(2);
  });
});
