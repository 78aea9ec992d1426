import { basename } from 'node:path';
import { pyRepr } from '@perf-eval/util';
import type { PyValue } from '@perf-eval/util';
import { BenchAggregateError } from './errors.js';
import type { BenchResult } from './result.js';

/** Keys that must agree across repetitions (upstream `IDENTITY_KEYS`). */
export const BENCH_IDENTITY_KEYS: readonly string[] = Object.freeze([
  'backend',
  'model_id',
  'tokenizer_id',
  'num_prompts',
  'max_concurrency',
]);

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isRealNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Python `statistics.median`: middle element for odd n, mean of the two middle ones for even n. */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Python `==` for the JSON values that can appear under the identity keys. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return a === b;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Median aggregate of repeated bench results (recipe-compat §9.6, upstream `aggregate_perf.py`):
 * identical key sets, identity keys equal, numeric keys (booleans excluded) replaced by the median,
 * everything else copied from the first run, plus `aggregation_method`, `aggregated_repetitions` and
 * `individual_result_files` (basenames, run order).
 */
export function aggregateMedian(results: readonly unknown[], files: readonly string[]): BenchResult {
  if (results.length === 0) throw new BenchAggregateError('at least one benchmark result is required', files);
  if (files.length !== results.length) {
    throw new BenchAggregateError(
      `got ${results.length} benchmark results but ${files.length} file names`,
      files,
    );
  }
  const typed: Record<string, unknown>[] = [];
  results.forEach((result, index) => {
    if (!isObject(result))
      throw new BenchAggregateError(`benchmark result ${index + 1} is not a JSON object`, files);
    typed.push(result);
  });
  const first = typed[0] as Record<string, unknown>;
  const firstKeys = Object.keys(first);
  for (let index = 1; index < typed.length; index++) {
    const keys = Object.keys(typed[index] as Record<string, unknown>);
    if (
      keys.length !== firstKeys.length ||
      !firstKeys.every((key) => key in (typed[index] as Record<string, unknown>))
    ) {
      throw new BenchAggregateError(`benchmark result ${index + 1} has a different schema`, files);
    }
  }
  for (const key of BENCH_IDENTITY_KEYS) {
    const values = typed.map((result) => result[key]);
    if (values.some((value) => !sameValue(value, values[0]))) {
      const rendered = pyRepr(values.map((value) => (value === undefined ? null : value)) as PyValue);
      throw new BenchAggregateError(`benchmark results disagree on ${key}: ${rendered}`, files);
    }
  }
  const aggregate: Record<string, unknown> = { ...first };
  for (const key of firstKeys) {
    const values = typed.map((result) => result[key]);
    if (values.every(isRealNumber)) aggregate[key] = median(values);
  }
  aggregate['aggregation_method'] = 'median';
  aggregate['aggregated_repetitions'] = typed.length;
  aggregate['individual_result_files'] = files.map((file) => basename(file));
  return aggregate as BenchResult;
}

/** Python sorts str keys by code point; JS `sort()` compares UTF-16 units. Identical for BMP text. */
function comparePython(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface SortedJson {
  text: string;
  /** Paths of non-finite numbers that were written as `null` (D29). */
  nonFiniteKeys: string[];
}

/**
 * One pass that sorts object keys and replaces non-finite numbers by null. Arrays without objects or
 * non-finite numbers (the big per-request arrays) are returned as-is instead of being copied.
 */
function normalise(value: unknown, path: () => string, found: string[]): unknown {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    found.push(path());
    return null;
  }
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item === null || (typeof item !== 'object' && (typeof item !== 'number' || Number.isFinite(item))))
        continue;
      const next = normalise(item, () => `${path()}[${i}]`, found);
      if (next !== item) {
        copy ??= value.slice();
        copy[i] = next;
      }
    }
    return copy ?? value;
  }
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort(comparePython)) {
      out[key] = normalise(
        value[key],
        () => {
          const prefix = path();
          return prefix === '' ? key : `${prefix}.${key}`;
        },
        found,
      );
    }
    return out;
  }
  return value;
}

/**
 * `json.dump(value, indent=2, sort_keys=True)` + `"\n"`: keys sorted at every level, 2-space indent,
 * non-ASCII escaped as `\uXXXX` (Python's ensure_ascii). Non-finite numbers become `null` and are
 * reported. JS prints integral floats without `.0` (`1` where Python prints `1.0`).
 */
export function formatSortedJson(value: unknown): SortedJson {
  const nonFiniteKeys: string[] = [];
  let text = JSON.stringify(
    normalise(value, () => '', nonFiniteKeys),
    null,
    2,
  );
  if (/[\u0080-\uffff]/.test(text)) {
    text = text.replace(
      /[\u0080-\uffff]/g,
      (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  }
  return { text: `${text}\n`, nonFiniteKeys };
}
