import { PyFloat } from '@perf-eval/util';
import {
  buildLmEvalArgv,
  redactModelArgs,
  renderBaseUrl,
  renderExtraModelArgs,
  renderModelArgs,
  secretModelArgValues,
} from './argv.js';
import type { LmEvalTaskSpec } from './argv.js';
import { sanitizeModelName } from './sanitize.js';

const GPT_OSS_ARGS =
  'model=openai/gpt-oss-120b,base_url=http://localhost:8000/v1/completions,tokenized_requests=False,tokenizer_backend=None,timeout=6000,num_concurrent=64,max_length=32768,max_gen_toks=8192';

const base: LmEvalTaskSpec = {
  task: 'gsm8k',
  numFewshot: 5,
  modelArgs: GPT_OSS_ARGS,
  outputPath: 'results/gpt_oss_120b_h200/gsm8k',
  modelName: 'openai/gpt-oss-120b',
};

describe('renderBaseUrl', () => {
  it('appends the completions endpoint', () => {
    expect(renderBaseUrl('http://localhost:8000')).toBe('http://localhost:8000/v1/completions');
    expect(renderBaseUrl('http://localhost:8000', false)).toBe('http://localhost:8000/v1/completions');
  });
  it('appends the chat endpoint and drops trailing slashes', () => {
    expect(renderBaseUrl('http://127.0.0.1:23456/', true)).toBe('http://127.0.0.1:23456/v1/chat/completions');
  });
});

describe('renderModelArgs', () => {
  it('renders the gpt_oss_120b_h200 example from a merged model_args map (py-str values)', () => {
    const merged = {
      tokenized_requests: false,
      tokenizer_backend: null,
      timeout: 6000,
      num_concurrent: 64,
      max_length: 32768,
      max_gen_toks: 8192,
    };
    expect(renderModelArgs('openai/gpt-oss-120b', renderBaseUrl('http://localhost:8000'), merged)).toBe(
      GPT_OSS_ARGS,
    );
  });
  it('accepts a pre-rendered extra string', () => {
    expect(renderModelArgs('m', 'http://h/v1/completions', 'a=1,b=x')).toBe(
      'model=m,base_url=http://h/v1/completions,a=1,b=x',
    );
  });
  it('adds no trailing comma when extra is empty', () => {
    expect(renderModelArgs('m', 'u')).toBe('model=m,base_url=u');
    expect(renderModelArgs('m', 'u', '')).toBe('model=m,base_url=u');
    expect(renderModelArgs('m', 'u', {})).toBe('model=m,base_url=u');
  });
  it('keeps Python float rendering and passes , and = through unescaped', () => {
    expect(renderExtraModelArgs({ temperature: new PyFloat(1), eps: 1e-5, header: 'a=b,c' })).toBe(
      'temperature=1.0,eps=1e-05,header=a=b,c',
    );
  });
});

describe('buildLmEvalArgv', () => {
  it('builds the upstream local-completions command in upstream order', () => {
    expect(buildLmEvalArgv(base)).toEqual([
      'lm_eval',
      '--model',
      'local-completions',
      '--model_args',
      GPT_OSS_ARGS,
      '--tasks',
      'gsm8k',
      '--num_fewshot',
      '5',
      '--log_samples',
      '--output_path',
      'results/gpt_oss_120b_h200/gsm8k',
    ]);
  });
  it('switches to local-chat-completions and appends --apply_chat_template for chat', () => {
    const argv = buildLmEvalArgv({ ...base, numFewshot: 0, chat: true });
    expect(argv.slice(1, 3)).toEqual(['--model', 'local-chat-completions']);
    expect(argv.slice(7)).toEqual([
      '--num_fewshot',
      '0',
      '--log_samples',
      '--output_path',
      base.outputPath,
      '--apply_chat_template',
    ]);
  });
  it('appends include_path, limit, seed, gen_kwargs after the upstream flags, in that order', () => {
    const argv = buildLmEvalArgv(
      {
        ...base,
        chat: true,
        includePath: '/tasks',
        limit: 0.5,
        seed: '0,1234,1234,1234',
        genKwargs: 'temperature=0,max_gen_toks=512',
      },
      { command: ['/venv/bin/lm_eval'] },
    );
    expect(argv[0]).toBe('/venv/bin/lm_eval');
    expect(argv.slice(12)).toEqual([
      '--apply_chat_template',
      '--include_path',
      '/tasks',
      '--limit',
      '0.5',
      '--seed',
      '0,1234,1234,1234',
      '--gen_kwargs',
      'temperature=0,max_gen_toks=512',
    ]);
  });
  it('emits each optional flag on its own and numeric seeds as text', () => {
    expect(buildLmEvalArgv({ ...base, limit: 10 }).slice(12)).toEqual(['--limit', '10']);
    expect(buildLmEvalArgv({ ...base, seed: 42 }).slice(12)).toEqual(['--seed', '42']);
    expect(buildLmEvalArgv({ ...base, includePath: 'x' }).slice(12)).toEqual(['--include_path', 'x']);
    expect(buildLmEvalArgv({ ...base, genKwargs: 'temperature=0' }).slice(12)).toEqual([
      '--gen_kwargs',
      'temperature=0',
    ]);
    expect(buildLmEvalArgv({ ...base, chat: false })).toHaveLength(12);
  });
  it('supports a multi-token command prefix and rejects an empty one', () => {
    expect(buildLmEvalArgv(base, { command: ['python', '-m', 'lm_eval'] }).slice(0, 4)).toEqual([
      'python',
      '-m',
      'lm_eval',
      '--model',
    ]);
    expect(() => buildLmEvalArgv(base, { command: [] })).toThrow(TypeError);
  });
});

describe('redactModelArgs', () => {
  it('hides secret-named values only', () => {
    expect(redactModelArgs('model=m,auth_token=hf_abcdef,api_key=sk-1,timeout=5')).toBe(
      'model=m,auth_token=***,api_key=***,timeout=5',
    );
    expect(redactModelArgs(GPT_OSS_ARGS)).toBe(GPT_OSS_ARGS);
  });
  it('collects secret values for scrubbing output', () => {
    expect(secretModelArgValues('model=m,auth_token=hf_abcdef,api_key=x,timeout=5')).toEqual(['hf_abcdef']);
    expect(secretModelArgValues(GPT_OSS_ARGS)).toEqual([]);
  });
});

describe('sanitizeModelName', () => {
  it('replaces every run of the forbidden characters with __', () => {
    expect(sanitizeModelName('Qwen/Qwen3-8B')).toBe('Qwen__Qwen3-8B');
    expect(sanitizeModelName('openai/gpt-oss-120b')).toBe('openai__gpt-oss-120b');
    expect(sanitizeModelName('a//b:c|d"e<f>g\\h?i*j[k]l')).toBe('a__b__c__d__e__f__g__h__i__j__k__l');
    expect(sanitizeModelName('/abs/:path')).toBe('__abs__path');
    expect(sanitizeModelName('gemma4-26b-l40s')).toBe('gemma4-26b-l40s');
  });
});
