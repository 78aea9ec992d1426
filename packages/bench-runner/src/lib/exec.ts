import { execa } from 'execa';
import { LineSplitter, LineTail, redactArgv, scrubText } from '@perf-eval/util';

export interface ToolRunOptions {
  env?: Readonly<Record<string, string>> | undefined;
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
  /** Every output line (stdout and stderr interleaved), secrets scrubbed. */
  onLine?: ((line: string) => void) | undefined;
  /** Secret values to scrub from the displayed command, the tail and forwarded lines. */
  secrets: readonly string[];
  tailLines?: number | undefined;
  /** Grace period between SIGTERM and SIGKILL on timeout or abort. */
  forceKillAfterMs?: number | undefined;
}

export interface ToolRunResult {
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
  /** A scrubbed description of the failure, for `cause`. */
  error: Error | undefined;
}

/**
 * Run one subprocess (argv array, no shell) with a bounded output tail, live line forwarding,
 * timeout and cancellation. Never throws for process failures: callers classify the result.
 */
export async function runTool(argv: readonly string[], options: ToolRunOptions): Promise<ToolRunResult> {
  const [file, ...args] = argv as [string, ...string[]];
  const command = redactArgv(argv, options.secrets);
  const tail = new LineTail(options.tailLines ?? 80);
  const splitter = new LineSplitter();
  const emit = (line: string): void => {
    const clean = options.secrets.length > 0 ? scrubText(line, options.secrets) : line;
    tail.push(clean);
    options.onLine?.(clean);
  };
  const started = performance.now();
  const subprocess = execa(file, args, {
    reject: false,
    all: true,
    buffer: false,
    stdin: 'ignore',
    env: options.env ? { ...options.env } : undefined,
    extendEnv: true,
    cancelSignal: options.signal,
    timeout: options.timeoutMs,
    forceKillAfterDelay: options.forceKillAfterMs ?? 5000,
  });
  subprocess.all?.setEncoding('utf8');
  subprocess.all?.on('data', (chunk: string) => {
    for (const line of splitter.push(chunk)) emit(line);
  });
  const result = await subprocess;
  for (const line of splitter.flush()) emit(line);
  // The execa error embeds the raw command line; keep only a scrubbed description as the cause.
  let error: Error | undefined;
  if (result.failed) {
    const original = (result as { originalMessage?: string }).originalMessage;
    const detail = original ? original : result.timedOut ? 'timed out' : result.isCanceled ? 'cancelled' : `exit ${result.exitCode ?? result.signal ?? 'unknown'}`;
    error = new Error(scrubText(detail, options.secrets));
    const code = (result as { code?: string }).code;
    if (code) Object.assign(error, { code });
  }
  return {
    command,
    ok: !result.failed,
    exitCode: result.exitCode,
    signal: result.signal,
    durationMs: result.durationMs ?? performance.now() - started,
    timedOut: result.timedOut,
    canceled: result.isCanceled,
    spawnErrorCode: result.failed && result.exitCode === undefined && result.signal === undefined ? (result as { code?: string }).code : undefined,
    outputTail: tail.lines(),
    error,
  };
}
