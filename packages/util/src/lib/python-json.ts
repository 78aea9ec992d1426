import { randomBytes } from 'node:crypto';

/**
 * The one reader of JSON written by Python. Python's `json` module writes the bare tokens `NaN`,
 * `Infinity` and `-Infinity`, which are not JSON; every tool perf-eval runs (vllm bench, lm-eval,
 * BFCL) can emit them. One tokenizer finds them outside string literals; the callers choose what
 * they become (`null` for the dashboards, numbers for metrics, a marker to record where they were).
 */

/** The non-JSON number tokens Python's `json.dumps` writes (`allow_nan=True`, its default). */
export const PYTHON_NON_FINITE_TOKENS = ['NaN', 'Infinity', '-Infinity'] as const;
export type PythonNonFiniteToken = (typeof PYTHON_NON_FINITE_TOKENS)[number];

/** The value each token stands for. */
export const PYTHON_NON_FINITE_VALUES: Readonly<Record<PythonNonFiniteToken, number>> = Object.freeze({
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
});

export interface RewritePythonJsonOptions {
  /** What a token becomes; default `null`. The result must itself be valid JSON (e.g. a quoted marker). */
  replacement?: (token: PythonNonFiniteToken) => string;
  /** Also drop whitespace outside strings (as Python's `separators=(",", ":")` would have written it). */
  compact?: boolean;
}

