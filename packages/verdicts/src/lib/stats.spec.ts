import { describe, expect, it } from 'vitest';
import {
  binomialTwoSidedHalf,
  logGamma,
  normalTwoSidedP,
  regularizedBeta,
  robustSigma,
  tTwoSidedP,
  welchTest,
  wilsonLowerBound,
} from './stats.js';

/*
 * Reference values computed once with scipy 1.17.1 (python3 -m venv /tmp/scipy; pip install scipy):
 *   2 * scipy.stats.t.sf(|t|, df), scipy.stats.ttest_ind(a, b, equal_var=False),
 *   2 * scipy.stats.norm.sf(z), scipy.stats.binomtest(k, n, 0.5).pvalue,
 *   scipy.special.betainc(a, b, x), scipy.special.gammaln(x),
 *   scipy.stats.median_abs_deviation(x, scale='normal'),
 *   Wilson lower bound with z = scipy.stats.norm.ppf(0.95) (vLLM accuracy_gate's formula).
 */

describe('special functions', () => {
  it.each([
    [0.5, 0.5723649429247],
    [10.3, 13.482036786138359],
    [100, 359.1342053695754],
  ])('logGamma(%d)', (x, expected) => {
    expect(logGamma(x)).toBeCloseTo(expected, 10);
  });

  it.each([
    [2, 3, 0.4, 0.5247999999999999],
    [0.5, 5, 0.1, 0.6833570849799877],
    [50, 60, 0.45, 0.4642352914306031],
  ])('I_x(%d, %d) at %d', (a, b, x, expected) => {
    expect(regularizedBeta(a, b, x)).toBeCloseTo(expected, 12);
  });
});

describe('tail probabilities', () => {
  it.each([
    [2.0, 4, 0.11611652351681556],
    [0.5, 2.3, 0.6608724348847556],
    [10.0, 3, 0.0021283990584141503],
    [1.96, 1000, 0.050273184955748736],
    [3.2, 7.5, 0.013735153862408266],
    [0.0, 5, 1.0],
  ])('t = %d, df = %d', (t, df, expected) => {
    expect(tTwoSidedP(t, df)).toBeCloseTo(expected, 12);
    expect(tTwoSidedP(-t, df)).toBeCloseTo(expected, 12);
  });

  it.each([
    [1.0, 0.31731050786291415],
    [1.96, 0.04999579029644087],
    [2.0, 0.04550026389635839],
    [3.5, 0.00046525815807105003],
  ])('z = %d', (z, expected) => {
    expect(normalTwoSidedP(z)).toBeCloseTo(expected, 12);
  });

  it('z = 6 in the far tail, relative precision', () => {
    expect(normalTwoSidedP(6) / 1.973175290075389e-9).toBeCloseTo(1, 9);
  });
});

describe('tests', () => {
  it('Welch: three repetitions each', () => {
    const r = welchTest([95.1, 96.0, 94.8], [100.0, 101.5, 99.2]);
    expect(r.t).toBeCloseTo(6.453106658914826, 10);
    expect(r.df).toBeCloseTo(3.057700171299118, 10);
    expect(r.p).toBeCloseTo(0.007121140401865299, 12);
  });

  it('Welch: unequal sizes, no difference', () => {
    const r = welchTest([10.1, 10.3, 9.8], [10.0, 10.2, 9.9, 10.1, 10.05]);
    expect(r.t).toBeCloseTo(-0.10846522890932199, 10);
    expect(r.df).toBeCloseTo(2.4843118714003234, 10);
    expect(r.p).toBeCloseTo(0.9217739378021601, 12);
  });

  it('Welch: constant samples', () => {
    expect(welchTest([5, 5], [4, 4])).toMatchObject({ t: -Infinity, p: 0 });
    expect(welchTest([5, 5], [5, 5])).toMatchObject({ t: 0, p: 1 });
  });

  it.each([
    [0, 5, 0.0625],
    [1, 10, 0.021484375],
    [3, 20, 0.0025768280029296875],
    [10, 20, 1.0],
    [2, 30, 8.67992639541626e-7],
    [40, 100, 0.05688793364098089],
  ])('exact binomial (McNemar) k = %d of n = %d', (k, n, expected) => {
    expect(binomialTwoSidedHalf(k, n) / expected).toBeCloseTo(1, 10);
    expect(binomialTwoSidedHalf(n - k, n) / expected).toBeCloseTo(1, 10);
  });

  it.each([
    [0.9, 100, 0.8396444903889079],
    [0.5, 20, 0.32740376788515596],
    [0.95, 1209, 0.9386477863767336],
    [1.0, 50, 0.9486668142137298],
  ])('Wilson lower bound p = %d, n = %d', (p, n, expected) => {
    expect(wilsonLowerBound(p, n)).toBeCloseTo(expected, 12);
  });

  it('robust σ (MAD scaled to normal) ignores one outlier', () => {
    expect(robustSigma([10, 11, 12, 13, 100])).toBeCloseTo(1.482602218505602, 12);
    expect(robustSigma([100.0, 102.0, 98.0, 101.0, 99.5, 250.0])).toBeCloseTo(1.8532527731320025, 12);
  });
});
