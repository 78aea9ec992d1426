import {
  historyEntryOf,
  type MetricRecord,
  type RunIdentity,
  type RunResults,
  type SampleOutcomes,
  type TaskInfo,
} from '@perf-eval/results';
import { describe, expect, it } from 'vitest';
import { compareRuns, type VerdictRow } from './compare.js';
import { renderVerdictMarkdown, renderVerdictTable } from './render.js';

interface RunSpec {
  id: string;
  throughput?: number[] | number;
  ttft?: number;
  identity?: Partial<RunIdentity>;
  config?: string;
  flags?: string[];
  accuracy?: { value: number; stderr?: number; n?: number; outcomes?: boolean[] };
}

function run(spec: RunSpec): RunResults {
  const records: MetricRecord[] = [];
  const tasks: TaskInfo[] = [];
  const samples: SampleOutcomes[] = [];
  if (spec.throughput !== undefined) {
    tasks.push({
      task: 'bench:a',
      kind: 'bench',
      configKey: spec.config ?? '{"num_prompts":8}',
      flags: spec.flags ?? [],
      files: ['bench-a.json'],
    });
    const values = Array.isArray(spec.throughput) ? spec.throughput : [spec.throughput];
    const sorted = [...values].sort((x, y) => x - y);
    records.push({
      task: 'bench:a',
      metric: 'output_throughput',
      repetition: null,
      value: sorted[sorted.length >> 1] as number,
      better: 'higher',
    });
    if (values.length > 1)
      values.forEach((value, i) =>
        records.push({
          task: 'bench:a',
          metric: 'output_throughput',
          repetition: i + 1,
          value,
          better: 'higher',
        }),
      );
    if (spec.ttft !== undefined)
      records.push({
        task: 'bench:a',
        metric: 'mean_ttft_ms',
        repetition: null,
        value: spec.ttft,
        better: 'lower',
      });
  }
  if (spec.accuracy) {
    tasks.push({
      task: 'lm_eval:gsm8k',
      kind: 'lm_eval',
      configKey: '{"task":"gsm8k"}',
      flags: [],
      files: ['gsm8k/m/results_1.json'],
    });
    const { value, stderr, n, outcomes } = spec.accuracy;
    const record: MetricRecord = {
      task: 'lm_eval:gsm8k',
      metric: 'exact_match,strict-match',
      repetition: null,
      value,
      better: 'higher',
    };
    if (stderr !== undefined) record.stderr = stderr;
    if (n !== undefined) record.n = n;
    records.push(record);
    if (outcomes)
      samples.push({
        task: 'lm_eval:gsm8k',
        metric: 'exact_match,strict-match',
        outcomes: new Map(outcomes.map((ok, i) => [String(i), ok])),
        file: 'x',
      });
  }
  return {
    source: spec.id,
    identity: { runId: spec.id, recipe: 'demo', model: 'm', gpuKind: 'h200', gpuCount: 1, ...spec.identity },
    tasks,
    records,
    samples,
    warnings: [],
  };
}

function row(rows: VerdictRow[], metric = 'output_throughput'): VerdictRow {
  const found = rows.find((r) => r.metric === metric);
  if (!found) throw new Error(`no row ${metric}`);
  return found;
}

describe('perf: Welch on repetitions', () => {
  it('a significant drop beyond the minimum effect is a regression with the evidence', () => {
    const c = compareRuns(
      run({ id: 'b', throughput: [100, 101.5, 99.2] }),
      run({ id: 'n', throughput: [95.1, 96.0, 94.8] }),
    );
    const r = row(c.rows);
    expect(r).toMatchObject({
      verdict: 'regression',
      method: 'welch',
      better: 'higher',
      base: 100,
      new: 95.1,
    });
    expect(r.deltaPct).toBeCloseTo(-4.9, 10);
    expect(r.evidence).toMatchObject({ nBase: 3, nNew: 3, sigmaSource: 'repetitions' });
    expect(r.evidence.p).toBeCloseTo(0.007121140401865299, 10);
    expect(r.reason).toMatch(/^significant: Welch t=-6\.45/);
  });

  it('overlapping repetitions are noisy; a tiny significant change is unchanged', () => {
    expect(
      row(
        compareRuns(run({ id: 'b', throughput: [100, 110, 90] }), run({ id: 'n', throughput: [95, 105, 85] }))
          .rows,
      ).verdict,
    ).toBe('noisy');
    const tiny = row(
      compareRuns(
        run({ id: 'b', throughput: [100, 100.1, 99.9] }),
        run({ id: 'n', throughput: [99, 99.1, 98.9] }),
      ).rows,
    );
    expect(tiny.verdict).toBe('unchanged');
    expect(tiny.reason).toMatch(/below the 2 % minimum effect/);
  });

  it('an increase is an improvement', () => {
    expect(
      row(
        compareRuns(
          run({ id: 'b', throughput: [95.1, 96.0, 94.8] }),
          run({ id: 'n', throughput: [100, 101.5, 99.2] }),
        ).rows,
      ).verdict,
    ).toBe('improvement');
  });
});

