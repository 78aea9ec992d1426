import { accuracyInterval, stderrInterval, wilsonInterval, Z95 } from './stats.js';

describe('wilsonInterval', () => {
  // Reference values: 81/263 is the worked example of Newcombe (1998), Stat. Med. 17:857, Table I
  // (0.2553–0.3662); the others are the usual textbook values of the 95 % Wilson score interval.
  it.each([
    [8, 10, 0.4902, 0.9433],
    [0, 10, 0, 0.2775],
    [10, 10, 0.7225, 1],
    [50, 100, 0.4038, 0.5962],
    [81, 263, 0.2553, 0.3662],
  ])('%i of %i → [%f, %f]', (count, n, low, high) => {
    const interval = wilsonInterval(count / n, n);
    expect(interval.low).toBeCloseTo(low, 4);
    expect(interval.high).toBeCloseTo(high, 4);
    expect(interval.method).toBe('wilson');
  });

  it('rejects n = 0 with a clear message', () => {
    expect(() => wilsonInterval(0.5, 0)).toThrow('need n > 0');
  });
});

describe('stderrInterval', () => {
  it('is value ± 1.96·stderr, clipped to [0, 1] (gsm8k fixture: 0.95203 ± 1.96 × 0.0061488)', () => {
    const interval = stderrInterval(0.9520264681555004, 0.006148821569571143);
    expect(interval.low).toBeCloseTo(0.9520264681555004 - Z95 * 0.006148821569571143, 12);
    expect(interval.low).toBeCloseTo(0.939975, 6);
    expect(interval.high).toBeCloseTo(0.96408, 5);
    expect(stderrInterval(0.99, 0.05)).toEqual({ low: 0.99 - Z95 * 0.05, high: 1, method: 'stderr' });
  });
});

describe('accuracyInterval', () => {
  it('prefers the stderr, treats 0 as unknown (BFCL writes 0.0), falls back to Wilson, else none', () => {
    expect(accuracyInterval({ value: 0.5, stderr: 0.01, n: 100 })?.method).toBe('stderr');
    expect(accuracyInterval({ value: 0.5, stderr: 0, n: 100 })?.method).toBe('wilson');
    expect(accuracyInterval({ value: 0.5 })).toBeUndefined();
    expect(accuracyInterval({ value: Number.NaN, n: 10 })).toBeUndefined();
  });
});
