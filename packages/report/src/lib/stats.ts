/**
 * Confidence intervals for accuracy numbers (both two-sided, 95 % by default).
 *
 * - With a standard error (lm-eval writes `<metric>_stderr,<filter>`, the bootstrap or analytic SE of
 *   the mean): the normal interval `value ± z·stderr`, clipped to [0, 1].
 * - Without one but with the sample count n (BFCL's `total_count`, lm-eval's `n-samples.effective`):
 *   the Wilson score interval for a binomial proportion,
 *     centre = (p + z²/2n) / (1 + z²/n),  half = z / (1 + z²/n) · √(p(1−p)/n + z²/4n²),
 *   which, unlike `p ± z·√(p(1−p)/n)`, stays inside [0, 1] and is not degenerate at p = 0 or 1
 *   (Wilson 1927; the interval vLLM's CI accuracy gate uses for its lower bound).
 * - With neither: no interval.
 */

/** Two-sided 95 % normal quantile. */
export const Z95 = 1.959963984540054;

export interface Interval {
  low: number;
  high: number;
  /** Which method produced it. */
  method: 'stderr' | 'wilson';
}

/** Wilson score interval of a proportion `p` observed over `n` trials. */
export function wilsonInterval(p: number, n: number, z: number = Z95): Interval {
  if (!(n > 0) || !Number.isFinite(p))
    throw new RangeError(`wilsonInterval: need n > 0 and a finite p (got p=${p}, n=${n})`);
  const q = Math.min(1, Math.max(0, p));
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (q + z2 / (2 * n)) / denominator;
  const half = (z / denominator) * Math.sqrt((q * (1 - q)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half), method: 'wilson' };
}

/** `value ± z·stderr`, clipped to [0, 1]. */
export function stderrInterval(value: number, stderr: number, z: number = Z95): Interval {
  return { low: Math.max(0, value - z * stderr), high: Math.min(1, value + z * stderr), method: 'stderr' };
}

/** The best interval the data allows: stderr first (a 0 stderr means "unknown"), then Wilson, else none. */
export function accuracyInterval(value: {
  value: number;
  stderr?: number | undefined;
  n?: number | undefined;
}): Interval | undefined {
  if (!Number.isFinite(value.value)) return undefined;
  if (value.stderr !== undefined && Number.isFinite(value.stderr) && value.stderr > 0)
    return stderrInterval(value.value, value.stderr);
  if (value.n !== undefined && Number.isFinite(value.n) && value.n > 0)
    return wilsonInterval(value.value, value.n);
  return undefined;
}