describe('perf: single values', () => {
  it('without history the 2.5 % floor applies: 5 % is noisy, 20 % a regression', () => {
    const noisy = row(compareRuns(run({ id: 'b', throughput: 100 }), run({ id: 'n', throughput: 95 })).rows);
    expect(noisy).toMatchObject({ verdict: 'noisy', method: 'floor' });
    expect(noisy.evidence.sigma).toBeCloseTo(2.5, 12);
    expect(
      row(compareRuns(run({ id: 'b', throughput: 100 }), run({ id: 'n', throughput: 80 })).rows),
    ).toMatchObject({ verdict: 'regression', method: 'floor' });
  });

  it('latency direction: a higher TTFT is a regression', () => {
    const r = row(
      compareRuns(run({ id: 'b', throughput: 100, ttft: 100 }), run({ id: 'n', throughput: 100, ttft: 130 }))
        .rows,
      'mean_ttft_ms',
    );
    expect(r).toMatchObject({ verdict: 'regression', better: 'lower' });
  });

  const history = [100, 101, 99, 100.5, 99.5].map((v, i) =>
    historyEntryOf(run({ id: `h${i}`, throughput: v })),
  );

  it('with history, σ comes from the median/MAD of earlier comparable runs', () => {
    const r = row(
      compareRuns(run({ id: 'h4', throughput: 99.5 }), run({ id: 'n', throughput: 99 }), { history }).rows,
    );
    expect(r).toMatchObject({ verdict: 'unchanged', method: 'history' });
    expect(r.evidence).toMatchObject({ historyRuns: 5, reference: 100, sigmaSource: 'history' });
    expect(r.evidence.sigma).toBeCloseTo(1.482602218505602 * 0.5, 12);
  });

  it('a first modest breach is suspected (noisy), a second consecutive one a regression', () => {
    const first = row(
      compareRuns(run({ id: 'h4', throughput: 99.5 }), run({ id: 'n1', throughput: 96 }), { history }).rows,
    );
    expect(first).toMatchObject({ verdict: 'noisy', suspected: 'regression' });
    expect(first.reason).toMatch(/^suspected regression \(first breach of 2σ; the next run confirms it\)/);
    const withFirst = [...history, historyEntryOf(run({ id: 'n1', throughput: 96 }))];
    const second = row(
      compareRuns(run({ id: 'n1', throughput: 96 }), run({ id: 'n2', throughput: 96.2 }), {
        history: withFirst,
      }).rows,
    );
    expect(second).toMatchObject({ verdict: 'regression', method: 'history' });
    expect(second.reason).toMatch(/^confirmed: the previous run breached too/);
  });

  it('far beyond noise (> 6σ and > 10 %) is a regression at once', () => {
    const r = row(
      compareRuns(run({ id: 'h4', throughput: 99.5 }), run({ id: 'n', throughput: 80 }), { history }).rows,
    );
    expect(r).toMatchObject({ verdict: 'regression' });
    expect(r.reason).toMatch(/^far beyond noise/);
  });

  it('history runs with another config, model or flags are not used', () => {
    const other = [100, 101, 99].map((v, i) =>
      historyEntryOf(run({ id: `o${i}`, throughput: v, config: '{"num_prompts":16}' })),
    );
    const r = row(
      compareRuns(run({ id: 'b', throughput: 100 }), run({ id: 'n', throughput: 96 }), { history: other })
        .rows,
    );
    expect(r.method).toBe('floor');
  });
});

