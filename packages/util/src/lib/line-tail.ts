import { scrubSorted, secretList } from './redact.js';

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

export interface LineSplitterOptions {
  /**
   * Secret values replaced by `***` in every emitted line. Scrubbing happens on complete lines, so
   * a value split across two chunks (two writes of the producer) is still caught.
   */
  secrets?: readonly string[] | undefined;
  /** A line longer than this is emitted in pieces (default 1 MiB), so memory stays bounded. */
  maxLineLength?: number | undefined;
}

/**
 * Splits incoming text chunks into complete lines; `flush()` returns a trailing partial line. With
 * `secrets`, every line comes out scrubbed — also the pieces of an over-long line: a piece is cut
 * only after scrubbing the whole buffer, and the last (longest secret − 1) characters stay behind,
 * so a secret straddling the cut is still whole when the rest arrives.
 */
export class LineSplitter {
  private partial = '';
  private readonly secrets: readonly string[];
  private readonly maxLineLength: number;
  private readonly carry: number;

  constructor(options: LineSplitterOptions = {}) {
    this.secrets = secretList(options.secrets ?? []);
    this.carry = Math.max(0, (this.secrets[0]?.length ?? 0) - 1);
    this.maxLineLength = Math.max(options.maxLineLength ?? 1 << 20, this.carry + 1);
  }

  push(chunk: string): string[] {
    const text = this.partial + chunk;
    const parts = text.split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    const lines = parts.map((line) => this.scrub(line));
    // Guard against a producer that never emits a newline.
    if (this.partial.length > this.maxLineLength) {
      const scrubbed = this.scrub(this.partial);
      const cut = scrubbed.length - this.carry;
      lines.push(scrubbed.slice(0, cut));
      this.partial = scrubbed.slice(cut);
    }
    return lines;
  }

  flush(): string[] {
    if (this.partial === '') return [];
    const rest = this.partial;
    this.partial = '';
    return [this.scrub(rest)];
  }

  private scrub(line: string): string {
    return this.secrets.length === 0 ? line : scrubSorted(line, this.secrets);
  }
}
