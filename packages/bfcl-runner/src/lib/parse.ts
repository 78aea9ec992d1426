import { open, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { BfclParseError } from './errors.js';

/** Line 1 of a BFCL score file (`tool-contracts.md` §5.7). */
export interface BfclScoreSummary {
  /** 0–1; 0.0 is a valid score (D2). */
  accuracy: number;
  correctCount: number | undefined;
  totalCount: number | undefined;
  /** The whole line-1 object (format_sensitivity adds `accuracy_max_delta`, …). */
  raw: Record<string, unknown>;
}

/** Parse the summary object (line 1 of a score file). */
export function parseScoreSummary(line: string, file?: string): BfclScoreSummary {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new BfclParseError(file, `line 1 is not JSON (${(error as Error).message})`, line, {
      cause: error,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BfclParseError(file, 'line 1 is not a JSON object', line);
  }
  const raw = value as Record<string, unknown>;
  const accuracy = raw['accuracy'];
  if (typeof accuracy !== 'number' || !Number.isFinite(accuracy)) {
    throw new BfclParseError(file, 'line 1 has no numeric "accuracy"', line);
  }
  const count = (key: string): number | undefined => {
    const n = raw[key];
    return typeof n === 'number' && Number.isInteger(n) ? n : undefined;
  };
  return { accuracy, correctCount: count('correct_count'), totalCount: count('total_count'), raw };
}

/** Read only the first line of a (possibly large) file. Rejects with the fs error (ENOENT, …). */
async function readFirstLine(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let size = 4096;
    for (;;) {
      const buffer = Buffer.alloc(size);
      const { bytesRead } = await handle.read(buffer, 0, size, null);
      const piece = buffer.subarray(0, bytesRead);
      const newline = piece.indexOf(0x0a);
      if (newline !== -1) {
        chunks.push(piece.subarray(0, newline));
        break;
      }
      chunks.push(piece);
      if (bytesRead < size) break;
      size = Math.min(size * 4, 1 << 20);
    }
    return Buffer.concat(chunks).toString('utf8').replace(/\r$/, '');
  } finally {
    await handle.close();
  }
}

/** `accuracy`, `correct_count`, `total_count` of line 1 of exactly this score file. */
export async function readScoreSummary(file: string): Promise<BfclScoreSummary> {
  const line = await readFirstLine(file);
  if (line.trim() === '') throw new BfclParseError(file, 'the file is empty', '');
  return parseScoreSummary(line, file);
}

/** A per-step value of a multi-turn entry: turn → step. */
export type BfclNested<T> = T[][];

/** One line of a BFCL result file (`tool-contracts.md` §5.6). */
export interface BfclResultEntry {
  id: string;
  /**
   * FC single-turn: `[{"<fn>": "<json args>"}]` (`[]` = no call); prompt mode: a string;
   * multi-turn: turn → step → calls.
   */
  result: unknown;
  input_token_count?: number | BfclNested<number>;
  output_token_count?: number | BfclNested<number>;
  latency?: number | BfclNested<number>;
  [key: string]: unknown;
}

/** True when the entry's result/counters are nested per turn and step (multi-turn, agentic). */
export function isMultiTurnEntry(entry: BfclResultEntry): boolean {
  return (
    Array.isArray(entry.latency) ||
    (Array.isArray(entry.result) &&
      entry.result.every((turn) => Array.isArray(turn)) &&
      entry.result.length > 0)
  );
}

/** Parse a JSON Lines result file's text; blank lines are skipped. */
export function parseBfclResultText(text: string, file?: string): BfclResultEntry[] {
  const entries: BfclResultEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/\r$/, '');
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new BfclParseError(file, `line ${i + 1} is not JSON (${(error as Error).message})`, line, {
        cause: error,
      });
    }
    if (
      typeof value !== 'object' ||
      value === null ||
      typeof (value as { id?: unknown }).id !== 'string' ||
      !('result' in value)
    ) {
      throw new BfclParseError(file, `line ${i + 1} is not a result entry (needs "id" and "result")`, line);
    }
    entries.push(value as BfclResultEntry);
  }
  return entries;
}

export async function readBfclResultFile(file: string): Promise<BfclResultEntry[]> {
  return parseBfclResultText(await readFile(file, 'utf8'), file);
}

/** The six CSV summaries BFCL writes into the score dir root. */
export type BfclCsvKind = 'overall' | 'non_live' | 'live' | 'multi_turn' | 'agentic' | 'format_sensitivity';

