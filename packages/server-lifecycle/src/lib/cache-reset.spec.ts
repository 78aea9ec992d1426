import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { resetServerCaches } from './cache-reset.js';

describe('resetServerCaches', () => {
  let server: Server | undefined;
  const seen: string[] = [];
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
    seen.length = 0;
  });

  async function serve(routes: Record<string, number>): Promise<string> {
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`.trim());
      res.writeHead(routes[req.url ?? ''] ?? 404).end();
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server?.address() as AddressInfo).port}`;
  }

  it('POSTs the three dev-mode endpoints in order (vLLM with VLLM_SERVER_DEV_MODE=1)', async () => {
    const url = await serve({
      '/reset_prefix_cache': 200,
      '/reset_mm_cache': 200,
      '/reset_encoder_cache': 200,
    });
    const outcome = await resetServerCaches({ url, apiKey: 'k' });
    expect(outcome).toEqual({
      reset: true,
      endpoints: [
        { path: '/reset_prefix_cache', status: 200 },
        { path: '/reset_mm_cache', status: 200 },
        { path: '/reset_encoder_cache', status: 200 },
      ],
    });
    expect(seen).toEqual([
      'POST /reset_prefix_cache Bearer k',
      'POST /reset_mm_cache Bearer k',
      'POST /reset_encoder_cache Bearer k',
    ]);
  });

  it('a server without the endpoints (no dev mode, simulator) is "not reset" with the reason', async () => {
    const url = await serve({});
    const outcome = await resetServerCaches({ url });
    expect(outcome.reset).toBe(false);
    expect(outcome.reason).toBe(
      'the server has no cache-reset endpoints (VLLM_SERVER_DEV_MODE=1 not set, an older vLLM, or not vLLM): /reset_prefix_cache → 404, /reset_mm_cache → 404, /reset_encoder_cache → 404',
    );
  });

  it('an older vLLM with only the prefix endpoint: reset, and says what was not', async () => {
    const url = await serve({ '/reset_prefix_cache': 200 });
    const outcome = await resetServerCaches({ url });
    expect(outcome.reset).toBe(true);
    expect(outcome.reason).toBe(
      'prefix cache reset; not reset: /reset_mm_cache → 404, /reset_encoder_cache → 404',
    );
  });

  it('an unreachable server: not reset, with the network error', async () => {
    const outcome = await resetServerCaches({ url: 'http://127.0.0.1:9', timeoutMs: 1000 });
    expect(outcome.reset).toBe(false);
    expect(outcome.endpoints[0]?.status).toBe('ECONNREFUSED');
    expect(outcome.reason).toMatch(/^the cache-reset request failed: \/reset_prefix_cache → ECONNREFUSED/);
  });

  it('cancellation propagates', async () => {
    const url = await serve({ '/reset_prefix_cache': 200 });
    const controller = new AbortController();
    controller.abort();
    await expect(resetServerCaches({ url, signal: controller.signal })).rejects.toThrow();
  });
});
