import {
  BENCH,
  FAILED,
  GSM8K,
  IFEVAL,
  LEGACY,
  lmEvalAccuracy,
  SWEEP,
  benchResults,
} from '../../test/fixture-data.js';
import {
  accuracyRows,
  changePct,
  latencyRows,
  paretoPoints,
  throughputCurves,
  timelineRows,
} from './chart-data.js';
import type { ReportBenchResult } from './types.js';

describe('latencyRows', () => {
  it('takes p50 from median_*_ms and p99 from p99_*_ms; no p90 or E2EL rows when the tool did not report them', () => {
    const rows = latencyRows({ name: 'a', group: 'a', concurrency: 2, metrics: BENCH });
    expect(rows.map((r) => `${r.metric} p${r.percentile}`)).toEqual([
      'ttft p50',
      'ttft p99',
      'tpot p50',
      'tpot p99',
      'itl p50',
      'itl p99',
    ]);
    expect(rows[0]).toEqual({
      metric: 'ttft',
      percentile: 50,
      key: 'median_ttft_ms',
      value: 55.68139649994919,
      baseline: undefined,
      changePct: undefined,
    });
    expect(rows[1]?.value).toBe(734.4049174101428);
    expect(rows[5]).toMatchObject({ key: 'p99_itl_ms', value: 29.815922519960626 });
  });

  it('includes E2EL when present (sweep result) and compares with the baseline', () => {
    const rows = latencyRows({ name: 'a', group: 'a', metrics: SWEEP, baseline: BENCH });
    const e2el = rows.filter((r) => r.metric === 'e2el');
    expect(e2el).toEqual([
      {
        metric: 'e2el',
        percentile: 50,
        key: 'median_e2el_ms',
        value: 166.47808399284258,
        baseline: undefined,
        changePct: undefined,
      },
      {
        metric: 'e2el',
        percentile: 99,
        key: 'p99_e2el_ms',
        value: 876.8009717071254,
        baseline: undefined,
        changePct: undefined,
      },
    ]);
    const ttft50 = rows.find((r) => r.metric === 'ttft' && r.percentile === 50);
    expect(ttft50?.baseline).toBe(55.68139649994919);
    expect(ttft50?.changePct).toBeCloseTo(
      ((44.92285849846667 - 55.68139649994919) / 55.68139649994919) * 100,
      10,
    );
  });

  it('shows p90 when --metric-percentiles asked for it, and a baseline-only row with no new value', () => {
    const rows = latencyRows({
      name: 'a',
      group: 'a',
      metrics: { median_ttft_ms: 10, p90_ttft_ms: 20, p99_ttft_ms: 30 },
      baseline: { median_e2el_ms: 5 },
    });
    expect(rows.map((r) => [r.key, r.value, r.baseline])).toEqual([
      ['median_ttft_ms', 10, undefined],
      ['p90_ttft_ms', 20, undefined],
      ['p99_ttft_ms', 30, undefined],
      ['median_e2el_ms', undefined, 5],
    ]);
  });
});

describe('changePct', () => {
  it('is undefined without both values or with a zero baseline', () => {
    expect(changePct(110, 100)).toBeCloseTo(10, 12);
    expect(changePct(90, 100)).toBeCloseTo(-10, 12);
    expect(changePct(1, 0)).toBeUndefined();
    expect(changePct(undefined, 1)).toBeUndefined();
  });
});

describe('throughputCurves', () => {
  it('one curve per group with ≥ 2 concurrencies, sorted by concurrency; single-concurrency groups have none', () => {
    const bench = benchResults(true);
    const curves = throughputCurves([
      bench[1] as ReportBenchResult,
      bench[0] as ReportBenchResult,
      bench[2] as ReportBenchResult,
    ]);
    expect(curves).toHaveLength(1);
    expect(curves[0]?.group).toBe('32-in-16-out');
    expect(
      curves[0]?.points.map((p) => [
        p.concurrency,
        p.outputThroughput,
        p.requestThroughput,
        p.baselineOutputThroughput,
      ]),
    ).toEqual([
      [2, 82.89297074037474, 5.180810671273421, 93.74767963046673],
      [4, 93.74767963046673, 5.859229976904171, 82.89297074037474],
    ]);
    expect(curves[0]?.points[1]?.changePct).toBeCloseTo(
      ((93.74767963046673 - 82.89297074037474) / 82.89297074037474) * 100,
      10,
    );
  });
});

