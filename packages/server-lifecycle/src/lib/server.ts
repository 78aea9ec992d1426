import { formatCommand, redactArgv } from '@perf-eval/util';
import { apiKeyOf, buildDockerRunArgv, specSecrets } from './argv.js';
import { ServerCancelledError, ServerExitedError, ServerTimeoutError } from './errors.js';
import { launchDocker, launchProcess, type Launched } from './launchers.js';
import { assertPortFree } from './port.js';
import { waitForReady } from './readiness.js';
import { ServerLog } from './server-log.js';
import type { LaunchOptions, PrintFn, ServerExit, ServerHandle, ServerSpec, StartOptions } from './types.js';

const stdoutPrint: PrintFn = (line) => void process.stdout.write(`${line}\n`);
const stderrPrint: PrintFn = (line) => void process.stderr.write(`${line}\n`);

interface Internal {
  handle: ServerHandle;
  /** Resolves at process/container exit, before the log is drained (fast failure detection). */
  rawExit: Promise<unknown>;
}

const internals = new WeakMap<ServerHandle, Internal>();

function baseUrl(spec: ServerSpec): string {
  if (spec.runtime === 'external') {
    if (!spec.url) throw new TypeError("ServerSpec.url is required for runtime 'external'");
    return spec.url.replace(/\/+$/, '').replace(/\/v1$/, '');
  }
  const host = spec.host ?? '127.0.0.1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${spec.port}`;
}

/**
 * Launch the server without waiting for readiness. Checks the port, opens the log, prints the
 * start headers and the (redacted) command, and returns a handle whose `exited` tracks liveness.
 */
export async function launchServer(spec: ServerSpec, options: LaunchOptions = {}): Promise<ServerHandle> {
  const print = options.print ?? stdoutPrint;
  const url = baseUrl(spec);
  if (options.signal?.aborted)
    throw new ServerCancelledError({ cause: options.signal.reason, external: spec.runtime === 'external' });

  if (spec.runtime === 'external') {
    const log = new ServerLog(spec.logFile, { tailLines: options.tailLines ?? 80 });
    const never = new Promise<ServerExit>(() => undefined);
    const handle: ServerHandle = {
      runtime: 'external',
      url,
      pid: undefined,
      containerName: undefined,
      command: [],
      logs: log,
      exited: never,
      assertAlive: () => undefined,
      rejectOnExit: () => new Promise<never>(() => undefined),
      stop: async () => undefined,
    };
    internals.set(handle, { handle, rawExit: never });
    print(`--- :rocket: using external vllm server: ${url} (${spec.model})`);
    return handle;
  }

  await assertPortFree(spec.port, spec.host ?? '127.0.0.1');
  const log = new ServerLog(spec.logFile, {
    ...(options.onLine ? { onLine: options.onLine } : {}),
    tailLines: options.tailLines ?? 80,
    secrets: specSecrets(spec),
  });
  await log.open();
  print(`--- :rocket: starting vllm: ${spec.model}`);

  let launched: Launched;
  try {
    const ctx = { log, signal: options.signal, forceSignal: options.forceSignal };
    if (spec.runtime === 'docker') {
      print(`$ ${formatCommand(redactedDockerArgv(spec))}`);
      launched = await launchDocker(spec, ctx);
    } else {
      launched = await launchProcess(spec, ctx);
      print(`$ ${formatCommand(launched.command)}`);
    }
  } catch (error) {
    await log.close();
    if (options.signal?.aborted) throw new ServerCancelledError({ cause: error });
    throw error;
  }
  print('--- :memo: streaming vllm logs');

  let stopRequested = false;
  let exitInfo: ServerExit | undefined;
  let stopping: Promise<void> | undefined;
  const exited: Promise<ServerExit> = launched.processExit.then(async (fast) => {
    const [raw] = await Promise.all([launched.exitDetails ?? fast, log.drained(2000)]);
    exitInfo = { ...raw, stopped: stopRequested };
    return exitInfo;
  });

  const exitedError = (exit: ServerExit, phase: 'startup' | 'running') =>
    new ServerExitedError(phase, {
      command: launched.command,
      exitCode: exit.exitCode,
      signal: exit.signal,
      outputTail: log.tail(),
      runtime: spec.runtime,
      diagnosis: log.diagnose(exit),
      logFile: spec.logFile,
    });

  const stop = () => {
    stopRequested = true;
    stopping ??= (async () => {
      options.signal?.removeEventListener('abort', onAbort);
      await launched.terminate();
      await log.drained(1000);
      await log.close();
    })();
    return stopping;
  };
  const onAbort = () => void stop();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) {
    await stop();
    throw new ServerCancelledError({ cause: options.signal.reason });
  }

  const handle: ServerHandle = {
    runtime: spec.runtime,
    url,
    pid: launched.pid,
    containerName: launched.containerName,
    command: launched.command,
    logs: log,
    exited,
    assertAlive: () => {
      if (exitInfo && !exitInfo.stopped) throw exitedError(exitInfo, 'running');
    },
    rejectOnExit: () =>
      exited.then((exit) => {
        if (exit.stopped) return new Promise<never>(() => undefined);
        throw exitedError(exit, 'running');
      }),
    stop,
  };
  internals.set(handle, { handle, rawExit: launched.processExit });
  return handle;
}

