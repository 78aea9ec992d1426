import { describe, expect, it } from 'vitest';
import { compactPythonJsonBytes, parsePythonJson, rewritePythonJson } from './python-json.js';

describe('rewritePythonJson', () => {
  it('replaces bare NaN / Infinity / -Infinity outside strings only, keeping layout and literals', () => {
    const text = '{ "a": 1.0, "b": [5, -Infinity, Infinity], "s": "NaN \\" Infinity", "n": NaN }';
    expect(rewritePythonJson(text)).toEqual({
      text: '{ "a": 1.0, "b": [5, null, null], "s": "NaN \\" Infinity", "n": null }',
      nonFinite: 3,
    });
  });

  it('compacts whitespace outside strings on request and drops a BOM', () => {
    expect(
      rewritePythonJson('{ "a" : 1.0 , "b":[ 5, -Infinity ], "s": "x y", "n": NaN }\r', { compact: true }),
    ).toEqual({
      text: '{"a":1.0,"b":[5,null],"s":"x y","n":null}',
      nonFinite: 2,
    });
    expect(rewritePythonJson('\ufeff{"a":"\\\\"}', { compact: true }).text).toBe('{"a":"\\\\"}');
    expect(rewritePythonJson('\ufeff{"a": 1}').text).toBe('{"a": 1}');
    expect(rewritePythonJson('   ', { compact: true }).text).toBe('');
  });

  it('returns the input itself when nothing changes', () => {
    const text = '{"a": [1, 2], "s": "NaN"}';
    expect(rewritePythonJson(text)).toEqual({ text, nonFinite: 0 });
  });

  it('takes a custom replacement per token', () => {
    expect(
      rewritePythonJson('[NaN,-Infinity,Infinity]', { replacement: (token) => JSON.stringify(`<${token}>`) })
        .text,
    ).toBe('["<NaN>","<-Infinity>","<Infinity>"]');
  });

  it('copes with an escaped backslash before a closing quote and with an unterminated string', () => {
    expect(rewritePythonJson('["a\\\\", NaN]').text).toBe('["a\\\\", null]');
    expect(rewritePythonJson('["a\\", NaN]').text).toBe('["a\\", NaN]');
    expect(rewritePythonJson('["abc NaN').text).toBe('["abc NaN');
  });
});

describe('parsePythonJson', () => {
  it('reads the tokens as null by default, counting them', () => {
    expect(parsePythonJson('{"a": NaN, "b": [Infinity, -Infinity], "c": "NaN"}')).toEqual({
      value: { a: null, b: [null, null], c: 'NaN' },
      nonFinite: 3,
    });
  });

  it('reads the tokens as numbers on request', () => {
    const { value, nonFinite } = parsePythonJson('{"a": NaN, "b": [Infinity, -Infinity], "c": "Infinity"}', {
      nonFinite: 'number',
    });
    expect(value).toEqual({
      a: Number.NaN,
      b: [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
      c: 'Infinity',
    });
    expect(nonFinite).toBe(3);
  });

  it('throws JSON.parse errors for malformed text, and ignores a BOM', () => {
    expect(() => parsePythonJson('{"a": nan}')).toThrow(SyntaxError);
    expect(() => parsePythonJson('{"a": NaN', { nonFinite: 'number' })).toThrow(SyntaxError);
    expect(parsePythonJson('\ufeff[1]').value).toEqual([1]);
  });
});

describe('compactPythonJsonBytes', () => {
  it('agrees with the text reader, including multi-byte UTF-8 inside strings', () => {
    const text = '\ufeff{ "é": "ü NaN \\"", "v": [ NaN , -Infinity, 1.50 ], "k": "日本" }\n';
    const fromBytes = compactPythonJsonBytes(Buffer.from(text));
    const fromText = rewritePythonJson(text, { compact: true });
    expect(fromBytes.bytes.toString('utf8')).toBe(fromText.text);
    expect(fromBytes.nonFinite).toBe(2);
    expect(fromText.text).toBe('{"é":"ü NaN \\"","v":[null,null,1.50],"k":"日本"}');
  });

  it('returns the input itself when it is already compact, and strips a BOM', () => {
    const compact = Buffer.from('{"a":[1,2]}');
    expect(compactPythonJsonBytes(compact).bytes).toBe(compact);
    expect(compactPythonJsonBytes(Buffer.from('\ufeff{"a": 1}')).bytes.toString()).toBe('{"a":1}');
    expect(compactPythonJsonBytes(Buffer.from('[NaN, NaN, NaN]'))).toEqual({
      bytes: Buffer.from('[null,null,null]'),
      nonFinite: 3,
    });
    expect(compactPythonJsonBytes(Buffer.from('[Na'))).toEqual({ bytes: Buffer.from('[Na'), nonFinite: 0 });
  });
});
