import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';
import { ServerModelMissingError } from './errors.js';
import type { PrintFn, ServerExit } from './types.js';

export interface ReadinessOptions {
  /** Base URL without trailing slash. */
  url: string;
  servedModelName: string;
  timeoutS: number;
  /** Resolves when the server died; readiness stops at once. */
  exited?: Promise<ServerExit>;
  intervalMs?: number;
  stillWaitingEveryS?: number;
  print?: PrintFn;
  signal?: AbortSignal;
  dispatcher?: Dispatcher;
  /** Sent as `Authorization: Bearer` to `/v1/models` (vLLM `--api-key`). */
  apiKey?: string;
  /** Per-request timeout. Default 5000 ms. */
  probeTimeoutMs?: number;
}

export type ReadyOutcome =
  | { status: 'ready'; models: string[]; elapsedMs: number }
  | { status: 'exited'; exit: ServerExit; elapsedMs: number }
  | { status: 'timeout'; lastProbe: string; elapsedMs: number }
  | { status: 'cancelled'; elapsedMs: number };

type ProbeResult = { ok: true; status: number; body: string } | { ok: false; detail: string };

/**
 * Poll `GET /health` (every 200 ms by default) until it returns 2xx, then require `GET /v1/models` to
 * list the served name. Process/container exit and the abort signal end the wait immediately.
 * Throws `ServerModelMissingError` when the server is up but serves another model.
 */
export async function waitForReady(options: ReadinessOptions): Promise<ReadyOutcome> {
  const started = performance.now();
  const elapsedMs = () => performance.now() - started;
  const deadline = started + options.timeoutS * 1000;
  const interval = Math.max(10, options.intervalMs ?? 200);
  const noticeEvery = (options.stillWaitingEveryS ?? 60) * 1000;
  const print = options.print ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const probeTimeout = options.probeTimeoutMs ?? 5000;

  const stop = new AbortController();
  let exit: ServerExit | undefined;
  void options.exited?.then((value) => {
    exit = value;
    stop.abort();
  });
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) stop.abort();

  const ownAgent = options.dispatcher
    ? undefined
    : new Agent({ connect: { timeout: probeTimeout }, keepAliveTimeout: 1000 });
  const dispatcher = options.dispatcher ?? (ownAgent as Agent);

  const probe = async (path: string, headers: Record<string, string> = {}): Promise<ProbeResult> => {
    try {
      const response = await request(`${options.url}${path}`, {
        dispatcher,
        signal: stop.signal,
        headers,
        headersTimeout: probeTimeout,
        bodyTimeout: probeTimeout,
      });
      const body = await response.body.text();
      return { ok: true, status: response.statusCode, body };
    } catch (error) {
      const err = error as NodeJS.ErrnoException & { cause?: { code?: string } };
      return { ok: false, detail: err.cause?.code ?? err.code ?? err.message };
    }
  };

  let lastProbe = 'no probe yet';
  let nextNotice = started + noticeEvery;
  try {
    for (;;) {
      if (exit) return { status: 'exited', exit, elapsedMs: elapsedMs() };
      if (options.signal?.aborted) return { status: 'cancelled', elapsedMs: elapsedMs() };
      if (performance.now() >= deadline) return { status: 'timeout', lastProbe, elapsedMs: elapsedMs() };

      const health = await probe('/health');
      if (health.ok && health.status >= 200 && health.status < 300) {
        const headers: Record<string, string> = options.apiKey
          ? { authorization: `Bearer ${options.apiKey}` }
          : {};
        const models = await probe('/v1/models', headers);
        if (models.ok && models.status === 200) {
          const ids = modelIds(models.body);
          if (ids) {
            if (ids.includes(options.servedModelName))
              return { status: 'ready', models: ids, elapsedMs: elapsedMs() };
            throw new ServerModelMissingError(options.url, options.servedModelName, ids);
          }
          lastProbe = '/v1/models returned a body without data[].id';
        } else {
          lastProbe = models.ok
            ? `/v1/models returned HTTP ${models.status}`
            : `/v1/models: ${models.detail}`;
        }
      } else {
        lastProbe = health.ok ? `/health returned HTTP ${health.status}` : `/health: ${health.detail}`;
      }

      const now = performance.now();
      if (now >= nextNotice) {
        print(`still waiting for /health after ${Math.round((now - started) / 1000)}s`);
        while (nextNotice <= now) nextNotice += noticeEvery;
      }
      const wait = Math.min(interval, deadline - now);
      if (wait > 0 && !stop.signal.aborted)
        await sleep(wait, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    stop.abort();
    await ownAgent?.destroy();
  }
}

function modelIds(body: string): string[] | undefined {
  try {
    const parsed = JSON.parse(body) as { data?: unknown };
    if (!Array.isArray(parsed.data)) return undefined;
    return parsed.data.flatMap((entry: unknown) =>
      entry && typeof entry === 'object' && typeof (entry as { id?: unknown }).id === 'string'
        ? [(entry as { id: string }).id]
        : [],
    );
  } catch {
    return undefined;
  }
}
