/**
 * YAML 1.1 loading with PyYAML's exact implicit resolvers (upstream reads recipes with
 * `yaml.safe_load`), duplicate keys rejected, and source positions for every node so that
 * diagnostics can say `file:line:col`.
 */
import { PyFloat, type PyValue } from '@perf-eval/util';
import {
  Alias,
  Composer,
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  Lexer,
  type Node as YamlNode,
  Parser,
  type ScalarTag,
  type Tags,
  visit,
} from 'yaml';

/**
 * Limits that keep a hostile file from exhausting time, memory or the stack (every load stays well
 * under a second and a few hundred MB; see bench/hostile.mjs). Real recipes and profile files are a
 * few KB, nest about 6 levels and use anchors for a handful of shared maps, so each limit is far above
 * anything legitimate:
 * - `MAX_YAML_BYTES` 1 MiB: 100× the largest recipe; parsing 1 MiB takes well under a second.
 * - `MAX_NESTING_DEPTH` 64 levels: checked while parsing, before the composer recurses (100 000 levels
 *   overflow its stack, and lexing them alone takes seconds).
 * - `MAX_ALIAS_NODES` 10 000 nodes produced by expanding aliases and merge keys in total: a 380-byte
 *   "billion laughs" file would otherwise expand to 9^9 nodes (gigabytes).
 * - `MAX_YAML_TOKENS` 20 000 lexer tokens (scalars, indicators, line breaks; counted while lexing): the
 *   largest recipe has ~300. A 1 MiB file of `[1,1,1,…` is half a million nodes, which took 680 MB and
 *   many seconds to parse; the byte limit alone does not bound the node count.
 */
export const MAX_YAML_BYTES = 1024 * 1024;
export const MAX_YAML_TOKENS = 20_000;
export const MAX_NESTING_DEPTH = 64;
export const MAX_ALIAS_NODES = 10_000;

