import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_FIXTURES } from '../../test/helpers.js';
import { aggregateMedian, formatSortedJson } from './aggregate.js';
import { BenchAggregateError } from './errors.js';
import { parseBenchResult } from './result.js';

const real = parseBenchResult(
  readFileSync(join(BENCH_FIXTURES, 'er0080_bench_serve_v0.25.1.json'), 'utf8'),
).result;
const files = ['/r/bench-x-run-1.json', '/r/bench-x-run-2.json', '/r/bench-x-run-3.json'];

function variant(overrides: Record<string, unknown>) {
  return { ...real, ...overrides };
}

function caught(fn: () => unknown): BenchAggregateError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BenchAggregateError);
    expect((error as BenchAggregateError).code).toBe('E_BENCH_AGGREGATE');
    return error as BenchAggregateError;
  }
  throw new Error('expected a throw');
}

describe('aggregateMedian', () => {
  it('takes the median of numeric keys over 3 runs; ints stay ints; "inf" and nulls come from the first run', () => {
    const runs = [
      variant({
        mean_ttft_ms: 300.5,
        max_concurrent_requests: 6,
        duration: 1.5,
        total_output_tokens: 128,
        request_rate: 'inf',
        request_goodput: null,
      }),
      variant({
        mean_ttft_ms: 100.25,
        max_concurrent_requests: 4,
        duration: 2.5,
        total_output_tokens: 128,
        request_rate: 'inf',
        request_goodput: 5,
      }),
      variant({
        mean_ttft_ms: 200.75,
        max_concurrent_requests: 5,
        duration: 0.5,
        total_output_tokens: 128,
        request_rate: 'inf',
        request_goodput: 7,
      }),
    ];
    const out = aggregateMedian(runs, files);
    expect(out.mean_ttft_ms).toBe(200.75);
    expect(out.max_concurrent_requests).toBe(5);
    expect(Number.isInteger(out.max_concurrent_requests)).toBe(true);
    expect(out.duration).toBe(1.5);
    expect(out.total_output_tokens).toBe(128);
    expect(out.request_rate).toBe('inf');
    expect(out.request_goodput).toBeNull();
    expect(out.label).toBeNull();
    expect(out.backend).toBe('vllm');
    expect(out.aggregation_method).toBe('median');
    expect(out.aggregated_repetitions).toBe(3);
    expect(out.individual_result_files).toEqual([
      'bench-x-run-1.json',
      'bench-x-run-2.json',
      'bench-x-run-3.json',
    ]);
    // Inputs are not mutated.
    expect(runs[0]?.mean_ttft_ms).toBe(300.5);
  });

  it('booleans are not numbers; arrays and objects come from the first run', () => {
    const out = aggregateMedian(
      [
        variant({ flag: true, arr: [1], obj: { a: 1 } }),
        variant({ flag: false, arr: [2], obj: { a: 2 } }),
        variant({ flag: false, arr: [3], obj: { a: 3 } }),
      ],
      files,
    );
    expect(out['flag']).toBe(true);
    expect(out['arr']).toEqual([1]);
    expect(out['obj']).toEqual({ a: 1 });
  });

  it('a key that is a string in one run keeps the first value', () => {
    const out = aggregateMedian(
      [variant({ rtfx: 'n/a' }), variant({ rtfx: 3 }), variant({ rtfx: 1 })],
      files,
    );
    expect(out.rtfx).toBe('n/a');
  });

  it('different key sets → "benchmark result <i> has a different schema"', () => {
    const extra = variant({ extra_key: 1 });
    expect(caught(() => aggregateMedian([real, real, extra], files)).message).toBe(
      'benchmark result 3 has a different schema',
    );
    const missing: Record<string, unknown> = { ...real };
    delete missing['duration'];
    expect(caught(() => aggregateMedian([real, missing, real], files)).message).toBe(
      'benchmark result 2 has a different schema',
    );
  });

  it('non-object → "benchmark result <i> is not a JSON object"', () => {
    expect(caught(() => aggregateMedian([real, [1], real], files)).message).toBe(
      'benchmark result 2 is not a JSON object',
    );
    expect(caught(() => aggregateMedian([null, real, real], files)).message).toBe(
      'benchmark result 1 is not a JSON object',
    );
  });

  it.each([
    [
      'backend',
      ['vllm', 'openai', 'vllm'],
      "benchmark results disagree on backend: ['vllm', 'openai', 'vllm']",
    ],
    ['model_id', ['a', 'a', 'b'], "benchmark results disagree on model_id: ['a', 'a', 'b']"],
    ['tokenizer_id', ['t', null, 't'], "benchmark results disagree on tokenizer_id: ['t', None, 't']"],
    ['num_prompts', [8, 8, 16], 'benchmark results disagree on num_prompts: [8, 8, 16]'],
    ['max_concurrency', [2, null, 2], 'benchmark results disagree on max_concurrency: [2, None, 2]'],
  ])('identity key %s must agree', (key, values, message) => {
    const runs = values.map((value) => variant({ [key]: value }));
    expect(caught(() => aggregateMedian(runs, files)).message).toBe(message);
  });

  it('empty input and mismatched file list are errors', () => {
    expect(caught(() => aggregateMedian([], [])).message).toBe('at least one benchmark result is required');
    expect(caught(() => aggregateMedian([real], files)).message).toBe(
      'got 1 benchmark results but 3 file names',
    );
  });

  it('a single result is its own median', () => {
    expect(aggregateMedian([real], ['/x/a.json']).mean_ttft_ms).toBe(real.mean_ttft_ms);
  });
});

describe('formatSortedJson', () => {
  it('sorts keys at every level, indents by 2, escapes non-ASCII, ends with a newline', () => {
    const { text, nonFiniteKeys } = formatSortedJson({ b: 1, a: { d: [2, { z: 1, y: 'é' }], c: null } });
    expect(text).toBe(
      '{\n  "a": {\n    "c": null,\n    "d": [\n      2,\n      {\n        "y": "\\u00e9",\n        "z": 1\n      }\n    ]\n  },\n  "b": 1\n}\n',
    );
    expect(nonFiniteKeys).toEqual([]);
  });

  it('never emits non-finite numbers', () => {
    const { text, nonFiniteKeys } = formatSortedJson({ x: Number.NaN, y: [Number.POSITIVE_INFINITY], z: 1 });
    expect(JSON.parse(text)).toEqual({ x: null, y: [null], z: 1 });
    expect(nonFiniteKeys).toEqual(['x', 'y[0]']);
  });
});