describe('accuracy', () => {
  it('z-test on lm-eval stderr', () => {
    const r = row(
      compareRuns(
        run({ id: 'b', accuracy: { value: 0.9, stderr: 0.01 } }),
        run({ id: 'n', accuracy: { value: 0.86, stderr: 0.01 } }),
      ).rows,
      'exact_match,strict-match',
    );
    expect(r).toMatchObject({ verdict: 'regression', method: 'z-test' });
    expect(r.evidence.z).toBeCloseTo(-0.04 / Math.sqrt(0.0002), 10);
    const small = row(
      compareRuns(
        run({ id: 'b', accuracy: { value: 0.9, stderr: 0.01 } }),
        run({ id: 'n', accuracy: { value: 0.89, stderr: 0.01 } }),
      ).rows,
      'exact_match,strict-match',
    );
    expect(small.verdict).toBe('noisy');
  });

  it('paired McNemar on the same doc_ids reports the flips and the documents', () => {
    const base = Array.from({ length: 100 }, () => true);
    const fresh = base.map((ok, i) => (i < 10 ? false : ok));
    const r = row(
      compareRuns(
        run({ id: 'b', accuracy: { value: 1, stderr: 0.01, outcomes: base } }),
        run({ id: 'n', accuracy: { value: 0.9, stderr: 0.03, outcomes: fresh } }),
      ).rows,
      'exact_match,strict-match',
    );
    expect(r).toMatchObject({ verdict: 'regression', method: 'mcnemar' });
    expect(r.evidence.flips).toEqual({
      rightToWrong: 10,
      wrongToRight: 0,
      docsRightToWrong: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      docsWrongToRight: [],
      pairs: 100,
    });
    expect(r.evidence.p).toBeCloseTo(2 * 0.5 ** 10, 14);
  });

  it('balanced flips are noisy; differing doc_ids fall back to the z-test', () => {
    const base = [true, false, true, false, true, true];
    const fresh = [false, true, true, false, true, true];
    expect(
      row(
        compareRuns(
          run({ id: 'b', accuracy: { value: 0.66, outcomes: base } }),
          run({ id: 'n', accuracy: { value: 0.66, outcomes: fresh } }),
        ).rows,
        'exact_match,strict-match',
      ).verdict,
    ).toBe('noisy');
    const r = row(
      compareRuns(
        run({ id: 'b', accuracy: { value: 0.5, n: 100, outcomes: [true] } }),
        run({ id: 'n', accuracy: { value: 0.52, n: 100, outcomes: [true, false] } }),
      ).rows,
      'exact_match,strict-match',
    );
    expect(r).toMatchObject({ method: 'z-test', verdict: 'noisy' });
    expect(r.reason).toMatch(/doc_ids differ/);
  });

  it('no stderr and no samples is insufficient', () => {
    expect(
      row(
        compareRuns(run({ id: 'b', accuracy: { value: 0.5 } }), run({ id: 'n', accuracy: { value: 0.4 } }))
          .rows,
        'exact_match,strict-match',
      ).verdict,
    ).toBe('insufficient');
  });
});

describe('structure', () => {
  it('missing, new, not-comparable (saying which) and invalid', () => {
    const c = compareRuns(
      run({ id: 'b', throughput: 100, ttft: 10 }),
      run({ id: 'n', accuracy: { value: 0.5, stderr: 0.1 } }),
    );
    expect(c.rows.map((r) => [r.task, r.metric, r.verdict])).toEqual([
      ['bench:a', 'mean_ttft_ms', 'missing'],
      ['bench:a', 'output_throughput', 'missing'],
      ['lm_eval:gsm8k', 'exact_match,strict-match', 'new'],
    ]);
    expect(c.counts).toMatchObject({ missing: 2, new: 1, regression: 0 });
    const nc = row(
      compareRuns(
        run({ id: 'b', throughput: 100 }),
        run({ id: 'n', throughput: 50, config: '{"num_prompts":16}', identity: { gpuCount: 2 } }),
      ).rows,
    );
    expect(nc).toMatchObject({
      verdict: 'not-comparable',
      reason: 'differs: GPU count 1 → 2; num_prompts 8 → 16',
    });
    const invalid = row(
      compareRuns(
        run({ id: 'b', throughput: 100 }),
        run({ id: 'n', throughput: 50, flags: ['failed-requests'] }),
      ).rows,
    );
    expect(invalid).toMatchObject({
      verdict: 'invalid',
      reason: 'NEW flagged: failed-requests (left out of verdicts)',
    });
  });

  it('renders worst first, changed rows only unless all, and Markdown with regressions first', () => {
    const c = compareRuns(
      run({ id: 'b', throughput: 100, ttft: 10, accuracy: { value: 0.5, stderr: 0.01 } }),
      run({ id: 'n', throughput: 70, ttft: 10, accuracy: { value: 0.6, stderr: 0.01 } }),
    );
    expect(c.rows.map((r) => r.verdict)).toEqual(['regression', 'improvement', 'unchanged']);
    const table = renderVerdictTable(c);
    expect(table.split('\n').slice(0, 5)).toEqual([
      'compare b → n: 1 regression, 1 improvement, 1 unchanged',
      '',
      expect.stringMatching(/^verdict +task +metric +base +new +Δ +reason$/),
      expect.stringMatching(/^regression +bench:a +output_throughput +100 +70 +-30\.0% +beyond 2σ/),
      expect.stringMatching(/^improvement +lm_eval:gsm8k/),
    ]);
    expect(renderVerdictTable(c, { all: true })).toMatch(/unchanged +bench:a +mean_ttft_ms/);
    const md = renderVerdictMarkdown(c, { link: (f) => `artifact://results/x/${f}` });
    expect(md.indexOf('Regressions')).toBeLessThan(md.indexOf('Improvements'));
    expect(md).toContain(
      '| [bench:a](artifact://results/x/bench-a.json) | output_throughput | 100 | 70 | -30.0% |',
    );
    expect(md.trimEnd().split('\n').at(-1)).toBe('1 unchanged');
  });
});
