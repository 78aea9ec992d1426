/**
 * `compareRuns`: every (task, metric) of a baseline run against a new run, under the noise model
 * documented in the README (Welch on repetitions → σ learned from history → a documented floor for
 * perf; McNemar on paired samples → z-test on stderr for accuracy).
 */
import {
  seriesKey,
  seriesOf,
  type HistoryEntry,
  type HistorySeries,
  type MetricSeries,
  type RunIdentity,
  type RunResults,
  type SampleOutcomes,
  type TaskInfo,
} from '@perf-eval/results';
import { binomialTwoSidedHalf, median, normalTwoSidedP, robustSigma, welchTest } from './stats.js';

export type Verdict =
  | 'regression'
  | 'improvement'
  | 'unchanged'
  | 'noisy'
  | 'insufficient'
  | 'missing'
  | 'new'
  | 'not-comparable'
  | 'invalid';
export const VERDICTS: readonly Verdict[] = [
  'regression',
  'improvement',
  'unchanged',
  'noisy',
  'insufficient',
  'missing',
  'new',
  'not-comparable',
  'invalid',
];

export type Method = 'welch' | 'history' | 'floor' | 'mcnemar' | 'z-test' | 'none';

export interface Evidence {
  nBase?: number;
  nNew?: number;
  meanBase?: number;
  meanNew?: number;
  sdBase?: number;
  sdNew?: number;
  /** σ used for a perf decision, in the metric's unit. */
  sigma?: number;
  sigmaSource?: 'repetitions' | 'history' | 'floor';
  /** How many earlier comparable runs the σ and the reference came from. */
  historyRuns?: number;
  /** History reference (median of the earlier comparable runs). */
  reference?: number;
  z?: number;
  t?: number;
  df?: number;
  p?: number;
  stderrBase?: number;
  stderrNew?: number;
  /** Paired outcomes: right→wrong and wrong→right flips and (up to 50 each) which documents flipped. */
  flips?: {
    rightToWrong: number;
    wrongToRight: number;
    docsRightToWrong: string[];
    docsWrongToRight: string[];
    pairs: number;
  };
}

export interface VerdictRow {
  task: string;
  metric: string;
  base: number | null;
  new: number | null;
  deltaPct: number | null;
  better: 'higher' | 'lower';
  verdict: Verdict;
  reason: string;
  method: Method;
  /** Set on a `noisy` row whose first breach awaits confirmation by the next run. */
  suspected?: 'regression' | 'improvement';
  evidence: Evidence;
  /** Result files behind each side, relative to its results directory (the evidence to open). */
  files: { base: string[]; new: string[] };
}

export interface Comparison {
  base: RunIdentity;
  new: RunIdentity;
  rows: VerdictRow[];
  counts: Record<Verdict, number>;
}

export interface NoiseModelOptions {
  /** Minimum perf effect: a smaller relative change is never a regression. Default 2 (%). */
  minEffectPct?: number;
  /** Relative σ assumed when neither repetitions nor history exist. Default 2.5 (%). */
  floorCvPct?: number;
  /** Lower bound of a learned σ, relative to the reference. Default 0.5 (%). */
  minSigmaPct?: number;
  /** Breach threshold in σ. Default 2. */
  sigmas?: number;
  /** "Far beyond noise": more than this many σ … Default 6. */
  farSigmas?: number;
  /** … and more than this relative change. Default 10 (%). */
  farPct?: number;
  /** Significance level of the Welch and McNemar tests. Default 0.05. */
  alpha?: number;
  /** Earlier comparable runs needed to learn σ from history. Default 3. */
  minHistoryRuns?: number;
}

export const NOISE_DEFAULTS: Required<NoiseModelOptions> = {
  minEffectPct: 2,
  floorCvPct: 2.5,
  minSigmaPct: 0.5,
  sigmas: 2,
  farSigmas: 6,
  farPct: 10,
  alpha: 0.05,
  minHistoryRuns: 3,
};

