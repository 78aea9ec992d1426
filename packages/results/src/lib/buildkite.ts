/**
 * Results artifacts of earlier Buildkite builds, through the REST API (no buildkite-agent needed, so
 * it works on a laptop too): list a pipeline's builds filtered by branch and state, list a build's
 * artifacts (paginated), download one through its `download_url` (a 302 to storage, followed
 * without the token). The token is only ever sent to the API origin and never appears in messages.
 */
import { PerfEvalError } from '@perf-eval/util';
import { parseHistory, HISTORY_FILE, type HistoryEntry } from './history.js';

export const BUILDKITE_API_URL = 'https://api.buildkite.com/v2';
/** A history artifact larger than this is refused (a history is kilobytes to a few megabytes). */
const MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;

/** The Buildkite API answered with an error or could not be reached. Exit 1 where it is not just a warning. */
export class BuildkiteApiError extends PerfEvalError {
  constructor(
    readonly url: string,
    readonly status: number | undefined,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super('E_BUILDKITE_API', message, { ...options, category: 'failure' });
  }
}

/** A build reference that is neither a number nor a build URL. Exit 2. */
export class BuildkiteRefError extends PerfEvalError {
  constructor(
    readonly ref: string,
    problem: string,
  ) {
    super('E_BUILDKITE_REF', `Buildkite build '${ref}': ${problem}`, { category: 'usage' });
  }
}

