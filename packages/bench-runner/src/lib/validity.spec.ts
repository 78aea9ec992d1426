import { describe, expect, it } from 'vitest';
import { validityFlags, type ServerLoadView } from './validity.js';

const healthy: ServerLoadView = {
  running: { mean: 60, peak: 64 },
  prefixCacheQueries: 10_000,
  prefixCacheHits: 0,
  prefixCacheHitRate: 0,
  preemptions: 0,
};
const result = { failed: 0, completed: 640, num_prompts: 640, max_concurrency: 64 };

describe('validityFlags', () => {
  it('a clean run has no flags', () => {
    expect(validityFlags({ result, datasetName: 'random', server: healthy })).toEqual([]);
  });

  it('failed requests invalidate, with the counts', () => {
    expect(
      validityFlags({ result: { ...result, failed: 3, completed: 637 }, datasetName: 'random' }),
    ).toEqual([
      {
        code: 'failed-requests',
        severity: 'invalid',
        message: '3 of 640 requests failed',
        evidence: { failed: 3, completed: 637 },
      },
    ]);
  });

  it('a warm prefix cache on a random dataset invalidates; the same hits on sharegpt do not', () => {
    const warm = { ...healthy, prefixCacheHits: 200, prefixCacheHitRate: 0.02 };
    const flags = validityFlags({ result, datasetName: 'random', server: warm });
    expect(flags.map((f) => f.code)).toEqual(['warm-prefix-cache']);
    expect(flags[0]?.message).toBe(
      'prefix-cache hit rate 2.0 % on a random dataset (limit 1 %): the cache was warm',
    );
    expect(validityFlags({ result, datasetName: 'sharegpt', server: warm })).toEqual([]);
    expect(
      validityFlags({ result, datasetName: 'random', server: { ...healthy, prefixCacheHitRate: 0.01 } }),
    ).toEqual([]);
  });

  it('client-bound: mean running well below max_concurrency although enough prompts were sent', () => {
    const flags = validityFlags({
      result,
      datasetName: 'random',
      server: { ...healthy, running: { mean: 20, peak: 31 } },
    });
    expect(flags).toEqual([
      {
        code: 'client-bound',
        severity: 'invalid',
        message:
          'mean running requests 20.0 (peak 31) against max_concurrency 64 with 640 prompts: the client limited the load',
        evidence: { meanRunning: 20, peakRunning: 31, maxConcurrency: 64, numPrompts: 640 },
      },
    ]);
    // Too few prompts to ever reach the target: not the client's fault.
    expect(
      validityFlags({
        result: { ...result, num_prompts: 100 },
        datasetName: 'random',
        server: { ...healthy, running: { mean: 20, peak: 31 } },
      }),
    ).toEqual([]);
    // A run of a few seconds has too few samples to judge (the idle edges dominate the mean).
    expect(
      validityFlags({
        result,
        datasetName: 'random',
        server: { ...healthy, samples: 4, running: { mean: 20, peak: 31 } },
      }),
    ).toEqual([]);
    expect(
      validityFlags({
        result,
        datasetName: 'random',
        server: { ...healthy, samples: 5, running: { mean: 20, peak: 31 } },
      }),
    ).toHaveLength(1);
    // No concurrency target (request-rate runs): nothing to compare with.
    expect(
      validityFlags({
        result: { ...result, max_concurrency: null },
        datasetName: 'random',
        server: { ...healthy, running: { mean: 1, peak: 2 } },
      }),
    ).toEqual([]);
  });

  it('preemptions are a warning, and missing server metrics flag nothing', () => {
    expect(validityFlags({ result, datasetName: 'random', server: { ...healthy, preemptions: 4 } })).toEqual([
      {
        code: 'preemptions',
        severity: 'warning',
        message: '4 preemptions during the run (KV-cache pressure)',
        evidence: { preemptions: 4 },
      },
    ]);
    expect(
      validityFlags({
        result,
        datasetName: 'random',
        server: {
          running: null,
          prefixCacheQueries: null,
          prefixCacheHits: null,
          prefixCacheHitRate: null,
          preemptions: null,
        },
      }),
    ).toEqual([]);
  });
});
