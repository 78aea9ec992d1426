import { compactPythonJsonBytes as compactJsonBytes, rewritePythonJson } from '@perf-eval/util';
import { checkJsonBytes } from './json-bytes.js';

const compactJsonText = (text: string) => rewritePythonJson(text, { compact: true });

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  ' ',
  '\t',
  '\r',
  '\n',
  '"',
  '\\',
  '\\"',
  '\\u00e9',
  '\\n',
  'é',
  '😀',
  '—',
  'a',
  'key',
  '0',
  '-1',
  '1.0',
  '2e-5',
  '.5',
  '01',
  'true',
  'false',
  'null',
  'NaN',
  'Infinity',
  '-Infinity',
  'nul',
  '"x"',
  '"a b"',
  '"NaN"',
  '\u0001',
  '\u007f',
];

function randomValue(rand: () => number, depth: number): string {
  const r = rand();
  const ws = () => [' ', '', '', '\t', ' \r\n '][Math.floor(rand() * 5)] as string;
  if (depth > 3 || r < 0.3) {
    const scalars = [
      '1',
      '-0.5',
      '1.0',
      '1e3',
      'true',
      'false',
      'null',
      'NaN',
      '-Infinity',
      '"é😀\\" \\\\"',
      '"plain text"',
      '"\\u00fc"',
    ];
    return scalars[Math.floor(rand() * scalars.length)] as string;
  }
  const n = Math.floor(rand() * 4);
  if (r < 0.65)
    return `[${ws()}${Array.from({ length: n }, () => randomValue(rand, depth + 1)).join(`${ws()},${ws()}`)}${ws()}]`;
  return `{${ws()}${Array.from({ length: n }, (_, i) => `"k${i} é"${ws()}:${ws()}${randomValue(rand, depth + 1)}`).join(`${ws()},${ws()}`)}${ws()}}`;
}

function mutate(rand: () => number, text: string): string {
  let out = text;
  const edits = Math.floor(rand() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rand() * (out.length + 1));
    const op = rand();
    if (op < 0.4)
      out = out.slice(0, at) + (PIECES[Math.floor(rand() * PIECES.length)] as string) + out.slice(at);
    else if (op < 0.8) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(rand() * 3));
    else out = out.slice(0, at);
  }
  // Keep the input valid UTF-16 so that its UTF-8 encoding round-trips.
  return out.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '?');
}

describe("checkJsonBytes (with util's compactPythonJsonBytes)", () => {
  it('agree with compactJsonText and JSON.parse on 20,000 random (often broken) JSON texts', () => {
    const rand = prng(20260820);
    let valid = 0;
    const mismatches: string[] = [];
    for (let n = 0; n < 20_000; n++) {
      const text = mutate(rand, randomValue(rand, 0));
      const bytes = Buffer.from(text);
      const fromBytes = compactJsonBytes(bytes);
      const fromText = compactJsonText(text);
      if (fromBytes.bytes.toString('utf8') !== fromText.text || fromBytes.nonFinite !== fromText.nonFinite)
        mismatches.push(`compact: ${text}`);
      let parsed = true;
      try {
        JSON.parse(fromText.text);
      } catch {
        parsed = false;
      }
      let checked = true;
      try {
        checkJsonBytes(fromBytes.bytes);
      } catch {
        checked = false;
      }
      if (checked !== parsed) mismatches.push(`check: ${text}`);
      if (parsed) valid++;
    }
    expect(mismatches).toEqual([]);
    // Both outcomes were exercised substantially.
    expect(valid).toBeGreaterThan(2000);
    expect(valid).toBeLessThan(18_000);
  });

  it('returns the input itself when it is already compact, and strips a BOM', () => {
    const compact = Buffer.from('{"a":[1,2]}');
    expect(compactJsonBytes(compact).bytes).toBe(compact);
    expect(compactJsonBytes(Buffer.from('\ufeff{"a": 1}')).bytes.toString()).toBe('{"a":1}');
    expect(compactJsonBytes(Buffer.from('[NaN, NaN, NaN]'))).toEqual({
      bytes: Buffer.from('[null,null,null]'),
      nonFinite: 3,
    });
  });
});
