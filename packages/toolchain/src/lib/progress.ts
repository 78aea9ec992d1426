/**
 * Progress of long provisioning commands. pip is silent for a minute or more and `go build` of the
 * simulator takes minutes; CI kills or confuses a job that prints nothing, and a person at a terminal
 * wants to see it move. Plain lines (`    … building llm-d-inference-sim (1m30s)`) at a fixed interval,
 * or a live status line on a TTY.
 */

export interface ProgressOptions {
  /** Interval of plain progress lines (default 30 s: CI needs a line at least that often). */
  intervalMs?: number;
  /**
   * A live status line (a TTY): called about every `liveIntervalMs` with the current text, and with
   * `''` when the command ends. When set, no plain lines are printed.
   */
  live?: (text: string) => void;
  /** Default 1 s. */
  liveIntervalMs?: number;
  /** Clock (tests). */
  now?: () => number;
}

/** Where progress is shown: a writable stream, a terminal when `isTTY` (then `columns` wide). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * Progress on `stream`: on a TTY one live status line (`    … <step> (1m30s): …`, redrawn in place and
 * cut to the terminal's width), otherwise the default plain lines (CI logs are append-only).
 */
export function terminalProgress(stream: ProgressStream): ProgressOptions {
  if (!stream.isTTY) return {};
  return {
    live: (text) =>
      stream.write(text ? `\r\x1b[K    … ${text.slice(0, (stream.columns || 100) - 8)}` : '\r\x1b[K'),
  };
}

/** `1m30s`, `45s`, `1h02m`. */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  if (hours > 0) return `${hours}h${String(minutes).padStart(2, '0')}m`;
  if (minutes > 0) return `${minutes}m${String(secs).padStart(2, '0')}s`;
  return `${secs}s`;
}

/** pip / go lines that say what is being fetched or built; other lines are noise for a status. */
const INTERESTING =
  /^\s*(Collecting|Downloading|Building|Installing|Using cached|Processing|go: downloading|go: extracting|#)/;

/** Reports one running command until `stop()`. */
export class Heartbeat {
  private readonly started: number;
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;
  private latest = '';

  constructor(
    private readonly activity: string,
    private readonly print: (line: string) => void,
    private readonly options: ProgressOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.started = this.now();
    const live = options.live;
    this.timer = live
      ? setInterval(() => live(this.text()), options.liveIntervalMs ?? 1_000)
      : setInterval(() => this.print(`    … ${this.text()}`), options.intervalMs ?? 30_000);
    // Progress never keeps the process alive on its own.
    this.timer.unref();
  }

  /** A line of the command's output; the latest interesting one is shown with the progress. */
  saw(line: string): void {
    if (INTERESTING.test(line)) this.latest = line.trim().slice(0, 100);
  }

  text(): string {
    const elapsed = formatElapsed(this.now() - this.started);
    return `${this.activity} (${elapsed})${this.latest ? `: ${this.latest}` : ''}`;
  }

  stop(): void {
    clearInterval(this.timer);
    this.options.live?.('');
  }
}
