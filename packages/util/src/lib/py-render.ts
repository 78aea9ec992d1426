/**
 * Python `str()` / `json.dumps` rendering. Upstream builds env values, lm-eval model_args and bench
 * flags with Python, so `1.0` must stay `1.0`, `true` becomes `True` and `1e-05` keeps Python's form.
 * A YAML float is carried as a `PyFloat` so that an integral float (`40960.0`) is not confused with
 * an int after loading.
 */
export class PyFloat {
  constructor(readonly value: number) {}
  toJSON(): number | null {
    return Number.isFinite(this.value) ? this.value : null;
  }
  valueOf(): number {
    return this.value;
  }
}

export type PyValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | PyFloat
  | PyValue[]
  | { [key: string]: PyValue };

/** Python float repr: shortest round-trip digits; scientific when the exponent is < -4 or >= 16. */
export function pyFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = value.toExponential().split('e') as [string, string];
  const exponent = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  if (exponent < -4 || exponent >= 16) {
    const body = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const sign = exponent < 0 ? '-' : '+';
    return `${negative ? '-' : ''}${body}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  let text: string;
  if (exponent < 0) {
    text = `0.${'0'.repeat(-exponent - 1)}${digits}`;
  } else if (digits.length <= exponent + 1) {
    text = `${digits}${'0'.repeat(exponent + 1 - digits.length)}.0`;
  } else {
    text = `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
  }
  return `${negative ? '-' : ''}${text}`;
}

function pyStrQuoted(value: string): string {
  // Python repr of a str: single quotes unless the text contains ' and no ".
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(new RegExp(quote, 'g'), `\\${quote}`);
  return `${quote}${escaped}${quote}`;
}

/** Python `repr()`, used inside containers and for upstream-style error messages (`'gsm8k'`, `['a', 'b']`). */
export function pyRepr(value: PyValue): string {
  if (typeof value === 'string') return pyStrQuoted(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (value !== null && typeof value === 'object' && !(value instanceof PyFloat)) {
    return `{${Object.entries(value)
      .map(([k, v]) => `${pyStrQuoted(k)}: ${pyRepr(v)}`)
      .join(', ')}}`;
  }
  return pyStr(value);
}

/** Python `str()` of a scalar (containers render as repr, as in Python). */
export function pyStr(value: PyValue): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value instanceof PyFloat) return pyFloatRepr(value.value);
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : pyFloatRepr(value);
  if (typeof value === 'string') return value;
  return pyRepr(value);
}

function pyJsonString(value: string): string {
  let out = '"';
  for (const char of value) {
    const code = char.codePointAt(0) as number;
    if (char === '"') out += '\\"';
    else if (char === '\\') out += '\\\\';
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (char === '\b') out += '\\b';
    else if (char === '\f') out += '\\f';
    else if (code >= 0x20 && code <= 0x7e) out += char;
    else if (code > 0xffff) {
      const high = Math.floor((code - 0x10000) / 0x400) + 0xd800;
      const low = ((code - 0x10000) % 0x400) + 0xdc00;
      out += `\\u${high.toString(16).padStart(4, '0')}\\u${low.toString(16).padStart(4, '0')}`;
    } else out += `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return `${out}"`;
}

/** `json.dumps(value, separators=(",", ":"))` with Python's ensure_ascii and float repr. */
export function pyJsonCompact(value: PyValue): string {
  if (value === null || value === undefined) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'string') return pyJsonString(value);
  const number = value instanceof PyFloat ? value.value : value;
  if (typeof number === 'number') {
    if (Number.isNaN(number)) return 'NaN';
    if (number === Infinity) return 'Infinity';
    if (number === -Infinity) return '-Infinity';
    return value instanceof PyFloat || !Number.isInteger(number) ? pyFloatRepr(number) : String(number);
  }
  if (Array.isArray(value)) return `[${value.map(pyJsonCompact).join(',')}]`;
  return `{${Object.entries(value as Record<string, PyValue>)
    .map(([k, v]) => `${pyJsonString(k)}:${pyJsonCompact(v)}`)
    .join(',')}}`;
}

/** Replace PyFloat wrappers by plain numbers (deep), for validation and JSON output. */
export function toPlain(value: PyValue): unknown {
  if (value instanceof PyFloat) return value.value;
  if (Array.isArray(value)) return value.map(toPlain);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toPlain(v);
    return out;
  }
  return value;
}