/** Exact headers per CSV (`tool-contracts.md` §5.8); format_sensitivity continues with `Config …` columns. */
export const BFCL_CSV_HEADERS: Readonly<Record<BfclCsvKind, readonly string[]>> = Object.freeze({
  overall: [
    'Rank',
    'Overall Acc',
    'Model',
    'Model Link',
    'Total Cost ($)',
    'Latency Mean (s)',
    'Latency Standard Deviation (s)',
    'Latency 95th Percentile (s)',
    'Non-Live AST Acc',
    'Non-Live Simple AST',
    'Non-Live Multiple AST',
    'Non-Live Parallel AST',
    'Non-Live Parallel Multiple AST',
    'Live Acc',
    'Live Simple AST',
    'Live Multiple AST',
    'Live Parallel AST',
    'Live Parallel Multiple AST',
    'Multi Turn Acc',
    'Multi Turn Base',
    'Multi Turn Miss Func',
    'Multi Turn Miss Param',
    'Multi Turn Long Context',
    'Web Search Acc',
    'Web Search Base',
    'Web Search No Snippet',
    'Memory Acc',
    'Memory KV',
    'Memory Vector',
    'Memory Recursive Summarization',
    'Relevance Detection',
    'Irrelevance Detection',
    'Format Sensitivity Max Delta',
    'Format Sensitivity Standard Deviation',
    'Organization',
    'License',
  ],
  non_live: [
    'Rank',
    'Model',
    'Non-Live Overall Acc',
    'AST Summary',
    'Simple AST',
    'Python Simple AST',
    'Java Simple AST',
    'JavaScript Simple AST',
    'Multiple AST',
    'Parallel AST',
    'Parallel Multiple AST',
    'Irrelevance Detection',
  ],
  live: [
    'Rank',
    'Model',
    'Live Overall Acc',
    'AST Summary',
    'Python Simple AST',
    'Python Multiple AST',
    'Python Parallel AST',
    'Python Parallel Multiple AST',
    'Irrelevance Detection',
    'Relevance Detection',
  ],
  multi_turn: ['Rank', 'Model', 'Multi Turn Overall Acc', 'Base', 'Miss Func', 'Miss Param', 'Long Context'],
  agentic: [
    'Rank',
    'Model',
    'Agentic Overall Acc',
    'Web Search Summary',
    'Web Search Base',
    'Web Search No Snippet',
    'Memory Summary',
    'Memory KV',
    'Memory Vector',
    'Memory Recursive Summarization',
  ],
  format_sensitivity: [
    'Rank',
    'Model',
    'Format Sensitivity Max Delta',
    'Format Sensitivity Standard Deviation',
  ],
});

/** A CSV cell: `53.12%` → 53.12 (percent, `%` stripped), `2.21` → 2.21, `N/A`/empty → null, text stays text. */
export type BfclCsvCell = number | string | null;

export interface BfclCsv {
  headers: string[];
  rows: Record<string, BfclCsvCell>[];
}

const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

function csvCell(text: string): BfclCsvCell {
  if (text === '' || text === 'N/A') return null;
  const body = text.endsWith('%') ? text.slice(0, -1) : text;
  if (NUMBER.test(body)) return Number(body);
  return text;
}

/**
 * Parse a BFCL CSV summary: plain `,` joins, no quoting, no trailing newline required. With `kind`,
 * the headers must be exactly those of `BFCL_CSV_HEADERS[kind]` (format_sensitivity: that prefix,
 * then only `Config …` columns).
 */
export function parseBfclCsv(text: string, kind?: BfclCsvKind, file?: string): BfclCsv {
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new BfclParseError(file, 'the CSV is empty', '');
  const headers = (lines[0] as string).split(',');
  if (kind !== undefined) {
    const expected = BFCL_CSV_HEADERS[kind];
    const prefixOk = expected.every((name, i) => headers[i] === name);
    const restOk =
      kind === 'format_sensitivity'
        ? headers.slice(expected.length).every((name) => name.startsWith('Config '))
        : headers.length === expected.length;
    if (!prefixOk || !restOk) {
      throw new BfclParseError(
        file,
        `unexpected headers for data_${kind}.csv (expected ${expected.join(',')})`,
        lines[0] as string,
      );
    }
  }
  const rows = lines.slice(1).map((line, i) => {
    const cells = line.split(',');
    if (cells.length !== headers.length) {
      throw new BfclParseError(
        file,
        `row ${i + 1} has ${cells.length} cells for ${headers.length} columns`,
        line,
      );
    }
    const row: Record<string, BfclCsvCell> = {};
    headers.forEach((name, j) => {
      row[name] = csvCell(cells[j] as string);
    });
    return row;
  });
  return { headers, rows };
}

/** Read `data_<kind>.csv`; the kind (and so the header check) comes from the file name. */
export async function readBfclCsv(file: string): Promise<BfclCsv> {
  const match = /^data_(overall|non_live|live|multi_turn|agentic|format_sensitivity)\.csv$/.exec(
    basename(file),
  );
  return parseBfclCsv(await readFile(file, 'utf8'), match?.[1] as BfclCsvKind | undefined, file);
}
