import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/tmp.js';
import { HistoryFileError } from './errors.js';
import { toJsonl, toPytorchBenchmarkV3 } from './export.js';
import {
  historyEntryOf,
  historyValues,
  mergeHistory,
  readHistory,
  readHistoryOf,
  runOfHistoryEntry,
  writeHistory,
  type HistoryEntry,
} from './history.js';
import type { RunResults } from './model.js';

function run(runId: string, recipe = 'demo', throughput = [100, 102, 98]): RunResults {
  return {
    source: '/r',
    identity: { runId, recipe, model: 'm', gpuKind: 'h200', gpuCount: 1, buildUrl: 'https://b/1' },
    tasks: [
      { task: 'bench:a', kind: 'bench', configKey: '{"num_prompts":8}', flags: [], files: ['bench-a.json'] },
    ],
    records: [
      { task: 'bench:a', metric: 'output_throughput', repetition: null, value: 100, better: 'higher' },
      ...throughput.map((value, i) => ({
        task: 'bench:a',
        metric: 'output_throughput',
        repetition: i + 1,
        value,
        better: 'higher' as const,
      })),
      {
        task: 'lm_eval:gsm8k',
        metric: 'exact_match,strict-match',
        repetition: null,
        value: 0.5,
        better: 'higher',
        stderr: 0.01,
        n: 100,
      },
    ],
    samples: [],
    warnings: [],
  };
}

describe('history file', () => {
  it('round-trips every repetition through a file and back into records', async () => {
    const dir = await tempDir();
    const entries = [historyEntryOf(run('1')), historyEntryOf(run('2'))];
    await writeHistory(join(dir, 'history.jsonl'), entries);
    const back = await readHistoryOf(dir);
    expect(back).toEqual(entries);
    const restored = runOfHistoryEntry(back[1] as HistoryEntry, 'h');
    expect(historyEntryOf(restored)).toEqual(entries[1]);
    expect(await readHistoryOf(join(dir, 'none'))).toEqual([]);
  });

  it('keeps the last N runs per recipe and replaces a run with the same id', () => {
    const old = ['1', '2', '3', '4'].map((id) => historyEntryOf(run(id)));
    const other = historyEntryOf(run('x', 'other'));
    const merged = mergeHistory(
      [...old, other],
      [historyEntryOf(run('3', 'demo', [1])), historyEntryOf(run('5'))],
      3,
    );
    expect(merged.map((e) => `${e.identity.recipe}:${e.identity.runId}`)).toEqual([
      'demo:4',
      'other:x',
      'demo:3',
      'demo:5',
    ]);
    expect(historyValues(merged[2]?.series[0] as never)).toEqual([1]);
  });

  it('a corrupt line names the file and line', async () => {
    const dir = await tempDir();
    const file = join(dir, 'history.jsonl');
    await writeFile(file, `${JSON.stringify(historyEntryOf(run('1')))}\n{"v": 1, "identity": {}}\n`);
    const error = await readHistory(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HistoryFileError);
    expect(error).toMatchObject({ code: 'E_HISTORY_INVALID', category: 'validation', line: 2 });
    expect((error as Error).message).toBe(
      `history ${file} line 2: field identity must have string runId and recipe; delete the line or re-import the history`,
    );
    await writeFile(file, '{"v": 2}\n');
    await expect(readHistory(file)).rejects.toThrow(/line 1: has version 2, this perf-eval reads version 1/);
    await writeFile(file, 'nope\n');
    await expect(readHistory(file)).rejects.toThrow(/line 1: is not JSON/);
    await expect(readHistory(join(dir, 'missing.jsonl'))).rejects.toThrow(/does not exist/);
  });
});

describe('exports', () => {
  it('PyTorch benchmark v3: one record per metric with every repetition', () => {
    const records = toPytorchBenchmarkV3(run('7'));
    expect(records).toHaveLength(2);
    expect(records[0]).toEqual({
      benchmark: {
        name: 'perf-eval bench',
        mode: 'inference',
        extra_info: {
          task: 'bench:a',
          config: { num_prompts: 8 },
          recipe: 'demo',
          run_id: '7',
          build_url: 'https://b/1',
        },
      },
      model: { name: 'm', backend: 'vllm' },
      metric: {
        name: 'output_throughput',
        benchmark_values: [100, 102, 98],
        extra_info: { better: 'higher', headline: 100 },
      },
      runners: [{ name: 'h200', type: 'h200', gpu_count: 1 }],
    });
    expect(records[1]?.metric).toEqual({
      name: 'exact_match,strict-match',
      benchmark_values: [0.5],
      extra_info: { better: 'higher', headline: 0.5, stderr: 0.01, n: 100 },
    });
  });

  it('JSONL: one line per record with the identity', async () => {
    const lines = toJsonl(run('7'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(5);
    expect(lines[1]).toMatchObject({
      runId: '7',
      recipe: 'demo',
      task: 'bench:a',
      metric: 'output_throughput',
      repetition: 1,
      value: 100,
    });
  });
});
