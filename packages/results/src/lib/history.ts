/**
 * The history file (`history.jsonl` in a results directory): one JSON line per run, oldest first,
 * the last N runs per recipe with every repetition of every metric, but no per-sample data (that
 * stays in the results directories). It is carried forward from the baseline a run was given, so a
 * nightly needs no database: the previous nightly's artifact is the whole memory.
 */
import { join } from 'node:path';
import { readFile, stat } from 'node:fs/promises';
import { writeFileAtomic } from '@perf-eval/util';
import { HistoryFileError, ResultsDirError } from './errors.js';
import { isRecord } from './json.js';
import {
  seriesOf,
  type MetricRecord,
  type MetricSeries,
  type RunIdentity,
  type RunResults,
  type TaskInfo,
} from './model.js';

export const HISTORY_FILE = 'history.jsonl';
export const HISTORY_VERSION = 1;
/** Runs kept per recipe by default: enough for a robust σ (≥ 3) and a month of nightlies. */
export const DEFAULT_HISTORY_KEEP = 30;
/** Largest history file read (a 1,000-run history of a large recipe is ~20 MB). */
export const MAX_HISTORY_BYTES = 256 * 1024 * 1024;

export interface HistoryEntry {
  v: 1;
  identity: RunIdentity;
  tasks: TaskInfo[];
  series: HistorySeries[];
}

/** A series in a history line: `values` (the repetitions) only when there were several. */
export type HistorySeries = Omit<MetricSeries, 'values'> & { values?: number[] };

/**
 * A run as a history line. Compact on purpose (a 1,000-run history must read in well under a
 * second): tasks without their file lists, and `values` only when there are several repetitions.
 */
export function historyEntryOf(run: RunResults): HistoryEntry {
  const series = [...seriesOf(run.records).values()].map((s): HistorySeries => {
    if (s.values.length > 1 || (s.values.length === 1 && s.values[0] !== s.value)) return s;
    const compact: HistorySeries = { ...s };
    delete compact.values;
    return compact;
  });
  return {
    v: HISTORY_VERSION,
    identity: run.identity,
    tasks: run.tasks.map((t) => ({ ...t, files: [] })),
    series,
  };
}

/** The repetitions of a history series, else its headline value alone. */
export function historyValues(s: HistorySeries): number[] {
  if (Array.isArray(s.values) && s.values.length > 0) return s.values;
  return s.value !== null && Number.isFinite(s.value) ? [s.value] : [];
}

/** A history entry as a record set (no samples), so it can stand in for a results directory. */
export function runOfHistoryEntry(entry: HistoryEntry, source: string): RunResults {
  const records: MetricRecord[] = [];
  for (const s of entry.series) {
    const head: MetricRecord = {
      task: s.task,
      metric: s.metric,
      repetition: null,
      value: s.value,
      better: s.better,
    };
    if (s.stderr !== undefined) head.stderr = s.stderr;
    if (s.n !== undefined) head.n = s.n;
    records.push(head);
    const values = historyValues(s);
    if (values.length > 1)
      values.forEach((value, i) =>
        records.push({ task: s.task, metric: s.metric, repetition: i + 1, value, better: s.better }),
      );
  }
  return { source, identity: entry.identity, tasks: entry.tasks, records, samples: [], warnings: [] };
}

function checkEntry(file: string, lineNo: number, value: unknown): HistoryEntry {
  if (!isRecord(value))
    throw new HistoryFileError(
      file,
      lineNo,
      'is not a JSON object; delete the line or re-import the history',
    );
  if (value['v'] !== HISTORY_VERSION)
    throw new HistoryFileError(
      file,
      lineNo,
      `has version ${JSON.stringify(value['v'])}, this perf-eval reads version ${HISTORY_VERSION}; upgrade perf-eval or re-import the history`,
    );
  const identity = value['identity'];
  if (
    !isRecord(identity) ||
    typeof identity['runId'] !== 'string' ||
    typeof identity['recipe'] !== 'string'
  ) {
    throw new HistoryFileError(
      file,
      lineNo,
      'field identity must have string runId and recipe; delete the line or re-import the history',
    );
  }
  if (!Array.isArray(value['tasks']) || !Array.isArray(value['series']))
    throw new HistoryFileError(
      file,
      lineNo,
      'fields tasks and series must be arrays; delete the line or re-import the history',
    );
  for (const s of value['series'] as unknown[]) {
    if (
      !isRecord(s) ||
      typeof s['task'] !== 'string' ||
      typeof s['metric'] !== 'string' ||
      (s['values'] !== undefined && !Array.isArray(s['values'])) ||
      (s['better'] !== 'higher' && s['better'] !== 'lower')
    ) {
      throw new HistoryFileError(
        file,
        lineNo,
        'a series needs task, metric, better (higher|lower) and an optional values[]; delete the line or re-import the history',
      );
    }
  }
  return value as unknown as HistoryEntry;
}

