import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { bfclScoreFile } from './categories.js';
import { BfclNoScoreError } from './errors.js';
import { bfclTimestamp, renderBfclLmEvalJson, writeBfclResults } from './output.js';
import { collectBfclScores } from './scores.js';

const SCORE = resolve(
  import.meta.dirname,
  '../../../../../shared/reference/fixtures/bfcl/harmony-fixes-2/score/openai_gpt-oss-120b',
);
const MODEL = 'openai/gpt-oss-120b';

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bfcl-out-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

async function putScore(workDir: string, leaf: string, line: string): Promise<void> {
  const file = bfclScoreFile(workDir, MODEL, leaf);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${line}\n{"id": "${leaf}_0", "valid": false}\n`);
}

describe('renderBfclLmEvalJson', () => {
  it('renders the §10.6 document for a group total exactly', () => {
    expect(renderBfclLmEvalJson(MODEL, 'multi_turn', 0.5312, true)).toBe(`{
  "results": {
    "bfcl_multi_turn": {
      "acc,none": 0.5312,
      "acc_stderr,none": 0.0,
      "alias": "bfcl_multi_turn (overall)"
    }
  },
  "configs": {
    "bfcl_multi_turn": {
      "task": "bfcl_multi_turn",
      "num_fewshot": 0
    }
  },
  "versions": {
    "bfcl_multi_turn": 1
  },
  "n-shot": {
    "bfcl_multi_turn": 0
  },
  "config": {
    "model": "local-completions",
    "model_args": "model=openai/gpt-oss-120b"
  }
}`);
  });

  it('uses the plain alias for leaves and Python floats for 0 and 1', () => {
    const zero = JSON.parse(renderBfclLmEvalJson(MODEL, 'live_parallel', 0, false));
    expect(zero.results.bfcl_live_parallel).toEqual({
      'acc,none': 0,
      'acc_stderr,none': 0,
      alias: 'bfcl_live_parallel',
    });
    expect(renderBfclLmEvalJson(MODEL, 'live_parallel', 0, false)).toContain('"acc,none": 0.0,');
    expect(renderBfclLmEvalJson(MODEL, 'x', 1, false)).toContain('"acc,none": 1.0,');
  });

  it('formats local-time timestamps', () => {
    expect(bfclTimestamp(new Date(2026, 10, 22, 9, 5, 7))).toBe('2026-11-22T09-05-07');
  });
});

describe('collectBfclScores', () => {
  it('reads a leaf from exactly its score file, 0.0 included (D2)', async () => {
    const work = await tempDir();
    await putScore(work, 'live_parallel', '{"accuracy": 0.0, "correct_count": 0, "total_count": 16}');
    expect(await collectBfclScores(work, MODEL, 'live_parallel')).toEqual([
      { category: 'live_parallel', accuracy: 0, correctCount: 0, totalCount: 16 },
    ]);
  });

  it('does not take a suffix match: parallel_multiple is not multiple (D3)', async () => {
    const work = await tempDir();
    await putScore(work, 'parallel_multiple', '{"accuracy": 0.5, "correct_count": 1, "total_count": 2}');
    const error = await collectBfclScores(work, MODEL, 'multiple').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BfclNoScoreError);
    expect((error as Error).message).toBe(
      `[bfcl] no score found for multiple: ${work}/score/openai_gpt-oss-120b/non_live/BFCL_v4_multiple_score.json does not exist`,
    );
  });

  it('puts the group mean first when all subcategories are present', async () => {
    const work = await tempDir();
    await putScore(
      work,
      'multi_turn_base',
      (
        await readFile(
          join(SCORE, 'multi_turn/BFCL_v4_multi_turn_base_score.EXCERPT_first2lines.json'),
          'utf8',
        )
      ).split('\n')[0] as string,
    );
    await putScore(
      work,
      'multi_turn_miss_func',
      '{"accuracy": 0.505, "correct_count": 101, "total_count": 200}',
    );
    await putScore(
      work,
      'multi_turn_miss_param',
      '{"accuracy": 0.475, "correct_count": 95, "total_count": 200}',
    );
    await putScore(
      work,
      'multi_turn_long_context',
      '{"accuracy": 0.525, "correct_count": 105, "total_count": 200}',
    );
    const rows = await collectBfclScores(work, MODEL, 'multi_turn');
    expect(rows.map((row) => row.category)).toEqual([
      'multi_turn',
      'multi_turn_base',
      'multi_turn_miss_func',
      'multi_turn_miss_param',
      'multi_turn_long_context',
    ]);
    expect(rows[0]).toEqual({ category: 'multi_turn', accuracy: (0.62 + 0.505 + 0.475 + 0.525) / 4 });
    expect((rows[0]?.accuracy ?? 0) * 100).toBeCloseTo(53.12, 1); // data_multi_turn.csv: Multi Turn Overall Acc 53.12%
    expect(rows[1]).toEqual({
      category: 'multi_turn_base',
      accuracy: 0.62,
      correctCount: 124,
      totalCount: 200,
    });
  });

  it('refuses a group total from a partial set and lists the missing subcategories', async () => {
    const work = await tempDir();
    await putScore(work, 'live_simple', '{"accuracy": 0.8, "correct_count": 4, "total_count": 5}');
    await putScore(work, 'live_parallel', '{"accuracy": 0.0, "correct_count": 0, "total_count": 1}');
    const error = (await collectBfclScores(work, MODEL, 'live').catch((e: unknown) => e)) as BfclNoScoreError;
    expect(error.code).toBe('E_BFCL_NO_SCORE');
    expect(error.missing).toEqual([
      'live_multiple',
      'live_parallel_multiple',
      'live_irrelevance',
      'live_relevance',
    ]);
    expect(error.message).toMatch(
      /^\[bfcl\] no score found for live: missing sub-category scores: live_multiple, live_parallel_multiple, live_irrelevance, live_relevance \(looked for .*\/live\/BFCL_v4_live_multiple_score\.json, /,
    );
  });

  it('a corrupt score file is a parse error, not a missing score', async () => {
    const work = await tempDir();
    await putScore(work, 'irrelevance', '{"accuracy": null}');
    await expect(collectBfclScores(work, MODEL, 'irrelevance')).rejects.toMatchObject({
      code: 'E_BFCL_PARSE',
    });
  });
});

describe('writeBfclResults', () => {
  it('writes group-first results files, the manifest and the console lines', async () => {
    const results = await tempDir();
    const lines: string[] = [];
    const rows = [
      { category: 'non_python', accuracy: 0.52 },
      { category: 'simple_java', accuracy: 0.56, correctCount: 56, totalCount: 100 },
      { category: 'simple_javascript', accuracy: 0.48, correctCount: 24, totalCount: 50 },
    ];
    const out = await writeBfclResults(results, MODEL, 'non_python', rows, {
      now: new Date(2026, 0, 2, 3, 4, 5),
      print: (l) => lines.push(l),
    });
    const stamp = 'results_2026-01-02T03-04-05.json';
    expect(out.writtenFiles).toEqual([
      join(results, 'bfcl-non_python', stamp),
      join(results, 'bfcl-simple_java', stamp),
      join(results, 'bfcl-simple_javascript', stamp),
    ]);
    expect(out.manifest).toBe(join(results, '.bfcl_ingest', 'non_python.txt'));
    expect(await readFile(out.manifest, 'utf8')).toBe('non_python\nsimple_java\nsimple_javascript\n');
    const group = JSON.parse(await readFile(out.writtenFiles[0] as string, 'utf8'));
    expect(group.results).toEqual({
      bfcl_non_python: { 'acc,none': 0.52, 'acc_stderr,none': 0, alias: 'bfcl_non_python (overall)' },
    });
    const leaf = JSON.parse(await readFile(out.writtenFiles[2] as string, 'utf8'));
    expect(leaf.results.bfcl_simple_javascript.alias).toBe('bfcl_simple_javascript');
    expect(leaf.config).toEqual({ model: 'local-completions', model_args: 'model=openai/gpt-oss-120b' });
    expect(lines).toEqual([
      '[bfcl] non_python: accuracy=0.52',
      `[bfcl] results written to ${out.writtenFiles[0]}`,
      '[bfcl] simple_java: accuracy=0.56',
      `[bfcl] results written to ${out.writtenFiles[1]}`,
      '[bfcl] simple_javascript: accuracy=0.48',
      `[bfcl] results written to ${out.writtenFiles[2]}`,
      `[bfcl] ingest manifest written to ${out.manifest}`,
    ]);
    // atomic writes leave no temp files behind
    expect(await readdir(join(results, 'bfcl-non_python'))).toEqual([stamp]);
  });

  it('prints accuracy=0.0 for a zero leaf and writes a one-line manifest', async () => {
    const results = await tempDir();
    const lines: string[] = [];
    const out = await writeBfclResults(
      results,
      MODEL,
      'live_parallel',
      [{ category: 'live_parallel', accuracy: 0 }],
      { print: (l) => lines.push(l) },
    );
    expect(lines[0]).toBe('[bfcl] live_parallel: accuracy=0.0');
    expect(await readFile(out.manifest, 'utf8')).toBe('live_parallel\n');
    expect(out.writtenFiles[0]).toMatch(/bfcl-live_parallel\/results_\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.json$/);
  });
});
