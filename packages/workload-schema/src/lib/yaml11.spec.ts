import { PyFloat, pyStr, type PyValue } from '@perf-eval/util';
import { loadYaml11, MAX_ALIAS_NODES, MAX_NESTING_DEPTH, MAX_YAML_BYTES, MAX_YAML_TOKENS } from './yaml11.js';

/**
 * Expected values are PyYAML 6.0 `yaml.safe_load('k: <scalar>')['k']` (recipe-compat.md §2.1), written
 * as [python type, str(value)]. The table was checked once by hand against PyYAML 6.0.3; the test
 * itself needs no Python.
 */
type PyType = 'bool' | 'int' | 'float' | 'str' | 'NoneType';
const PYYAML: [scalar: string, type: PyType, str: string][] = [
  // booleans: exactly PyYAML's list
  ['yes', 'bool', 'True'],
  ['Yes', 'bool', 'True'],
  ['YES', 'bool', 'True'],
  ['no', 'bool', 'False'],
  ['No', 'bool', 'False'],
  ['NO', 'bool', 'False'],
  ['true', 'bool', 'True'],
  ['True', 'bool', 'True'],
  ['TRUE', 'bool', 'True'],
  ['false', 'bool', 'False'],
  ['False', 'bool', 'False'],
  ['FALSE', 'bool', 'False'],
  ['on', 'bool', 'True'],
  ['On', 'bool', 'True'],
  ['ON', 'bool', 'True'],
  ['off', 'bool', 'False'],
  ['Off', 'bool', 'False'],
  ['OFF', 'bool', 'False'],
  // ... and not the `yaml` library's 1.1 extras
  ['y', 'str', 'y'],
  ['Y', 'str', 'Y'],
  ['n', 'str', 'n'],
  ['N', 'str', 'N'],
  ['oN', 'str', 'oN'],
  ['tRUE', 'str', 'tRUE'],
  // integers
  ['0', 'int', '0'],
  ['-0', 'int', '0'],
  ['+5', 'int', '5'],
  ['6000', 'int', '6000'],
  ['010', 'int', '8'],
  ['0x1F', 'int', '31'],
  ['0x_1F', 'int', '31'],
  ['0b101', 'int', '5'],
  ['1_000', 'int', '1000'],
  ['1__0', 'int', '10'],
  ['1:30', 'int', '90'],
  ['-1:30', 'int', '-90'],
  ['12:30:00', 'int', '45000'],
  ['190:20:30', 'int', '685230'],
  ['0o17', 'str', '0o17'],
  ['08', 'str', '08'],
  ['09', 'str', '09'],
  ['1:60', 'str', '1:60'],
  ['1,000', 'str', '1,000'],
  // floats: need a '.', and an exponent needs a sign
  ['1.0', 'float', '1.0'],
  ['0.0', 'float', '0.0'],
  ['-0.0', 'float', '-0.0'],
  ['0.001', 'float', '0.001'],
  ['40960.0', 'float', '40960.0'],
  ['1.', 'float', '1.0'],
  ['3.', 'float', '3.0'],
  ['.5', 'float', '0.5'],
  ['1_000.5', 'float', '1000.5'],
  ['1.5e-5', 'float', '1.5e-05'],
  ['1.5e+5', 'float', '150000.0'],
  ['-1.5E-3', 'float', '-0.0015'],
  ['1:30.5', 'float', '90.5'],
  ['1e-5', 'str', '1e-5'],
  ['1.5e5', 'str', '1.5e5'],
  ['1e5', 'str', '1e5'],
  ['1E+5', 'str', '1E+5'],
  ['0.1.2', 'str', '0.1.2'],
  ['.inf', 'float', 'inf'],
  ['.Inf', 'float', 'inf'],
  ['+.inf', 'float', 'inf'],
  ['-.inf', 'float', '-inf'],
  ['.nan', 'float', 'nan'],
  ['.NaN', 'float', 'nan'],
  ['inf', 'str', 'inf'],
  ['NaN', 'str', 'NaN'],
  // nulls
  ['~', 'NoneType', 'None'],
  ['null', 'NoneType', 'None'],
  ['Null', 'NoneType', 'None'],
  ['NULL', 'NoneType', 'None'],
  ['', 'NoneType', 'None'],
  // plain strings
  ['skip', 'str', 'skip'],
  ['/usr/local/cuda', 'str', '/usr/local/cuda'],
];

function pyType(value: PyValue): PyType | 'other' {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'other';
  if (value instanceof PyFloat) return 'float';
  if (typeof value === 'string') return 'str';
  return 'other';
}

