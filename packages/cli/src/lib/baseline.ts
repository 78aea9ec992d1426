/**
 * Where a baseline comes from (`run --baseline`, `history import`): a results directory, a history
 * file, or the history artifact of a Buildkite build, fetched with a token that is never printed.
 * Buildkite problems are warnings for `run` (a nightly without a baseline still runs).
 */
import { execa } from 'execa';
import {
  BuildkiteClient,
  importBuildkiteHistory,
  parseBuildRef,
  readBaseline,
  runOfHistoryEntry,
  type Baseline,
  type BuildRef,
  type BuildkiteClientOptions,
  type HistoryEntry,
} from '@perf-eval/results';
import { findOnPath } from '@perf-eval/toolchain';

/** Name of the Buildkite secret holding a REST API token (read_builds, read_artifacts). */
export const DEFAULT_TOKEN_SECRET = 'BUILDKITE_API_TOKEN';

export interface TokenLookup {
  token?: string;
  /** Where it came from, or why there is none (safe to print: never the value). */
  source: string;
}

/** `BUILDKITE_API_TOKEN`, else `buildkite-agent secret get <PERF_EVAL_BUILDKITE_TOKEN_SECRET ?? BUILDKITE_API_TOKEN>` inside a job. */
export async function buildkiteToken(
  env: Readonly<Record<string, string | undefined>>,
  signal?: AbortSignal,
): Promise<TokenLookup> {
  const fromEnv = env['BUILDKITE_API_TOKEN']?.trim();
  if (fromEnv) return { token: fromEnv, source: 'BUILDKITE_API_TOKEN' };
  const agent = env['BUILDKITE'] === 'true' ? findOnPath('buildkite-agent', env) : undefined;
  if (!agent) return { source: 'no BUILDKITE_API_TOKEN and no buildkite-agent (outside a Buildkite job)' };
  const name = env['PERF_EVAL_BUILDKITE_TOKEN_SECRET']?.trim() || DEFAULT_TOKEN_SECRET;
  const result = await execa(agent, ['secret', 'get', name], {
    reject: false,
    timeout: 15_000,
    env: { ...env },
    extendEnv: false,
    ...(signal ? { cancelSignal: signal } : {}),
  });
  const token = typeof result.stdout === 'string' ? result.stdout.trim() : '';
  if (result.exitCode === 0 && token) return { token, source: `buildkite-agent secret ${name}` };
  return { source: `buildkite-agent secret get ${name} failed (exit ${result.exitCode ?? 'none'})` };
}

export function buildkiteClient(
  token: string,
  env: Readonly<Record<string, string | undefined>>,
  signal?: AbortSignal,
): BuildkiteClient {
  // BUILDKITE_API_URL points tests (and Buildkite-compatible proxies) at another API origin.
  const options: BuildkiteClientOptions = { token };
  const apiUrl = env['BUILDKITE_API_URL']?.trim();
  if (apiUrl) options.apiUrl = apiUrl;
  if (signal) options.signal = signal;
  return new BuildkiteClient(options);
}

export function buildRefOf(ref: string, env: Readonly<Record<string, string | undefined>>): BuildRef {
  return parseBuildRef(ref, {
    org: env['BUILDKITE_ORGANIZATION_SLUG'],
    pipeline: env['BUILDKITE_PIPELINE_SLUG'],
  });
}

export interface ResolvedBaseline extends Baseline {
  /** Human description: `results dir …`, `history …`, `Buildkite build 41`. */
  description: string;
}

/**
 * `--baseline` for `run`: `<dir>`, `<history file>`, `buildkite:<number|url>` or `auto` (the previous
 * finished build of this pipeline and branch). Returns undefined with a warning when no baseline can
 * be had from Buildkite; a local path that does not exist is a usage error.
 */
export async function resolveBaseline(
  spec: string,
  recipe: string,
  env: Readonly<Record<string, string | undefined>>,
  warn: (line: string) => void,
  signal?: AbortSignal,
): Promise<ResolvedBaseline | undefined> {
  if (spec !== 'auto' && !spec.startsWith('buildkite:')) {
    const baseline = await readBaseline(spec, recipe);
    return { ...baseline, description: spec };
  }
  const { token, source } = await buildkiteToken(env, signal);
  if (!token) {
    warn(`warning: no baseline: ${source}`);
    return undefined;
  }
  try {
    const client = buildkiteClient(token, env, signal);
    let ref: BuildRef;
    if (spec === 'auto') {
      const org = env['BUILDKITE_ORGANIZATION_SLUG'];
      const pipeline = env['BUILDKITE_PIPELINE_SLUG'];
      if (!org || !pipeline) {
        warn(
          'warning: no baseline: --baseline auto needs BUILDKITE_ORGANIZATION_SLUG and BUILDKITE_PIPELINE_SLUG',
        );
        return undefined;
      }
      const current = Number(env['BUILDKITE_BUILD_NUMBER'] ?? '');
      const number = await client.previousBuild(org, pipeline, {
        branch: env['BUILDKITE_BRANCH'],
        before: Number.isFinite(current) && current > 0 ? current : undefined,
      });
      if (number === undefined) {
        warn(
          `warning: no baseline: no earlier finished build of ${org}/${pipeline}${env['BUILDKITE_BRANCH'] ? ` on ${env['BUILDKITE_BRANCH']}` : ''}`,
        );
        return undefined;
      }
      ref = { org, pipeline, number };
    } else {
      ref = buildRefOf(spec.slice('buildkite:'.length), env);
    }
    const imported = await importBuildkiteHistory(client, ref, recipe);
    const ofRecipe = imported.entries.filter((e: HistoryEntry) => e.identity.recipe === recipe);
    const latest = ofRecipe.at(-1);
    if (!latest) {
      warn(
        `warning: no baseline: build ${ref.number} of ${ref.org}/${ref.pipeline} has no history of recipe ${recipe}`,
      );
      return undefined;
    }
    return {
      run: runOfHistoryEntry(latest, `buildkite:${ref.number}`),
      history: imported.entries,
      description: `Buildkite build ${ref.number} (${imported.files.join(', ')})`,
    };
  } catch (error) {
    warn(`warning: no baseline: ${(error as Error).message}`);
    return undefined;
  }
}