export interface RewrittenPythonJson {
  /** The rewritten text (a leading BOM dropped); the input itself when nothing changed. */
  readonly text: string;
  /** How many non-finite tokens were replaced. */
  readonly nonFinite: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NULL_REPLACEMENT = (): string => 'null';

function isJsonWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/** Length of a bare non-finite token at `i` (3, 8 or 9), else 0. */
function tokenLengthAt(text: string, i: number, code: number): number {
  if (code === 0x4e /* N */) return text.startsWith('NaN', i) ? 3 : 0;
  if (code === 0x49 /* I */) return text.startsWith('Infinity', i) ? 8 : 0;
  if (code === 0x2d /* - */) return text.startsWith('-Infinity', i) ? 9 : 0;
  return 0;
}

/** End (exclusive) of the string literal opening at `open`, or `text.length` when unterminated. */
function stringEnd(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const close = text.indexOf('"', from);
    if (close < 0) return text.length;
    let backslashes = 0;
    for (let k = close - 1; k > open && text.charCodeAt(k) === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return close + 1;
    from = close + 1;
  }
}

/**
 * Replace the bare non-finite tokens outside string literals (and, with `compact`, drop insignificant
 * whitespace). Number literals are kept verbatim, so `1.0` stays a float and `5` an int. The output is
 * not validated: parse it with `JSON.parse` to detect malformed input.
 */
export function rewritePythonJson(
  input: string,
  options: RewritePythonJsonOptions = {},
): RewrittenPythonJson {
  const replacement = options.replacement ?? NULL_REPLACEMENT;
  const compact = options.compact === true;
  const start = input.charCodeAt(0) === 0xfeff ? 1 : 0;
  if (!compact && !input.includes('NaN') && !input.includes('Infinity')) {
    return { text: start === 0 ? input : input.slice(start), nonFinite: 0 };
  }
  const length = input.length;
  let out = '';
  let nonFinite = 0;
  let changed = start > 0;
  let segmentStart = start;
  let i = start;
  while (i < length) {
    const code = input.charCodeAt(i);
    if (code === QUOTE) {
      i = stringEnd(input, i);
      continue;
    }
    if (compact && isJsonWhitespace(code)) {
      out += input.slice(segmentStart, i);
      i++;
      while (i < length && isJsonWhitespace(input.charCodeAt(i))) i++;
      segmentStart = i;
      changed = true;
      continue;
    }
    const token = tokenLengthAt(input, i, code);
    if (token > 0) {
      out += input.slice(segmentStart, i) + replacement(input.slice(i, i + token) as PythonNonFiniteToken);
      nonFinite++;
      i += token;
      segmentStart = i;
      changed = true;
      continue;
    }
    i++;
  }
  return { text: changed ? out + input.slice(segmentStart) : input, nonFinite };
}

export interface ParsedPythonJson {
  readonly value: unknown;
  /** How many non-finite tokens the text had. */
  readonly nonFinite: number;
}

export interface ParsePythonJsonOptions {
  /** What the tokens become: `null` (default; what the dashboards and `json.dumps` round trips need) or the numbers. */
  nonFinite?: 'null' | 'number';
}

/**
 * `JSON.parse` for Python-written JSON: bare `NaN` / `Infinity` / `-Infinity` become `null` (default)
 * or the numbers they stand for. A leading BOM is ignored. Throws `JSON.parse`'s `SyntaxError`,
 * whose position refers to the text as written when nothing was replaced.
 */
export function parsePythonJson(text: string, options: ParsePythonJsonOptions = {}): ParsedPythonJson {
  if (options.nonFinite !== 'number') {
    const rewritten = rewritePythonJson(text);
    return { value: JSON.parse(rewritten.text) as unknown, nonFinite: rewritten.nonFinite };
  }
  // A marker string no real file contains (NUL plus a random id), turned back into a number by the reviver.
  const marker = `\u0000perf-eval-non-finite-${randomBytes(6).toString('hex')}:`;
  const rewritten = rewritePythonJson(text, { replacement: (token) => JSON.stringify(marker + token) });
  const value: unknown =
    rewritten.nonFinite === 0
      ? JSON.parse(rewritten.text)
      : JSON.parse(rewritten.text, (_key, item: unknown) =>
          typeof item === 'string' && item.startsWith(marker)
            ? PYTHON_NON_FINITE_VALUES[item.slice(marker.length) as PythonNonFiniteToken]
            : item,
        );
  return { value, nonFinite: rewritten.nonFinite };
}

/** Length of a bare non-finite token at `at` in UTF-8 bytes, else 0. */
function tokenLengthAtByte(buf: Uint8Array, at: number, c: number): number {
  const token = c === 0x4e ? 'NaN' : c === 0x49 ? 'Infinity' : c === 0x2d ? '-Infinity' : '';
  if (token === '' || at + token.length > buf.length) return 0;
  for (let k = 1; k < token.length; k++) if (buf[at + k] !== token.charCodeAt(k)) return 0;
  return token.length;
}

/** End (exclusive) of the string literal opening at `open` in bytes, or `buf.length` when unterminated. */
function stringEndByte(buf: Buffer, open: number): number {
  // Short strings (keys, small values) are scanned inline; long ones jump with a native indexOf.
  const inlineLimit = Math.min(buf.length, open + 48);
  let k = open + 1;
  for (; k < inlineLimit; k++) {
    const c = buf[k];
    if (c === QUOTE) return k + 1;
    if (c === BACKSLASH) break;
  }
  if (k === buf.length) return k;
  let from = k;
  for (;;) {
    const close = buf.indexOf(QUOTE, from);
    if (close < 0) return buf.length;
    let backslashes = 0;
    for (let b = close - 1; b > open && buf[b] === BACKSLASH; b--) backslashes++;
    if ((backslashes & 1) === 0) return close + 1;
    from = close + 1;
  }
}

/** Copy `buf[from, to)` to `out` at `o`; short runs inline (a native call costs more). Returns the new offset. */
function copySegment(buf: Buffer, out: Buffer, o: number, from: number, to: number): number {
  if (to - from > 64) return o + buf.copy(out, o, from, to);
  for (let k = from; k < to; k++) out[o++] = buf[k] as number;
  return o;
}

/**
 * {@link rewritePythonJson} with `compact` on UTF-8 bytes, for multi-GB files that must never be
 * decoded to strings: whitespace outside strings removed, bare tokens replaced by `null`, a leading
 * BOM dropped. Structural JSON characters are ASCII and UTF-8 multi-byte sequences contain no ASCII
 * bytes, so scanning bytes is exact. Returns the input itself when nothing changes.
 */
export function compactPythonJsonBytes(buf: Buffer): { bytes: Buffer; nonFinite: number } {
  const length = buf.length;
  const start = length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  // First pass: count what has to change, so the output is allocated once at its exact size.
  let removed = 0;
  let nonFinite = 0;
  let grow = 0;
  for (let i = start; i < length; ) {
    const c = buf[i] as number;
    if (c === QUOTE) {
      i = stringEndByte(buf, i);
    } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      removed++;
      i++;
    } else {
      const token = tokenLengthAtByte(buf, i, c);
      if (token > 0) {
        nonFinite++;
        grow += 4 - token;
        i += token;
      } else i++;
    }
  }
  if (removed === 0 && nonFinite === 0)
    return { bytes: start === 0 ? buf : buf.subarray(start), nonFinite: 0 };

  const out = Buffer.allocUnsafe(length - start - removed + grow);
  let o = 0;
  let segment = start;
  for (let i = start; i < length; ) {
    const c = buf[i] as number;
    if (c === QUOTE) {
      i = stringEndByte(buf, i);
    } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      o = copySegment(buf, out, o, segment, i);
      i++;
      segment = i;
    } else {
      const token = tokenLengthAtByte(buf, i, c);
      if (token > 0) {
        o = copySegment(buf, out, o, segment, i);
        out[o++] = 0x6e;
        out[o++] = 0x75;
        out[o++] = 0x6c;
        out[o++] = 0x6c;
        i += token;
        segment = i;
      } else i++;
    }
  }
  o = copySegment(buf, out, o, segment, length);
  return { bytes: out.subarray(0, o), nonFinite };
}
