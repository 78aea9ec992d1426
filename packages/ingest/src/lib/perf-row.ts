import { parsePythonJson } from '@perf-eval/util';
import { IngestSourceError } from './errors.js';
import { floatJson, pyFixed, pyFloat, pyTruthy } from './json-text.js';
import { isNightly } from './metadata.js';
import type { IngestEnv } from './metadata.js';

/** What the orchestrator knows about a bench run (recipe-compat §11 and §15.3). */
export interface PerfMeta {
  /** `metadata.device` or the lower-cased GPU (`h200`). */
  device: string;
  /** TP × DP (or `metadata.tp`); `max(tp, 1)` is posted. */
  tp: number;
  precision: string;
  /** `vllm.model`, used when the raw file has no truthy `model_id`. */
  model: string;
  isl: number;
  osl: number;
  /** The run's concurrency, used when the raw `max_concurrency` is missing, null or 0. */
  conc: number;
  /** `YYYY-MM-DD HH:MM:SS`; default: UTC now. */
  date?: string | undefined;
}

/** A perf row value: strings, ints (`conc`, `isl`, `osl`, `tp`, `ep`), floats, `nightly: true`, or null (non-finite). */
export type PerfValue = string | number | boolean | null;
export type PerfRow = Record<string, PerfValue>;

/** Why a value was changed: non-finite (D29), not a number, or it would overwrite another key. */
export type PerfWarningReason = 'non-finite' | 'not-a-number' | 'key-collision';

/** Keys that are Python ints in the row; every other number is a float. */
export const PERF_INT_KEYS: ReadonlySet<string> = new Set(['conc', 'isl', 'osl', 'tp', 'ep']);

export interface BuildPerfRowOptions {
  /** Clock for the default `date`. */
  now?: () => Date;
  /** Receives one line per dropped / nulled / defaulted value, with the reason. */
  warn?: (message: string, reason: PerfWarningReason) => void;
}

/** Python `datetime.now(UTC).strftime('%Y-%m-%d %H:%M:%S')`. */
export function formatPerfDate(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

function isArrayIndexKey(key: string): boolean {
  if (!/^(0|[1-9]\d*)$/.test(key)) return false;
  return Number(key) < 2 ** 32 - 1;
}

function pyInt(value: unknown): number | undefined {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === 'string' && /^\s*[+-]?\d(?:_?\d)*\s*$/.test(value))
    return Number(value.trim().replaceAll('_', ''));
  return undefined;
}

/**
 * The perf dashboard row of recipe-compat §15.3, keys in table order: fixed columns, per-GPU
 * throughputs divided by `max(tp, 1)`, `nightly`, then every raw `*_ms` key converted to seconds
 * with its `*_intvty` right after it (`1000 / ms`, `0.0` for 0). Never emits `std_intvty` (D17) or a
 * non-finite number (D29): non-finite throughputs become null, non-finite `*_ms` keys are dropped.
 */
