/** Everything a command touches of the outside world, injectable for tests. */
export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM/SIGHUP by bin.ts; commands pass it to everything long-running. */
  signal: AbortSignal;
  /** Aborted on a second signal: teardown kills instead of waiting for a graceful stop. */
  forceSignal?: AbortSignal;
}

let guarded = false;

/** The real process streams. A closed stdout (`perf-eval plan … | head`) ends output quietly, not with EPIPE. */
export function processIo(signal: AbortSignal, forceSignal?: AbortSignal): Io {
  if (!guarded) {
    guarded = true;
    for (const stream of [process.stdout, process.stderr]) {
      stream.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EPIPE') throw error;
        stream.destroy();
      });
    }
  }
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    signal,
    ...(forceSignal ? { forceSignal } : {}),
  };
}

export function writeLine(stream: Io['stdout'], line = ''): void {
  stream.write(`${line}\n`);
}
