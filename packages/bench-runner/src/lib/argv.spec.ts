import { PyFloat } from '@perf-eval/util';
import { BENCH_RESERVED_OPTIONS, buildBenchArgv, renderExtraArgs } from './argv.js';
import type { BenchRunSpec } from './argv.js';
import { BenchDatasetError, BenchReservedOptionError, BenchSpecError } from './errors.js';

const target = { host: '127.0.0.1', port: 8000 };

function spec(overrides: Partial<BenchRunSpec> = {}): BenchRunSpec {
  return {
    runName: '8k-in-1k-out-conc-128',
    model: 'openai/gpt-oss-120b',
    dataset: 'random',
    inputLen: 8192,
    outputLen: 1024,
    numPrompts: 512,
    maxConcurrency: 128,
    repetitions: 1,
    extraArgs: {},
    trustRemoteCode: false,
    ...overrides,
  };
}

const TAIL = ['--save-result', '--result-filename', 'results/x/bench-8k-in-1k-out-conc-128.json'];
const opts = { resultFile: 'results/x/bench-8k-in-1k-out-conc-128.json' };

describe('buildBenchArgv', () => {
  it('backend unset: --host/--port form, random dataset', () => {
    expect(buildBenchArgv(spec(), target, opts)).toEqual([
      'vllm',
      'bench',
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '8000',
      '--model',
      'openai/gpt-oss-120b',
      '--dataset-name',
      'random',
      '--num-prompts',
      '512',
      '--max-concurrency',
      '128',
      '--random-input-len',
      '8192',
      '--random-output-len',
      '1024',
      '--ignore-eos',
      ...TAIL,
    ]);
  });

  it('empty backend counts as unset', () => {
    expect(buildBenchArgv(spec({ backend: '' }), target, opts).slice(3, 7)).toEqual([
      '--host',
      '127.0.0.1',
      '--port',
      '8000',
    ]);
  });

  it('backend openai: --backend and --base-url, no --endpoint', () => {
    expect(buildBenchArgv(spec({ backend: 'openai' }), { host: '127.0.0.1', port: 23456 }, opts)).toEqual([
      'vllm',
      'bench',
      'serve',
      '--backend',
      'openai',
      '--base-url',
      'http://127.0.0.1:23456',
      '--model',
      'openai/gpt-oss-120b',
      '--dataset-name',
      'random',
      '--num-prompts',
      '512',
      '--max-concurrency',
      '128',
      '--random-input-len',
      '8192',
      '--random-output-len',
      '1024',
      '--ignore-eos',
      ...TAIL,
    ]);
  });

  it('backend openai-chat adds --endpoint /v1/chat/completions', () => {
    expect(buildBenchArgv(spec({ backend: 'openai-chat' }), target, opts).slice(3, 9)).toEqual([
      '--backend',
      'openai-chat',
      '--base-url',
      'http://127.0.0.1:8000',
      '--endpoint',
      '/v1/chat/completions',
    ]);
  });

  it('brackets IPv6 hosts in the base URL', () => {
    expect(buildBenchArgv(spec({ backend: 'openai' }), { host: '::1', port: 8000 }, opts)[6]).toBe(
      'http://[::1]:8000',
    );
  });

  it('--trust-remote-code sits after --max-concurrency', () => {
    const argv = buildBenchArgv(spec({ trustRemoteCode: true }), target, opts);
    expect(argv.slice(14, 17)).toEqual(['128', '--trust-remote-code', '--random-input-len']);
  });

  it('injectable base command tokens', () => {
    expect(buildBenchArgv(spec(), target, { ...opts, command: ['/opt/venv/bin/vllm'] }).slice(0, 3)).toEqual([
      '/opt/venv/bin/vllm',
      'bench',
      'serve',
    ]);
    expect(
      buildBenchArgv(spec(), target, {
        ...opts,
        command: ['python3', '-m', 'vllm.entrypoints.cli.main'],
      }).slice(0, 5),
    ).toEqual(['python3', '-m', 'vllm.entrypoints.cli.main', 'bench', 'serve']);
  });

  it('speed_bench: default subset qualitative, no category', () => {
    expect(
      buildBenchArgv(spec({ dataset: 'speed_bench' }), target, {
        ...opts,
        speedBenchDir: '/tmp/vllm-speed-bench/qualitative',
      }),
    ).toEqual([
      'vllm',
      'bench',
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '8000',
      '--model',
      'openai/gpt-oss-120b',
      '--dataset-name',
      'speed_bench',
      '--num-prompts',
      '512',
      '--max-concurrency',
      '128',
      '--dataset-path',
      '/tmp/vllm-speed-bench/qualitative',
      '--speed-bench-output-len',
      '1024',
      '--speed-bench-dataset-subset',
      'qualitative',
      '--skip-tokenizer-init',
      ...TAIL,
    ]);
  });

  it('speed_bench with subset and category, then extra args', () => {
    const argv = buildBenchArgv(
      spec({
        dataset: 'speed_bench',
        speedBenchSubset: 'throughput_8k',
        speedBenchCategory: 'coding',
        extraArgs: { 'num-warmups': 4 },
        trustRemoteCode: true,
      }),
      target,
      { ...opts, speedBenchDir: '/data/throughput_8k-coding' },
    );
    expect(argv.slice(15)).toEqual([
      '--trust-remote-code',
      '--dataset-path',
      '/data/throughput_8k-coding',
      '--speed-bench-output-len',
      '1024',
      '--speed-bench-dataset-subset',
      'throughput_8k',
      '--skip-tokenizer-init',
      '--speed-bench-category',
      'coding',
      '--num-warmups',
      '4',
      ...TAIL,
    ]);
  });

  it('speed_bench without a directory is a spec error', () => {
    expect(() => buildBenchArgv(spec({ dataset: 'speed_bench' }), target, opts)).toThrow(BenchSpecError);
  });

  it('any other dataset → E_BENCH_DATASET with the upstream message', () => {
    const error = (() => {
      try {
        buildBenchArgv(spec({ dataset: 'sharegpt' }), target, opts);
      } catch (caught) {
        return caught as BenchDatasetError;
      }
      throw new Error('expected a throw');
    })();
    expect(error).toBeInstanceOf(BenchDatasetError);
    expect(error.code).toBe('E_BENCH_DATASET');
    expect(error.message).toBe('unsupported vllm_bench dataset: sharegpt');
    expect(error.dataset).toBe('sharegpt');
  });

  it('extra args go between the dataset flags and --save-result', () => {
    const argv = buildBenchArgv(
      spec({ extraArgs: { 'num-warmups': 128, 'disable-tqdm': true } }),
      target,
      opts,
    );
    expect(argv.slice(-7)).toEqual(['--ignore-eos', '--num-warmups', '128', '--disable-tqdm', ...TAIL]);
  });
});

