/**
 * Buildkite's upload-time `$` interpolation (buildkite.md §5) and the two ways to survive it.
 *
 * The chosen approach: the bootstrap uploads with `buildkite-agent pipeline upload --no-interpolation`,
 * so the generated document reaches the job verbatim and needs no escaping ("verbatim" mode, the
 * default). For a manual upload *with* interpolation, generate with `--escape-dollars`: every `$` in
 * every string (keys too) is doubled, which interpolation turns back into one `$`.
 * `simulateUpload` models both, so tests can prove a value survives literally.
 */
import { parse as parseYaml } from 'yaml';

export type InterpolationMode = 'verbatim' | 'escaped';

/** `$` → `$$` in one string. */
export function escapeDollars(text: string): string {
  return text.replace(/\$/g, '$$$$');
}

/** A deep copy of `value` with every string (map keys included) passed through `escapeDollars`. */
export function escapeDeep<T>(value: T): T {
  if (typeof value === 'string') return escapeDollars(value) as T;
  if (Array.isArray(value)) return value.map((item) => escapeDeep(item)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[escapeDollars(key)] = escapeDeep(item);
    return out as T;
  }
  return value;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/**
 * Buildkite's interpolation of one string: `$$` and `\$` → `$`; `$NAME`, `${NAME}`, `${NAME:-default}`,
 * `${NAME-default}`, `${NAME:?msg}` from `env` (unset → empty). A `$` followed by anything else stays.
 */
export function interpolate(text: string, env: Readonly<Record<string, string | undefined>>): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    if (char === '\\' && text[i + 1] === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (char !== '$') {
      out += char;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const close = text.indexOf('}', i + 2);
      if (close < 0) throw new Error(`interpolation: unterminated \${ in '${text}'`);
      const inner = text.slice(i + 2, close);
      const name = NAME.exec(inner)?.[0];
      if (!name) throw new Error(`interpolation: bad substitution \${${inner}}`);
      const rest = inner.slice(name.length);
      const value = env[name];
      if (rest === '') out += value ?? '';
      else if (rest.startsWith(':-')) out += value ? value : interpolate(rest.slice(2), env);
      else if (rest.startsWith('-')) out += value !== undefined ? value : interpolate(rest.slice(1), env);
      else if (rest.startsWith(':?')) {
        if (!value) throw new Error(`interpolation: ${name}: ${rest.slice(2) || 'not set'}`);
        out += value;
      } else throw new Error(`interpolation: unsupported substitution \${${inner}}`);
      i = close + 1;
      continue;
    }
    const name = NAME.exec(text.slice(i + 1))?.[0];
    if (name) {
      out += env[name] ?? '';
      i += 1 + name.length;
      continue;
    }
    out += '$';
    i++;
  }
  return out;
}

function interpolateDeep(value: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((item) => interpolateDeep(item, env));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[interpolate(key, env)] = interpolateDeep(item, env);
    return out;
  }
  return value;
}

/**
 * What a job sees after `buildkite-agent pipeline upload [--no-interpolation]` of `text` (YAML or
 * JSON) from an uploading job whose environment is `env`.
 */
export function simulateUpload(
  text: string,
  options: { noInterpolation: boolean; env?: Readonly<Record<string, string | undefined>> },
): unknown {
  const data: unknown = parseYaml(text);
  return options.noInterpolation ? data : interpolateDeep(data, options.env ?? {});
}

/**
 * What upload-time interpolation would change in `text`: a single `$NAME`, `${…}` or `$(…)` (`$$`
 * pairs are skipped), and `\$$`, where Buildkite reads `\$` as an escape so the literal backslash
 * cannot survive (use verbatim mode for such values).
 */
export function findUnescapedDollars(text: string): string[] {
  const hits: string[] = [];
  const pattern = /\\\$\$|\$\$|\$(\{[^}]*\}?|\([^)]*\)?|[A-Za-z_][A-Za-z0-9_]*)/g;
  for (const match of text.matchAll(pattern)) if (match[0] !== '$$') hits.push(match[0]);
  return hits;
}