describe('paretoPoints', () => {
  it('per user = output tok/s ÷ concurrency, per GPU = output tok/s ÷ GPUs; 1000 ÷ median TPOT without a bound', () => {
    const unbounded: ReportBenchResult = {
      name: 'rate-1',
      group: 'rate-1',
      metrics: { ...LEGACY, output_throughput: 200 },
    };
    const points = paretoPoints([...benchResults(false).slice(0, 2), unbounded], 2);
    expect(points.map((p) => [p.name, p.run, p.tokensPerUser, p.tokensPerGpu])).toEqual([
      ['32-in-16-out-conc-2', 'new', 82.89297074037474 / 2, 82.89297074037474 / 2],
      ['32-in-16-out-conc-4', 'new', 93.74767963046673 / 4, 93.74767963046673 / 2],
      ['rate-1', 'new', 1000 / 40.27887061310954, 100],
    ]);
    // conc-2 (41.4, 41.4) and conc-4 (23.4, 46.9) trade off; rate-1 (24.8, 100) beats conc-4 on both axes.
    expect(points.map((p) => p.optimal)).toEqual([true, false, true]);
  });

  it('baseline points are judged among themselves; results without output throughput (all failed, legacy) have no point', () => {
    const points = paretoPoints(
      [...benchResults(true), { name: 'failed', group: 'x', concurrency: 2, metrics: FAILED }],
      undefined,
    );
    expect(points.filter((p) => p.run === 'baseline').map((p) => [p.name, p.optimal])).toEqual([
      ['32-in-16-out-conc-2', true],
      ['32-in-16-out-conc-4', false],
    ]);
    expect(points.some((p) => p.name === 'failed' || p.name === 'sharegpt-rate-1')).toBe(false);
    // Unknown GPU count: 1 GPU.
    expect(points[0]?.tokensPerGpu).toBe(82.89297074037474);
  });
});

describe('accuracyRows', () => {
  it('lm-eval metrics with their stderr interval, "N/A" stderr → Wilson over n-samples', () => {
    const rows = accuracyRows([...lmEvalAccuracy(GSM8K), ...lmEvalAccuracy(IFEVAL)]);
    expect(rows.map((r) => r.label)).toEqual([
      'gsm8k_platinum_cot_llama · exact_match,strict-match',
      'gsm8k_platinum_cot_llama · exact_match,flexible-extract',
      'ifeval · prompt_level_strict_acc,none',
      'ifeval · inst_level_strict_acc,none',
      'ifeval · prompt_level_loose_acc,none',
      'ifeval · inst_level_loose_acc,none',
    ]);
    expect(rows[0]?.interval?.method).toBe('stderr');
    expect(rows[0]?.interval?.low).toBeCloseTo(0.939975, 6);
    const inst = rows[3];
    expect(inst?.interval?.method).toBe('wilson');
    // 0.92326 over n = 541 (n-samples.effective).
    expect(inst?.interval?.low).toBeCloseTo(0.8977, 4);
    expect(inst?.interval?.high).toBeCloseTo(0.9428, 4);
  });

  it('difference in points and z = |Δ| / √(se₁² + se₂²) against the baseline', () => {
    const [row] = accuracyRows([
      {
        source: 'lm_eval',
        task: 'gsm8k',
        metric: 'exact_match,strict-match',
        value: 0.8,
        stderr: 0.03,
        baseline: { value: 0.75, stderr: 0.04 },
      },
    ]);
    expect(row?.deltaPoints).toBeCloseTo(5, 10);
    expect(row?.z).toBeCloseTo(0.05 / 0.05, 10);
    expect(row?.baselineInterval?.method).toBe('stderr');
    const [bfcl] = accuracyRows([{ source: 'bfcl', task: 'simple_python', metric: 'accuracy', value: 0.9 }]);
    expect(bfcl).toMatchObject({
      label: 'BFCL simple_python',
      interval: undefined,
      baseline: undefined,
      z: undefined,
    });
  });
});

describe('timelineRows', () => {
  it('offsets in seconds from the earliest start, in start order; ISO strings and epoch ms both accepted', () => {
    const t0 = Date.parse('2026-11-30T02:00:00Z');
    const timeline = timelineRows([
      { name: 'bench', kind: 'bench', start: '2026-11-30T02:00:41.500Z', end: t0 + 60_000 },
      { name: 'server', kind: 'server', start: t0, end: t0 + 41_500 },
      { name: 'broken', kind: 'bench', start: 'yesterday', end: t0 },
      { name: 'backwards', kind: 'bench', start: t0 + 10, end: t0 },
    ]);
    expect(timeline).toEqual({
      origin: t0,
      rows: [
        { name: 'server', kind: 'server', startS: 0, endS: 41.5, durationS: 41.5 },
        { name: 'bench', kind: 'bench', startS: 41.5, endS: 60, durationS: 18.5 },
      ],
      invalid: ['broken', 'backwards'],
    });
    expect(timelineRows(undefined)).toBeUndefined();
    expect(timelineRows([])).toBeUndefined();
  });
});