const BOOL_TRUE = new Set(['yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const BOOL_RE = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const INT_RE =
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const FLOAT_RE =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
/** The scalars that only YAML 1.1 reads as booleans; worth a warning where a boolean is expected. */
export const YAML11_ONLY_BOOLEANS = /^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$/;

function sexagesimal(text: string): number {
  return text.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
}

function resolveInt(source: string): number {
  let text = source.replace(/_/g, '');
  let sign = 1;
  if (text.startsWith('-') || text.startsWith('+')) {
    if (text.startsWith('-')) sign = -1;
    text = text.slice(1);
  }
  if (text === '0') return 0;
  if (text.startsWith('0b')) return sign * parseInt(text.slice(2), 2);
  if (text.startsWith('0x')) return sign * parseInt(text.slice(2), 16);
  if (text.startsWith('0')) return sign * parseInt(text, 8);
  if (text.includes(':')) return sign * sexagesimal(text);
  return sign * Number(text);
}

function resolveFloat(source: string): PyFloat {
  let text = source.replace(/_/g, '').toLowerCase();
  let sign = 1;
  if (text.startsWith('-') || text.startsWith('+')) {
    if (text.startsWith('-')) sign = -1;
    text = text.slice(1);
  }
  if (text === '.inf') return new PyFloat(sign * Infinity);
  if (text === '.nan') return new PyFloat(NaN);
  if (text.includes(':')) return new PyFloat(sign * sexagesimal(text));
  return new PyFloat(sign * Number(text));
}

const pyBool: ScalarTag = {
  tag: 'tag:yaml.org,2002:bool',
  default: true,
  test: BOOL_RE,
  identify: (value) => typeof value === 'boolean',
  resolve: (source) => BOOL_TRUE.has(source),
  stringify: ({ value }) => (value ? 'true' : 'false'),
};

const pyInt: ScalarTag = {
  tag: 'tag:yaml.org,2002:int',
  default: true,
  test: INT_RE,
  identify: (value) => typeof value === 'number' && Number.isInteger(value),
  resolve: resolveInt,
  stringify: ({ value }) => String(value),
};

const pyFloat: ScalarTag = {
  tag: 'tag:yaml.org,2002:float',
  default: true,
  test: FLOAT_RE,
  identify: (value) => value instanceof PyFloat,
  resolve: resolveFloat,
  stringify: ({ value }) => String(value),
};

const REPLACED = new Set([
  'tag:yaml.org,2002:bool',
  'tag:yaml.org,2002:int',
  'tag:yaml.org,2002:float',
  'tag:yaml.org,2002:timestamp',
]);

function pyyamlTags(tags: Tags): Tags {
  const kept = tags.filter((tag) =>
    typeof tag === 'string'
      ? ![
          'bool',
          'int',
          'intHex',
          'intOct',
          'intTime',
          'float',
          'floatExp',
          'floatNaN',
          'floatTime',
          'timestamp',
        ].includes(tag)
      : !REPLACED.has(tag.tag),
  );
  // Implicit resolution tries tags in order; PyYAML's patterns do not overlap, so placement is free.
  return [...kept, pyBool, pyInt, pyFloat];
}

export type PathSegment = string | number;
export type Path = readonly PathSegment[];

export function pathToString(path: Path): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

export interface SourcePosition {
  line: number;
  col: number;
}

export interface NodeInfo {
  /** Position of the value. */
  value: SourcePosition;
  /** Position of the mapping key, when the node is a map entry. */
  key?: SourcePosition;
  /** The scalar's source text, for scalars. */
  source?: string;
  /** The mapping key was not a string in YAML 1.1 (e.g. `1:` or `on:`); upstream rejects such keys in places. */
  nonStringKey?: boolean;
}

export interface LoadedYaml {
  /** The document with PyYAML types: YAML floats are `PyFloat`. */
  data: PyValue;
  /** Position info by path string (`''` is the root). */
  nodes: Map<string, NodeInfo>;
  /** Parse errors: message with position. An empty list means `data` is usable. */
  errors: { message: string; line: number; col: number }[];
}

/** A limit of the loader was hit; reported like a parse error, at `offset`. */
class LoaderLimit extends Error {
  constructor(
    message: string,
    readonly offset: number | undefined,
  ) {
    super(message);
  }
}

/**
 * Lex, parse and compose like `yaml.parseDocument`, but watch the parser's stack while tokens stream
 * in and stop at the first level past `MAX_NESTING_DEPTH` (its stack holds the document, one entry per
 * open collection and at most a couple more for the token in progress).
 */
function parseGuarded(text: string, lineCounter: LineCounter): Document {
  const parser = new Parser(lineCounter.addNewLine);
  function* tokens() {
    lineCounter.addNewLine(0); // as Parser.parse does: line 1 starts at offset 0
    let count = 0;
    for (const lexeme of new Lexer().lex(text)) {
      if (++count > MAX_YAML_TOKENS) {
        throw new LoaderLimit(
          `the document has more than ${MAX_YAML_TOKENS} YAML tokens (a recipe has a few hundred); is this the right file?`,
          parser.offset,
        );
      }
      yield* parser.next(lexeme);
      if (parser.stack.length > MAX_NESTING_DEPTH + 3) {
        throw new LoaderLimit(
          `nested deeper than ${MAX_NESTING_DEPTH} levels; flatten the document`,
          parser.offset,
        );
      }
    }
    yield* parser.end();
  }
  // Duplicate keys are found by the walk below (it names both lines, and yaml's check is quadratic).
  const composer = new Composer({
    version: '1.1',
    customTags: pyyamlTags,
    uniqueKeys: false,
    merge: true,
    prettyErrors: false,
  });
  let doc: Document | undefined;
  for (const next of composer.compose(tokens(), true, text.length)) {
    if (!doc) doc = next;
    else {
      throw new LoaderLimit(
        'the file holds more than one YAML document (a second ---); keep one',
        next.range[0],
      );
    }
  }
  return doc as Document;
}

export function loadYaml11(text: string): LoadedYaml {
  const lineCounter = new LineCounter();
  const position = (offset: number | undefined): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { line, col };
  };
  const nodes = new Map<string, NodeInfo>();
  const size = Buffer.byteLength(text, 'utf8');
  if (size > MAX_YAML_BYTES) {
    return {
      data: null,
      nodes,
      errors: [
        {
          message: `the document is ${size} bytes, above the ${MAX_YAML_BYTES}-byte (1 MiB) limit`,
          line: 1,
          col: 1,
        },
      ],
    };
  }
  let doc: Document;
  try {
    doc = parseGuarded(text, lineCounter);
  } catch (error) {
    if (!(error instanceof LoaderLimit)) throw error;
    return { data: null, nodes, errors: [{ message: error.message, ...position(error.offset) }] };
  }
  const errors = doc.errors.map((error) => {
    const pos = position(error.pos[0]);
    const firstLine = error.message.split('\n')[0] ?? error.message;
    return { message: firstLine.replace(/ at line \d+, column \d+:?$/, ''), ...pos };
  });
  if (errors.length > 0) return { data: null, nodes, errors };

  const offsetOf = (node: unknown): number | undefined => (node as YamlNode | null | undefined)?.range?.[0];

  // Each alias's target, found in one pass in document order (an alias names the closest anchor before
  // it). `Alias.resolve` would search the whole document for every alias expansion instead.
  const anchors = new Map<string, unknown>();
  const aliasTargets = new Map<unknown, unknown>();
  visit(doc, {
    Node: (_key, node) => {
      if (isAlias(node)) aliasTargets.set(node, anchors.get(node.source));
      else if (node.anchor) anchors.set(node.anchor, node);
    },
  });
  const resolveAlias = (alias: Alias): unknown => {
    const target = aliasTargets.get(alias);
    if (target === undefined)
      throw new LoaderLimit(
        `alias *${alias.source} has no anchor &${alias.source} before it`,
        offsetOf(alias),
      );
    return target;
  };

  const keyText = (node: unknown): string => {
    const key = isAlias(node) ? resolveAlias(node as Alias) : node;
    if (isScalar(key)) {
      const value = key.value;
      if (typeof value === 'string') return value;
      if (value === true) return 'True';
      if (value === false) return 'False';
      if (value === null) return 'None';
      if (value instanceof PyFloat) return String(value.value);
      return String(value);
    }
    if (key === null || key === undefined) return 'None';
    // PyYAML: "found unhashable key". (Stringifying it would also expand any aliases inside.)
    throw new LoaderLimit(
      `a ${isSeq(key) ? 'list' : 'map'} cannot be a mapping key (PyYAML: unhashable key); use a string key`,
      offsetOf(node),
    );
  };

  const nonStringKeys = new Set<string>();
  // Ancestors of the node being walked: an alias to one of them would recurse forever.
  const open = new Set<unknown>();
  let aliasNodes = 0;
  const walk = (
    node: unknown,
    path: PathSegment[],
    keyPos: SourcePosition | undefined,
    depth: number,
    expanded: boolean,
  ): PyValue => {
    let target = node;
    if (isAlias(target)) {
      target = resolveAlias(target as Alias);
      if (open.has(target))
        throw new LoaderLimit(
          `alias *${(node as Alias).source} refers to a node that contains it (a recursive alias); use a plain value`,
          offsetOf(node),
        );
      expanded = true;
    }
    if (depth > MAX_NESTING_DEPTH)
      throw new LoaderLimit(
        `nested deeper than ${MAX_NESTING_DEPTH} levels (aliases included); flatten the document`,
        offsetOf(node),
      );
    if (expanded && ++aliasNodes > MAX_ALIAS_NODES) {
      throw new LoaderLimit(
        `aliases expand to more than ${MAX_ALIAS_NODES} nodes (an alias bomb?); write the values out or use fewer aliases`,
        offsetOf(node),
      );
    }
    const info: NodeInfo = { value: position(offsetOf(target)) };
    if (keyPos) info.key = keyPos;
    if (nonStringKeys.has(pathToString(path))) info.nonStringKey = true;
    if (isScalar(target))
      info.source = typeof target.source === 'string' ? target.source : String(target.value);
    nodes.set(pathToString(path), info);
    if (target === null || target === undefined) return null;
    if (isScalar(target)) {
      const value = target.value;
      if (value === undefined) return null;
      return value as PyValue;
    }
    if (isSeq(target)) {
      open.add(target);
      const out = target.items.map((item, index) =>
        walk(item, [...path, index], undefined, depth + 1, expanded),
      );
      open.delete(target);
      return out;
    }
    if (isMap(target)) {
      open.add(target);
      const out: Record<string, PyValue> = {};
      const explicit: [string, unknown, SourcePosition][] = [];
      const seen = new Map<string, SourcePosition>();
      for (const pair of target.items) {
        if (!isPair(pair)) continue;
        const key = pair.key;
        const keyPosition = position(offsetOf(key));
        // Only a plain `<<` is a merge key; a quoted "<<" is an ordinary key (as in PyYAML).
        if (isScalar(key) && key.type === 'PLAIN' && key.source === '<<') {
          // PyYAML merge: merged keys come first; explicit keys override them in place.
          const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
          for (const source of sources) {
            const resolved = isAlias(source) ? resolveAlias(source as Alias) : source;
            if (!isMap(resolved)) continue;
            if (open.has(resolved))
              throw new LoaderLimit(
                `merge key << refers to a map that contains it (a recursive alias)`,
                offsetOf(source),
              );
            for (const merged of resolved.items) {
              if (!isPair(merged)) continue;
              const name = keyText(merged.key);
              if (!(name in out)) {
                out[name] = walk(
                  merged.value,
                  [...path, name],
                  position(offsetOf(merged.key)),
                  depth + 1,
                  true,
                );
              }
            }
          }
          continue;
        }
        const name = keyText(key);
        const first = seen.get(name);
        if (first) {
          const where = pathToString(path);
          throw new LoaderLimit(
            `duplicate key '${name}'${where ? ` in ${where}` : ''}: first on line ${first.line}, again on line ${keyPosition.line}; keep one of them`,
            offsetOf(key),
          );
        }
        seen.set(name, keyPosition);
        if (!(isScalar(key) && typeof key.value === 'string'))
          nonStringKeys.add(pathToString([...path, name]));
        explicit.push([name, pair.value, keyPosition]);
      }
      for (const [name, value, keyPosition] of explicit) {
        out[name] = walk(value, [...path, name], keyPosition, depth + 1, expanded);
      }
      open.delete(target);
      return out;
    }
    return null;
  };

  try {
    const data = walk(doc.contents, [], undefined, 0, false);
    return { data, nodes, errors };
  } catch (error) {
    if (!(error instanceof LoaderLimit)) throw error;
    return { data: null, nodes: new Map(), errors: [{ message: error.message, ...position(error.offset) }] };
  }
}
