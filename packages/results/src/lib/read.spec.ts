import { copyFile, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, tempDir } from '../../test/tmp.js';
import { ResultsDirError, ResultsFileError } from './errors.js';
import { seriesOf, seriesKey } from './model.js';
import { readResultsDir } from './read.js';

const BENCH = join(FIXTURES, 'vllm_bench/er0080_bench_serve_v0.25.1.json');
const LMEVAL = join(
  FIXTURES,
  'lm_eval/akamaslabs_gsm8k_platinum_cot_llama_results_2026-10-08T12-45-17.743940.json',
);
const BFCL = join(FIXTURES, 'bfcl/harmony-fixes-2');

async function benchWith(dir: string, name: string, patch: Record<string, unknown>): Promise<void> {
  const doc = JSON.parse(await readFile(BENCH, 'utf8')) as Record<string, unknown>;
  await writeFile(join(dir, name), JSON.stringify({ ...doc, ...patch }));
}

describe('readResultsDir: bench', () => {
  it('reads the aggregate as the headline and every repetition file as a repetition', async () => {
    const dir = await tempDir();
    await benchWith(dir, 'bench-1k-conc-2.json', { output_throughput: 80 });
    await benchWith(dir, 'bench-1k-conc-2-run-1.json', { output_throughput: 79 });
    await benchWith(dir, 'bench-1k-conc-2-run-2.json', { output_throughput: 80 });
    await benchWith(dir, 'bench-1k-conc-2-run-3.json', { output_throughput: 84 });
    const run = await readResultsDir(dir);
    expect(run.tasks.map((t) => t.task)).toEqual(['bench:1k-conc-2']);
    const series = seriesOf(run.records).get(seriesKey('bench:1k-conc-2', 'output_throughput'));
    expect(series).toMatchObject({ value: 80, values: [79, 80, 84], better: 'higher' });
    expect(seriesOf(run.records).get(seriesKey('bench:1k-conc-2', 'p99_ttft_ms'))?.better).toBe('lower');
    // Counts, std_* and config echoes are not compared.
    expect(
      run.records.some((r) => ['completed', 'std_ttft_ms', 'num_prompts', 'duration'].includes(r.metric)),
    ).toBe(false);
    expect(run.identity).toMatchObject({ model: 'facebook/opt-125m', recipe: dir.split('/').at(-1) });
    expect(JSON.parse(run.tasks[0]?.configKey ?? '')).toEqual({
      backend: 'vllm',
      burstiness: 1,
      max_concurrency: 2,
      num_prompts: 8,
      request_rate: 'inf',
    });
  });

  it('flags failed requests and validity arrays; bare NaN becomes null', async () => {
    const dir = await tempDir();
    await copyFile(
      join(FIXTURES, 'vllm_bench/er0080_bench_serve_all_requests_failed_v0.25.1.json'),
      join(dir, 'bench-failed.json'),
    );
    await writeFile(
      join(dir, 'bench-flagged.json'),
      '{"output_throughput": NaN, "mean_ttft_ms": 12.5, "validity": [{"code": "warm-prefix-cache", "severity": "invalid", "message": "hit rate 40 %"}, {"code": "preemptions", "severity": "warning"}, "custom"]}',
    );
    const run = await readResultsDir(dir);
    expect(run.tasks.find((t) => t.task === 'bench:failed')?.flags).toEqual(['failed-requests']);
    expect(run.tasks.find((t) => t.task === 'bench:flagged')?.flags).toEqual(['warm-prefix-cache', 'custom']);
    expect(
      run.records.find((r) => r.task === 'bench:flagged' && r.metric === 'output_throughput')?.value,
    ).toBeNull();
  });

  it('a corrupt bench file is a validation error naming the file', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'bench-x.json'), '{"output_throughput": 1,');
    const error = await readResultsDir(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResultsFileError);
    expect(error).toMatchObject({
      code: 'E_RESULTS_FILE_INVALID',
      category: 'validation',
      file: join(dir, 'bench-x.json'),
    });
    expect((error as Error).message).toMatch(
      /bench-x\.json: is not valid JSON .*re-run the task or delete the file/,
    );
  });

  it('a validity field that is not an array names the field', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'bench-x.json'), '{"output_throughput": 1, "flags": "bad"}');
    await expect(readResultsDir(dir)).rejects.toThrow(/bench-x\.json \(flags\): must be an array of strings/);
  });
});