/**
 * Resolves as soon as the server process/container has exited (before the log is drained), for
 * fast failure detection by the topology launcher. Falls back to `handle.exited`.
 */
export function rawExitOf(handle: ServerHandle): Promise<unknown> {
  return internals.get(handle)?.rawExit ?? handle.exited;
}

/** Printed before `docker run` returns, so the command shows up even during a slow image pull. */
function redactedDockerArgv(spec: ServerSpec): string[] {
  return redactArgv(buildDockerRunArgv(spec), specSecrets(spec));
}

/**
 * Wait until a launched server is ready: `/health` 2xx and `/v1/models` lists the served name.
 * On any failure the server is stopped before the typed error is thrown.
 */
export async function waitUntilReady(
  handle: ServerHandle,
  spec: ServerSpec,
  options: StartOptions = {},
): Promise<void> {
  const print = options.print ?? stdoutPrint;
  const printError = options.printError ?? stderrPrint;
  const internal = internals.get(handle);
  const apiKey = apiKeyOf(spec);
  print(`+++ :hourglass: waiting for /health (timeout ${spec.startupTimeoutS}s)`);
  let outcome;
  try {
    outcome = await waitForReady({
      url: handle.url,
      servedModelName: spec.servedModelName,
      timeoutS: spec.startupTimeoutS,
      exited: (internal?.rawExit ?? handle.exited) as Promise<ServerExit>,
      print,
      ...(options.pollIntervalMs !== undefined ? { intervalMs: options.pollIntervalMs } : {}),
      ...(options.stillWaitingEveryS !== undefined ? { stillWaitingEveryS: options.stillWaitingEveryS } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      ...(apiKey ? { apiKey } : {}),
    });
  } catch (error) {
    await handle.stop();
    throw error;
  }
  switch (outcome.status) {
    case 'ready':
      print('server healthy');
      return;
    case 'exited': {
      printError('vLLM server exited before becoming healthy');
      const exit = await handle.exited;
      const error = new ServerExitedError('startup', {
        command: handle.command,
        exitCode: exit.exitCode,
        signal: exit.signal,
        durationMs: outcome.elapsedMs,
        outputTail: handle.logs.tail(),
        runtime: spec.runtime,
        diagnosis: handle.logs.diagnose(exit),
        logFile: spec.logFile,
      });
      await handle.stop();
      throw error;
    }
    case 'timeout': {
      printError('server never came up');
      await handle.stop();
      throw new ServerTimeoutError(handle.url, spec.startupTimeoutS, spec.logFile, {
        command: handle.command,
        durationMs: outcome.elapsedMs,
        outputTail: [...handle.logs.tail(), `(last probe: ${outcome.lastProbe})`],
      });
    }
    case 'cancelled':
      await handle.stop();
      throw new ServerCancelledError({
        cause: options.signal?.reason,
        external: handle.runtime === 'external',
      });
  }
}

/** `launchServer` + `waitUntilReady`: resolves with a ready server or throws after stopping it. */
export async function startServer(spec: ServerSpec, options: StartOptions = {}): Promise<ServerHandle> {
  const handle = await launchServer(spec, options);
  await waitUntilReady(handle, spec, options);
  return handle;
}
