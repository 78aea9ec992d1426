import { LineSplitter, LineTail } from './line-tail.js';
import { redactArgv, scrubText, secretList, secretValuesOf } from './redact.js';

export type OutputStream = 'stdout' | 'stderr';

export interface RunToolOptions {
  cwd?: string | undefined;
  /** The process environment. With `extendEnv: false` it is the complete environment. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Inherit the current process env under `env` (default true when `env` is omitted, else false). */
  extendEnv?: boolean | undefined;
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
  /** Grace period between SIGTERM and SIGKILL on timeout or abort (default 5000 ms). */
  forceKillAfterMs?: number | undefined;
  /**
   * Secret values scrubbed from the displayed command, the tail and forwarded lines, on top of the
   * secret-named values of the environment the tool runs with (which it could print).
   */
  secrets?: readonly string[] | undefined;
  /** How many trailing output lines to keep (default 80). */
  tailLines?: number | undefined;
  /** Every output line as it arrives, secrets scrubbed. */
  onLine?: ((line: string, stream: OutputStream) => void) | undefined;
}

export interface RunToolResult {
  /** argv as executed, redacted for display. */
  command: string[];
  ok: boolean;
  exitCode: number | undefined;
  signal: string | undefined;
  durationMs: number;
  timedOut: boolean;
  canceled: boolean;
  /** Node error code when the process could not be spawned (`ENOENT`, `EACCES` …). */
  spawnErrorCode: string | undefined;
  outputTail: string[];
  /** A scrubbed description of the failure, suitable as an error `cause`. */
  error: Error | undefined;
}

/**
 * Run one subprocess (argv array, never a shell) with a bounded output tail, live line forwarding,
 * timeout and cancellation. Memory stays bounded whatever the tool prints. Never throws for process
 * failures: adapters classify the result into their own typed errors.
 */
export async function runTool(argv: readonly string[], options: RunToolOptions = {}): Promise<RunToolResult> {
  const [file, ...args] = argv as [string, ...string[]];
  const extendEnv = options.extendEnv ?? options.env === undefined;
  const secrets = secretList([
    ...(options.secrets ?? []),
    ...secretValuesOf(options.env ?? {}),
    ...(extendEnv ? secretValuesOf(process.env) : []),
  ]);
  const tail = new LineTail(options.tailLines ?? 80);
  const started = performance.now();
  // Loaded on first use: execa takes ~140 ms to import, and most commands (validate, plan) never spawn.
  const { execa } = await import('execa');
  const subprocess = execa(file, args, {
    cwd: options.cwd,
    env: options.env ? { ...options.env } : undefined,
    extendEnv,
    reject: false,
    buffer: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    cancelSignal: options.signal,
    timeout: options.timeoutMs,
    forceKillAfterDelay: options.forceKillAfterMs ?? 5000,
  });
  for (const stream of ['stdout', 'stderr'] as const) {
    const readable = subprocess[stream];
    const splitter = new LineSplitter({ secrets });
    const take = (lines: string[]): void => {
      for (const line of lines) {
        tail.push(line);
        options.onLine?.(line, stream);
      }
    };
    readable.setEncoding('utf8');
    readable.on('data', (chunk: string) => take(splitter.push(chunk)));
    readable.on('end', () => take(splitter.flush()));
  }
  const result = await subprocess;
  // The execa error embeds the raw command line; keep only a scrubbed description as the cause.
  let error: Error | undefined;
  const code = (result as { code?: string }).code;
  if (result.failed) {
    const original = (result as { originalMessage?: string }).originalMessage;
    const detail = original
      ? original
      : result.timedOut
        ? 'timed out'
        : result.isCanceled
          ? 'cancelled'
          : `exit ${result.exitCode ?? result.signal ?? 'unknown'}`;
    error = new Error(scrubText(detail, secrets));
    if (code) Object.assign(error, { code });
  }
  return {
    command: redactArgv(argv, secrets),
    ok: !result.failed,
    exitCode: result.exitCode,
    signal: result.signal,
    durationMs: performance.now() - started,
    timedOut: result.timedOut,
    canceled: result.isCanceled,
    spawnErrorCode:
      result.failed && result.exitCode === undefined && result.signal === undefined ? code : undefined,
    outputTail: tail.lines(),
    error,
  };
}