export interface BuildkiteClientOptions {
  token: string;
  /** Default https://api.buildkite.com/v2 (tests point it at 127.0.0.1). */
  apiUrl?: string;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

export interface BuildRef {
  org: string;
  pipeline: string;
  number: number;
}

export interface BuildkiteArtifact {
  id: string;
  path: string;
  filename: string;
  download_url: string;
  file_size?: number;
  state?: string;
}

/**
 * `https://buildkite.com/<org>/<pipeline>/builds/<n>` or a bare number (org and pipeline then come
 * from `defaults`, e.g. BUILDKITE_ORGANIZATION_SLUG / BUILDKITE_PIPELINE_SLUG).
 */
export function parseBuildRef(
  ref: string,
  defaults: { org?: string | undefined; pipeline?: string | undefined } = {},
): BuildRef {
  const url = /^https?:\/\/[^/]+\/([^/]+)\/([^/]+)\/builds\/(\d+)(?:[/?#].*)?$/.exec(ref.trim());
  if (url) return { org: url[1] as string, pipeline: url[2] as string, number: Number(url[3]) };
  if (/^\d+$/.test(ref.trim())) {
    if (!defaults.org || !defaults.pipeline)
      throw new BuildkiteRefError(
        ref,
        'a bare build number needs BUILDKITE_ORGANIZATION_SLUG and BUILDKITE_PIPELINE_SLUG (or pass the build URL)',
      );
    return { org: defaults.org, pipeline: defaults.pipeline, number: Number(ref.trim()) };
  }
  throw new BuildkiteRefError(
    ref,
    'expected a build number or a URL like https://buildkite.com/<org>/<pipeline>/builds/<number>',
  );
}

export class BuildkiteClient {
  private readonly apiUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: BuildkiteClientOptions) {
    this.apiUrl = (options.apiUrl ?? BUILDKITE_API_URL).replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? fetch;
  }

  private async request(
    url: string,
    auth: boolean,
    redirect: 'manual' | 'follow' = 'follow',
  ): Promise<Response> {
    const init: RequestInit = { redirect };
    if (auth) init.headers = { authorization: `Bearer ${this.options.token}`, accept: 'application/json' };
    if (this.options.signal) init.signal = this.options.signal;
    let response: Response;
    try {
      response = await this.fetchImpl(url, init);
    } catch (error) {
      throw new BuildkiteApiError(
        url,
        undefined,
        `Buildkite API ${url} unreachable (${(error as Error).message})`,
        { cause: error },
      );
    }
    if (response.status >= 400) {
      const hint =
        response.status === 401 || response.status === 403
          ? ': the token was rejected; it needs the read_builds and read_artifacts scopes'
          : response.status === 404
            ? ': not found (check the organization, pipeline and build number)'
            : '';
      await response.body?.cancel();
      throw new BuildkiteApiError(
        url,
        response.status,
        `Buildkite API ${url} answered HTTP ${response.status}${hint}`,
      );
    }
    return response;
  }

  private async json<T>(url: string): Promise<{ body: T; next: string | undefined }> {
    const response = await this.request(url, true);
    const link = response.headers.get('link') ?? '';
    const next = /<([^>]+)>;\s*rel="next"/.exec(link)?.[1];
    try {
      return { body: (await response.json()) as T, next };
    } catch (error) {
      throw new BuildkiteApiError(url, response.status, `Buildkite API ${url} did not answer JSON`, {
        cause: error,
      });
    }
  }

  private pipelineUrl(org: string, pipeline: string): string {
    return `${this.apiUrl}/organizations/${encodeURIComponent(org)}/pipelines/${encodeURIComponent(pipeline)}`;
  }

  /** The newest finished build of the pipeline on `branch` with a number below `before`, if any. */
  async previousBuild(
    org: string,
    pipeline: string,
    options: { branch?: string | undefined; before?: number | undefined },
  ): Promise<number | undefined> {
    const query = new URLSearchParams({ state: 'finished', per_page: '20' });
    if (options.branch) query.set('branch', options.branch);
    const { body } = await this.json<{ number: number }[]>(
      `${this.pipelineUrl(org, pipeline)}/builds?${query}`,
    );
    const numbers = (Array.isArray(body) ? body : [])
      .map((b) => b.number)
      .filter((n) => typeof n === 'number' && (options.before === undefined || n < options.before));
    return numbers.length ? Math.max(...numbers) : undefined;
  }

  async artifacts(ref: BuildRef): Promise<BuildkiteArtifact[]> {
    const out: BuildkiteArtifact[] = [];
    let url: string | undefined =
      `${this.pipelineUrl(ref.org, ref.pipeline)}/builds/${ref.number}/artifacts?per_page=100`;
    for (let page = 0; url && page < 100; page++) {
      const { body, next }: { body: BuildkiteArtifact[]; next: string | undefined } =
        await this.json<BuildkiteArtifact[]>(url);
      if (Array.isArray(body)) out.push(...body);
      // Only follow next links on the API origin: the token goes nowhere else.
      url = next && new URL(next).origin === new URL(this.apiUrl).origin ? next : undefined;
    }
    return out;
  }

  /** Downloads an artifact: the API answers 302 to storage, which gets no Authorization header. */
  async download(artifact: BuildkiteArtifact): Promise<string> {
    let response = await this.request(artifact.download_url, true, 'manual');
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location');
      await response.body?.cancel();
      if (!location)
        throw new BuildkiteApiError(
          artifact.download_url,
          response.status,
          `Buildkite API ${artifact.download_url} redirected without a location`,
        );
      const target = new URL(location, artifact.download_url);
      response = await this.request(target.toString(), target.origin === new URL(this.apiUrl).origin);
    }
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > MAX_ARTIFACT_BYTES || (artifact.file_size ?? 0) > MAX_ARTIFACT_BYTES) {
      await response.body?.cancel();
      throw new BuildkiteApiError(
        artifact.download_url,
        response.status,
        `artifact ${artifact.path} is larger than ${MAX_ARTIFACT_BYTES} bytes; not a history file`,
      );
    }
    return await response.text();
  }
}

export interface ImportedHistory {
  build: BuildRef;
  /** Artifact paths the entries came from. */
  files: string[];
  entries: HistoryEntry[];
}

/** Every `history.jsonl` artifact of a build (only `results/<recipe>/history.jsonl` when `recipe` is set). */
export async function importBuildkiteHistory(
  client: BuildkiteClient,
  build: BuildRef,
  recipe?: string,
): Promise<ImportedHistory> {
  const artifacts = (await client.artifacts(build)).filter(
    (a) =>
      a.filename === HISTORY_FILE &&
      (a.state === undefined || a.state === 'finished') &&
      (!recipe ||
        a.path === `results/${recipe}/${HISTORY_FILE}` ||
        a.path.endsWith(`/${recipe}/${HISTORY_FILE}`)),
  );
  const entries: HistoryEntry[] = [];
  for (const artifact of artifacts)
    entries.push(
      ...parseHistory(`build ${build.number} artifact ${artifact.path}`, await client.download(artifact)),
    );
  return { build, files: artifacts.map((a) => a.path), entries };
}
