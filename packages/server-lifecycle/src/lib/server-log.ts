import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { LineSplitter, LineTail, REDACTED, secretList, secretValuesOf } from '@perf-eval/util';
import { FailureScanner, type Diagnosis } from './diagnose.js';
import type { LineFn, ServerExit, ServerLogs } from './types.js';

/** Default `onLine`: `[vllm] <line>` on stdout, waiting for `drain` when stdout is congested. */
export const printVllmLine: LineFn = (line) => {
  if (!process.stdout.write(`[vllm] ${line}\n`)) return once(process.stdout, 'drain').then(() => undefined);
  return undefined;
};

export interface ServerLogOptions {
  onLine?: LineFn;
  tailLines?: number;
  /**
   * Literal secret values to replace with `***` in every line, on top of the secret-named values of
   * this process's environment (a native server inherits them and may print them).
   */
  secrets?: readonly string[];
}

/**
 * Fan-out of server output: log file, `onLine`, an 80-line tail and the failure scanner. Sources
 * are consumed with `for await`, so a slow file or consumer pauses the pipe instead of buffering:
 * memory stays bounded however large the log grows.
 */
export class ServerLog implements ServerLogs {
  readonly file: string;
  lineCount = 0;
  private readonly tailRing: LineTail;
  private readonly scanner = new FailureScanner();
  private readonly onLine: LineFn;
  private readonly secrets: readonly string[];
  private out: WriteStream | undefined;
  private outError: Error | undefined;
  private readonly follows = new Set<Promise<void>>();

  constructor(file: string, options: ServerLogOptions = {}) {
    this.file = file;
    this.tailRing = new LineTail(options.tailLines ?? 80);
    this.onLine = options.onLine ?? printVllmLine;
    this.secrets = secretList([...(options.secrets ?? []), ...secretValuesOf(process.env)]);
  }

  async open(): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const out = createWriteStream(this.file, { flags: 'w' });
    await once(out, 'open');
    out.on('error', (error) => {
      this.outError = error;
    });
    this.out = out;
  }

  tail(): string[] {
    return this.tailRing.lines();
  }

  diagnose(exit?: ServerExit): Diagnosis {
    return this.scanner.diagnose(exit);
  }

  /** Record lines. `scan: false` keeps them out of the classifier (e.g. successful `docker run` pull progress). */
  async write(lines: readonly string[], { scan = true }: { scan?: boolean } = {}): Promise<void> {
    if (lines.length === 0) return;
    let text = '';
    const clean: string[] = [];
    for (const raw of lines) {
      const line = this.scrub(raw);
      clean.push(line);
      this.tailRing.push(line);
      if (scan) this.scanner.push(line);
      text += `${line}\n`;
    }
    this.lineCount += clean.length;
    const out = this.out;
    if (out && !this.outError && !out.write(text)) await once(out, 'drain');
    for (const line of clean) {
      const pending = this.onLine(line);
      if (pending) await pending;
    }
  }

  /** Consume a text stream line by line until it ends (or errors). Resolves, never rejects. */
  follow(stream: Readable): Promise<void> {
    const task = (async () => {
      // Lines are scrubbed whole, so a secret cut across two chunks of the pipe is still masked.
      const splitter = new LineSplitter({ secrets: this.secrets });
      stream.setEncoding('utf8');
      try {
        for await (const chunk of stream) await this.write(splitter.push(chunk as string));
      } catch {
        // A destroyed pipe (teardown) ends the follow; what was read is kept.
      }
      await this.write(splitter.flush());
    })();
    this.follows.add(task);
    void task.finally(() => this.follows.delete(task));
    return task;
  }

  /** Wait for all followed streams to end, at most `timeoutMs`. True when they all ended. */
  async drained(timeoutMs: number): Promise<boolean> {
    if (this.follows.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const all = Promise.all([...this.follows]).then(() => true);
    const result = await Promise.race([all, timeout]);
    clearTimeout(timer);
    return result;
  }

  async close(): Promise<void> {
    const out = this.out;
    this.out = undefined;
    if (!out || out.destroyed) return;
    await new Promise<void>((resolve) => out.end(resolve));
  }

  /** `line` with every secret masked (for text that reaches errors without passing through the log). */
  scrub(line: string): string {
    // `secrets` is already a secretList (distinct, longest first): no per-line re-sorting.
    let out = line;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  }
}