function scalar(text: string): PyValue {
  const loaded = loadYaml11(`k: ${text}\n`);
  expect(loaded.errors).toEqual([]);
  return (loaded.data as Record<string, PyValue>)['k'];
}

describe('loadYaml11: PyYAML safe_load resolvers', () => {
  it.each(PYYAML)('%j resolves like PyYAML (%s %s)', (text, type, rendered) => {
    const value = scalar(text);
    expect(pyType(value)).toBe(type);
    expect(pyStr(value)).toBe(rendered);
  });

  it('keeps 1.0 a float and 1 an int, so pyStr renders them the Python way', () => {
    const { data, errors } = loadYaml11('a: 1.0\nb: 1\nc: 40960.0\nd: 6000\n');
    expect(errors).toEqual([]);
    const map = data as Record<string, PyValue>;
    expect(map['a']).toBeInstanceOf(PyFloat);
    expect(map['b']).toBe(1);
    expect(['a', 'b', 'c', 'd'].map((k) => pyStr(map[k]))).toEqual(['1.0', '1', '40960.0', '6000']);
  });

  it('quoted scalars stay strings', () => {
    const { data } = loadYaml11(`a: "yes"\nb: '010'\nc: "1.0"\nd: 'null'\n`);
    expect(data).toEqual({ a: 'yes', b: '010', c: '1.0', d: 'null' });
  });

  it('resolves boolean-looking map keys the PyYAML way (y/n stay strings, on becomes True)', () => {
    // PyYAML: {'y': 2, 'n': 3, True: 4}; the rewrite keys maps by py-str.
    const { data, errors } = loadYaml11('{y: 2, n: 3, on: 4}');
    expect(errors).toEqual([]);
    expect(data).toEqual({ y: 2, n: 3, True: 4 });
  });

  it('flow and block collections keep source order', () => {
    const { data } = loadYaml11('z: 1\na: [3, 1.5, off]\nm: {b: 1, a: 2}\n');
    const map = data as Record<string, PyValue>;
    expect(Object.keys(map)).toEqual(['z', 'a', 'm']);
    expect(Object.keys(map['m'] as object)).toEqual(['b', 'a']);
    expect((map['a'] as PyValue[]).map((v) => pyStr(v))).toEqual(['3', '1.5', 'False']);
  });

  it('folded serve_args keep a trailing space on a line (two spaces between tokens)', () => {
    const { data } = loadYaml11('s: >-\n  --a 1\n  --b \n  --c {"x":0}\n');
    expect((data as Record<string, PyValue>)['s']).toBe('--a 1 --b  --c {"x":0}');
  });
});

describe('loadYaml11: merge keys', () => {
  it('resolves a single << merge; explicit keys override in place', () => {
    // PyYAML: {'base': {'a': 1, 'b': 2}, 'x': {'a': 1, 'b': 3, 'c': 4}}
    const { data, errors } = loadYaml11('base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  b: 3\n  c: 4\n');
    expect(errors).toEqual([]);
    const x = (data as Record<string, PyValue>)['x'] as Record<string, PyValue>;
    expect(x).toEqual({ a: 1, b: 3, c: 4 });
    expect(Object.keys(x)).toEqual(['a', 'b', 'c']);
  });

  it('an explicit key written before << still wins, merged keys come first', () => {
    // PyYAML: {'x': {'a': 1, 'b': 3}}
    const { data } = loadYaml11('base: &b {a: 1, b: 2}\nx:\n  b: 3\n  <<: *b\n');
    const x = (data as Record<string, PyValue>)['x'] as Record<string, PyValue>;
    expect(x).toEqual({ a: 1, b: 3 });
    expect(Object.keys(x)).toEqual(['a', 'b']);
  });

  it('a merge list: earlier maps win', () => {
    // PyYAML: {'x': {'a': 1, 'c': 9, 'd': 1}}
    const { data } = loadYaml11('b1: &b1 {a: 1}\nb2: &b2 {a: 2, c: 9}\nx:\n  <<: [*b1, *b2]\n  d: 1\n');
    const x = (data as Record<string, PyValue>)['x'] as Record<string, PyValue>;
    expect(x).toEqual({ a: 1, c: 9, d: 1 });
    expect(Object.keys(x)).toEqual(['a', 'c', 'd']);
  });

  it('merged scalars keep their PyYAML types', () => {
    const { data } = loadYaml11(
      'defaults: &d {timeout: 6000, max_length: 40960.0, tokenized_requests: false}\nmodel_args:\n  <<: *d\n',
    );
    const args = (data as Record<string, PyValue>)['model_args'] as Record<string, PyValue>;
    expect(Object.entries(args).map(([k, v]) => `${k}=${pyStr(v)}`)).toEqual([
      'timeout=6000',
      'max_length=40960.0',
      'tokenized_requests=False',
    ]);
  });

  it('a quoted "<<" is an ordinary key', () => {
    // PyYAML: {'x': {'<<': 1}}
    expect(loadYaml11('x: {"<<": 1}\n').data).toEqual({ x: { '<<': 1 } });
  });

  it('plain aliases resolve to the anchored value', () => {
    const { data } = loadYaml11('a: &x [1, 2]\nb: *x\n');
    expect(data).toEqual({ a: [1, 2], b: [1, 2] });
  });
});

