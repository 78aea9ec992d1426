/**
 * Keeps the last `limit` lines of a stream in a fixed-size ring, so following a multi-GB log never
 * grows memory. Also exposes a line splitter that copes with chunks cut mid-line.
 */
export class LineTail {
  private readonly ring: string[];
  private next = 0;
  private count = 0;

  constructor(readonly limit = 80) {
    this.ring = new Array<string>(limit);
  }

  push(line: string): void {
    // Cap pathological single lines (binary junk, minified JSON) so the ring stays bounded too.
    this.ring[this.next] = line.length > 4096 ? `${line.slice(0, 4096)}… [${line.length} chars]` : line;
    this.next = (this.next + 1) % this.limit;
    if (this.count < this.limit) this.count++;
  }

  lines(): string[] {
    const out: string[] = [];
    const start = (this.next - this.count + this.limit) % this.limit;
    for (let i = 0; i < this.count; i++) out.push(this.ring[(start + i) % this.limit] as string);
    return out;
  }
}

/** Splits incoming text chunks into complete lines; `flush()` returns a trailing partial line. */
export class LineSplitter {
  private partial = '';

  push(chunk: string): string[] {
    const text = this.partial + chunk;
    const parts = text.split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    // Guard against a producer that never emits a newline.
    if (this.partial.length > 1 << 20) {
      parts.push(this.partial);
      this.partial = '';
    }
    return parts;
  }

  flush(): string[] {
    if (this.partial === '') return [];
    const rest = this.partial;
    this.partial = '';
    return [rest];
  }
}