describe('renderExtraArgs (recipe-compat §9.4)', () => {
  it('renders every value kind in insertion order', () => {
    expect(
      renderExtraArgs('r', {
        'num-warmups': 128,
        'disable-tqdm': true,
        'save-detailed': false,
        'request-id-prefix': null,
        temperature: new PyFloat(1),
        'top-p': 0.95,
        'min-p': new PyFloat(1e-5),
        'random-range-ratio': { input: new PyFloat(0.1), output: 0 },
        'extra-body': { chat_template_kwargs: { enable_thinking: false }, näme: 'ü' },
        metadata: ['a=1', true, null, new PyFloat(2), 3, { k: [1, 'x'] }, ['y', new PyFloat(0.5)]],
        label: 'my label',
        seed: -1,
      }),
    ).toEqual([
      '--num-warmups',
      '128',
      '--disable-tqdm',
      '--temperature',
      '1.0',
      '--top-p',
      '0.95',
      '--min-p',
      '1e-05',
      '--random-range-ratio',
      '{"input":0.1,"output":0}',
      '--extra-body',
      '{"chat_template_kwargs":{"enable_thinking":false},"n\\u00e4me":"\\u00fc"}',
      '--metadata',
      'a=1',
      '--metadata',
      'True',
      '--metadata',
      'None',
      '--metadata',
      '2.0',
      '--metadata',
      '3',
      '--metadata',
      '{"k":[1,"x"]}',
      '--metadata',
      '["y",0.5]',
      '--label',
      'my label',
      '--seed',
      '-1',
    ]);
  });

  it('an empty list renders nothing', () => {
    expect(renderExtraArgs('r', { header: [] })).toEqual([]);
  });

  it.each(BENCH_RESERVED_OPTIONS)('rejects the wrapper-owned option --%s', (option) => {
    expect(() => renderExtraArgs('run-a', { [option]: 1 })).toThrow(
      new BenchReservedOptionError('run-a', option),
    );
    try {
      buildBenchArgv(spec({ extraArgs: { [option]: false } }), target, opts);
      throw new Error('expected a throw');
    } catch (error) {
      expect(error).toBeInstanceOf(BenchReservedOptionError);
      expect((error as BenchReservedOptionError).code).toBe('E_BENCH_RESERVED_OPTION');
      expect((error as Error).message).toBe(
        `vllm_bench run '8k-in-1k-out-conc-128' args cannot override wrapper-owned option --${option}`,
      );
    }
  });

  it('reserved list is exactly the spec list', () => {
    expect([...BENCH_RESERVED_OPTIONS]).toEqual([
      'backend',
      'base-url',
      'host',
      'port',
      'model',
      'dataset-name',
      'num-prompts',
      'max-concurrency',
      'trust-remote-code',
      'random-input-len',
      'random-output-len',
      'ignore-eos',
      'dataset-path',
      'speed-bench-output-len',
      'speed-bench-dataset-subset',
      'speed-bench-category',
      'skip-tokenizer-init',
      'save-result',
      'result-filename',
    ]);
  });

  it.each(['', '--num-warmups', '_max_concurrency', 'num_warmups', 'a b', 'x=y'])(
    'rejects the non-normalised key %j',
    (key) => {
      expect(() => renderExtraArgs('r', { [key]: 1 })).toThrow(BenchSpecError);
    },
  );
});
