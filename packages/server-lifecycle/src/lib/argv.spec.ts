import {
  apiKeyOf,
  buildDockerRunArgv,
  buildkiteLabels,
  buildNativeArgv,
  serverEnv,
  specSecrets,
  stopGraceFromEnv,
} from './argv.js';
import type { ServerSpec } from './types.js';

const base: ServerSpec = {
  runtime: 'docker',
  model: 'deepseek-ai/DeepSeek-V3',
  servedModelName: 'deepseek-ai/DeepSeek-V3',
  port: 23456,
  serveArgs: ['--tensor-parallel-size', '8', '--max-model-len', '8192'],
  env: { VLLM_USE_DEEP_GEMM: '1', HF_TOKEN: 'hf_secretvalue', HF_HOME: '/mnt/hf' },
  image: 'vllm/vllm-openai:nightly-abc',
  containerName: 'perf-eval-ds-123',
  labels: buildkiteLabels('ds', {
    BUILDKITE_JOB_ID: 'job-1',
    BUILDKITE_STEP_KEY: 'ds-h200',
    BUILDKITE_BUILD_NUMBER: '42',
    BUILDKITE_PIPELINE_SLUG: 'perf-eval',
  }),
  startupTimeoutS: 1800,
  logFile: 'results/ds/server.log',
  stopGraceS: 7,
};

describe('buildDockerRunArgv', () => {
  it('renders the full docker run command in order', () => {
    expect(buildDockerRunArgv(base)).toEqual([
      'docker',
      'run',
      '-d',
      '--name',
      'perf-eval-ds-123',
      '--init',
      '--stop-timeout',
      '7',
      '--label',
      'com.buildkite.job-id=job-1',
      '--label',
      'com.buildkite.step_key=ds-h200',
      '--label',
      'com.buildkite.build_number=42',
      '--label',
      'com.buildkite.pipeline_slug=perf-eval',
      '--label',
      'perf-eval.workload=ds',
      '--gpus',
      'all',
      '--ipc=host',
      '--ulimit',
      'nofile=65536:65536',
      '-e',
      'VLLM_ENGINE_READY_TIMEOUT_S=1800',
      '-p',
      '23456:23456',
      '-e',
      'VLLM_USE_DEEP_GEMM=1',
      '-e',
      'HF_TOKEN',
      '-e',
      'HF_HOME=/mnt/hf',
      '-v',
      '/mnt/hf:/mnt/hf',
      'vllm/vllm-openai:nightly-abc',
      'deepseek-ai/DeepSeek-V3',
      '--port',
      '23456',
      '--tensor-parallel-size',
      '8',
      '--max-model-len',
      '8192',
    ]);
  });

  it('never puts secret values in argv and has no pip/exec step', () => {
    const argv = buildDockerRunArgv(base);
    expect(argv.join(' ')).not.toContain('hf_secretvalue');
    expect(argv).not.toContain('exec');
  });

  it('keeps a recipe VLLM_ENGINE_READY_TIMEOUT_S, defaults the workload label, honours hfHome and docker path', () => {
    const argv = buildDockerRunArgv({
      ...base,
      env: { VLLM_ENGINE_READY_TIMEOUT_S: '99' },
      labels: undefined,
      hfHome: '/data/hf',
      docker: '/opt/bin/docker',
      stopGraceS: undefined,
    });
    expect(argv[0]).toBe('/opt/bin/docker');
    expect(argv.filter((arg) => arg.startsWith('VLLM_ENGINE_READY_TIMEOUT_S'))).toEqual([
      'VLLM_ENGINE_READY_TIMEOUT_S=99',
    ]);
    expect(argv).toContain('perf-eval.workload=perf-eval-ds-123');
    expect(argv.slice(argv.indexOf('-v'), argv.indexOf('-v') + 2)).toEqual(['-v', '/data/hf:/data/hf']);
    expect(argv.slice(argv.indexOf('--stop-timeout'), argv.indexOf('--stop-timeout') + 2)).toEqual([
      '--stop-timeout',
      '5',
    ]);
  });

  it('requires an image', () => {
    expect(() => buildDockerRunArgv({ ...base, image: undefined })).toThrow(/spec\.image is required/);
  });
});

describe('buildNativeArgv', () => {
  it('native: vllm serve <model> --port <port> <args>', () => {
    expect(buildNativeArgv({ ...base, runtime: 'native' })).toEqual([
      'vllm',
      'serve',
      'deepseek-ai/DeepSeek-V3',
      '--port',
      '23456',
      '--tensor-parallel-size',
      '8',
      '--max-model-len',
      '8192',
    ]);
  });

  it('sim: llm-d-inference-sim --model <model> --port <port> <args>, binary injectable', () => {
    expect(buildNativeArgv({ ...base, runtime: 'sim', binary: '/x/sim', serveArgs: [] })).toEqual([
      '/x/sim',
      '--model',
      'deepseek-ai/DeepSeek-V3',
      '--port',
      '23456',
    ]);
  });
});

describe('env and labels', () => {
  it('serverEnv puts the engine-ready timeout first unless the recipe sets it', () => {
    expect(Object.entries(serverEnv({ env: { A: '1', B: '2' }, startupTimeoutS: 3600 }))).toEqual([
      ['VLLM_ENGINE_READY_TIMEOUT_S', '3600'],
      ['A', '1'],
      ['B', '2'],
    ]);
    expect(serverEnv({ env: { VLLM_ENGINE_READY_TIMEOUT_S: '5' }, startupTimeoutS: 3600 })).toEqual({
      VLLM_ENGINE_READY_TIMEOUT_S: '5',
    });
  });

  it('buildkiteLabels leaves out unset variables', () => {
    expect(buildkiteLabels('w', {})).toEqual({ 'perf-eval.workload': 'w' });
  });

  it('stopGraceFromEnv = max(1, grace − 3)', () => {
    expect(stopGraceFromEnv({})).toBe(7);
    expect(stopGraceFromEnv({ BUILDKITE_CANCEL_GRACE_PERIOD: '60' })).toBe(57);
    expect(stopGraceFromEnv({ BUILDKITE_CANCEL_GRACE_PERIOD: '2' })).toBe(1);
  });

  it('collects secrets and the API key from env and --api-key', () => {
    const spec = { env: { HF_TOKEN: 'hf_abcdef', PLAIN: 'visible' }, serveArgs: ['--api-key', 'sk-12345'] };
    expect(specSecrets(spec)).toEqual(['hf_abcdef', 'sk-12345']);
    expect(apiKeyOf(spec)).toBe('sk-12345');
    expect(apiKeyOf({ env: { VLLM_API_KEY: 'k-999' }, serveArgs: [] })).toBe('k-999');
  });
});