describe('loadYaml11: errors and positions', () => {
  it('rejects duplicate keys (PyYAML would keep the last) with the position of the duplicate', () => {
    const loaded = loadYaml11('a: 1\nb: 2\na: 3\n');
    expect(loaded.data).toBeNull();
    expect(loaded.errors[0]).toEqual({
      message: "duplicate key 'a': first on line 1, again on line 3; keep one of them",
      line: 3,
      col: 1,
    });
  });

  it('rejects duplicate keys in nested maps', () => {
    const loaded = loadYaml11('vllm:\n  model: a\n  env:\n    X: 1\n    X: 2\n');
    expect(loaded.errors[0]).toMatchObject({
      message: "duplicate key 'X' in vllm.env: first on line 4, again on line 5; keep one of them",
      line: 5,
      col: 5,
    });
  });

  it('reports bad indentation with line and column', () => {
    const loaded = loadYaml11('x:\n  a: 1\n   b: 2\n');
    expect(loaded.data).toBeNull();
    expect(loaded.errors.length).toBeGreaterThan(0);
    expect(loaded.errors[0]).toMatchObject({ line: 2, col: 6 });
    expect(loaded.errors[0]?.message).not.toMatch(/at line/);
  });

  it('reports an unterminated flow sequence', () => {
    const loaded = loadYaml11('x: [1, 2');
    expect(loaded.data).toBeNull();
    expect(loaded.errors[0]).toMatchObject({ line: 1, col: 9 });
  });

  it('records 1-based positions of keys and values by path', () => {
    const loaded = loadYaml11('gpu: H200\nvllm:\n  model: m\nlist:\n  - name: a\n');
    expect(loaded.nodes.get('gpu')).toMatchObject({
      key: { line: 1, col: 1 },
      value: { line: 1, col: 6 },
      source: 'H200',
    });
    expect(loaded.nodes.get('vllm.model')).toMatchObject({
      key: { line: 3, col: 3 },
      value: { line: 3, col: 10 },
    });
    expect(loaded.nodes.get('list[0].name')).toMatchObject({ value: { line: 5, col: 11 } });
  });

  it('an empty document is null without errors', () => {
    expect(loadYaml11('')).toMatchObject({ data: null, errors: [] });
    expect(loadYaml11('# only a comment\n')).toMatchObject({ data: null, errors: [] });
  });
});

