import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';
import { redactArgv, secretValuesOf } from '@perf-eval/util';
import { ProxyExitedError } from './errors.js';
import { killGroup, raceTimeout, spawnDetached, spawnFailureLines } from './launchers.js';
import { ServerLog } from './server-log.js';
import type { LineFn, PrintFn, ServerExit } from './types.js';

/** The disaggregation proxy (e.g. vLLM's `toy_proxy_server.py`), built by the caller. */
export interface ProxySpec {
  /** Full argv, e.g. `['python3', '<vllm>/tests/v1/kv_connector/nixl_integration/toy_proxy_server.py', '--port', '8192', …]`. */
  argv: string[];
  port: number;
  /** Probe host and URL host. Default `127.0.0.1`. */
  host?: string;
  /** Health route answering 200 when the proxy is up, e.g. `/healthcheck` (toy proxy). */
  healthPath: string;
  /** Proxy-only environment on top of this process's env. Secret-named values are scrubbed from logs. */
  env?: Record<string, string>;
  /** Every proxy output line is appended here. */
  logFile: string;
  /** Readiness deadline. Default 120 s. */
  readyTimeoutS?: number;
  /** Seconds between SIGTERM and SIGKILL at stop. Default 2. */
  stopGraceS?: number;
}

export const DEFAULT_PROXY_READY_TIMEOUT_S = 120;
export const DEFAULT_PROXY_STOP_GRACE_S = 2;

export function proxyUrl(proxy: Pick<ProxySpec, 'host' | 'port'>): string {
  const host = proxy.host ?? '127.0.0.1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${proxy.port}`;
}

/** A running proxy process (own process group). */
export interface LaunchedProxy {
  url: string;
  pid: number;
  command: string[];
  log: ServerLog;
  /** Resolves as soon as the process exited (log may still be draining). */
  processExit: Promise<Omit<ServerExit, 'stopped'>>;
  /** Resolves after exit and log drain; `stopped` tells whether `stop()` caused it. Never rejects. */
  exited: Promise<ServerExit>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** Idempotent: SIGTERM to the group, grace, SIGKILL. */
  stop(): Promise<void>;
  /** The error for an unexpected exit. */
  exitedError(phase: 'startup' | 'running', exit: Omit<ServerExit, 'stopped'>): ProxyExitedError;
}

export interface ProxyLaunchOptions {
  onLine: LineFn;
  tailLines: number;
}

/** Spawn the proxy detached (own process group), streaming its output to `logFile` and `onLine`. */
export async function launchProxy(proxy: ProxySpec, options: ProxyLaunchOptions): Promise<LaunchedProxy> {
  const url = proxyUrl(proxy);
  const secrets = secretValuesOf(proxy.env ?? {});
  const command = redactArgv(proxy.argv, secrets);
  const log = new ServerLog(proxy.logFile, { onLine: options.onLine, tailLines: options.tailLines, secrets });
  await log.open();
  const started = performance.now();
  const exitedError = (phase: 'startup' | 'running', exit: Omit<ServerExit, 'stopped'>, cause?: unknown) =>
    new ProxyExitedError(
      phase,
      {
        command,
        exitCode: exit.exitCode,
        signal: exit.signal,
        durationMs: performance.now() - started,
        outputTail: log.tail(),
        url,
        logFile: proxy.logFile,
      },
      cause === undefined ? {} : { cause },
    );

  if (proxy.argv.length === 0) throw new TypeError('ProxySpec.argv must not be empty');
  const child = spawnDetached(proxy.argv, { ...process.env, ...proxy.env });
  const pid = child.pid;
  if (pid === undefined) {
    const result = await child;
    await log.write(spawnFailureLines(result), { scan: false });
    await log.close();
    throw exitedError('startup', { exitCode: result.exitCode, signal: result.signal }, result);
  }
  void log.follow(child.stdout);
  void log.follow(child.stderr);

  let done = false;
  let stopRequested = false;
  const processExit = child.then((result) => {
    done = true;
    return { exitCode: result.exitCode, signal: result.signal };
  });
  const exited: Promise<ServerExit> = processExit.then(async (raw) => {
    await log.drained(2000);
    return { ...raw, stopped: stopRequested };
  });
  const grace = Math.max(1, proxy.stopGraceS ?? DEFAULT_PROXY_STOP_GRACE_S);
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopRequested = true;
    stopping ??= (async () => {
      if (!done) {
        killGroup(pid, 'SIGTERM');
        if (!(await raceTimeout(processExit, grace * 1000))) {
          killGroup(pid, 'SIGKILL');
          await raceTimeout(processExit, 2000);
        }
      }
      // Uvicorn workers or helpers may share the group.
      killGroup(pid, 'SIGKILL');
      if (!(await log.drained(1000))) {
        child.stdout.destroy();
        child.stderr.destroy();
      }
      await log.close();
    })();
    return stopping;
  };
  return { url, pid, command, log, processExit, exited, hasExited: () => done, stop, exitedError };
}