/** Parses one history line; a bad line throws `HistoryFileError` naming `source` and the line. */
export function parseHistoryLine(source: string, line: string, lineNo: number): HistoryEntry {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new HistoryFileError(
      source,
      lineNo,
      `is not JSON (${(error as Error).message}); delete the line or re-import the history`,
      { cause: error },
    );
  }
  return checkEntry(source, lineNo, parsed);
}

/** Parses a whole history text (e.g. a downloaded artifact). */
export function parseHistory(source: string, text: string): HistoryEntry[] {
  const entries: HistoryEntry[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() !== '') entries.push(parseHistoryLine(source, line, i + 1));
  });
  return entries;
}

/** Reads a history file line by line; a corrupt line throws `HistoryFileError` naming the line. */
export async function readHistory(file: string): Promise<HistoryEntry[]> {
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new ResultsDirError(file, 'is not a history file');
    size = info.size;
  } catch (error) {
    if (error instanceof ResultsDirError) throw error;
    throw new ResultsDirError(file, 'does not exist; pass a results/<name>/ directory or its history.jsonl', {
      cause: error,
    });
  }
  // A history is megabytes; reading it whole is several times faster than line events. Bigger is not one.
  if (size > MAX_HISTORY_BYTES) {
    throw new HistoryFileError(
      file,
      undefined,
      `is ${size} bytes, more than ${MAX_HISTORY_BYTES}; keep fewer runs (history import --keep)`,
    );
  }
  return parseHistory(file, await readFile(file, 'utf8'));
}

/** The history in a results directory, or [] when it has none. */
export async function readHistoryOf(dir: string): Promise<HistoryEntry[]> {
  const file = join(dir, HISTORY_FILE);
  try {
    await stat(file);
  } catch {
    return [];
  }
  return readHistory(file);
}

/**
 * `entries` plus `entry` (replacing an entry with the same recipe and runId), keeping the last
 * `keep` runs of each recipe, oldest first.
 */
export function mergeHistory(
  entries: readonly HistoryEntry[],
  additions: readonly HistoryEntry[],
  keep = DEFAULT_HISTORY_KEEP,
): HistoryEntry[] {
  const id = (e: HistoryEntry): string => `${e.identity.recipe}\t${e.identity.runId}`;
  const replaced = new Set(additions.map(id));
  const all = [...entries.filter((e) => !replaced.has(id(e))), ...additions];
  const perRecipe = new Map<string, number>();
  const kept: HistoryEntry[] = [];
  for (let i = all.length - 1; i >= 0; i--) {
    const entry = all[i] as HistoryEntry;
    const count = perRecipe.get(entry.identity.recipe) ?? 0;
    if (count >= keep) continue;
    perRecipe.set(entry.identity.recipe, count + 1);
    kept.push(entry);
  }
  return kept.reverse();
}

export function renderHistory(entries: readonly HistoryEntry[]): string {
  return entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
}

export async function writeHistory(file: string, entries: readonly HistoryEntry[]): Promise<void> {
  await writeFileAtomic(file, renderHistory(entries));
}

/**
 * Merges `additions` into the history file `file` (created when missing), keeping the last `keep` runs
 * of each recipe; returns what was written.
 */
export async function mergeHistoryFile(
  file: string,
  additions: readonly HistoryEntry[],
  keep = DEFAULT_HISTORY_KEEP,
): Promise<HistoryEntry[]> {
  const exists = await stat(file).then(
    () => true,
    () => false,
  );
  const merged = mergeHistory(exists ? await readHistory(file) : [], additions, keep);
  await writeHistory(file, merged);
  return merged;
}
