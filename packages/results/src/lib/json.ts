import { readFile } from 'node:fs/promises';
import { ResultsFileError } from './errors.js';

const NON_FINITE = ['-Infinity', 'Infinity', 'NaN'] as const;

/**
 * Python's `json.dump` writes bare `NaN`/`Infinity`; JSON.parse rejects them. Replace those tokens
 * (outside strings) by `null`, the same rule bench-runner applies to fresh results (D29). Kept here
 * because adapters never import each other; see the README note on the shared util reader.
 */
export function parsePythonJson(text: string): unknown {
  if (!text.includes('NaN') && !text.includes('Infinity')) return JSON.parse(text);
  let out = '';
  let last = 0;
  for (let i = 0; i < text.length; ) {
    const char = text.charCodeAt(i);
    if (char === 0x22) {
      for (i++; i < text.length; ) {
        const c = text.charCodeAt(i);
        if (c === 0x5c) i += 2;
        else {
          i++;
          if (c === 0x22) break;
        }
      }
      continue;
    }
    const token =
      char === 0x2d || char === 0x49 || char === 0x4e
        ? NON_FINITE.find((t) => text.startsWith(t, i))
        : undefined;
    if (token) {
      out += `${text.slice(last, i)}null`;
      i += token.length;
      last = i;
      continue;
    }
    i++;
  }
  return JSON.parse(out + text.slice(last));
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
    parsed = parsePythonJson(text);
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
