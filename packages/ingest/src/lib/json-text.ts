import { pyFloatRepr } from '@perf-eval/util';

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