describe('readResultsDir: lm-eval', () => {
  it('reads aggregates with stderr, direction and n, and per-sample correctness', async () => {
    const dir = await tempDir();
    const out = join(dir, 'gsm8k_platinum_cot_llama', 'gemma4-26b-l40s');
    await mkdir(out, { recursive: true });
    await copyFile(LMEVAL, join(out, 'results_2026-10-08T12-45-17.743940.json'));
    const lines = [
      { doc_id: 0, filter: 'strict-match', metrics: ['exact_match'], exact_match: 1.0 },
      { doc_id: 1, filter: 'strict-match', metrics: ['exact_match'], exact_match: 0.0 },
      { doc_id: 0, filter: 'flexible-extract', metrics: ['exact_match'], exact_match: 1.0 },
      'not json',
    ].map((l) => (typeof l === 'string' ? l : JSON.stringify(l)));
    await writeFile(
      join(out, 'samples_gsm8k_platinum_cot_llama_2026-10-08T12-45-17.743940.jsonl'),
      `${lines.join('\n')}\n`,
    );
    const run = await readResultsDir(dir);
    const strict = run.records.find((r) => r.metric === 'exact_match,strict-match');
    expect(strict).toMatchObject({
      task: 'lm_eval:gsm8k_platinum_cot_llama',
      value: 0.9520264681555004,
      stderr: 0.006148821569571143,
      n: 1209,
      better: 'higher',
    });
    expect(run.identity.model).toBe('gemma4-26b-l40s');
    const key = JSON.parse(run.tasks[0]?.configKey ?? '') as {
      model_args: Record<string, unknown>;
      num_fewshot: number;
    };
    expect(key.num_fewshot).toBe(0);
    // Endpoint fields differ between runs of the same config and are left out of the key.
    expect(Object.keys(key.model_args).sort()).toEqual([
      'max_length',
      'model',
      'tokenized_requests',
      'tokenizer_backend',
    ]);
    const samples = run.samples.find((s) => s.metric === 'exact_match,strict-match');
    expect([...(samples?.outcomes ?? [])]).toEqual([
      ['0', true],
      ['1', false],
    ]);
    expect(run.warnings).toEqual([expect.stringMatching(/1 sample line\(s\) skipped/)]);
  });

  it('without samples: option skips the samples files', async () => {
    const dir = await tempDir();
    const out = join(dir, 'gsm8k', 'm');
    await mkdir(out, { recursive: true });
    await copyFile(LMEVAL, join(out, 'results_2026-10-08T12-45-17.743940.json'));
    await writeFile(
      join(out, 'samples_gsm8k_platinum_cot_llama_2026-10-08T12-45-17.743940.jsonl'),
      '{"doc_id":0,"filter":"x","metrics":["acc"],"acc":1}\n',
    );
    expect((await readResultsDir(dir, { samples: false })).samples).toEqual([]);
  });

  it('a results file without results names the field', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'gsm8k', 'm'), { recursive: true });
    await writeFile(join(dir, 'gsm8k', 'm', 'results_1.json'), '{"configs": {}}');
    await expect(readResultsDir(dir)).rejects.toThrow(
      /results_1\.json \(results\): is missing or not an object/,
    );
  });
});

