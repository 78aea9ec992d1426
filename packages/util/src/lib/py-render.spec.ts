import { PyFloat, pyFloatRepr, pyJsonCompact, pyRepr, pyStr, toPlain } from './py-render.js';

describe('pyFloatRepr matches Python repr(float)', () => {
  it.each([
    [1, '1.0'],
    [40960, '40960.0'],
    [0.001, '0.001'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.5e-5, '1.5e-05'],
    [1e16, '1e+16'],
    [1.5e16, '1.5e+16'],
    [123456789012345.6, '123456789012345.6'],
    [1e15, '1000000000000000.0'],
    [-2.5, '-2.5'],
    [0, '0.0'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [NaN, 'nan'],
    [0.1 + 0.2, '0.30000000000000004'],
    [1e100, '1e+100'],
    [1.234e-7, '1.234e-07'],
  ])('%s -> %s', (input, expected) => {
    expect(pyFloatRepr(input)).toBe(expected);
  });
});

describe('pyStr', () => {
  it('renders scalars the Python way', () => {
    expect(pyStr(true)).toBe('True');
    expect(pyStr(false)).toBe('False');
    expect(pyStr(null)).toBe('None');
    expect(pyStr(6000)).toBe('6000');
    expect(pyStr(new PyFloat(40960))).toBe('40960.0');
    expect(pyStr(new PyFloat(0.001))).toBe('0.001');
    expect(pyStr('a b')).toBe('a b');
    expect(pyStr(['a', true, 1])).toBe("['a', True, 1]");
    expect(pyStr({ a: 1 })).toBe("{'a': 1}");
  });

  it('reprs strings with Python quoting', () => {
    expect(pyRepr("it's")).toBe(`"it's"`);
    expect(pyRepr(['x', 'y'])).toBe("['x', 'y']");
  });
});

describe('pyJsonCompact', () => {
  it('matches json.dumps(separators=(",", ":"))', () => {
    expect(pyJsonCompact({ 'num-warmups': 128 })).toBe('{"num-warmups":128}');
    expect(pyJsonCompact({ a: new PyFloat(1), b: [true, null, 'é'], c: '\u{1F600}' })).toBe(
      '{"a":1.0,"b":[true,null,"\\u00e9"],"c":"\\ud83d\\ude00"}',
    );
    expect(pyJsonCompact('\u007f"\\')).toBe('"\\u007f\\"\\\\"');
  });

  it('toPlain unwraps floats deeply', () => {
    expect(toPlain({ a: [new PyFloat(2)], b: 'x' })).toEqual({ a: [2], b: 'x' });
  });
});
