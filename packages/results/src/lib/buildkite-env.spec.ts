import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildkiteToken, buildRefOf } from './buildkite-env.js';

/** The fake agent first, then node (its interpreter); nothing else, so no real buildkite-agent is found. */
const PATH = `${resolve(import.meta.dirname, '../../test/fixtures/bin')}:${dirname(process.execPath)}`;
const SECRETS = JSON.stringify({ BUILDKITE_API_TOKEN: 'bkua_from_agent', OTHER: 'bkua_other' });

describe('buildkiteToken', () => {
  it('takes BUILDKITE_API_TOKEN first, without asking the agent', async () => {
    expect(
      await buildkiteToken({
        BUILDKITE_API_TOKEN: ' bkua_env ',
        BUILDKITE: 'true',
        PATH,
        FAKE_BUILDKITE_SECRETS: SECRETS,
      }),
    ).toEqual({ token: 'bkua_env', source: 'BUILDKITE_API_TOKEN' });
  });

  it('asks buildkite-agent for the secret inside a job (PERF_EVAL_BUILDKITE_TOKEN_SECRET names it)', async () => {
    const env = { BUILDKITE: 'true', PATH, FAKE_BUILDKITE_SECRETS: SECRETS };
    expect(await buildkiteToken(env)).toEqual({
      token: 'bkua_from_agent',
      source: 'buildkite-agent secret BUILDKITE_API_TOKEN',
    });
    expect(await buildkiteToken({ ...env, PERF_EVAL_BUILDKITE_TOKEN_SECRET: 'OTHER' })).toEqual({
      token: 'bkua_other',
      source: 'buildkite-agent secret OTHER',
    });
    expect(await buildkiteToken({ ...env, PERF_EVAL_BUILDKITE_TOKEN_SECRET: 'MISSING' })).toEqual({
      source: 'buildkite-agent secret get MISSING failed (exit 1)',
    });
  });

  it('has none outside a job or without an agent on PATH', async () => {
    const none = { source: 'no BUILDKITE_API_TOKEN and no buildkite-agent (outside a Buildkite job)' };
    expect(await buildkiteToken({ PATH, FAKE_BUILDKITE_SECRETS: SECRETS })).toEqual(none);
    expect(await buildkiteToken({ BUILDKITE: 'true', PATH: dirname(process.execPath) })).toEqual(none);
  });
});

describe('buildRefOf', () => {
  it("resolves a bare number in this job's pipeline", () => {
    const env = { BUILDKITE_ORGANIZATION_SLUG: 'vllm', BUILDKITE_PIPELINE_SLUG: 'perf-eval' };
    expect(buildRefOf('41', env)).toEqual({ org: 'vllm', pipeline: 'perf-eval', number: 41 });
    expect(buildRefOf('https://buildkite.com/a/b/builds/3', env)).toEqual({
      org: 'a',
      pipeline: 'b',
      number: 3,
    });
  });
});