describe('readResultsDir: BFCL and semantic eval', () => {
  it('reads BFCL accuracy, counts from the score file and per-entry correctness', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'bfcl-simple_python'));
    await writeFile(
      join(dir, 'bfcl-simple_python', 'results_2026-11-22T13-41-58.json'),
      '{"results": {"bfcl_simple_python": {"acc,none": 0.8575, "acc_stderr,none": 0.0, "alias": "bfcl_simple_python"}}}',
    );
    const work = join(dir, '.bfcl_work', 'simple_python');
    await cp(
      join(BFCL, 'score/openai_gpt-oss-120b/non_live'),
      join(work, 'score/openai_gpt-oss-120b/non_live'),
      { recursive: true },
    );
    await cp(
      join(BFCL, 'result/openai_gpt-oss-120b/non_live'),
      join(work, 'result/openai_gpt-oss-120b/non_live'),
      { recursive: true },
    );
    const run = await readResultsDir(dir);
    const record = run.records.find((r) => r.task === 'bfcl:simple_python');
    expect(record).toMatchObject({ metric: 'acc,none', value: 0.8575, n: 400 });
    expect(record?.stderr).toBeCloseTo(Math.sqrt((0.8575 * 0.1425) / 400), 12);
    const outcomes = run.samples.find((s) => s.task === 'bfcl:simple_python')?.outcomes;
    expect(outcomes?.size).toBe(400);
    expect([...(outcomes?.values() ?? [])].filter(Boolean)).toHaveLength(343);
    expect(outcomes?.get('simple_python_3')).toBe(false);
    expect(outcomes?.get('simple_python_0')).toBe(true);
  });

  it('reads the semantic eval listed in summary.json and the run identity', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'gsm8k_eval.json'),
      JSON.stringify({ accuracy: 0.75, invalid_rate: 0.01, questions_per_second: 3.5, num_questions: 200 }),
    );
    await writeFile(
      join(dir, 'summary.json'),
      JSON.stringify({
        version: 1,
        workload: 'demo',
        gpu: 'h200',
        model: 'Qwen/Qwen3-8B',
        image: 'vllm/vllm-openai:v0.25.1',
        vllmCommit: 'abc',
        startedAt: '2026-12-01T00:00:00.000Z',
        identity: {
          recipeHash: 'f00',
          gpuCount: 2,
          serveArgs: ['--tensor-parallel-size', '2'],
          buildNumber: '42',
          buildUrl: 'https://buildkite.example/b/42',
          nightly: true,
        },
        tasks: [
          {
            id: 'semantic_eval',
            kind: 'semantic_eval',
            name: 'gsm8k',
            status: 'ok',
            metrics: {},
            files: [join(dir, 'gsm8k_eval.json')],
          },
        ],
      }),
    );
    const run = await readResultsDir(dir);
    expect(run.identity).toEqual({
      runId: 'build-42',
      recipe: 'demo',
      recipeHash: 'f00',
      model: 'Qwen/Qwen3-8B',
      gpuKind: 'h200',
      gpuCount: 2,
      image: 'vllm/vllm-openai:v0.25.1',
      vllmCommit: 'abc',
      serveArgs: ['--tensor-parallel-size', '2'],
      buildNumber: '42',
      buildUrl: 'https://buildkite.example/b/42',
      date: '2026-12-01T00:00:00.000Z',
      nightly: true,
    });
    expect(
      run.records.filter((r) => r.task === 'semantic_eval:gsm8k').map((r) => [r.metric, r.better]),
    ).toEqual([
      ['accuracy', 'higher'],
      ['invalid_rate', 'lower'],
      ['questions_per_second', 'higher'],
    ]);
    expect(run.records.find((r) => r.metric === 'accuracy')?.n).toBe(200);
  });
});

describe('readResultsDir: bad input', () => {
  it('a missing directory is a usage error with the fix', async () => {
    const error = await readResultsDir('/nonexistent/results/x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResultsDirError);
    expect(error).toMatchObject({ code: 'E_RESULTS_DIR', category: 'usage' });
    expect((error as Error).message).toBe(
      'results /nonexistent/results/x: does not exist; pass the results/<name>/ directory a run wrote (or a history file)',
    );
  });

  it('a directory without results is a usage error', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'notes.txt'), 'x');
    await expect(readResultsDir(dir)).rejects.toThrow(/holds no bench-\*\.json/);
  });

  it('a file is not a directory', async () => {
    await expect(readResultsDir(BENCH)).rejects.toThrow(/is not a directory/);
  });

  it('a corrupt summary.json names the file', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'summary.json'), '{"tasks": 3}');
    await expect(readResultsDir(dir)).rejects.toThrow(/summary\.json \(tasks\): is missing or not an array/);
  });
});
