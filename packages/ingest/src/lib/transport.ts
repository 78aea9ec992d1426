import pRetry, { AbortError } from 'p-retry';
import { request } from 'undici';
import type { Dispatcher } from 'undici';
import { scrubText } from '@perf-eval/util';
import { IngestAbortedError, IngestHttpError, IngestNetworkError, IngestNoTokenError } from './errors.js';
import { displayEndpoint, endpointFor } from './metadata.js';
import type { EndpointKind, IngestEnv } from './metadata.js';

/** Backoff of p-retry; every field is configurable so tests run in milliseconds. */
export interface RetryOptions {
  /** Retries after the first attempt. Default 4 (5 attempts). */
  retries?: number;
  /** Delay before the first retry, ms. Default 1000. */
  minTimeout?: number;
  /** Upper bound of a delay, ms. Default 30000. */
  maxTimeout?: number;
  /** Default 2. */
  factor?: number;
  /** Multiply each delay by a random factor in [1, 2). Default true. */
  randomize?: boolean;
  /** Longest `Retry-After` honoured, ms (a longer one is cut to this). Default 60000. */
  maxRetryAfterMs?: number;
}

/** One upcoming retry, for progress lines. */
export interface RetryNotice {
  kind: EndpointKind;
  /** The attempt that failed (1-based). */
  attempt: number;
  /** Extra wait before the next attempt because the server sent `Retry-After` (0 without one). */
  retryAfterMs: number;
  /** Why: `HTTP 429`, `HTTP 503`, a network error message. */
  reason: string;
}

export interface TransportOptions {
  /** Reads `INGEST_BEARER_TOKEN`, `INGEST_URL`, `PERF_INGEST_URL`. */
  env: IngestEnv;
  /** undici dispatcher (an `Agent`, `MockAgent`, …); default: undici's global dispatcher. */
  dispatcher?: Dispatcher | undefined;
  /** Per-attempt timeout, ms. Default 30000 (upstream). */
  timeoutMs?: number;
  retry?: RetryOptions;
  /** Aborts the attempt in flight and every retry (SIGINT / SIGTERM). */
  signal?: AbortSignal | undefined;
  /** Budget of one `send`, all attempts and waits included, ms. Default 600000 (10 min). */
  overallTimeoutMs?: number | undefined;
  /** Called before each retry (after a failed attempt that will be retried). */
  onRetry?: ((notice: RetryNotice) => void) | undefined;
}

export interface SendResult {
  readonly status: number;
  readonly attempts: number;
}