export type ProxyReadyOutcome =
  | { status: 'ready'; elapsedMs: number }
  | { status: 'exited'; elapsedMs: number }
  | { status: 'timeout'; lastProbe: string; elapsedMs: number }
  | { status: 'cancelled'; elapsedMs: number };

export interface ProxyReadyOptions {
  healthUrl: string;
  timeoutS: number;
  /** Resolves when the proxy process exited. */
  processExit: Promise<unknown>;
  hasExited(): boolean;
  /** Poll interval, capped at 250 ms. */
  intervalMs: number;
  stillWaitingEveryS: number;
  print: PrintFn;
  signal: AbortSignal;
  dispatcher?: Dispatcher | undefined;
}

/** Poll `GET <healthPath>` until 200 while the proxy process is alive; its exit ends the wait at once. */
export async function waitForProxy(options: ProxyReadyOptions): Promise<ProxyReadyOutcome> {
  const started = performance.now();
  const elapsedMs = () => performance.now() - started;
  const deadline = started + options.timeoutS * 1000;
  const interval = Math.max(10, Math.min(250, options.intervalMs));
  const noticeEvery = options.stillWaitingEveryS * 1000;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal.addEventListener('abort', onAbort, { once: true });
  if (options.signal.aborted) stop.abort();
  void options.processExit.then(() => stop.abort());
  const ownAgent = options.dispatcher
    ? undefined
    : new Agent({ connect: { timeout: 5000 }, keepAliveTimeout: 1000 });
  const dispatcher = options.dispatcher ?? (ownAgent as Agent);
  let lastProbe = 'no probe yet';
  let nextNotice = started + noticeEvery;
  try {
    for (;;) {
      if (options.hasExited()) return { status: 'exited', elapsedMs: elapsedMs() };
      if (options.signal.aborted) return { status: 'cancelled', elapsedMs: elapsedMs() };
      if (performance.now() >= deadline) return { status: 'timeout', lastProbe, elapsedMs: elapsedMs() };
      try {
        const response = await request(options.healthUrl, {
          dispatcher,
          signal: stop.signal,
          headersTimeout: 5000,
          bodyTimeout: 5000,
        });
        await response.body.text();
        // 200 from something that is not our (dead) process does not count.
        if (response.statusCode === 200 && !options.hasExited())
          return { status: 'ready', elapsedMs: elapsedMs() };
        lastProbe = `returned HTTP ${response.statusCode}`;
      } catch (error) {
        const err = error as NodeJS.ErrnoException & { cause?: { code?: string } };
        lastProbe = err.cause?.code ?? err.code ?? err.message;
      }
      const now = performance.now();
      if (now >= nextNotice) {
        options.print(
          `still waiting for proxy ${new URL(options.healthUrl).pathname} after ${Math.round((now - started) / 1000)}s`,
        );
        while (nextNotice <= now) nextNotice += noticeEvery;
      }
      const wait = Math.min(interval, deadline - now);
      if (wait > 0 && !stop.signal.aborted)
        await sleep(wait, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  } finally {
    options.signal.removeEventListener('abort', onAbort);
    stop.abort();
    await ownAgent?.destroy();
  }
}