export function buildPerfRow(
  raw: Readonly<Record<string, unknown>>,
  meta: PerfMeta & { image?: string | undefined },
  env: IngestEnv,
  options: BuildPerfRowOptions = {},
): PerfRow {
  const warn = options.warn ?? (() => undefined);
  const tp = Math.max(Math.trunc(meta.tp), 1);
  const throughput = (key: string): number => {
    const value = raw[key];
    if (!pyTruthy(value)) return 0;
    const number = pyFloat(value);
    if (number === undefined) {
      warn(`${key} is not a number (${JSON.stringify(value)}); using 0`, 'not-a-number');
      return 0;
    }
    return number;
  };
  const total = throughput('total_token_throughput');
  const output = throughput('output_throughput');

  let conc = meta.conc;
  if (pyTruthy(raw['max_concurrency'])) {
    const parsed = pyInt(raw['max_concurrency']);
    if (parsed === undefined)
      warn(
        `max_concurrency is not an integer (${JSON.stringify(raw['max_concurrency'])}); using the run's concurrency ${meta.conc}`,
        'not-a-number',
      );
    else conc = parsed;
  }
  const modelId = raw['model_id'];

  const row: PerfRow = {
    date: meta.date ?? formatPerfDate((options.now ?? (() => new Date()))()),
    device: meta.device,
    conc: Math.trunc(conc),
    image: meta.image ?? '',
    model:
      typeof modelId === 'string' && modelId !== ''
        ? modelId
        : pyTruthy(modelId)
          ? String(modelId)
          : meta.model,
    framework: 'vllm',
    precision: meta.precision,
    spec_decoding: 'false',
    disagg: 'false',
    isl: Math.trunc(meta.isl),
    osl: Math.trunc(meta.osl),
    is_multinode: 'false',
    tp,
    ep: 1,
    dp_attention: 'false',
    tput_per_gpu: total / tp,
    output_tput_per_gpu: output / tp,
    input_tput_per_gpu: (total - output) / tp,
  };
  for (const key of ['tput_per_gpu', 'output_tput_per_gpu', 'input_tput_per_gpu']) {
    if (!Number.isFinite(row[key] as number)) {
      warn(`${key} is not finite (${String(row[key])}); posting null`, 'non-finite');
      row[key] = null;
    }
  }
  if (isNightly(env)) row['nightly'] = true;
  const fixedColumns = new Set(Object.keys(row));

  for (const [key, value] of Object.entries(raw)) {
    if (!key.endsWith('_ms')) continue;
    const ms = pyFloat(value);
    if (ms === undefined) continue;
    const secondsKey = key.slice(0, -3);
    const intvtyKey = key.includes('tpot') ? secondsKey.replaceAll('tpot', 'intvty') : undefined;
    if (!Number.isFinite(ms)) {
      warn(
        `${key} is not finite (${JSON.stringify(value)}); dropping ${secondsKey}${intvtyKey ? ` and ${intvtyKey}` : ''}`,
        'non-finite',
      );
      continue;
    }
    if (isArrayIndexKey(secondsKey) || fixedColumns.has(secondsKey)) {
      warn(`${key} would overwrite the key '${secondsKey}'; dropping it`, 'key-collision');
      continue;
    }
    row[secondsKey] = ms / 1000;
    if (intvtyKey === undefined || intvtyKey.startsWith('std_')) continue;
    if (isArrayIndexKey(intvtyKey) || fixedColumns.has(intvtyKey)) {
      warn(`${key} would overwrite the key '${intvtyKey}'; dropping its interactivity`, 'key-collision');
      continue;
    }
    row[intvtyKey] = ms !== 0 ? 1000 / ms : 0;
  }
  return row;
}

/**
 * The exact body posted for a perf row: compact JSON in row order, floats rendered with a decimal
 * point (`0.0`), ints as ints, `ingest_id` appended as the last key.
 */
export function serializePerfRow(row: PerfRow, ingestId: string): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(row)) {
    let json: string;
    if (typeof value === 'number')
      json = PERF_INT_KEYS.has(key) ? String(Math.trunc(value)) : floatJson(value);
    else json = JSON.stringify(value);
    parts.push(`${JSON.stringify(key)}:${json}`);
  }
  parts.push(`"ingest_id":${JSON.stringify(ingestId)}`);
  return `{${parts.join(',')}}`;
}

/** `    tput_per_gpu=<%.2f>  mean_ttft=<%.4f>s  mean_tpot=<%.4f>s` (upstream console line). */
export function perfSummaryLine(row: PerfRow): string {
  const number = (key: string): number => {
    const value = row[key];
    return typeof value === 'number' ? value : value === null ? Number.NaN : 0;
  };
  return `    tput_per_gpu=${pyFixed(number('tput_per_gpu'), 2)}  mean_ttft=${pyFixed(number('mean_ttft'), 4)}s  mean_tpot=${pyFixed(number('mean_tpot'), 4)}s`;
}

/** Parse a bench result file's text tolerantly (bare NaN / Infinity → null) and check it is an object. */
export function parseBenchResult(
  file: string,
  text: string,
): { raw: Record<string, unknown>; nonFinite: number } {
  let parsed: { value: unknown; nonFinite: number };
  try {
    parsed = parsePythonJson(text);
  } catch (error) {
    throw new IngestSourceError(
      file,
      `invalid JSON: ${error instanceof Error ? error.message : String(error)}`,
      { snippet: text.slice(0, 200) },
      { cause: error },
    );
  }
  const value = parsed.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new IngestSourceError(file, 'bench result is not a JSON object', { snippet: text.slice(0, 200) });
  }
  return { raw: value as Record<string, unknown>, nonFinite: parsed.nonFinite };
}