/** Posts payload bodies to the eval and perf endpoints. The token is never exposed as a property. */
export interface IngestTransport {
  readonly endpoints: Readonly<Record<EndpointKind, string>>;
  /** Whether a non-blank `INGEST_BEARER_TOKEN` is set. */
  readonly hasToken: boolean;
  /** Secret values to scrub from any text that could be printed. */
  scrub(text: string): string;
  /**
   * POST `body` (exact bytes) with p-retry: retried on network errors, timeouts, 429 and 5xx;
   * never on any other status. Throws IngestNoTokenError before any network call when the token
   * is missing, IngestHttpError / IngestNetworkError / IngestAbortedError otherwise.
   */
  send(kind: EndpointKind, body: string | Uint8Array): Promise<SendResult>;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_OVERALL_TIMEOUT_MS = 600_000;
const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

class StatusFailure extends Error {
  constructor(
    readonly status: number,
    readonly snippet: string,
    /** Parsed `Retry-After`, ms from now; undefined without a valid header. */
    readonly retryAfterMs?: number | undefined,
  ) {
    super(`HTTP ${status}`);
  }
}

/**
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, as ms from `now`. Invalid or
 * missing → undefined; a date in the past → 0.
 */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/^[A-Za-z]{3}, /.test(text)) return undefined; // an HTTP-date starts with the day name
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function networkDetail(
  error: unknown,
  timedOut: boolean,
  timeoutMs: number,
): { detail: string; code: string | undefined } {
  if (timedOut) return { detail: `no response within ${timeoutMs} ms`, code: 'ETIMEDOUT' };
  const err = error as { message?: unknown; code?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const message = typeof err?.message === 'string' && err.message ? err.message : String(error);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
    return { detail: `no response within ${timeoutMs} ms (${message})`, code };
  return { detail: message, code };
}

/** Create the HTTP transport of both ingestion clients (recipe-compat §15.1). */
export function createTransport(options: TransportOptions): IngestTransport {
  const token = options.env['INGEST_BEARER_TOKEN']?.trim() ?? '';
  const secrets = token ? [token] : [];
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retry = options.retry ?? {};
  const overallTimeoutMs = options.overallTimeoutMs ?? DEFAULT_OVERALL_TIMEOUT_MS;
  const maxRetryAfterMs = retry.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  const endpoints = { eval: endpointFor('eval', options.env), perf: endpointFor('perf', options.env) };
  const outerSignal = options.signal;
  const scrub = (text: string): string => scrubText(text, secrets);

  const send = async (kind: EndpointKind, body: string | Uint8Array): Promise<SendResult> => {
    if (!token) throw new IngestNoTokenError();
    const endpoint = endpoints[kind];
    const shown = displayEndpoint(endpoint);
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
    };
    if (kind === 'perf') headers['x-source'] = 'perf-eval';
    let attempts = 0;
    let lastTimedOut = false;

    const attempt = async (): Promise<number> => {
      attempts++;
      if (outerSignal?.aborted)
        throw new AbortError(new IngestAbortedError(shown, { cause: outerSignal.reason }));
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = outerSignal ? AbortSignal.any([outerSignal, timeout]) : timeout;
      lastTimedOut = false;
      let response: Dispatcher.ResponseData;
      try {
        response = await request(endpoint, {
          method: 'POST',
          headers,
          body,
          signal,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
        });
      } catch (error) {
        if (outerSignal?.aborted) throw new AbortError(new IngestAbortedError(shown, { cause: error }));
        lastTimedOut = timeout.aborted;
        const code = (error as { code?: unknown } | null)?.code;
        if (code === 'UND_ERR_INVALID_ARG' || error instanceof TypeError)
          throw new AbortError(error as Error);
        throw error;
      }
      const status = response.statusCode;
      if (status >= 200 && status < 300) {
        await response.body.dump().catch(() => undefined);
        return status;
      }
      const text = await response.body.text().catch(() => '');
      const failure = new StatusFailure(
        status,
        scrub(oneLine(text)),
        parseRetryAfter(response.headers['retry-after']),
      );
      if (status === 429 || status >= 500) throw failure;
      throw new AbortError(failure);
    };

    const started = Date.now();
    try {
      const status = await pRetry(attempt, {
        // The whole send, waits included, stays within the overall budget.
        maxRetryTime: overallTimeoutMs,
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          if (retriesLeft <= 0) return;
          // A server that says when to come back (429 / 503 + Retry-After) is waited for, within bounds.
          const asked = error instanceof StatusFailure ? error.retryAfterMs : undefined;
          const remaining = overallTimeoutMs - (Date.now() - started);
          const retryAfterMs =
            asked === undefined ? 0 : Math.max(0, Math.min(asked, maxRetryAfterMs, remaining));
          options.onRetry?.({
            kind,
            attempt: attemptNumber,
            retryAfterMs,
            reason: scrub(oneLine(error.message)),
          });
          await sleep(retryAfterMs, outerSignal);
          // Budget spent by the wait: give up here, not by p-retry's own clock (it starts a moment later).
          if (Date.now() - started >= overallTimeoutMs) throw error;
        },
        retries: retry.retries ?? 4,
        minTimeout: retry.minTimeout ?? 1000,
        maxTimeout: retry.maxTimeout ?? 30_000,
        factor: retry.factor ?? 2,
        randomize: retry.randomize ?? true,
        ...(outerSignal ? { signal: outerSignal } : {}),
      });
      return { status, attempts };
    } catch (error) {
      if (error instanceof IngestAbortedError) throw error;
      if (error instanceof StatusFailure)
        throw new IngestHttpError({
          endpoint: shown,
          status: error.status,
          attempts,
          responseSnippet: error.snippet,
        });
      if (outerSignal?.aborted) throw new IngestAbortedError(shown, { cause: error });
      const { detail, code } = networkDetail(error, lastTimedOut, timeoutMs);
      throw new IngestNetworkError(
        { endpoint: shown, attempts, detail: scrub(detail), causeCode: code },
        { cause: error },
      );
    }
  };

  return { endpoints, hasToken: token !== '', scrub, send };
}
