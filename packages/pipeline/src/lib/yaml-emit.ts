/**
 * A small block-YAML emitter for the pipeline document (maps, lists, strings, numbers, booleans).
 * `yaml.stringify` spent ~0.7 s on 1000 steps; this writes the same data in ~20 ms. Strings are plain
 * only when no YAML 1.1 or 1.2 parser can read them as anything but that string; otherwise
 * single-quoted, or JSON-style double-quoted when they hold `'` or non-printable characters.
 */

const PLAIN = /^[A-Za-z/][A-Za-z0-9_./*@+-]*$/;
const RESERVED = /^(?:y|n|yes|no|on|off|true|false|null)$/i;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const NEEDS_ESCAPE = /[\u007f-\u009f\u2028\u2029\ufeff]/g;

export function yamlScalar(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot emit non-finite number ${value}`);
    return String(value);
  }
  if (typeof value !== 'string') throw new Error(`cannot emit ${typeof value} as a YAML scalar`);
  if (PLAIN.test(value) && !RESERVED.test(value)) return value;
  if (PRINTABLE_ASCII.test(value) && !value.includes("'") && value !== '') return `'${value}'`;
  return JSON.stringify(value).replace(
    NEEDS_ESCAPE,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEmpty(value: unknown): boolean {
  return Array.isArray(value) ? value.length === 0 : isMap(value) && Object.keys(value).length === 0;
}

function inline(value: unknown): string {
  if (Array.isArray(value)) return '[]';
  if (isMap(value)) return '{}';
  return yamlScalar(value);
}

function emitMap(map: Record<string, unknown>, indent: number, out: string[]): void {
  const pad = ' '.repeat(indent);
  for (const [key, value] of Object.entries(map)) {
    if (value === undefined) continue;
    const name = yamlScalar(key);
    if (Array.isArray(value) && value.length > 0) {
      out.push(`${pad}${name}:`);
      emitList(value, indent + 2, out);
    } else if (isMap(value) && !isEmpty(value)) {
      out.push(`${pad}${name}:`);
      emitMap(value, indent + 2, out);
    } else {
      out.push(`${pad}${name}: ${inline(value)}`);
    }
  }
}

function emitList(list: readonly unknown[], indent: number, out: string[]): void {
  const pad = ' '.repeat(indent);
  for (const item of list) {
    if (isMap(item) && !isEmpty(item)) {
      const start = out.length;
      emitMap(item, indent + 2, out);
      out[start] = `${pad}- ${(out[start] as string).slice(indent + 2)}`;
    } else if (Array.isArray(item) && item.length > 0) {
      out.push(`${pad}-`);
      emitList(item, indent + 2, out);
    } else {
      out.push(`${pad}- ${inline(item)}`);
    }
  }
}

/** Block YAML for a top-level map, ending in one newline. */
export function emitYaml(document: Record<string, unknown>): string {
  const out: string[] = [];
  emitMap(document, 0, out);
  return `${out.join('\n')}\n`;
}
