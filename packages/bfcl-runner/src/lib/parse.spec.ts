import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BfclParseError } from './errors.js';
import {
  BFCL_CSV_HEADERS,
  isMultiTurnEntry,
  parseBfclCsv,
  parseBfclResultText,
  parseScoreSummary,
  readBfclCsv,
  readBfclResultFile,
  readScoreSummary,
} from './parse.js';

const FIXTURES = resolve(
  import.meta.dirname,
  '../../../../../shared/reference/fixtures/bfcl/harmony-fixes-2',
);
const SCORE = join(FIXTURES, 'score/openai_gpt-oss-120b');
const RESULT = join(FIXTURES, 'result/openai_gpt-oss-120b');

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bfcl-parse-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

describe('readScoreSummary (line 1 of a score file)', () => {
  it('reads simple_python: 0.8575, 343/400', async () => {
    const summary = await readScoreSummary(join(SCORE, 'non_live/BFCL_v4_simple_python_score.json'));
    expect(summary).toEqual({
      accuracy: 0.8575,
      correctCount: 343,
      totalCount: 400,
      raw: { accuracy: 0.8575, correct_count: 343, total_count: 400 },
    });
  });

  it('reads live_parallel: 0.0 (0/16) as a valid score', async () => {
    const summary = await readScoreSummary(join(SCORE, 'live/BFCL_v4_live_parallel_score.json'));
    expect(summary.accuracy).toBe(0);
    expect(summary.correctCount).toBe(0);
    expect(summary.totalCount).toBe(16);
  });

  it('reads live_relevance 0.6875 and irrelevance 0.875', async () => {
    expect((await readScoreSummary(join(SCORE, 'live/BFCL_v4_live_relevance_score.json'))).accuracy).toBe(
      0.6875,
    );
    const irrelevance = await readScoreSummary(join(SCORE, 'non_live/BFCL_v4_irrelevance_score.json'));
    expect([irrelevance.accuracy, irrelevance.correctCount, irrelevance.totalCount]).toEqual([
      0.875, 210, 240,
    ]);
  });

  it('reads the multi_turn_base EXCERPT by explicit path: 0.62, 124/200', async () => {
    const file = join(SCORE, 'multi_turn/BFCL_v4_multi_turn_base_score.EXCERPT_first2lines.json');
    const summary = await readScoreSummary(file);
    expect([summary.accuracy, summary.correctCount, summary.totalCount]).toEqual([0.62, 124, 200]);
  });

  it('a suffix lookup for multi_turn_base does not find the EXCERPT file', async () => {
    const names = await readdir(join(SCORE, 'multi_turn'));
    expect(names.filter((name) => name.endsWith('multi_turn_base_score.json'))).toEqual([]);
    await expect(
      readScoreSummary(join(SCORE, 'multi_turn/BFCL_v4_multi_turn_base_score.json')),
    ).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('rejects a line 1 without a numeric accuracy, and an empty file', async () => {
    expect(() => parseScoreSummary('{"accuracy": "N/A"}', 'x.json')).toThrow(BfclParseError);
    expect(() => parseScoreSummary('not json', 'x.json')).toThrow(/line 1 is not JSON/);
    const dir = await tempDir();
    await writeFile(join(dir, 'empty.json'), '');
    await expect(readScoreSummary(join(dir, 'empty.json'))).rejects.toMatchObject({ code: 'E_BFCL_PARSE' });
  });
});

describe('readBfclResultFile (JSON Lines)', () => {
  it('parses all 400 simple_python entries, FC results as {fn: json-args}', async () => {
    const entries = await readBfclResultFile(join(RESULT, 'non_live/BFCL_v4_simple_python_result.json'));
    expect(entries).toHaveLength(400);
    expect(entries[0]).toEqual({
      id: 'simple_python_0',
      result: [{ calculate_triangle_area: '{"base": 10, "height": 5}' }],
      input_token_count: 192,
      output_token_count: 69,
      latency: 0.8497052192687988,
    });
    expect(entries[3]?.result).toEqual([]);
    expect(isMultiTurnEntry(entries[0] as never)).toBe(false);
  });

  it('parses irrelevance (240), live_parallel (16) and live_relevance (16)', async () => {
    expect(await readBfclResultFile(join(RESULT, 'non_live/BFCL_v4_irrelevance_result.json'))).toHaveLength(
      240,
    );
    const parallel = await readBfclResultFile(join(RESULT, 'live/BFCL_v4_live_parallel_result.json'));
    expect(parallel).toHaveLength(16);
    expect(parallel[0]?.id).toBe('live_parallel_0-0-0');
    const relevance = await readBfclResultFile(join(RESULT, 'live/BFCL_v4_live_relevance_result.json'));
    expect(relevance.map((entry) => entry.id).slice(0, 2)).toEqual([
      'live_relevance_0-0-0',
      'live_relevance_1-1-0',
    ]);
  });

  it('parses the multi-turn excerpt: nested turn → step lists', async () => {
    const [entry, ...rest] = await readBfclResultFile(
      join(RESULT, 'multi_turn/BFCL_v4_multi_turn_base_result.EXCERPT_first1line.json'),
    );
    expect(rest).toEqual([]);
    expect(entry?.id).toBe('multi_turn_base_0');
    expect(isMultiTurnEntry(entry as never)).toBe(true);
    const result = entry?.result as unknown[][][];
    expect(result).toHaveLength(4);
    expect(result[0]?.[0]).toEqual([{ ls: '{"a": false}' }]);
    expect(result[2]).toEqual([[]]);
    expect(entry?.input_token_count).toEqual([
      [3363, 3509, 3565, 3626, 3670, 3739],
      [3643, 3809, 3869, 3926, 3976, 4095],
      [4000],
      [4247, 4387, 4448, 4517, 4679, 4796, 4853, 4933],
    ]);
    expect((entry?.latency as number[][])[2]).toEqual([4.928061485290527]);
  });

  it('names the bad line', () => {
    expect(() => parseBfclResultText('{"id": "a", "result": []}\n{oops\n', 'r.json')).toThrow(
      /line 2 is not JSON/,
    );
    expect(() => parseBfclResultText('{"result": []}\n')).toThrow(/needs "id" and "result"/);
  });
});

describe('parseBfclCsv', () => {
  it('data_multi_turn.csv: % stripped to numbers, exact headers', async () => {
    const csv = await readBfclCsv(join(FIXTURES, 'score/data_multi_turn.csv'));
    expect(csv.headers).toEqual(BFCL_CSV_HEADERS.multi_turn);
    expect(csv.rows).toEqual([
      {
        Rank: 1,
        Model: 'openai/gpt-oss-120b (FC) (vLLM)',
        'Multi Turn Overall Acc': 53.12,
        Base: 62,
        'Miss Func': 50.5,
        'Miss Param': 47.5,
        'Long Context': 52.5,
      },
    ]);
  });

  it('data_agentic.csv: 0.00% is 0, N/A is null', async () => {
    const csv = await readBfclCsv(join(FIXTURES, 'score/data_agentic.csv'));
    const row = csv.rows[0] as Record<string, unknown>;
    expect(row['Agentic Overall Acc']).toBe(0);
    expect(row['Memory KV']).toBeNull();
    expect(row['Web Search Summary']).toBeNull();
  });

  it('data_live.csv and data_non_live.csv', async () => {
    const live = (await readBfclCsv(join(FIXTURES, 'score/data_live.csv'))).rows[0] as Record<
      string,
      unknown
    >;
    expect([live['Live Overall Acc'], live['Python Parallel AST'], live['Relevance Detection']]).toEqual([
      72.61, 0, 68.75,
    ]);
    const nonLive = (await readBfclCsv(join(FIXTURES, 'score/data_non_live.csv'))).rows[0] as Record<
      string,
      unknown
    >;
    expect([nonLive['Python Simple AST'], nonLive['Irrelevance Detection'], nonLive['Parallel AST']]).toEqual(
      [85.75, 87.5, 0],
    );
  });

  it('data_overall.csv: plain numbers, text cells and the last column without trailing newline', async () => {
    const csv = await readBfclCsv(join(FIXTURES, 'score/data_overall.csv'));
    expect(csv.headers).toEqual(BFCL_CSV_HEADERS.overall);
    const row = csv.rows[0] as Record<string, unknown>;
    expect(row['Overall Acc']).toBe(35.5);
    expect(row['Total Cost ($)']).toBe(2.21);
    expect(row['Latency 95th Percentile (s)']).toBe(6.55);
    expect(row['Model Link']).toBe('https://huggingface.co/openai/gpt-oss-120b');
    expect(row['Memory Acc']).toBeNull();
    expect(row['Irrelevance Detection']).toBe(85.44);
    expect(row['License']).toBe('apache-2.0');
    expect(row['Organization']).toBe('OpenAI');
  });

  it('data_format_sensitivity.csv: fixed prefix then Config columns, all N/A', async () => {
    const csv = await readBfclCsv(join(FIXTURES, 'score/data_format_sensitivity.csv'));
    expect(csv.headers.slice(0, 4)).toEqual(BFCL_CSV_HEADERS.format_sensitivity);
    expect(csv.headers).toHaveLength(30);
    expect(csv.headers[4]).toBe(
      'Config ret_fmt=python&tool_call_tag=True&func_doc_fmt=python&prompt_fmt=plaintext&style=classic',
    );
    expect(
      Object.values(csv.rows[0] as object)
        .slice(2)
        .every((cell) => cell === null),
    ).toBe(true);
  });

  it('rejects wrong headers and ragged rows', () => {
    expect(() => parseBfclCsv('Rank,Model,Base\n1,m,1%', 'multi_turn')).toThrow(/unexpected headers/);
    expect(() => parseBfclCsv('a,b\n1,2,3')).toThrow(/row 1 has 3 cells for 2 columns/);
  });
});
