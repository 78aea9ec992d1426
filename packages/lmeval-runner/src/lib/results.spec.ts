import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LmEvalParseError } from './errors.js';
import { metricsOf, parseLmEvalResults } from './results.js';

const FIXTURES = resolve(import.meta.dirname, '../../../../../shared/reference/fixtures/lm_eval');
const GSM8K = resolve(
  FIXTURES,
  'akamaslabs_gsm8k_platinum_cot_llama_results_2026-10-08T12-45-17.743940.json',
);
const IFEVAL = resolve(FIXTURES, 'akamaslabs_ifeval_results_2026-10-08T12-48-42.913247.json');

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('parseLmEvalResults on the lm-eval 0.4.13 fixtures', () => {
  it('parses gsm8k_platinum_cot_llama', () => {
    const results = parseLmEvalResults(readFileSync(GSM8K, 'utf8'), GSM8K);
    expect(results.results['gsm8k_platinum_cot_llama']).toEqual({
      name: 'gsm8k_platinum_cot_llama',
      alias: 'gsm8k_platinum_cot_llama',
      sample_len: 1209,
      'exact_match,strict-match': 0.9520264681555004,
      'exact_match_stderr,strict-match': 0.006148821569571143,
      'exact_match,flexible-extract': 0.9520264681555004,
      'exact_match_stderr,flexible-extract': 0.006148821569571143,
    });
    expect(results.group_subtasks).toEqual({});
    expect(results.versions).toEqual({ gsm8k_platinum_cot_llama: 3.0 });
    expect(results['n-shot']).toEqual({ gsm8k_platinum_cot_llama: 0 });
    expect(results.higher_is_better).toEqual({ gsm8k_platinum_cot_llama: { exact_match: true } });
    expect(results['n-samples']).toEqual({ gsm8k_platinum_cot_llama: { original: 1209, effective: 1209 } });
    expect(results.config?.model).toBe('local-chat-completions');
    expect(results.config?.model_args).toMatchObject({
      model: 'gemma4-26b-l40s',
      tokenizer_backend: null,
      tokenized_requests: false,
    });
    expect(results.config?.gen_kwargs).toEqual({ do_sample: false, temperature: 0, max_gen_toks: 2048 });
    expect(results.lm_eval_version).toBe('0.4.13');
    expect(results.model_name_sanitized).toBe('gemma4-26b-l40s');
    expect(results.total_evaluation_time_seconds).toBe('363.757597126998');
    expect(results.date).toBe(1791463157.307108);
    expect(Object.keys(results.configs)).toEqual(['gsm8k_platinum_cot_llama']);
    expect(results.groups).toBeUndefined();
  });

  it('returns the metrics of gsm8k_platinum_cot_llama per filter', () => {
    const results = parseLmEvalResults(readFileSync(GSM8K, 'utf8'), GSM8K);
    expect(metricsOf(results, 'gsm8k_platinum_cot_llama')).toEqual([
      {
        metric: 'exact_match',
        filter: 'strict-match',
        value: 0.9520264681555004,
        stderr: 0.006148821569571143,
      },
      {
        metric: 'exact_match',
        filter: 'flexible-extract',
        value: 0.9520264681555004,
        stderr: 0.006148821569571143,
      },
    ]);
  });

  it('maps ifeval "N/A" stderr values to null', () => {
    const results = parseLmEvalResults(readFileSync(IFEVAL, 'utf8'), IFEVAL);
    expect(results.results['ifeval']?.['inst_level_strict_acc_stderr,none']).toBe('N/A');
    expect(results.versions).toEqual({ ifeval: 4.0 });
    expect(metricsOf(results, 'ifeval')).toEqual([
      {
        metric: 'prompt_level_strict_acc',
        filter: 'none',
        value: 0.8872458410351202,
        stderr: 0.013611042535042835,
      },
      { metric: 'inst_level_strict_acc', filter: 'none', value: 0.9232613908872902, stderr: null },
      {
        metric: 'prompt_level_loose_acc',
        filter: 'none',
        value: 0.9020332717190388,
        stderr: 0.012792449192922035,
      },
      { metric: 'inst_level_loose_acc', filter: 'none', value: 0.935251798561151, stderr: null },
    ]);
  });

  it('keeps every top-level key of the file, in order', () => {
    const text = readFileSync(IFEVAL, 'utf8');
    expect(Object.keys(parseLmEvalResults(text))).toEqual(Object.keys(JSON.parse(text) as object));
  });
});

