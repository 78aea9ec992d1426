import { pyFloatRepr } from '@perf-eval/util';

/** Result of {@link compactJsonText}. */
export interface CompactJson {
  /** The input without insignificant whitespace, with bare NaN / Infinity / -Infinity replaced by `null`. */
  readonly text: string;
  /** How many non-finite tokens were replaced. */
  readonly nonFinite: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isJsonWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/**
 * Compact a JSON text written by Python: drop whitespace outside strings and replace the bare
 * `NaN`, `Infinity` and `-Infinity` tokens Python's `json` module emits with `null` (D29). Number
 * literals are kept verbatim, so `1.0` stays a float and `5` stays an int, exactly as upstream's
 * `json.loads` → `json.dumps` round trip would render them. The output is not validated here: parse
 * it with `JSON.parse` to detect malformed input.
 */
export function compactJsonText(input: string): CompactJson {
  let out = '';
  let nonFinite = 0;
  const length = input.length;
  let i = input.charCodeAt(0) === 0xfeff ? 1 : 0;
  let segmentStart = i;
  while (i < length) {
    const code = input.charCodeAt(i);
    if (code === QUOTE) {
      let from = i + 1;
      for (;;) {
        const close = input.indexOf('"', from);
        if (close < 0) {
          i = length;
          break;
        }
        let backslashes = 0;
        for (let k = close - 1; k > i && input.charCodeAt(k) === BACKSLASH; k--) backslashes++;
        if (backslashes % 2 === 0) {
          i = close + 1;
          break;
        }
        from = close + 1;
      }
      continue;
    }
    if (isJsonWhitespace(code)) {
      out += input.slice(segmentStart, i);
      i++;
      while (i < length && isJsonWhitespace(input.charCodeAt(i))) i++;
      segmentStart = i;
      continue;
    }
    let token = 0;
    if (code === 0x4e /* N */ && input.startsWith('NaN', i)) token = 3;
    else if (code === 0x49 /* I */ && input.startsWith('Infinity', i)) token = 8;
    else if (code === 0x2d /* - */ && input.startsWith('-Infinity', i)) token = 9;
    if (token > 0) {
      out += `${input.slice(segmentStart, i)}null`;
      nonFinite++;
      i += token;
      segmentStart = i;
      continue;
    }
    i++;
  }
  out = segmentStart === 0 && out === '' ? input : out + input.slice(segmentStart);
  return { text: out, nonFinite };
}

/** Parse a Python-written JSON text tolerantly (NaN / Infinity → null). Throws the `JSON.parse` error. */
export function parseJsonTolerant(input: string): { value: unknown; text: string; nonFinite: number } {
  const compact = compactJsonText(input);
  return { value: JSON.parse(compact.text) as unknown, text: compact.text, nonFinite: compact.nonFinite };
}

const PY_FLOAT_NUMBER =
  /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const PY_FLOAT_SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;

/**
 * Python's `float(value)` for a JSON value, or `undefined` where Python raises (None, lists, dicts,
 * unparsable strings). Booleans convert (`float(True) == 1.0`), strings accept Python's grammar
 * including `inf`, `nan` and digit underscores. The result may be non-finite.
 */
export function pyFloat(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (PY_FLOAT_NUMBER.test(text)) return Number(text.replaceAll('_', ''));
  const special = PY_FLOAT_SPECIAL.exec(text);
  if (special) {
    if ((special[2] as string).toLowerCase() === 'nan') return Number.NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  return undefined;
}

/** Python truthiness of a JSON value. */
export function pyTruthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/** A float rendered the way Python's json would (`0.0`, `2447.325`, `1e-05`); finite values only. */
export function floatJson(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`non-finite float cannot be serialised: ${value}`);
  return pyFloatRepr(value);
}

/**
 * Python `'%.<digits>f' % value`: like `toFixed`, but an exact binary tie rounds half to even as
 * CPython does (`'%.2f' % 0.125 == '0.12'`).
 */
export function pyFixed(value: number, digits: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  const fixed = value.toFixed(digits);
  const expanded = Math.abs(value).toFixed(Math.min(100, digits + 60));
  const tail = expanded.slice(expanded.indexOf('.') + 1 + digits);
  if (!/^50*$/.test(tail)) return fixed;
  // Exact tie: toFixed rounded away from zero; CPython rounds half to even.
  const truncated = (Math.abs(value) - Number(`0.${'0'.repeat(digits)}5`)).toFixed(digits);
  const lastDigit = Number(truncated.replace('.', '').slice(-1));
  const chosen = lastDigit % 2 === 0 ? truncated : Math.abs(Number(fixed)).toFixed(digits);
  return value < 0 ? `-${chosen}` : chosen;
}
