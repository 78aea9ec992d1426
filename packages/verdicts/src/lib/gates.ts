/**
 * Run gates: expected accuracies with vLLM accuracy_gate semantics (measured ≥ expected·(1 − rtol);
 * optionally the one-sided 95 % Wilson lower bound at the task's n must clear the same bar) and
 * `fail_on: regression` on the verdicts.
 */
import { seriesKey, seriesOf, type RunResults } from '@perf-eval/results';
import { PerfEvalError } from '@perf-eval/util';
import type { Comparison } from './compare.js';
import { wilsonLowerBound } from './stats.js';

export interface AccuracyGate {
  /** Full task id, e.g. `lm_eval:gsm8k`. */
  task: string;
  metric: string;
  expected: number;
  rtol: number;
  wilson: boolean;
}

export interface Gates {
  accuracy: readonly AccuracyGate[];
  failOn?: 'regression';
}

export interface GateResult {
  gate: string;
  passed: boolean;
  reason: string;
  measured?: number | null;
  threshold?: number;
  wilsonLower?: number;
  n?: number;
}

function fmt(value: number): string {
  return String(Number(value.toPrecision(4)));
}

/** Evaluates every gate; `comparison` is needed for `failOn` (no baseline → that gate is skipped, passed). */
export function evaluateGates(run: RunResults, gates: Gates, comparison?: Comparison): GateResult[] {
  const series = seriesOf(run.records);
  const results: GateResult[] = [];
  for (const gate of gates.accuracy) {
    const name = `${gate.task} ${gate.metric} ≥ ${fmt(gate.expected)}·(1 − ${gate.rtol})`;
    const threshold = gate.expected * (1 - gate.rtol);
    const s = series.get(seriesKey(gate.task, gate.metric));
    if (!s || s.value === null || !Number.isFinite(s.value)) {
      results.push({
        gate: name,
        passed: false,
        threshold,
        measured: null,
        reason: `no ${gate.metric} result for ${gate.task} (did the task run and write it?)`,
      });
      continue;
    }
    const measured = s.value;
    const result: GateResult = { gate: name, passed: measured >= threshold, threshold, measured, reason: '' };
    if (s.n !== undefined) result.n = s.n;
    if (!result.passed) {
      result.reason = `measured ${fmt(measured)} < ${fmt(threshold)}`;
    } else if (gate.wilson) {
      if (s.n === undefined || s.n <= 0) {
        result.passed = false;
        result.reason = `measured ${fmt(measured)} passes, but the Wilson bound needs the sample count, which ${gate.task} did not report`;
      } else {
        const lower = wilsonLowerBound(measured, s.n);
        result.wilsonLower = lower;
        result.passed = lower >= threshold;
        result.reason = result.passed
          ? `measured ${fmt(measured)}, Wilson 95 % lower bound ${fmt(lower)} at n=${s.n} ≥ ${fmt(threshold)}`
          : `measured ${fmt(measured)} passes, but its Wilson 95 % lower bound ${fmt(lower)} at n=${s.n} < ${fmt(threshold)}: more samples or a lower expectation`;
      }
    } else {
      result.reason = `measured ${fmt(measured)} ≥ ${fmt(threshold)}`;
    }
    results.push(result);
  }
  if (gates.failOn === 'regression') {
    if (!comparison)
      results.push({
        gate: 'fail_on: regression',
        passed: true,
        reason: 'no baseline to compare with (pass --baseline)',
      });
    else {
      const regressions = comparison.rows.filter((r) => r.verdict === 'regression');
      results.push({
        gate: 'fail_on: regression',
        passed: regressions.length === 0,
        reason:
          regressions.length === 0
            ? `no regression against ${comparison.base.runId}`
            : `${regressions.length} regression(s): ${regressions
                .slice(0, 5)
                .map((r) => `${r.task} ${r.metric}`)
                .join(', ')}`,
      });
    }
  }
  return results;
}

/** A gate failed: the run exits 1 with this class, after its results were saved and ingested. */
export class GateFailedError extends PerfEvalError {
  constructor(readonly failures: readonly GateResult[]) {
    super('E_GATE_FAILED', `gate failed: ${failures.map((f) => `${f.gate} (${f.reason})`).join('; ')}`, {
      category: 'failure',
    });
  }
}