describe('parseLmEvalResults tolerance', () => {
  it('preserves unknown keys, fills missing per-task maps, reads groups', () => {
    const text = JSON.stringify({
      results: { mmlu_a: { 'acc,none': 0.5, 'acc_stderr,none': 0.1 } },
      groups: { mmlu: { name: 'mmlu', 'acc,none': 0.6, 'acc_stderr,none': 0.01 } },
      new_key_from_future: [1, 2],
    });
    const results = parseLmEvalResults(text);
    expect(results['new_key_from_future']).toEqual([1, 2]);
    expect(results.configs).toEqual({});
    expect(results['n-samples']).toEqual({});
    expect(metricsOf(results, 'mmlu')).toEqual([{ metric: 'acc', filter: 'none', value: 0.6, stderr: 0.01 }]);
  });

  it('accepts bare NaN/Infinity written by Python json and leaves strings alone', () => {
    const text =
      '{"results": {"t": {"name": "NaN Infinity", "acc,none": NaN, "acc_stderr,none": Infinity, "f1,none": -Infinity, "f1_stderr,none": NaN}}}';
    const results = parseLmEvalResults(text);
    expect(results.results['t']?.name).toBe('NaN Infinity');
    const metrics = metricsOf(results, 't');
    expect(metrics[0]?.value).toBeNaN();
    expect(metrics[0]?.stderr).toBeNull();
    expect(metrics[1]).toEqual({
      metric: 'f1',
      filter: 'none',
      value: Number.NEGATIVE_INFINITY,
      stderr: null,
    });
  });

  it('skips non-numeric metric values and treats a missing stderr as null', () => {
    const results = parseLmEvalResults(
      '{"results": {"t": {"alias": "t", "acc,none": 1, "bleu,none": [1, 2]}}}',
    );
    expect(metricsOf(results, 't')).toEqual([{ metric: 'acc', filter: 'none', value: 1, stderr: null }]);
  });
});

describe('parse errors (E_LMEVAL_PARSE)', () => {
  it('reports invalid JSON with the file path and a snippet near the error', () => {
    const text = `{"results": {"t": {"acc,none": 0.5,, "x": 1}}}`;
    const error = catchError(() => parseLmEvalResults(text, '/r/results_x.json')) as LmEvalParseError;
    expect(error).toBeInstanceOf(LmEvalParseError);
    expect(error.code).toBe('E_LMEVAL_PARSE');
    expect(error.file).toBe('/r/results_x.json');
    expect(error.message).toMatch(/^cannot parse lm_eval results \/r\/results_x\.json: invalid JSON \(/);
    expect(error.snippet).toContain('0.5,,');
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it('points the snippet at the error in a large file, not at its start', () => {
    const text = readFileSync(GSM8K, 'utf8').replace('"sample_len": 1209', '"sample_len": 12 09');
    const error = catchError(() => parseLmEvalResults(text, GSM8K)) as LmEvalParseError;
    expect(error.snippet).toContain('12 09');
    expect(error.snippet.length).toBeLessThanOrEqual(200);
  });

  it('rejects truncated files', () => {
    const text = readFileSync(GSM8K, 'utf8').slice(0, 500);
    expect(() => parseLmEvalResults(text, GSM8K)).toThrow(LmEvalParseError);
  });

  it('rejects a missing results object, arrays and wrongly typed sections', () => {
    expect(() => parseLmEvalResults('{"config": {}}')).toThrow(
      "cannot parse lm_eval results <text>: missing or invalid 'results' object",
    );
    expect(() => parseLmEvalResults('[1]', 'f.json')).toThrow(
      'cannot parse lm_eval results f.json: expected a JSON object, got an array',
    );
    expect(() => parseLmEvalResults('{"results": {"t": 3}}')).toThrow("results['t'] is not an object");
    expect(() => parseLmEvalResults('{"results": {}, "versions": []}')).toThrow(
      "'versions' is not an object",
    );
    expect(() => parseLmEvalResults('{"results": {}, "config": "x"}')).toThrow("'config' is not an object");
  });

  it('metricsOf names the file and the tasks present when the task is missing', () => {
    const results = parseLmEvalResults(readFileSync(GSM8K, 'utf8'), GSM8K);
    const error = catchError(() => metricsOf(results, 'gsm8k')) as LmEvalParseError;
    expect(error.code).toBe('E_LMEVAL_PARSE');
    expect(error.message).toBe(
      `cannot parse lm_eval results ${GSM8K}: no results for task 'gsm8k' (file has: gsm8k_platinum_cot_llama)`,
    );
  });
});
