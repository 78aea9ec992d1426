import { startRecordingServer } from '../../test/recording-server.js';
import type { RecordingServer } from '../../test/recording-server.js';
import { IngestAbortedError, IngestHttpError, IngestNetworkError, IngestNoTokenError } from './errors.js';
import { DEFAULT_EVAL_ENDPOINT, DEFAULT_PERF_ENDPOINT } from './metadata.js';
import { createTransport, parseRetryAfter } from './transport.js';
import type { RetryNotice, TransportOptions } from './transport.js';

const TOKEN = 'tok-SECRET-1234567890';
const FAST = { retries: 3, minTimeout: 1, maxTimeout: 5, factor: 1, randomize: false };

async function server(): Promise<RecordingServer> {
  const s = await startRecordingServer();
  onTestFinished(() => s.close());
  return s;
}

function transportFor(s: RecordingServer, extra: Partial<TransportOptions> = {}) {
  return createTransport({
    env: { INGEST_BEARER_TOKEN: `  ${TOKEN}\n`, INGEST_URL: s.url('/eval'), PERF_INGEST_URL: s.url('/perf') },
    dispatcher: s.dispatcher,
    retry: FAST,
    timeoutMs: 2000,
    ...extra,
  });
}

describe('createTransport', () => {
  it('uses the upstream endpoints unless INGEST_URL / PERF_INGEST_URL are non-blank', () => {
    expect(createTransport({ env: {} }).endpoints).toEqual({
      eval: DEFAULT_EVAL_ENDPOINT,
      perf: DEFAULT_PERF_ENDPOINT,
    });
    expect(createTransport({ env: { INGEST_URL: ' ', PERF_INGEST_URL: '' } }).endpoints).toEqual({
      eval: DEFAULT_EVAL_ENDPOINT,
      perf: DEFAULT_PERF_ENDPOINT,
    });
    expect(
      createTransport({ env: { INGEST_URL: 'http://e/', PERF_INGEST_URL: 'http://p/' } }).endpoints,
    ).toEqual({ eval: 'http://e/', perf: 'http://p/' });
  });

  it('does not expose the token as a property', () => {
    const t = createTransport({ env: { INGEST_BEARER_TOKEN: TOKEN } });
    expect(t.hasToken).toBe(true);
    expect(JSON.stringify(t)).not.toContain(TOKEN);
    expect(t.scrub(`x ${TOKEN} y`)).toBe('x *** y');
  });

  it('posts with the bearer token (trimmed), JSON content type and X-Source only on perf rows', async () => {
    const s = await server();
    const t = transportFor(s);
    await expect(t.send('eval', '{"a":1}')).resolves.toEqual({ status: 200, attempts: 1 });
    await expect(t.send('perf', '{"b":2}')).resolves.toEqual({ status: 200, attempts: 1 });
    const [evalReq, perfReq] = s.requests;
    expect(evalReq?.method).toBe('POST');
    expect(evalReq?.url).toBe('/eval');
    expect(evalReq?.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    expect(evalReq?.headers['content-type']).toBe('application/json');
    expect(evalReq?.headers['x-source']).toBeUndefined();
    expect(evalReq?.body).toBe('{"a":1}');
    expect(perfReq?.url).toBe('/perf');
    expect(perfReq?.headers['x-source']).toBe('perf-eval');
    expect(perfReq?.headers['authorization']).toBe(`Bearer ${TOKEN}`);
  });

  it('fails with E_INGEST_NO_TOKEN before any request when the token is missing or blank', async () => {
    const s = await server();
    for (const token of [undefined, '', '   ']) {
      const t = createTransport({
        env: { INGEST_BEARER_TOKEN: token, INGEST_URL: s.url() },
        dispatcher: s.dispatcher,
      });
      expect(t.hasToken).toBe(false);
      const error = await t.send('eval', '{}').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IngestNoTokenError);
      expect((error as IngestNoTokenError).code).toBe('E_INGEST_NO_TOKEN');
      expect((error as Error).message).toBe('INGEST_BEARER_TOKEN is required for result ingestion');
    }
    expect(s.requests).toHaveLength(0);
  });

  it('retries 500 and 429 and succeeds', async () => {
    const s = await server();
    s.script({ status: 500 }, { status: 429 }, { status: 503 });
    await expect(transportFor(s).send('eval', '{"x":1}')).resolves.toEqual({ status: 200, attempts: 4 });
    expect(s.requests.map((r) => r.status)).toEqual([500, 429, 503, 200]);
    expect(s.delivered()).toEqual(['{"x":1}']);
  });

  it('parses Retry-After as delay-seconds or an HTTP date', () => {
    const now = Date.parse('2026-08-20T01:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Thu, 20 Aug 2026 01:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Thu, 20 Aug 2026 00:59:00 GMT', now)).toBe(0);
    for (const bad of [undefined, '', 'soon', '-1', '1.5'])
      expect(parseRetryAfter(bad, now), String(bad)).toBeUndefined();
  });

  it('honours Retry-After on 429 / 503 before the next attempt', async () => {
    const s = await server();
    s.script(
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 503, headers: { 'retry-after': 'not-a-date' } },
    );
    const notices: RetryNotice[] = [];
    const result = await transportFor(s, { onRetry: (n) => notices.push(n) }).send('perf', '{"x":1}');
    expect(result).toEqual({ status: 200, attempts: 3 });
    expect(notices).toEqual([
      { kind: 'perf', attempt: 1, retryAfterMs: 1000, reason: 'HTTP 429' },
      { kind: 'perf', attempt: 2, retryAfterMs: 0, reason: 'HTTP 503' },
    ]);
  });

  it('bounds Retry-After by the cap and by the overall timeout of the send', async () => {
    const s = await server();
    const far = new Date(Date.now() + 3_600_000).toUTCString();
    s.script(
      { status: 429, headers: { 'retry-after': '3600' } },
      { status: 429, headers: { 'retry-after': far } },
    );
    const notices: RetryNotice[] = [];
    const transport = transportFor(s, {
      retry: { ...FAST, maxRetryAfterMs: 50 },
      onRetry: (n) => notices.push(n),
    });
    await expect(transport.send('eval', '{}')).resolves.toMatchObject({ status: 200 });
    expect(notices.map((n) => n.retryAfterMs)).toEqual([50, 50]);

    // The wait never outlasts the send's overall budget; when the budget is spent, the send gives up.
    s.script({ status: 429, headers: { 'retry-after': '3600' } });
    notices.length = 0;
    const bounded = transportFor(s, { overallTimeoutMs: 200, onRetry: (n) => notices.push(n) });
    await expect(bounded.send('eval', '{}')).rejects.toMatchObject({
      code: 'E_INGEST_HTTP',
      status: 429,
      attempts: 1,
    });
    expect(notices).toHaveLength(1);
    expect(notices[0]?.retryAfterMs).toBeLessThanOrEqual(200);
  });

  it('gives up after the retry budget with E_INGEST_HTTP naming status and attempts', async () => {
    const s = await server();
    s.fallback = { status: 502, body: 'bad gateway' };
    const error = await transportFor(s)
      .send('perf', '{}')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IngestHttpError);
    expect(error).toMatchObject({ code: 'E_INGEST_HTTP', status: 502, attempts: 4, retryable: true });
    expect((error as Error).message).toBe(
      `POST ${s.url('/perf')} failed: HTTP 502: bad gateway (4 attempts)`,
    );
    expect(s.requests).toHaveLength(4);
  });

  it('never retries 401 (or any other 4xx) and scrubs the token from the reply snippet', async () => {
    const s = await server();
    s.script({ status: 401, body: `invalid token ${TOKEN}` });
    const error = await transportFor(s)
      .send('eval', '{}')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_INGEST_HTTP', status: 401, attempts: 1, retryable: false });
    expect((error as Error).message).toBe(
      `POST ${s.url('/eval')} failed: HTTP 401: invalid token *** (1 attempt)`,
    );
    expect(s.requests).toHaveLength(1);

    s.script({ status: 400 }, { status: 404 }, { status: 302 });
    for (const status of [400, 404, 302]) {
      await expect(transportFor(s).send('eval', '{}')).rejects.toMatchObject({ status, attempts: 1 });
    }
    expect(s.requests).toHaveLength(4);
  });

  it('retries a dropped connection (socket destroyed before any reply)', async () => {
    const s = await server();
    s.script({ destroy: true }, { destroy: true });
    await expect(transportFor(s).send('eval', '{"d":1}')).resolves.toEqual({ status: 200, attempts: 3 });
    expect(s.requests.map((r) => r.outcome)).toEqual(['destroyed', 'destroyed', 'answered']);
    expect(s.delivered()).toEqual(['{"d":1}']);
  });

  it('times out a slow reply and retries it', async () => {
    const s = await server();
    s.script({ delayMs: 5000, status: 200 });
    await expect(transportFor(s, { timeoutMs: 200 }).send('eval', '{}')).resolves.toEqual({
      status: 200,
      attempts: 2,
    });
    expect(s.requests.map((r) => r.outcome)).toEqual(['slow', 'answered']);
  });

  it('names the timeout when every attempt is too slow', async () => {
    const s = await server();
    s.fallback = { delayMs: 5000, status: 200 };
    const error = await transportFor(s, {
      timeoutMs: 150,
      retry: { retries: 1, minTimeout: 1, randomize: false },
    })
      .send('eval', '{}')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IngestNetworkError);
    expect((error as Error).message).toMatch(
      /^POST http:\/\/127\.0\.0\.1:\d+\/eval failed: no response within 150 ms.* \(2 attempts\)$/,
    );
    expect(s.requests.map((r) => r.outcome)).toEqual(['slow', 'slow']);
  });

  it('reports a network error with its code after the retries', async () => {
    const s = await server();
    s.fallback = { destroy: true };
    const error = await transportFor(s)
      .send('eval', '{}')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IngestNetworkError);
    expect(error).toMatchObject({ code: 'E_INGEST_NETWORK', attempts: 4 });
    expect((error as Error).message).toMatch(
      /^POST http:\/\/127\.0\.0\.1:\d+\/eval failed: .+ \(4 attempts\)$/,
    );
  });

  it('stops retrying when the caller aborts', async () => {
    const s = await server();
    s.fallback = { status: 500 };
    const controller = new AbortController();
    const t = transportFor(s, {
      signal: controller.signal,
      retry: { retries: 50, minTimeout: 20, factor: 1, randomize: false },
    });
    const pending = t.send('eval', '{}').catch((e: unknown) => e);
    await vi.waitFor(() => expect(s.requests.length).toBeGreaterThanOrEqual(2));
    controller.abort(new Error('SIGTERM'));
    const error = await pending;
    expect(error).toBeInstanceOf(IngestAbortedError);
    expect(s.requests.length).toBeLessThan(50);
  });
});
