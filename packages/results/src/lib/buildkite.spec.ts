import { describe, expect, it } from 'vitest';
import { startFakeBuildkite } from '../../test/fake-buildkite.js';
import { historyEntry } from '../../test/history-entry.js';
import { tempDir } from '../../test/tmp.js';
import {
  BuildkiteApiError,
  BuildkiteClient,
  BuildkiteRefError,
  importBuildkiteHistory,
  parseBuildRef,
} from './buildkite.js';
import { renderHistory } from './history.js';

const TOKEN = 'bkua_secret_token_value';


const CONFIG = {
  token: TOKEN,
  org: 'vllm',
  pipeline: 'perf-eval',
  pageSize: 2,
  builds: [
    { number: 7, branch: 'main', state: 'passed' },
    { number: 8, branch: 'main', state: 'failed' },
    { number: 9, branch: 'feature', state: 'passed' },
    { number: 10, branch: 'main', state: 'running' },
  ],
  artifacts: {
    '8': [
      { path: 'results/demo/summary.json', content: '{}' },
      {
        path: 'results/demo/history.jsonl',
        content: renderHistory([
          historyEntry('build-7', 'demo'),
          historyEntry('build-8', 'demo'),
        ]),
      },
      {
        path: 'results/other/history.jsonl',
        content: renderHistory([historyEntry('build-8', 'other')]),
      },
    ],
  },
};

describe('Buildkite REST API client (against a fake on 127.0.0.1)', () => {
  it('finds the previous finished build of the branch', async () => {
    const fake = await startFakeBuildkite(await tempDir(), CONFIG);
    const client = new BuildkiteClient({ token: TOKEN, apiUrl: fake.api });
    expect(await client.previousBuild('vllm', 'perf-eval', { branch: 'main', before: 10 })).toBe(8);
    expect(await client.previousBuild('vllm', 'perf-eval', { branch: 'main', before: 8 })).toBe(7);
    expect(await client.previousBuild('vllm', 'perf-eval', { branch: 'main', before: 7 })).toBeUndefined();
    const requests = await fake.requests();
    expect(requests[0]?.query).toEqual({ state: 'finished', per_page: '20', branch: 'main' });
  });

  it('imports the history artifacts across pages; storage never sees the token', async () => {
    const fake = await startFakeBuildkite(await tempDir(), CONFIG);
    const client = new BuildkiteClient({ token: TOKEN, apiUrl: fake.api });
    const all = await importBuildkiteHistory(client, { org: 'vllm', pipeline: 'perf-eval', number: 8 });
    expect(all.files).toEqual(['results/demo/history.jsonl', 'results/other/history.jsonl']);
    expect(all.entries.map((e) => `${e.identity.recipe}:${e.identity.runId}`)).toEqual([
      'demo:build-7',
      'demo:build-8',
      'other:build-8',
    ]);
    const demo = await importBuildkiteHistory(
      client,
      { org: 'vllm', pipeline: 'perf-eval', number: 8 },
      'demo',
    );
    expect(demo.files).toEqual(['results/demo/history.jsonl']);
    const requests = await fake.requests();
    expect(requests.filter((r) => r.origin === 'storage').every((r) => !r.auth)).toBe(true);
    expect(requests.filter((r) => r.origin === 'api').every((r) => r.auth)).toBe(true);
  });

  it('a rejected token is an error that names the scopes, never the token', async () => {
    const fake = await startFakeBuildkite(await tempDir(), CONFIG);
    const client = new BuildkiteClient({ token: 'wrong', apiUrl: fake.api });
    const error = await client
      .artifacts({ org: 'vllm', pipeline: 'perf-eval', number: 8 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildkiteApiError);
    expect(error).toMatchObject({ code: 'E_BUILDKITE_API', status: 401 });
    expect((error as Error).message).toMatch(
      /answered HTTP 401: the token was rejected; it needs the read_builds and read_artifacts scopes$/,
    );
    expect((error as Error).message).not.toContain('wrong');
    const missing = await new BuildkiteClient({ token: TOKEN, apiUrl: fake.api })
      .artifacts({ org: 'vllm', pipeline: 'perf-eval', number: 99 })
      .catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(/HTTP 404: not found/);
  });

  it('an unreachable API is an error naming the URL', async () => {
    const client = new BuildkiteClient({ token: TOKEN, apiUrl: 'http://127.0.0.1:9/v2' });
    await expect(client.previousBuild('o', 'p', {})).rejects.toThrow(
      /^Buildkite API http:\/\/127\.0\.0\.1:9\/v2\/organizations\/o\/pipelines\/p\/builds\?state=finished&per_page=20 unreachable/,
    );
  });
});

describe('parseBuildRef', () => {
  it('accepts a build URL or a number with org and pipeline defaults', () => {
    expect(parseBuildRef('https://buildkite.com/vllm/perf-eval/builds/123#job')).toEqual({
      org: 'vllm',
      pipeline: 'perf-eval',
      number: 123,
    });
    expect(parseBuildRef('42', { org: 'o', pipeline: 'p' })).toEqual({ org: 'o', pipeline: 'p', number: 42 });
    expect(() => parseBuildRef('42')).toThrow(BuildkiteRefError);
    expect(() => parseBuildRef('latest', { org: 'o', pipeline: 'p' })).toThrow(
      /expected a build number or a URL/,
    );
  });
});
