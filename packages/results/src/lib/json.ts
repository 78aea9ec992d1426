import { readFile } from 'node:fs/promises';
import { parsePythonJson } from '@perf-eval/util';
import { ResultsFileError } from './errors.js';

/** Python JSON (bare `NaN`/`Infinity` read as `null`) through util's shared reader. */
function parseJson(text: string): unknown {
  return parsePythonJson(text).value;
}

/** Reads a JSON object file; a missing, unreadable or corrupt file throws `ResultsFileError` naming it. */
export async function readJsonObject(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ResultsFileError(
      file,
      undefined,
      `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      { cause: error },
    );
  }
  let parsed: unknown;
  try {
    parsed = parseJson(text);
  } catch (error) {
    throw new ResultsFileError(
      file,
      undefined,
      `is not valid JSON (${(error as Error).message}); re-run the task or delete the file`,
      { cause: error },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ResultsFileError(file, undefined, 'is not a JSON object; re-run the task or delete the file');
  }
  return parsed as Record<string, unknown>;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function finiteOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