/** A document nested `depth` levels deep in flow style: `a: [[[…]]]`. */
function flowNest(depth: number): string {
  return `a: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
}

/** The classic "billion laughs": 9 levels of 9 aliases each, 9^9 nodes when expanded. */
const ALIAS_BOMB = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((name, i) => {
    const prev = 'abcdefgh'[i] as string;
    return `${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`;
  }),
].join('\n');

describe('loadYaml11: hostile documents hit limits, not the heap or the stack', () => {
  it('rejects an alias bomb once expansions pass the limit, at the alias', () => {
    expect(Buffer.byteLength(ALIAS_BOMB)).toBeLessThan(400);
    const loaded = loadYaml11(ALIAS_BOMB);
    expect(loaded.data).toBeNull();
    expect(loaded.errors).toEqual([
      {
        message: `aliases expand to more than ${MAX_ALIAS_NODES} nodes (an alias bomb?); write the values out or use fewer aliases`,
        line: expect.any(Number),
        col: expect.any(Number),
      },
    ]);
  });

  it('counts merge keys as expansions too', () => {
    const lines = ['a0: &a0 {k: 1, l: 2, m: 3, n: 4, o: 5, p: 6, q: 7, r: 8, s: 9, t: 10}'];
    for (let i = 1; i < 8; i++)
      lines.push(
        `a${i}: &a${i} {${Array.from({ length: 10 }, (_, j) => `x${j}: {<<: *a${i - 1}}`).join(', ')}}`,
      );
    const loaded = loadYaml11(lines.join('\n'));
    expect(loaded.errors[0]?.message).toMatch(/^aliases expand to more than/);
  });

  it('keeps ordinary anchors, aliases and merges working', () => {
    const loaded = loadYaml11('base: &b {x: 1, y: [1, 2]}\nuse: *b\nmerged: {<<: *b, y: 3}\n');
    expect(loaded.errors).toEqual([]);
    expect(loaded.data).toEqual({
      base: { x: 1, y: [1, 2] },
      use: { x: 1, y: [1, 2] },
      merged: { x: 1, y: 3 },
    });
  });

  it('rejects a recursive alias instead of recursing', () => {
    expect(loadYaml11('a: &a [1, *a]\n').errors[0]?.message).toBe(
      'alias *a refers to a node that contains it (a recursive alias); use a plain value',
    );
    expect(loadYaml11('a: &a {b: 1, <<: *a}\n').errors[0]?.message).toMatch(/recursive alias/);
  });

  it('accepts nesting up to the limit and rejects deeper nesting while parsing', () => {
    expect(loadYaml11(flowNest(MAX_NESTING_DEPTH - 1)).errors).toEqual([]);
    for (const text of [
      flowNest(MAX_NESTING_DEPTH + 5),
      flowNest(100_000),
      `${'- '.repeat(100_000)}x\n`,
      'a: {'.repeat(50_000),
    ]) {
      const loaded = loadYaml11(text);
      expect(loaded.data).toBeNull();
      expect(loaded.errors).toHaveLength(1);
      expect(loaded.errors[0]?.message).toBe(
        `nested deeper than ${MAX_NESTING_DEPTH} levels; flatten the document`,
      );
      expect(loaded.errors[0]?.line).toBe(1);
    }
  });

  it('rejects deep nesting built from aliases', () => {
    const lines = ['l0: &l0 [1]'];
    for (let i = 1; i <= 40; i++) lines.push(`l${i}: &l${i} [[*l${i - 1}]]`);
    expect(loadYaml11(lines.join('\n')).errors[0]?.message).toMatch(
      /^nested deeper than 64 levels \(aliases included\)|^aliases expand/,
    );
  });

  it('rejects text above the size limit without parsing it', () => {
    const loaded = loadYaml11(`a: "${'x'.repeat(MAX_YAML_BYTES)}"\n`);
    expect(loaded.errors).toEqual([
      {
        message: `the document is ${MAX_YAML_BYTES + 6} bytes, above the ${MAX_YAML_BYTES}-byte (1 MiB) limit`,
        line: 1,
        col: 1,
      },
    ]);
  });

  it('rejects a list or map as a mapping key (PyYAML: unhashable) without stringifying it (found by fast-check)', () => {
    expect(loadYaml11('? <<: *a').errors).toEqual([
      {
        message: 'a map cannot be a mapping key (PyYAML: unhashable key); use a string key',
        line: 1,
        col: 5,
      },
    ]);
    expect(loadYaml11('? [1, 2]\n: x\n').errors[0]?.message).toBe(
      'a list cannot be a mapping key (PyYAML: unhashable key); use a string key',
    );
    expect(loadYaml11('k: &k key\n*k : v\n').data).toEqual({ k: 'key', key: 'v' });
  });

  it('rejects a second document naming the separator', () => {
    expect(loadYaml11('a: 1\n---\nb: 2\n').errors).toEqual([
      { message: 'the file holds more than one YAML document (a second ---); keep one', line: 2, col: 1 },
    ]);
  });

  it('finds duplicates among many keys and names both lines', () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `k${i}: ${i}`);
    keys.push('k7: again');
    const loaded = loadYaml11(keys.join('\n'));
    expect(loaded.errors).toEqual([
      {
        message: "duplicate key 'k7': first on line 8, again on line 2001; keep one of them",
        line: 2001,
        col: 1,
      },
    ]);
  });

  it('stops lexing a document with too many tokens (a 1 MiB flat list is half a million nodes)', () => {
    const loaded = loadYaml11(`x: [${'1,'.repeat(400_000)}1]\n`);
    expect(loaded.errors).toEqual([
      {
        message: `the document has more than ${MAX_YAML_TOKENS} YAML tokens (a recipe has a few hundred); is this the right file?`,
        line: 1,
        col: expect.any(Number),
      },
    ]);
  });
});
