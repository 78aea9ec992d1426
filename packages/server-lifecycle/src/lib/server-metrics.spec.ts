import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  parsePrometheusText,
  snapshotOf,
  startMetricsSampler,
  summarizeSnapshots,
  type MetricsSnapshot,
} from './server-metrics.js';

// The shape vLLM 0.33 writes (v1 metrics, prometheus_client): gauges per engine, counters with _total.
const VLLM_PAGE = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} 6.0
vllm:num_requests_running{engine="1",model_name="m"} 2.0
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="m"} 1.0
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.25
# TYPE vllm:prefix_cache_queries counter
vllm:prefix_cache_queries_total{engine="0",model_name="m"} 1000.0
# TYPE vllm:prefix_cache_hits counter
vllm:prefix_cache_hits_total{engine="0",model_name="m"} 10.0
vllm:prefix_cache_hits_created{engine="0",model_name="m"} 1.7e9
# TYPE vllm:num_preemptions counter
vllm:num_preemptions_total{engine="0",model_name="m"} 3.0
vllm:e2e_request_latency_seconds_bucket{le="+Inf",model_name="m"} 12
weird line without value
`;

describe('parsePrometheusText', () => {
  it('reads names, labels (with escapes) and values, skipping comments and junk', () => {
    const samples = parsePrometheusText(`${VLLM_PAGE}inf +Inf\nx{a="q\\"uote",b="n\\nl"} NaN 1700000000\n`);
    expect(samples.find((s) => s.name === 'vllm:kv_cache_usage_perc')).toEqual({
      name: 'vllm:kv_cache_usage_perc',
      labels: { engine: '0', model_name: 'm' },
      value: 0.25,
    });
    expect(samples.find((s) => s.name === 'vllm:e2e_request_latency_seconds_bucket')).toEqual({
      name: 'vllm:e2e_request_latency_seconds_bucket',
      labels: { le: '+Inf', model_name: 'm' },
      value: 12,
    });
    expect(samples.find((s) => s.name === 'inf')?.value).toBe(Number.POSITIVE_INFINITY);
    const x = samples.find((s) => s.name === 'x');
    expect(x?.labels).toEqual({ a: 'q"uote', b: 'n\nl' });
    expect(x?.value).toBeNaN();
    expect(samples.some((s) => s.name === 'weird')).toBe(false);
  });

  it('sums gauges over engines and reads counters with or without _total (the simulator omits it)', () => {
    expect(snapshotOf(parsePrometheusText(VLLM_PAGE), 5)).toEqual({
      atMs: 5,
      running: 8,
      waiting: 1,
      kvCacheUsage: 0.25,
      prefixCacheQueries: 1000,
      prefixCacheHits: 10,
      preemptions: 3,
    });
    const sim = snapshotOf(
      parsePrometheusText('vllm:prefix_cache_queries{model_name="m"} 7\nvllm:num_requests_running 1\n'),
      0,
    );
    expect(sim.prefixCacheQueries).toBe(7);
    expect(sim.preemptions).toBeUndefined();
  });
});

