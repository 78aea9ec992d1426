import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startFakeBuildkite } from '../../test/fake-buildkite.js';
import { historyEntry } from '../../test/history-entry.js';
import { tempDir } from '../../test/tmp.js';
import { resolveBaseline } from './baseline.js';
import { renderHistory, writeHistory } from './history.js';

const TOKEN = 'bkua_baseline_secret';


const CONFIG = {
  token: TOKEN,
  org: 'vllm',
  pipeline: 'perf-eval',
  builds: [
    { number: 7, branch: 'main', state: 'passed' },
    { number: 8, branch: 'main', state: 'failed' },
    { number: 9, branch: 'main', state: 'running' },
  ],
  artifacts: {
    '7': [
      {
        path: 'results/other/history.jsonl',
        content: renderHistory([historyEntry('build-7', 'other')]),
      },
    ],
    '8': [
      {
        path: 'results/demo/history.jsonl',
        content: renderHistory([
          historyEntry('build-7', 'demo'),
          historyEntry('build-8', 'demo'),
        ]),
      },
    ],
  },
};

async function resolveWith(spec: string, env: Record<string, string>) {
  const warnings: string[] = [];
  const baseline = await resolveBaseline(spec, 'demo', { env, warn: (line) => warnings.push(line) });
  return { baseline, warnings };
}

describe('resolveBaseline', () => {
  it('reads a local history file: its latest run of the recipe', async () => {
    const file = join(await tempDir(), 'history.jsonl');
    await writeHistory(file, [historyEntry('a', 'demo'), historyEntry('b', 'demo')]);
    const { baseline, warnings } = await resolveWith(file, {});
    expect(baseline?.description).toBe(file);
    expect(baseline?.run.identity.runId).toBe('b');
    expect(baseline?.history).toHaveLength(2);
    expect(warnings).toEqual([]);
  });

  it('buildkite:<url> and auto read the history artifact of a build', async () => {
    const fake = await startFakeBuildkite(await tempDir(), CONFIG);
    const env = { BUILDKITE_API_TOKEN: TOKEN, BUILDKITE_API_URL: fake.api };
    const byUrl = await resolveWith('buildkite:https://buildkite.com/vllm/perf-eval/builds/8', env);
    expect(byUrl.warnings).toEqual([]);
    expect(byUrl.baseline?.description).toBe('Buildkite build 8 (results/demo/history.jsonl)');
    expect(byUrl.baseline?.run.identity.runId).toBe('build-8');
    expect(byUrl.baseline?.history.map((e) => e.identity.runId)).toEqual(['build-7', 'build-8']);
    const auto = await resolveWith('auto', {
      ...env,
      BUILDKITE_ORGANIZATION_SLUG: 'vllm',
      BUILDKITE_PIPELINE_SLUG: 'perf-eval',
      BUILDKITE_BRANCH: 'main',
      BUILDKITE_BUILD_NUMBER: '9',
    });
    expect(auto.baseline?.description).toBe('Buildkite build 8 (results/demo/history.jsonl)');
  });

  it('without a token, slugs, an earlier build or the recipe’s history: a warning and no baseline', async () => {
    const fake = await startFakeBuildkite(await tempDir(), CONFIG);
    const env = { BUILDKITE_API_TOKEN: TOKEN, BUILDKITE_API_URL: fake.api };
    const slugs = { BUILDKITE_ORGANIZATION_SLUG: 'vllm', BUILDKITE_PIPELINE_SLUG: 'perf-eval' };
    expect(await resolveWith('auto', {})).toEqual({
      baseline: undefined,
      warnings: [
        'warning: no baseline: no BUILDKITE_API_TOKEN and no buildkite-agent (outside a Buildkite job)',
      ],
    });
    expect((await resolveWith('auto', env)).warnings).toEqual([
      'warning: no baseline: --baseline auto needs BUILDKITE_ORGANIZATION_SLUG and BUILDKITE_PIPELINE_SLUG',
    ]);
    expect(
      (await resolveWith('auto', { ...env, ...slugs, BUILDKITE_BRANCH: 'main', BUILDKITE_BUILD_NUMBER: '7' }))
        .warnings,
    ).toEqual(['warning: no baseline: no earlier finished build of vllm/perf-eval on main']);
    expect((await resolveWith('buildkite:7', { ...env, ...slugs })).warnings).toEqual([
      'warning: no baseline: build 7 of vllm/perf-eval has no history of recipe demo',
    ]);
  });

  it('a rejected token is a warning that never shows the token', async () => {
    const fake = await startFakeBuildkite(await tempDir(), CONFIG);
    const { baseline, warnings } = await resolveWith(
      'buildkite:https://buildkite.com/vllm/perf-eval/builds/8',
      {
        BUILDKITE_API_TOKEN: 'bkua_wrong',
        BUILDKITE_API_URL: fake.api,
      },
    );
    expect(baseline).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^warning: no baseline: Buildkite API .* answered HTTP 401: the token was rejected/,
    );
    expect(warnings[0]).not.toContain('bkua_wrong');
  });
});
