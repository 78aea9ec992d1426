import type { RunResults } from '@perf-eval/results';
import { describe, expect, it } from 'vitest';
import { compareRuns } from './compare.js';
import { evaluateGates, GateFailedError } from './gates.js';

function run(value: number, n?: number, throughput = 100): RunResults {
  return {
    source: 'x',
    identity: { runId: `r${throughput}`, recipe: 'demo' },
    tasks: [
      { task: 'lm_eval:gsm8k', kind: 'lm_eval', configKey: '{}', flags: [], files: [] },
      { task: 'bench:a', kind: 'bench', configKey: '{}', flags: [], files: [] },
    ],
    records: [
      {
        task: 'lm_eval:gsm8k',
        metric: 'exact_match,strict-match',
        repetition: null,
        value,
        better: 'higher',
        ...(n === undefined ? {} : { n }),
      },
      { task: 'bench:a', metric: 'output_throughput', repetition: null, value: throughput, better: 'higher' },
    ],
    samples: [],
    warnings: [],
  };
}

const GATE = {
  task: 'lm_eval:gsm8k',
  metric: 'exact_match,strict-match',
  expected: 0.8,
  rtol: 0.08,
  wilson: false,
};

describe('evaluateGates', () => {
  it('accuracy_gate semantics: measured ≥ expected·(1 − rtol)', () => {
    expect(evaluateGates(run(0.74), { accuracy: [GATE] })[0]).toMatchObject({
      passed: true,
      reason: 'measured 0.74 ≥ 0.736',
    });
    expect(evaluateGates(run(0.73), { accuracy: [GATE] })[0]).toMatchObject({
      passed: false,
      reason: 'measured 0.73 < 0.736',
    });
    expect(evaluateGates(run(0.9), { accuracy: [{ ...GATE, task: 'lm_eval:other' }] })[0]).toMatchObject({
      passed: false,
      measured: null,
    });
  });

  it('the Wilson lower bound makes the gate stricter at small n', () => {
    const strict = { ...GATE, wilson: true };
    // Wilson lower bound of 0.9 at n=100 is 0.8396 (scipy-checked in stats.spec.ts).
    const pass = evaluateGates(run(0.9, 100), { accuracy: [strict] })[0];
    expect(pass).toMatchObject({ passed: true, n: 100 });
    expect(pass?.wilsonLower).toBeCloseTo(0.8396444903889079, 12);
    const fail = evaluateGates(run(0.78, 50), { accuracy: [strict] })[0];
    expect(fail?.passed).toBe(false);
    expect(fail?.reason).toMatch(/Wilson 95 % lower bound 0\.6\d+ at n=50 < 0\.736/);
    expect(evaluateGates(run(0.9), { accuracy: [strict] })[0]?.passed).toBe(false);
  });

  it('fail_on regression uses the comparison', () => {
    const comparison = compareRuns(run(0.8, undefined, 100), run(0.8, undefined, 50));
    const [result] = evaluateGates(run(0.8), { accuracy: [], failOn: 'regression' }, comparison);
    expect(result).toEqual({
      gate: 'fail_on: regression',
      passed: false,
      reason: '1 regression(s): bench:a output_throughput',
    });
    expect(evaluateGates(run(0.8), { accuracy: [], failOn: 'regression' })[0]?.passed).toBe(true);
    const error = new GateFailedError([result as never]);
    expect(error).toMatchObject({ code: 'E_GATE_FAILED', category: 'failure' });
    expect(error.message).toBe(
      'gate failed: fail_on: regression (1 regression(s): bench:a output_throughput)',
    );
  });
});