describe('summarizeSnapshots', () => {
  const snap = (
    atMs: number,
    running: number,
    queries: number,
    hits: number,
    preemptions?: number,
  ): MetricsSnapshot => ({
    atMs,
    running,
    waiting: 0,
    prefixCacheQueries: queries,
    prefixCacheHits: hits,
    preemptions,
  });

  it('means and peaks of gauges use the active window (first to last busy sample); counters are deltas', () => {
    const view = summarizeSnapshots(
      [
        snap(0, 0, 100, 50, 1),
        snap(1000, 8, 300, 52, 1),
        snap(2000, 6, 500, 54, 2),
        snap(3000, 0, 600, 55, 4),
      ],
      1,
    );
    expect(view.samples).toBe(4);
    expect(view.failedScrapes).toBe(1);
    expect(view.durationS).toBe(3);
    expect(view.running).toEqual({ mean: 7, peak: 8 });
    expect(view.prefixCacheQueries).toBe(500);
    expect(view.prefixCacheHits).toBe(5);
    expect(view.prefixCacheHitRate).toBeCloseTo(0.01, 12);
    expect(view.preemptions).toBe(3);
    expect(view.kvCacheUsage).toBeNull();
    expect(view.missing).toEqual(['vllm:kv_cache_usage_perc']);
  });

  it("the client's start-up and the idle tail are outside the window: a 5-sample idle lead-in does not dilute the mean", () => {
    const idle = (t: number): MetricsSnapshot => snap(t, 0, 0, 0);
    const view = summarizeSnapshots([
      idle(0),
      idle(1),
      idle(2),
      idle(3),
      idle(4),
      snap(5, 2, 0, 0),
      snap(6, 1, 0, 0),
      idle(7),
    ]);
    expect(view.activeSamples).toBe(2);
    expect(view.running).toEqual({ mean: 1.5, peak: 2 });
    expect(summarizeSnapshots([idle(0), idle(1)]).activeSamples).toBe(0);
  });

  it('a counter that goes down (server restart) counts from zero again', () => {
    const view = summarizeSnapshots([snap(0, 1, 100, 0), snap(1, 1, 20, 0), snap(2, 1, 50, 0)]);
    expect(view.prefixCacheQueries).toBe(50);
    expect(view.prefixCacheHitRate).toBe(0);
  });

  it('no samples: everything null and every metric missing', () => {
    const view = summarizeSnapshots([]);
    expect(view).toMatchObject({
      samples: 0,
      durationS: 0,
      running: null,
      prefixCacheHitRate: null,
      preemptions: null,
    });
    expect(view.missing).toHaveLength(6);
  });
});

describe('startMetricsSampler', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  let count = 0;
  /** Wait for the sampler's n-th scrape (no sleeps sized for an idle machine). */
  async function scrapes(n: number): Promise<void> {
    while (count < n) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  async function serve(handler: (count: number) => { status: number; body: string }): Promise<string> {
    count = 0;
    server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      const { status, body } = handler(count++);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server?.address() as AddressInfo).port}`;
  }

  it('samples a live server until stopped, with a final sample closing the counters', async () => {
    const url = await serve((n) => ({
      status: 200,
      body: `vllm:num_requests_running ${n < 1 ? 0 : 4}\nvllm:prefix_cache_queries_total ${n * 100}\nvllm:prefix_cache_hits_total 0\n`,
    }));
    const sampler = startMetricsSampler({ url, intervalMs: 50 });
    await scrapes(3);
    const view = await sampler.stop();
    // stop() may abort the scrape in flight (not counted as failed); the two before it and the final one count.
    expect(view.samples).toBeGreaterThanOrEqual(3);
    expect(view.failedScrapes).toBe(0);
    expect(view.running?.peak).toBe(4);
    // The counter delta from the first page (n = 0) to the final one (the last page served).
    expect(view.prefixCacheQueries).toBe((count - 1) * 100);
    expect(view.prefixCacheHitRate).toBe(0);
    expect(await sampler.stop()).toBe(view);
  });

  it('counts failed scrapes instead of throwing (no /metrics, server gone)', async () => {
    const url = await serve(() => ({ status: 500, body: 'no' }));
    const sampler = startMetricsSampler({ url, intervalMs: 50 });
    await scrapes(2);
    const view = await sampler.stop();
    expect(view.samples).toBe(0);
    expect(view.failedScrapes).toBeGreaterThan(0);

    const dead = startMetricsSampler({ url: 'http://127.0.0.1:9', intervalMs: 50, timeoutMs: 500 });
    const deadView = await dead.stop();
    expect(deadView.samples).toBe(0);
    expect(deadView.failedScrapes).toBeGreaterThan(0);
  });

  it('stops at once when the run is cancelled', async () => {
    const url = await serve(() => ({ status: 200, body: 'vllm:num_requests_running 1\n' }));
    const controller = new AbortController();
    const sampler = startMetricsSampler({ url, intervalMs: 10_000, signal: controller.signal });
    await scrapes(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    const view = await sampler.stop();
    expect(view.samples).toBeLessThanOrEqual(1); // and stop() returned long before the 10 s interval
  });
});
