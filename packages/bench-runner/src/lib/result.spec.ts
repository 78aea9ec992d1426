import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_FIXTURES } from '../../test/helpers.js';
import { BenchIncompleteError, BenchResultInvalidError } from './errors.js';
import { parseBenchResult, sanitizeBenchJson, validateBenchResult } from './result.js';
import type { BenchResult } from './result.js';

const fixture = (name: string) => join(BENCH_FIXTURES, name);
const load = (name: string) => parseBenchResult(readFileSync(fixture(name), 'utf8'), fixture(name));

function caught(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('parseBenchResult on the real fixtures', () => {
  it('covers every fixture file', () => {
    expect(readdirSync(BENCH_FIXTURES).sort()).toEqual([
      'er0080_bench_serve_all_requests_failed_v0.25.1.json',
      'er0080_bench_serve_v0.25.1.json',
      'er0080_sweep_run0_openai_e2el.json',
      'nv-action_serving_llama8B_tp1_1.json',
    ]);
  });

  it('normal 0.25.1 result (sorted, indented)', () => {
    const { result, nonFiniteKeys } = load('er0080_bench_serve_v0.25.1.json');
    expect(nonFiniteKeys).toEqual([]);
    expect(result.backend).toBe('vllm');
    expect(result.model_id).toBe('facebook/opt-125m');
    expect(result.num_prompts).toBe(8);
    expect(result.completed).toBe(8);
    expect(result.failed).toBe(0);
    expect(result.max_concurrency).toBe(2);
    expect(result.request_rate).toBe('inf');
    expect(result.label).toBeNull();
    expect(result.request_goodput).toBeNull();
    expect(result.duration).toBe(1.5441598830002476);
    expect(result.mean_ttft_ms).toBe(215.53594200008774);
    expect(result.p99_itl_ms).toBe(29.815922519960626);
    expect(result.total_token_throughput).toBe(248.6789122211242);
    expect(Object.keys(result)).toHaveLength(34);
    expect(validateBenchResult(result, 8, fixture('er0080_bench_serve_v0.25.1.json'))).toEqual({
      completed: 8,
      failed: 0,
      expected: 8,
    });
  });

  it('all-requests-failed file parses, then fails validation with E_BENCH_INCOMPLETE', () => {
    const file = fixture('er0080_bench_serve_all_requests_failed_v0.25.1.json');
    const { result } = load('er0080_bench_serve_all_requests_failed_v0.25.1.json');
    expect(result.completed).toBe(0);
    expect(result.failed).toBe(8);
    expect(result.max_concurrency).toBeNull();
    expect(result.mean_ttft_ms).toBe(0);
    expect(result.duration).toBe(0.00503263997961767);
    const error = caught(() => validateBenchResult(result, 8, file)) as BenchIncompleteError;
    expect(error).toBeInstanceOf(BenchIncompleteError);
    expect(error.code).toBe('E_BENCH_INCOMPLETE');
    expect(error.message).toBe(
      `vllm bench serve incomplete: completed=0 failed=8 expected=8 (result kept at ${file})`,
    );
    expect([error.completed, error.failed, error.expected, error.file]).toEqual([0, 8, 8, file]);
  });

  it('sweep file keeps unknown keys and e2el percentiles', () => {
    const { result } = load('er0080_sweep_run0_openai_e2el.json');
    expect(result.backend).toBe('openai');
    expect(result['run_number']).toBe(0);
    expect(result['max_num_seqs']).toBe(4);
    expect(result.p99_e2el_ms).toBe(876.8009717071254);
    expect(result.median_e2el_ms).toBe(166.47808399284258);
    expect(validateBenchResult(result, 8)).toEqual({ completed: 8, failed: 0, expected: 8 });
  });

  it('legacy benchmark_serving.py file parses but has no completed count → E_BENCH_RESULT_INVALID', () => {
    const file = fixture('nv-action_serving_llama8B_tp1_1.json');
    const { result } = load('nv-action_serving_llama8B_tp1_1.json');
    expect(result.best_of).toBe(1);
    expect(result.request_rate).toBe(1);
    expect(result.num_prompts).toBe(200);
    expect(result.median_tpot_ms).toBe(40.27887061310954);
    expect(result.duration).toBeUndefined();
    const error = caught(() => validateBenchResult(result, 200, file)) as BenchResultInvalidError;
    expect(error).toBeInstanceOf(BenchResultInvalidError);
    expect(error.code).toBe('E_BENCH_RESULT_INVALID');
    expect(error.message).toBe(
      `bench result ${file} has no completed count (looked for completed, successful, successful_requests)`,
    );
    expect(error.file).toBe(file);
  });
});

describe('parseBenchResult tolerance', () => {
  it('turns bare NaN/Infinity/-Infinity into null and reports their paths, strings untouched', () => {
    const text =
      '{"a": NaN, "b": Infinity, "c": -Infinity, "s": "NaN and Infinity \\" -Infinity", "arr": [1, NaN, {"d": Infinity}], ' +
      '"request_rate": "inf", "ok": 1.5, "neg": -1}';
    const { result, nonFiniteKeys } = parseBenchResult(text);
    expect(result).toEqual({
      a: null,
      b: null,
      c: null,
      s: 'NaN and Infinity " -Infinity',
      arr: [1, null, { d: null }],
      request_rate: 'inf',
      ok: 1.5,
      neg: -1,
    });
    expect(nonFiniteKeys).toEqual(['a', 'b', 'c', 'arr[1]', 'arr[2].d']);
    expect(sanitizeBenchJson(text)).toEqual({
      text:
        '{"a": null, "b": null, "c": null, "s": "NaN and Infinity \\" -Infinity", "arr": [1, null, {"d": null}], ' +
        '"request_rate": "inf", "ok": 1.5, "neg": -1}',
      replaced: 5,
    });
  });

  it('keys named like the tokens are not touched', () => {
    expect(parseBenchResult('{"NaN": 1, "Infinity": [2]}')).toEqual({
      result: { NaN: 1, Infinity: [2] },
      nonFiniteKeys: [],
    });
  });

  it('invalid JSON → E_BENCH_RESULT_INVALID with file and snippet', () => {
    const error = caught(() =>
      parseBenchResult('{"completed": 8, "failed": }', '/r/bench-x.json'),
    ) as BenchResultInvalidError;
    expect(error).toBeInstanceOf(BenchResultInvalidError);
    expect(error.message).toMatch(/^bench result \/r\/bench-x\.json is not valid JSON: /);
    expect(error.file).toBe('/r/bench-x.json');
    expect(error.snippet).toContain('"failed": }');
  });

  it.each(['[1, 2]', '"x"', 'null', '3'])('non-object %s → E_BENCH_RESULT_INVALID', (text) => {
    const error = caught(() => parseBenchResult(text));
    expect(error).toBeInstanceOf(BenchResultInvalidError);
    expect(error.message).toBe('bench result is not a JSON object');
  });
});

describe('validateBenchResult', () => {
  const base = { duration: 1, request_throughput: 1, output_throughput: 1, total_token_throughput: 1 };

  it('uses the first non-null alternative names', () => {
    expect(
      validateBenchResult({ ...base, completed: null, successful: 4, errored: null, failed_requests: 0 }, 4),
    ).toEqual({
      completed: 4,
      failed: 0,
      expected: 4,
    });
    expect(validateBenchResult({ ...base, successful_requests: 4 }, 4)).toEqual({
      completed: 4,
      failed: 0,
      expected: 4,
    });
  });

  it('failed defaults to 0; num_failed_requests is honoured', () => {
    const error = caught(() =>
      validateBenchResult({ ...base, completed: 4, num_failed_requests: 2 }, 4),
    ) as BenchIncompleteError;
    expect(error.message).toBe('vllm bench serve incomplete: completed=4 failed=2 expected=4');
  });

  it('completed below num_prompts is incomplete even with failed=0', () => {
    expect(() => validateBenchResult({ ...base, completed: 3, failed: 0 }, 4)).toThrow(BenchIncompleteError);
  });

  it('missing duration or throughputs → E_BENCH_RESULT_INVALID', () => {
    const error = caught(() => validateBenchResult({ completed: 4, failed: 0, duration: 1 }, 4));
    expect(error).toBeInstanceOf(BenchResultInvalidError);
    expect(error.message).toBe(
      'bench result is missing required key(s): request_throughput, output_throughput, total_token_throughput',
    );
  });

  it('a non-integer count is invalid', () => {
    const untyped = JSON.parse('{"completed": "eight"}') as BenchResult;
    expect(() => validateBenchResult({ ...base, ...untyped }, 8)).toThrow(BenchResultInvalidError);
    // Python int() semantics upstream: integer strings and floats are accepted.
    expect(
      validateBenchResult({ ...base, ...(JSON.parse('{"completed": "8", "failed": 0.0}') as BenchResult) }, 8)
        .completed,
    ).toBe(8);
  });
});