export interface CompareOptions extends NoiseModelOptions {
  /** Earlier runs (oldest first), e.g. the baseline's history.jsonl; entries of NEW itself are ignored. */
  history?: readonly HistoryEntry[];
}

const MAX_FLIPPED_DOCS = 50;

function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 0.001 || abs >= 1e6)
    ? value.toExponential(3)
    : String(Number(value.toPrecision(4)));
}

function pct(value: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(1)} %`;
}

function relChange(from: number, to: number): number | null {
  return from === 0 ? (to === 0 ? 0 : null) : ((to - from) / Math.abs(from)) * 100;
}

/** Positive when `to` is worse than `from` in the metric's direction. */
function worsePct(from: number, to: number, better: 'higher' | 'lower'): number | null {
  const change = relChange(from, to);
  return change === null ? null : better === 'higher' ? -change : change;
}

function runLevelDifferences(a: RunIdentity, b: RunIdentity): string[] {
  const out: string[] = [];
  const cmp = (label: string, x: unknown, y: unknown): void => {
    if (x === undefined || y === undefined) return;
    const sx = Array.isArray(x) ? x.join(' ') : String(x);
    const sy = Array.isArray(y) ? y.join(' ') : String(y);
    if (sx !== sy) out.push(`${label} ${sx || '(none)'} → ${sy || '(none)'}`);
  };
  cmp('model', a.model, b.model);
  cmp('GPU kind', a.gpuKind, b.gpuKind);
  cmp('GPU count', a.gpuCount, b.gpuCount);
  cmp('serve args', a.serveArgs, b.serveArgs);
  return out;
}

function configDifferences(a: TaskInfo, b: TaskInfo): string[] {
  if (a.configKey === b.configKey) return [];
  let x: unknown;
  let y: unknown;
  try {
    x = JSON.parse(a.configKey);
    y = JSON.parse(b.configKey);
  } catch {
    return ['task config differs'];
  }
  if (typeof x !== 'object' || typeof y !== 'object' || !x || !y) return ['task config differs'];
  const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
  const diffs = keys.filter(
    (k) =>
      JSON.stringify((x as Record<string, unknown>)[k]) !== JSON.stringify((y as Record<string, unknown>)[k]),
  );
  return diffs.map(
    (k) =>
      `${k} ${JSON.stringify((x as Record<string, unknown>)[k]) ?? '(unset)'} → ${JSON.stringify((y as Record<string, unknown>)[k]) ?? '(unset)'}`,
  );
}

function isAccuracy(task: TaskInfo | undefined, metric: string): boolean {
  if (!task) return false;
  if (task.kind === 'lm_eval' || task.kind === 'bfcl') return true;
  return task.kind === 'semantic_eval' && (metric === 'accuracy' || metric === 'invalid_rate');
}

interface Side {
  run: RunResults;
  series: Map<string, MetricSeries>;
  tasks: Map<string, TaskInfo>;
  samples: Map<string, SampleOutcomes>;
}

function side(run: RunResults): Side {
  return {
    run,
    series: seriesOf(run.records),
    tasks: new Map(run.tasks.map((t) => [t.task, t])),
    samples: new Map(run.samples.map((s) => [seriesKey(s.task, s.metric), s])),
  };
}

/** An earlier run comparable with NEW at run level, indexed for per-series look-ups. */
interface IndexedEntry {
  runId: string;
  tasks: Map<string, TaskInfo>;
  series: Map<string, HistorySeries>;
}

/** History runs of NEW's recipe with the same model, GPU and serve args (NEW itself excluded), oldest first. */
function indexHistory(history: readonly HistoryEntry[], fresh: RunResults): IndexedEntry[] {
  const out: IndexedEntry[] = [];
  for (const entry of history) {
    if (entry.identity.runId === fresh.identity.runId || entry.identity.recipe !== fresh.identity.recipe)
      continue;
    if (runLevelDifferences(entry.identity, fresh.identity).length > 0) continue;
    out.push({
      runId: entry.identity.runId,
      tasks: new Map(entry.tasks.map((t) => [t.task, t])),
      series: new Map(entry.series.map((x) => [seriesKey(x.task, x.metric), x])),
    });
  }
  return out;
}

/** Headline values of (task, metric) in earlier runs comparable with NEW, oldest first, ending with BASE. */
function priorValues(history: readonly IndexedEntry[], base: Side, task: TaskInfo, metric: string): number[] {
  const values: number[] = [];
  const baseId = base.run.identity.runId;
  const key = seriesKey(task.task, metric);
  let baseSeen = false;
  for (const entry of history) {
    const t = entry.tasks.get(task.task);
    if (!t || t.configKey !== task.configKey || t.flags.length > 0) continue;
    const s = entry.series.get(key);
    if (!s || s.value === null || !Number.isFinite(s.value)) continue;
    if (entry.runId === baseId) baseSeen = true;
    values.push(s.value);
  }
  const baseValue = base.series.get(key)?.value;
  if (!baseSeen && baseValue !== null && baseValue !== undefined && Number.isFinite(baseValue))
    values.push(baseValue);
  return values;
}

type Partial = Pick<VerdictRow, 'verdict' | 'reason' | 'method'> & {
  suspected?: VerdictRow['suspected'];
  evidence: Evidence;
};

function perfVerdict(
  b: MetricSeries,
  n: MetricSeries,
  prior: number[],
  o: Required<NoiseModelOptions>,
): Partial {
  const baseValue = b.value as number;
  const newValue = n.value as number;
  const worse = worsePct(baseValue, newValue, b.better);
  if (worse === null)
    return {
      verdict: 'insufficient',
      method: 'none',
      reason: 'the base value is 0: no relative change',
      evidence: {},
    };
  const direction = (w: number): 'regression' | 'improvement' => (w > 0 ? 'regression' : 'improvement');
  const small = Math.abs(worse) < o.minEffectPct;

  if (b.values.length >= 2 && n.values.length >= 2) {
    const w = welchTest(b.values, n.values);
    const evidence: Evidence = {
      nBase: b.values.length,
      nNew: n.values.length,
      meanBase: w.meanA,
      meanNew: w.meanB,
      sdBase: w.sdA,
      sdNew: w.sdB,
      sigmaSource: 'repetitions',
      t: w.t,
      df: w.df,
      p: w.p,
    };
    const stats = `Welch t=${fmt(w.t)}, df=${fmt(w.df)}, p=${fmt(w.p)}, n=${b.values.length}/${n.values.length}`;
    if (small)
      return {
        verdict: 'unchanged',
        method: 'welch',
        reason: `${pct(relChange(baseValue, newValue) ?? 0)} is below the ${o.minEffectPct} % minimum effect (${stats})`,
        evidence,
      };
    if (w.p >= o.alpha)
      return {
        verdict: 'noisy',
        method: 'welch',
        reason: `not significant at α=${o.alpha} (${stats})`,
        evidence,
      };
    return { verdict: direction(worse), method: 'welch', reason: `significant: ${stats}`, evidence };
  }

  if (prior.length >= o.minHistoryRuns) {
    const reference = median(prior);
    const sigma = Math.max(robustSigma(prior), (Math.abs(reference) * o.minSigmaPct) / 100);
    const z = (newValue - reference) / sigma;
    const worseRef = worsePct(reference, newValue, b.better) ?? 0;
    const evidence: Evidence = { sigma, sigmaSource: 'history', historyRuns: prior.length, reference, z };
    const stats = `z=${fmt(z)} against the median ${fmt(reference)} of ${prior.length} earlier runs, σ=${fmt(sigma)} (MAD)`;
    if (small && Math.abs(worseRef) < o.minEffectPct)
      return {
        verdict: 'unchanged',
        method: 'history',
        reason: `below the ${o.minEffectPct} % minimum effect (${stats})`,
        evidence,
      };
    if (Math.abs(z) < o.sigmas)
      return {
        verdict: small ? 'unchanged' : 'noisy',
        method: 'history',
        reason: `within ${o.sigmas}σ of history (${stats})`,
        evidence,
      };
    if (Math.abs(worseRef) < o.minEffectPct)
      return {
        verdict: 'unchanged',
        method: 'history',
        reason: `${pct(-worseRef)} from the history median is below the ${o.minEffectPct} % minimum effect (${stats})`,
        evidence,
      };
    const d = direction(worseRef);
    if (Math.abs(z) > o.farSigmas && Math.abs(worseRef) > o.farPct)
      return {
        verdict: d,
        method: 'history',
        reason: `far beyond noise (> ${o.farSigmas}σ and > ${o.farPct} %): ${stats}`,
        evidence,
      };
    // HUD's rule: a modest breach counts once two consecutive runs show it. The previous run is BASE.
    const earlier = prior.slice(0, -1);
    if (earlier.length >= o.minHistoryRuns) {
      const refPrev = median(earlier);
      const sigmaPrev = Math.max(robustSigma(earlier), (Math.abs(refPrev) * o.minSigmaPct) / 100);
      const zPrev = ((prior.at(-1) as number) - refPrev) / sigmaPrev;
      const worsePrev = worsePct(refPrev, prior.at(-1) as number, b.better) ?? 0;
      if (
        Math.abs(zPrev) >= o.sigmas &&
        Math.abs(worsePrev) >= o.minEffectPct &&
        Math.sign(worsePrev) === Math.sign(worseRef)
      ) {
        return {
          verdict: d,
          method: 'history',
          reason: `confirmed: the previous run breached too (z=${fmt(zPrev)}); ${stats}`,
          evidence,
        };
      }
    }
    return {
      verdict: 'noisy',
      suspected: d,
      method: 'history',
      reason: `suspected ${d} (first breach of ${o.sigmas}σ; the next run confirms it): ${stats}`,
      evidence,
    };
  }

  const sigma = (Math.abs(baseValue) * o.floorCvPct) / 100;
  const z = (newValue - baseValue) / (sigma * Math.SQRT2);
  const evidence: Evidence = {
    sigma,
    sigmaSource: 'floor',
    historyRuns: prior.length,
    z,
    nBase: b.values.length,
    nNew: n.values.length,
  };
  const why = `no repetitions on both sides and ${prior.length} < ${o.minHistoryRuns} earlier comparable runs: ${o.floorCvPct} % noise floor, z=${fmt(z)}`;
  if (small)
    return {
      verdict: 'unchanged',
      method: 'floor',
      reason: `below the ${o.minEffectPct} % minimum effect (${why})`,
      evidence,
    };
  if (Math.abs(z) < o.sigmas)
    return { verdict: 'noisy', method: 'floor', reason: `within ${o.sigmas}σ (${why})`, evidence };
  return { verdict: direction(worse), method: 'floor', reason: `beyond ${o.sigmas}σ (${why})`, evidence };
}

function stderrOf(s: MetricSeries): number | undefined {
  if (s.stderr !== undefined && s.stderr > 0) return s.stderr;
  if (s.n !== undefined && s.n > 0 && s.value !== null && s.value >= 0 && s.value <= 1) {
    const se = Math.sqrt((s.value * (1 - s.value)) / s.n);
    return se > 0 ? se : undefined;
  }
  return undefined;
}

function accuracyVerdict(
  b: MetricSeries,
  n: MetricSeries,
  bs: SampleOutcomes | undefined,
  ns: SampleOutcomes | undefined,
  o: Required<NoiseModelOptions>,
): Partial {
  const baseValue = b.value as number;
  const newValue = n.value as number;
  let note = '';
  if (bs && ns) {
    const same =
      bs.outcomes.size === ns.outcomes.size && [...bs.outcomes.keys()].every((id) => ns.outcomes.has(id));
    if (same) {
      const docsRightToWrong: string[] = [];
      const docsWrongToRight: string[] = [];
      let rightToWrong = 0;
      let wrongToRight = 0;
      for (const [id, before] of bs.outcomes) {
        const after = ns.outcomes.get(id) as boolean;
        if (before && !after) {
          rightToWrong++;
          if (docsRightToWrong.length < MAX_FLIPPED_DOCS) docsRightToWrong.push(id);
        } else if (!before && after) {
          wrongToRight++;
          if (docsWrongToRight.length < MAX_FLIPPED_DOCS) docsWrongToRight.push(id);
        }
      }
      const flipsN = rightToWrong + wrongToRight;
      const p = binomialTwoSidedHalf(rightToWrong, flipsN);
      const evidence: Evidence = {
        p,
        flips: { rightToWrong, wrongToRight, docsRightToWrong, docsWrongToRight, pairs: bs.outcomes.size },
      };
      const stats = `McNemar exact: ${rightToWrong} right→wrong, ${wrongToRight} wrong→right of ${bs.outcomes.size} paired docs, p=${fmt(p)}`;
      if (flipsN === 0)
        return {
          verdict: 'unchanged',
          method: 'mcnemar',
          reason: `no document changed outcome (${bs.outcomes.size} paired docs)`,
          evidence,
        };
      // A higher-is-worse proportion (invalid_rate) flips the meaning of right→wrong.
      const worseFlips = b.better === 'higher' ? rightToWrong > wrongToRight : wrongToRight > rightToWrong;
      if (p >= o.alpha)
        return {
          verdict: 'noisy',
          method: 'mcnemar',
          reason: `not significant at α=${o.alpha} (${stats})`,
          evidence,
        };
      return {
        verdict: worseFlips ? 'regression' : 'improvement',
        method: 'mcnemar',
        reason: `significant: ${stats}`,
        evidence,
      };
    }
    note = '; doc_ids differ, so no paired test';
  }
  const seB = stderrOf(b);
  const seN = stderrOf(n);
  if (seB !== undefined && seN !== undefined) {
    const z = (newValue - baseValue) / Math.sqrt(seB * seB + seN * seN);
    const p = normalTwoSidedP(z);
    const evidence: Evidence = { z, p, stderrBase: seB, stderrNew: seN };
    const stats = `z=${fmt(z)} from stderr ${fmt(seB)}/${fmt(seN)}${note}`;
    if (newValue === baseValue)
      return { verdict: 'unchanged', method: 'z-test', reason: `equal (${stats})`, evidence };
    if (Math.abs(z) < o.sigmas)
      return { verdict: 'noisy', method: 'z-test', reason: `within ${o.sigmas}σ (${stats})`, evidence };
    const worse = b.better === 'higher' ? newValue < baseValue : newValue > baseValue;
    return {
      verdict: worse ? 'regression' : 'improvement',
      method: 'z-test',
      reason: `beyond ${o.sigmas}σ (${stats})`,
      evidence,
    };
  }
  if (newValue === baseValue)
    return { verdict: 'unchanged', method: 'none', reason: `equal${note}`, evidence: {} };
  return {
    verdict: 'insufficient',
    method: 'none',
    reason: `no stderr and no paired per-sample outcomes on both sides${note}`,
    evidence: {},
  };
}

const RANK: Record<Verdict, number> = {
  regression: 0,
  invalid: 1,
  missing: 2,
  'not-comparable': 3,
  noisy: 5,
  insufficient: 6,
  new: 7,
  improvement: 8,
  unchanged: 9,
};

function rank(row: VerdictRow): number {
  return row.verdict === 'noisy' && row.suspected === 'regression' ? 4 : RANK[row.verdict];
}

function worseness(row: VerdictRow): number {
  if (row.deltaPct === null) return 0;
  return row.better === 'higher' ? -row.deltaPct : row.deltaPct;
}

/** Worst first: regressions (largest first), invalid, missing, not comparable, suspected, noisy, …, unchanged. */
export function sortRows(rows: VerdictRow[]): VerdictRow[] {
  return rows.sort(
    (a, b) =>
      rank(a) - rank(b) ||
      worseness(b) - worseness(a) ||
      a.task.localeCompare(b.task) ||
      a.metric.localeCompare(b.metric),
  );
}

export function compareRuns(
  baseRun: RunResults,
  newRun: RunResults,
  options: CompareOptions = {},
): Comparison {
  const o: Required<NoiseModelOptions> = {
    ...NOISE_DEFAULTS,
    ...Object.fromEntries(Object.entries(options).filter(([k, v]) => k !== 'history' && v !== undefined)),
  };
  const history = indexHistory(options.history ?? [], newRun);
  const base = side(baseRun);
  const fresh = side(newRun);
  const runDiffs = runLevelDifferences(baseRun.identity, newRun.identity);
  const rows: VerdictRow[] = [];
  const keys = [...new Set([...base.series.keys(), ...fresh.series.keys()])];
  for (const key of keys) {
    const b = base.series.get(key);
    const n = fresh.series.get(key);
    const s = (b ?? n) as MetricSeries;
    // A metric both sides report as null (e.g. request_goodput without --goodput) carries nothing.
    if ((b?.value ?? null) === null && (n?.value ?? null) === null && b && n) continue;
    const bt = base.tasks.get(s.task);
    const nt = fresh.tasks.get(s.task);
    const row: VerdictRow = {
      task: s.task,
      metric: s.metric,
      base: b?.value ?? null,
      new: n?.value ?? null,
      deltaPct: null,
      better: s.better,
      verdict: 'unchanged',
      reason: '',
      method: 'none',
      evidence: {},
      files: { base: bt?.files ?? [], new: nt?.files ?? [] },
    };
    if (row.base !== null && row.new !== null) row.deltaPct = relChange(row.base, row.new);
    const set = (p: Partial): void => {
      row.verdict = p.verdict;
      row.reason = p.reason;
      row.method = p.method;
      row.evidence = p.evidence;
      if (p.suspected) row.suspected = p.suspected;
    };
    if (!n)
      set({
        verdict: 'missing',
        method: 'none',
        reason: nt ? `NEW ran ${s.task} but reported no ${s.metric}` : `NEW has no result for ${s.task}`,
        evidence: {},
      });
    else if (!b)
      set({
        verdict: 'new',
        method: 'none',
        reason: bt ? `BASE ran ${s.task} but reported no ${s.metric}` : `BASE has no result for ${s.task}`,
        evidence: {},
      });
    else {
      const diffs = [...runDiffs, ...(bt && nt ? configDifferences(bt, nt) : [])];
      const flags = [
        ...(bt?.flags.length ? [`BASE flagged: ${bt.flags.join(', ')}`] : []),
        ...(nt?.flags.length ? [`NEW flagged: ${nt.flags.join(', ')}`] : []),
      ];
      if (diffs.length > 0)
        set({
          verdict: 'not-comparable',
          method: 'none',
          reason: `differs: ${diffs.join('; ')}`,
          evidence: {},
        });
      else if (flags.length > 0)
        set({
          verdict: 'invalid',
          method: 'none',
          reason: `${flags.join('; ')} (left out of verdicts)`,
          evidence: {},
        });
      else if (
        b.value === null ||
        n.value === null ||
        !Number.isFinite(b.value) ||
        !Number.isFinite(n.value)
      ) {
        set({
          verdict: 'insufficient',
          method: 'none',
          reason: `no finite value in ${b.value === null || !Number.isFinite(b.value) ? 'BASE' : 'NEW'}`,
          evidence: {},
        });
      } else if (isAccuracy(nt ?? bt, s.metric))
        set(accuracyVerdict(b, n, base.samples.get(key), fresh.samples.get(key), o));
      else set(perfVerdict(b, n, nt ? priorValues(history, base, nt, s.metric) : [], o));
    }
    rows.push(row);
  }
  const counts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  for (const row of rows) counts[row.verdict]++;
  return { base: baseRun.identity, new: newRun.identity, rows: sortRows(rows), counts };
}
