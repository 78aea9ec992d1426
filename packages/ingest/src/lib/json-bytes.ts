/**
 * Byte-level JSON helpers for the samples path: a multi-GB samples file is never decoded to UTF-16
 * strings. Structural JSON characters are ASCII and UTF-8 multi-byte sequences contain no ASCII
 * bytes, so scanning bytes is exact.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function matches(buf: Uint8Array, at: number, text: string): boolean {
  if (at + text.length > buf.length) return false;
  for (let k = 0; k < text.length; k++) if (buf[at + k] !== text.charCodeAt(k)) return false;
  return true;
}

/** End (exclusive) of the string literal opening at `open`, or `buf.length` when unterminated. */
function stringEnd(buf: Buffer, open: number): number {
  // Short strings (keys, small values) are scanned inline; long ones jump with a native indexOf.
  const inlineLimit = Math.min(buf.length, open + 48);
  let k = open + 1;
  for (; k < inlineLimit; k++) {
    const c = buf[k];
    if (c === QUOTE) return k + 1;
    if (c === BACKSLASH) break;
  }
  if (k === buf.length) return k;
  let from = k;
  for (;;) {
    const close = buf.indexOf(QUOTE, from);
    if (close < 0) return buf.length;
    let backslashes = 0;
    for (let k = close - 1; k > open && buf[k] === BACKSLASH; k--) backslashes++;
    if ((backslashes & 1) === 0) return close + 1;
    from = close + 1;
  }
}

/** Length of a bare non-finite token (`NaN`, `Infinity`, `-Infinity`) at `at`, else 0. */
function nonFiniteToken(buf: Buffer, at: number, c: number): number {
  if (c === 0x4e) return matches(buf, at, 'NaN') ? 3 : 0;
  if (c === 0x49) return matches(buf, at, 'Infinity') ? 8 : 0;
  if (c === 0x2d) return matches(buf, at, '-Infinity') ? 9 : 0;
  return 0;
}

/** Copy `buf[from, to)` to `out` at `o`; short runs inline (a native call costs more). Returns the new offset. */
function copySegment(buf: Buffer, out: Buffer, o: number, from: number, to: number): number {
  if (to - from > 64) return o + buf.copy(out, o, from, to);
  for (let k = from; k < to; k++) out[o++] = buf[k] as number;
  return o;
}

/**
 * {@link compactJsonText} on UTF-8 bytes: whitespace outside strings removed, bare NaN / Infinity /
 * -Infinity replaced by `null`, a leading BOM dropped. Returns the input itself when nothing changes.
 */
export function compactJsonBytes(buf: Buffer): { bytes: Buffer; nonFinite: number } {
  const length = buf.length;
  const start = length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  // First pass: count what has to change, so the output is allocated once at its exact size.
  let removed = 0;
  let nonFinite = 0;
  let grow = 0;
  for (let i = start; i < length; ) {
    const c = buf[i] as number;
    if (c === QUOTE) {
      i = stringEnd(buf, i);
    } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      removed++;
      i++;
    } else {
      const token = nonFiniteToken(buf, i, c);
      if (token > 0) {
        nonFinite++;
        grow += 4 - token;
        i += token;
      } else i++;
    }
  }
  if (removed === 0 && nonFinite === 0)
    return { bytes: start === 0 ? buf : buf.subarray(start), nonFinite: 0 };

  const out = Buffer.allocUnsafe(length - start - removed + grow);
  let o = 0;
  let segment = start;
  for (let i = start; i < length; ) {
    const c = buf[i] as number;
    if (c === QUOTE) {
      i = stringEnd(buf, i);
    } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      o = copySegment(buf, out, o, segment, i);
      i++;
      segment = i;
    } else {
      const token = nonFiniteToken(buf, i, c);
      if (token > 0) {
        o = copySegment(buf, out, o, segment, i);
        out[o++] = 0x6e;
        out[o++] = 0x75;
        out[o++] = 0x6c;
        out[o++] = 0x6c;
        i += token;
        segment = i;
      } else i++;
    }
  }
  o = copySegment(buf, out, o, segment, length);
  return { bytes: out.subarray(0, o), nonFinite };
}

/**
 * `JSON.parse` of UTF-8 JSON bytes, as a grammar check: decoding as latin1 maps every byte to one
 * character, which is exact for structure (all ASCII) and keeps multi-byte sequences inside string
 * literals legal, and parses several times faster than a UTF-8 decode. Throws JSON.parse's error.
 * UTF-8 validity is a separate check (`isUtf8`).
 */
export function checkJsonBytes(buf: Buffer): void {
  JSON.parse(buf.toString('latin1'));
}
