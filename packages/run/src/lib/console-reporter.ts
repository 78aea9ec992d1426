/**
 * Console output of a run (a `RunReporter` for `executeRun`). Buildkite group headers (`--- `, `+++ `, `^^^ +++`) start lines on
 * stdout; in CI (or when stdout is not a TTY) everything is append-only with timestamps, on a TTY a
 * single status line shows the tasks in flight.
 */
import { styleText } from 'node:util';
import { scrubText, secretList, secretValuesOf, type EnvVars } from '@perf-eval/util';
import type { RunReporter } from './execute.js';

/** Where a console reporter writes (process.stdout/stderr, or anything with `write`). */
export interface ConsoleStreams {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

export class ConsoleReporter implements RunReporter {
  readonly live: boolean;
  private statusShown = false;
  private readonly running = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  /** Last line of defence: whatever a line quotes, secret values of the environment never reach the console. */
  private readonly secrets: string[];

  constructor(
    private readonly io: ConsoleStreams,
    env: EnvVars,
  ) {
    this.secrets = secretList(secretValuesOf(env));
    this.live = Boolean(io.stdout.isTTY) && !env['CI'] && !env['BUILDKITE'];
  }

  private clearStatus(): void {
    if (this.statusShown) {
      this.io.stdout.write('\r\x1b[2K');
      this.statusShown = false;
    }
  }

  private drawStatus(): void {
    if (!this.live || this.running.size === 0) return;
    const now = Date.now();
    const parts = [...this.running].map(([id, start]) => `${id} ${((now - start) / 1000).toFixed(0)}s`);
    this.io.stdout.write(`\r\x1b[2K${styleText('dim', `⏳ ${parts.join(' · ')}`)}`);
    this.statusShown = true;
  }

  private stamp(): string {
    return new Date().toISOString().slice(11, 19);
  }

  /** A plain line on stdout (tool output, upstream console lines). */
  line(text: string): void {
    this.clearStatus();
    this.io.stdout.write(`${scrubText(text, this.secrets)}\n`);
    this.drawStatus();
  }

  /** A Buildkite group header, verbatim (users grep for upstream's headers). */
  group(header: string): void {
    this.line(header);
  }

  info(text: string): void {
    this.line(this.live ? text : `[${this.stamp()}] ${text}`);
  }

  error(text: string): void {
    this.clearStatus();
    this.io.stderr.write(`${scrubText(text, this.secrets)}\n`);
    this.drawStatus();
  }

  taskStarted(id: string): void {
    this.running.set(id, Date.now());
    if (this.live && !this.timer) this.timer = setInterval(() => this.drawStatus(), 1000).unref();
    this.drawStatus();
  }

  taskFinished(id: string, ok: boolean, detail = ''): void {
    const start = this.running.get(id) ?? Date.now();
    this.running.delete(id);
    const seconds = ((Date.now() - start) / 1000).toFixed(1);
    const mark = ok
      ? styleText('green', '✔', { stream: this.io.stdout as NodeJS.WriteStream })
      : styleText('red', '✖', { stream: this.io.stdout as NodeJS.WriteStream });
    this.info(`${mark} ${id} (${ok ? 'done' : 'failed'} in ${seconds}s)${detail ? ` ${detail}` : ''}`);
    if (this.running.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clearStatus();
  }
}
