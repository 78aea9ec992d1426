/**
 * Buildkite access as a job (or a laptop) has it: the REST token from the environment or the agent's
 * secrets, the API origin, and build references relative to the current pipeline. The token is never
 * part of a message.
 */
import { execa } from 'execa';
import type { EnvVars } from '@perf-eval/util';
import { BuildkiteClient, parseBuildRef, type BuildkiteClientOptions, type BuildRef } from './buildkite.js';

/** Name of the Buildkite secret holding a REST API token (read_builds, read_artifacts). */
const DEFAULT_TOKEN_SECRET = 'BUILDKITE_API_TOKEN';
const NO_TOKEN = 'no BUILDKITE_API_TOKEN and no buildkite-agent (outside a Buildkite job)';

export interface TokenLookup {
  token?: string;
  /** Where it came from, or why there is none (safe to print: never the value). */
  source: string;
}

/** `BUILDKITE_API_TOKEN`, else `buildkite-agent secret get <PERF_EVAL_BUILDKITE_TOKEN_SECRET ?? BUILDKITE_API_TOKEN>` inside a job. */
export async function buildkiteToken(env: EnvVars, signal?: AbortSignal): Promise<TokenLookup> {
  const fromEnv = env['BUILDKITE_API_TOKEN']?.trim();
  if (fromEnv) return { token: fromEnv, source: 'BUILDKITE_API_TOKEN' };
  if (env['BUILDKITE'] !== 'true') return { source: NO_TOKEN };
  const name = env['PERF_EVAL_BUILDKITE_TOKEN_SECRET']?.trim() || DEFAULT_TOKEN_SECRET;
  // The spawn looks buildkite-agent up on env's PATH; not finding it means there is no agent to ask.
  const result = await execa('buildkite-agent', ['secret', 'get', name], {
    reject: false,
    timeout: 15_000,
    env: { ...env },
    extendEnv: false,
    ...(signal ? { cancelSignal: signal } : {}),
  });
  if (result.code === 'ENOENT' || result.code === 'EACCES') return { source: NO_TOKEN };
  const token = typeof result.stdout === 'string' ? result.stdout.trim() : '';
  if (result.exitCode === 0 && token) return { token, source: `buildkite-agent secret ${name}` };
  return { source: `buildkite-agent secret get ${name} failed (exit ${result.exitCode ?? 'none'})` };
}

export function buildkiteClient(token: string, env: EnvVars, signal?: AbortSignal): BuildkiteClient {
  // BUILDKITE_API_URL points tests (and Buildkite-compatible proxies) at another API origin.
  const options: BuildkiteClientOptions = { token };
  const apiUrl = env['BUILDKITE_API_URL']?.trim();
  if (apiUrl) options.apiUrl = apiUrl;
  if (signal) options.signal = signal;
  return new BuildkiteClient(options);
}

/** A build URL, or a bare number of this job's pipeline (BUILDKITE_ORGANIZATION_SLUG / BUILDKITE_PIPELINE_SLUG). */
export function buildRefOf(ref: string, env: EnvVars): BuildRef {
  return parseBuildRef(ref, {
    org: env['BUILDKITE_ORGANIZATION_SLUG'],
    pipeline: env['BUILDKITE_PIPELINE_SLUG'],
  });
}
