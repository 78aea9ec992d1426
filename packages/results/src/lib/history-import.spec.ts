import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startFakeBuildkite } from '../../test/fake-buildkite.js';
import { historyEntry } from '../../test/history-entry.js';
import { FIXTURES, tempDir } from '../../test/tmp.js';
import { mergeHistoryFile, readHistory, renderHistory, writeHistory } from './history.js';
import { importHistory } from './history-import.js';

const TOKEN = 'bkua_import_secret';


const ids = (entries: { identity: { recipe: string; runId: string } }[]): string[] =>
  entries.map((e) => `${e.identity.recipe}:${e.identity.runId}`);

describe('importHistory', () => {
  it('a results directory: its history plus the run itself', async () => {
    const dir = join(await tempDir(), 'demo');
    await mkdir(dir);
    await copyFile(join(FIXTURES, 'vllm_bench/er0080_bench_serve_v0.25.1.json'), join(dir, 'bench-a.json'));
    await writeHistory(join(dir, 'history.jsonl'), [historyEntry('older', 'demo')]);
    const imported = await importHistory({ results: dir }, { env: {} });
    expect(imported.from).toBe(dir);
    expect(ids(imported.entries)).toEqual(['demo:older', 'demo:demo']);
    expect((await importHistory({ results: dir }, { env: {}, recipe: 'other' })).entries).toEqual([]);
  });

  it('a Buildkite build: its history artifacts, or why nothing was imported', async () => {
    const fake = await startFakeBuildkite(await tempDir(), {
      token: TOKEN,
      org: 'vllm',
      pipeline: 'perf-eval',
      builds: [{ number: 41, branch: 'main', state: 'passed' }],
      artifacts: {
        '41': [
          {
            path: 'results/demo/history.jsonl',
            content: renderHistory([
              historyEntry('build-41', 'demo'),
              historyEntry('build-41', 'x'),
            ]),
          },
        ],
      },
    });
    const env = {
      BUILDKITE_API_TOKEN: TOKEN,
      BUILDKITE_API_URL: fake.api,
      BUILDKITE_ORGANIZATION_SLUG: 'vllm',
      BUILDKITE_PIPELINE_SLUG: 'perf-eval',
    };
    const all = await importHistory({ build: '41' }, { env });
    expect(all.from).toBe('build 41 (results/demo/history.jsonl)');
    expect(ids(all.entries)).toEqual(['demo:build-41', 'x:build-41']);
    expect(ids((await importHistory({ build: '41' }, { env, recipe: 'demo' })).entries)).toEqual([
      'demo:build-41',
    ]);
    expect(await importHistory({ build: '41' }, { env, recipe: 'other' })).toEqual({
      entries: [],
      from: 'build 41',
      skipped: 'build 41 of vllm/perf-eval has no results/other/history.jsonl artifact',
    });
    expect(await importHistory({ build: '41' }, { env: { ...env, BUILDKITE_API_TOKEN: '' } })).toEqual({
      entries: [],
      from: 'build 41',
      skipped: 'no BUILDKITE_API_TOKEN and no buildkite-agent (outside a Buildkite job)',
    });
  });

  it('a bad build reference throws before any token lookup', async () => {
    await expect(importHistory({ build: 'latest' }, { env: {} })).rejects.toMatchObject({
      code: 'E_BUILDKITE_REF',
    });
  });
});

describe('mergeHistoryFile', () => {
  it('creates the file, then merges into it keeping the last runs per recipe', async () => {
    const file = join(await tempDir(), 'h.jsonl');
    expect(ids(await mergeHistoryFile(file, [historyEntry('1', 'demo')]))).toEqual(['demo:1']);
    const merged = await mergeHistoryFile(
      file,
      [historyEntry('2', 'demo'), historyEntry('3', 'demo')],
      2,
    );
    expect(ids(merged)).toEqual(['demo:2', 'demo:3']);
    expect(ids(await readHistory(file))).toEqual(['demo:2', 'demo:3']);
    expect(await readFile(file, 'utf8')).toBe(renderHistory(merged));
  });
});
