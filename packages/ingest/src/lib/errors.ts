import { PerfEvalError, cancellationCategory } from '@perf-eval/util';
import type { PerfEvalErrorOptions } from '@perf-eval/util';

/** The message upstream raises when the bearer token is missing (recipe-compat §15.1). */
export const NO_TOKEN_MESSAGE = 'INGEST_BEARER_TOKEN is required for result ingestion';

/** `INGEST_BEARER_TOKEN` is unset or blank; raised before any network call. */
export class IngestNoTokenError extends PerfEvalError {
  constructor(message: string = NO_TOKEN_MESSAGE) {
    super('E_INGEST_NO_TOKEN', message, { category: 'preflight' });
  }
}

/** `INGEST_URL` / `PERF_INGEST_URL` is set but not an http(s) URL; nothing was sent. */
export class IngestUrlInvalidError extends PerfEvalError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('E_INGEST_URL_INVALID', problems.join('; '), { category: 'preflight' });
    this.problems = problems;
  }
}

/** The endpoint answered with a status >= 300 (after retries for 429 / 5xx). */
export class IngestHttpError extends PerfEvalError {
  readonly endpoint: string;
  readonly status: number;
  readonly attempts: number;
  readonly responseSnippet: string;

  constructor(context: { endpoint: string; status: number; attempts: number; responseSnippet: string }) {
    const snippet = context.responseSnippet ? `: ${context.responseSnippet}` : '';
    super(
      'E_INGEST_HTTP',
      `POST ${context.endpoint} failed: HTTP ${context.status}${snippet} (${attemptsText(context.attempts)})`,
    );
    this.endpoint = context.endpoint;
    this.status = context.status;
    this.attempts = context.attempts;
    this.responseSnippet = context.responseSnippet;
  }

  /** 429 and 5xx are transient; any other status is a request the endpoint will keep refusing. */
  get retryable(): boolean {
    return this.status === 429 || this.status >= 500;
  }
}

/** Connection refused / reset, DNS failure or timeout, after every retry. */
export class IngestNetworkError extends PerfEvalError {
  readonly endpoint: string;
  readonly attempts: number;
  readonly causeCode: string | undefined;

  constructor(
    context: { endpoint: string; attempts: number; detail: string; causeCode?: string | undefined },
    options: PerfEvalErrorOptions = {},
  ) {
    const code = context.causeCode ? ` [${context.causeCode}]` : '';
    super(
      'E_INGEST_NETWORK',
      `POST ${context.endpoint} failed: ${context.detail}${code} (${attemptsText(context.attempts)})`,
      options,
    );
    this.endpoint = context.endpoint;
    this.attempts = context.attempts;
    this.causeCode = context.causeCode;
  }
}

/** The caller's AbortSignal fired (SIGINT / SIGTERM); the payload stays in the outbox. */
export class IngestAbortedError extends PerfEvalError {
  readonly endpoint: string;

  constructor(endpoint: string, options: PerfEvalErrorOptions = {}) {
    super('E_INGEST_ABORTED', `POST ${endpoint} aborted; the payload stays in the outbox for a replay`, {
      ...options,
      category: options.category ?? cancellationCategory(options.cause),
    });
    this.endpoint = endpoint;
  }
}

/** An earlier payload of the same call exhausted its retries, so this one was only queued. */
export class IngestEndpointDownError extends PerfEvalError {
  readonly endpoint: string;

  constructor(endpoint: string, options: PerfEvalErrorOptions = {}) {
    super(
      'E_INGEST_ENDPOINT_DOWN',
      `not attempted: ${endpoint} failed earlier in this run; kept in the outbox for a replay`,
      options,
    );
    this.endpoint = endpoint;
  }
}

/** A results / bench / samples source file cannot be read or is not the JSON shape expected. */
export class IngestSourceError extends PerfEvalError {
  readonly file: string;
  readonly snippet: string | undefined;

  constructor(
    file: string,
    detail: string,
    context: { snippet?: string | undefined } = {},
    options: PerfEvalErrorOptions = {},
  ) {
    super('E_INGEST_SOURCE_INVALID', `${file}: ${detail}`, options);
    this.file = file;
    this.snippet = context.snippet;
  }
}

/** An outbox file cannot be read back (corrupt, foreign or hand-edited); it is left in place. */
export class IngestOutboxError extends PerfEvalError {
  readonly file: string;

  constructor(file: string, detail: string, options: PerfEvalErrorOptions = {}) {
    super('E_INGEST_OUTBOX_INVALID', `${file}: ${detail}`, options);
    this.file = file;
  }
}

/** `.ingest/plan.json` does not exist. */
export class IngestPlanMissingError extends PerfEvalError {
  readonly file: string;

  constructor(file: string, options: PerfEvalErrorOptions = {}) {
    super(
      'E_INGEST_PLAN_MISSING',
      `${file}: no ingest plan; only results directories written by 'perf-eval run' can be re-ingested`,
      options,
    );
    this.file = file;
  }
}

/** `.ingest/plan.json` (or a plan object) is not valid; `field` is a path such as `items[1].meta.tp`. */
export class IngestPlanInvalidError extends PerfEvalError {
  readonly file: string;
  readonly field: string;

  constructor(file: string, field: string, detail: string, options: PerfEvalErrorOptions = {}) {
    super('E_INGEST_PLAN_INVALID', `${file}: ${field ? `${field} ` : ''}${detail}`, {
      ...options,
      category: 'validation',
    });
    this.file = file;
    this.field = field;
  }
}

/** One payload (or file) that was not delivered, as listed in a report. */
export interface IngestFailure {
  /** What failed, as printed: a path relative to the ingested dir, a bench file, or an outbox label. */
  readonly item: string;
  readonly kind: 'eval' | 'perf';
  readonly code: string;
  readonly message: string;
  /** Outbox files still holding the undelivered payload(s) of this item. */
  readonly outboxFiles: readonly string[];
}

/** `strict` ingestion and at least one payload was not delivered. */
export class IngestFailedError extends PerfEvalError {
  readonly failures: readonly IngestFailure[];
  readonly failed: number;
  readonly posted: number;

  constructor(context: { failed: number; posted: number; failures: readonly IngestFailure[] }) {
    const first = context.failures[0];
    const detail = first ? `; first: ${first.item}: ${first.message}` : '';
    super(
      'E_INGEST_FAILED',
      `ingestion failed: ${context.failed} payload(s) not delivered, ${context.posted} posted${detail}`,
    );
    this.failures = context.failures;
    this.failed = context.failed;
    this.posted = context.posted;
  }
}

function attemptsText(attempts: number): string {
  return attempts === 1 ? '1 attempt' : `${attempts} attempts`;
}
