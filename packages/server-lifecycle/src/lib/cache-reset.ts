/**
 * Reset the server's caches before a bench run, as `vllm bench sweep` does after every run: a warm
 * prefix cache inflates a repeated run's throughput (vLLM issues 52884 and 54227: up to 2.3×). The
 * endpoints exist only when vLLM runs with `VLLM_SERVER_DEV_MODE=1`
 * (`vllm/entrypoints/serve/dev/cache/api_router.py` in vLLM 0.33). A server without them (older vLLM,
 * the simulator, a server started without dev mode) is reported as "not reset" with the reason.
 */
import { Agent, request, type Dispatcher } from 'undici';

export const CACHE_RESET_PATHS = ['/reset_prefix_cache', '/reset_mm_cache', '/reset_encoder_cache'] as const;

export interface CacheResetEndpoint {
  path: (typeof CACHE_RESET_PATHS)[number];
  /** HTTP status, or the network error code. */
  status: number | string;
}

export interface CacheResetOutcome {
  /** The prefix cache — the one that distorts text benchmarks — was reset. */
  reset: boolean;
  endpoints: CacheResetEndpoint[];
  /** Why not (or what was only partly reset), in words. */
  reason?: string;
}

export interface CacheResetOptions {
  /** Server base URL without trailing slash. */
  url: string;
  apiKey?: string;
  timeoutMs?: number;
  dispatcher?: Dispatcher;
  signal?: AbortSignal;
}

export async function resetServerCaches(options: CacheResetOptions): Promise<CacheResetOutcome> {
  const timeout = options.timeoutMs ?? 10_000;
  const ownAgent = options.dispatcher ? undefined : new Agent({ connect: { timeout } });
  const dispatcher = options.dispatcher ?? (ownAgent as Agent);
  const endpoints: CacheResetEndpoint[] = [];
  try {
    for (const path of CACHE_RESET_PATHS) {
      try {
        const response = await request(`${options.url}${path}`, {
          method: 'POST',
          dispatcher,
          headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
          headersTimeout: timeout,
          bodyTimeout: timeout,
          signal: options.signal
            ? AbortSignal.any([options.signal, AbortSignal.timeout(timeout)])
            : AbortSignal.timeout(timeout),
        });
        await response.body.dump();
        endpoints.push({ path, status: response.statusCode });
      } catch (error) {
        if (options.signal?.aborted) throw error;
        const err = error as NodeJS.ErrnoException & { cause?: { code?: string } };
        endpoints.push({ path, status: err.cause?.code ?? err.code ?? 'error' });
      }
    }
  } finally {
    await ownAgent?.close();
  }
  const ok = (endpoint: CacheResetEndpoint): boolean =>
    typeof endpoint.status === 'number' && endpoint.status >= 200 && endpoint.status < 300;
  const prefix = endpoints[0] as CacheResetEndpoint;
  const failed = endpoints.filter((endpoint) => !ok(endpoint));
  if (failed.length === 0) return { reset: true, endpoints };
  const list = failed.map((endpoint) => `${endpoint.path} → ${endpoint.status}`).join(', ');
  if (!ok(prefix)) {
    const why =
      prefix.status === 404 || prefix.status === 405
        ? 'the server has no cache-reset endpoints (VLLM_SERVER_DEV_MODE=1 not set, an older vLLM, or not vLLM)'
        : 'the cache-reset request failed';
    return { reset: false, endpoints, reason: `${why}: ${list}` };
  }
  return { reset: true, endpoints, reason: `prefix cache reset; not reset: ${list}` };
}
