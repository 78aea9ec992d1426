import { createHash } from 'node:crypto';

export type IngestEnv = Readonly<Record<string, string | undefined>>;

/** Which dashboard endpoint a payload goes to. */
export type EndpointKind = 'eval' | 'perf';

/** Upstream defaults (recipe-compat §15.1). */
export const DEFAULT_EVAL_ENDPOINT = 'https://vllm-eval-data-ingest-224810116257.us-central1.run.app/';
export const DEFAULT_PERF_ENDPOINT = 'https://vllm-perf-data-ingest-224810116257.us-central1.run.app/';

/** The Buildkite variables copied (lower-cased) into eval metadata, in this order. */
export const BUILDKITE_METADATA_VARS = [
  'BUILDKITE_BUILD_ID',
  'BUILDKITE_BUILD_NUMBER',
  'BUILDKITE_BUILD_URL',
  'BUILDKITE_BRANCH',
  'BUILDKITE_COMMIT',
  'BUILDKITE_PIPELINE_SLUG',
] as const;

/** Every env variable that influences a payload (never a secret): Buildkite ids and `NIGHTLY`. */
export const PAYLOAD_ENV_VARS: readonly string[] = [...BUILDKITE_METADATA_VARS, 'NIGHTLY'];

/** What the CLI knows about the workload whose results are ingested. */
export interface IngestContext {
  workload: string;
  /** The resolved image (recipe-compat §6). */
  image?: string | undefined;
  /** The resolved vLLM commit. */
  vllmCommit?: string | undefined;
  /** BUILDKITE_*, NIGHTLY (INGEST_* are read by the transport, not here). */
  env: IngestEnv;
}

/** Eval metadata, in upstream key order; values are strings except `nightly: true`. */
export type EvalMetadata = Record<string, string | true>;

/** `NIGHTLY` must be exactly `1` (recipe-compat §17.13). */
export function isNightly(env: IngestEnv): boolean {
  return env['NIGHTLY'] === '1';
}

/**
 * The `md` object of recipe-compat §15.2: `workload`, `task`, the non-empty Buildkite variables as
 * lower-cased keys, `image` and `vllm_commit` when non-blank (trimmed), `nightly: true` on nightly builds.
 */
export function buildEvalMetadata(input: {
  workload: string;
  task: string;
  image?: string | undefined;
  vllmCommit?: string | undefined;
  env: IngestEnv;
}): EvalMetadata {
  const md: EvalMetadata = { workload: input.workload, task: input.task };
  for (const name of BUILDKITE_METADATA_VARS) {
    const value = input.env[name];
    if (value) md[name.toLowerCase()] = value;
  }
  const image = input.image?.trim();
  if (image) md['image'] = image;
  const commit = input.vllmCommit?.trim();
  if (commit) md['vllm_commit'] = commit;
  if (isNightly(input.env)) md['nightly'] = true;
  return md;
}

/** Endpoint for a kind: `INGEST_URL` / `PERF_INGEST_URL` when non-blank, else the upstream default. */
export function endpointFor(kind: EndpointKind, env: IngestEnv): string {
  const override = (kind === 'eval' ? env['INGEST_URL'] : env['PERF_INGEST_URL'])?.trim();
  if (override) return override;
  return kind === 'eval' ? DEFAULT_EVAL_ENDPOINT : DEFAULT_PERF_ENDPOINT;
}

/**
 * Problems with `INGEST_URL` / `PERF_INGEST_URL` (blank = the default endpoint): each must be an
 * absolute http(s) URL. One line per variable, naming it and the fix; [] when both are usable.
 */
export function ingestUrlProblems(env: IngestEnv): string[] {
  const problems: string[] = [];
  for (const [name, fallback] of [
    ['INGEST_URL', DEFAULT_EVAL_ENDPOINT],
    ['PERF_INGEST_URL', DEFAULT_PERF_ENDPOINT],
  ] as const) {
    const value = env[name]?.trim();
    if (!value) continue;
    let protocol: string;
    try {
      protocol = new URL(value).protocol;
    } catch {
      problems.push(
        `${name} is not a URL (${JSON.stringify(displayEndpoint(value))}); set it to an http(s) endpoint like ${fallback} or unset it for that default`,
      );
      continue;
    }
    if (protocol !== 'http:' && protocol !== 'https:') {
      problems.push(
        `${name} must be an http(s) URL, got a ${protocol} URL (${JSON.stringify(displayEndpoint(value))}); set it like ${fallback} or unset it for that default`,
      );
    }
  }
  return problems;
}

/** An endpoint for display: user-info (credentials) removed. */
export function displayEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    if (!url.username && !url.password) return endpoint;
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return endpoint;
  }
}

/** SHA-256 (hex) of a source file's bytes; the content part of an ingest id. */
export function contentHash(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

/**
 * The `ingest_id` appended as the last key of every payload: a SHA-256 over the payload kind, the
 * workload, the task (empty for perf rows), the source file's content hash and, for sample batches,
 * the batch index. Stable across re-ingestion and replay, so consumers can de-duplicate rows.
 */
export function computeIngestId(input: {
  kind: 'results' | 'samples' | 'perf';
  workload: string;
  task: string;
  contentHash: string;
  batchIndex?: number | undefined;
}): string {
  const parts = ['perf-eval-ingest/1', input.kind, input.workload, input.task, input.contentHash];
  if (input.batchIndex !== undefined) parts.push(String(input.batchIndex));
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}
