/** Everything a command touches of the outside world, injectable for tests. */
export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM/SIGHUP by bin.ts; commands pass it to everything long-running. */
  signal: AbortSignal;
}

export function processIo(signal: AbortSignal): Io {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), signal };
}

export function writeLine(stream: Io['stdout'], line = ''): void {
  stream.write(`${line}\n`);
}
