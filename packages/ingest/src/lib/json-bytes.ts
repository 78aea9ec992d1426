/** Byte-level JSON helper for the samples path: a multi-GB samples file is never decoded to UTF-16 strings. */

/**
 * `JSON.parse` of UTF-8 JSON bytes, as a grammar check: decoding as latin1 maps every byte to one
 * character, which is exact for structure (all ASCII) and keeps multi-byte sequences inside string
 * literals legal, and parses several times faster than a UTF-8 decode. Throws JSON.parse's error.
 * UTF-8 validity is a separate check (`isUtf8`).
 */
export function checkJsonBytes(buf: Buffer): void {
  JSON.parse(buf.toString('latin1'));
}
