import { once } from 'node:events';
import { formatCommand } from '@perf-eval/util';
import { apiKeyOf } from './argv.js';
import {
  PortInUseError,
  ProxyTimeoutError,
  ServerCancelledError,
  ServerExitedError,
  ServerLaunchError,
  ServerModelMissingError,
  ServerTimeoutError,
} from './errors.js';
import {
  DEFAULT_PROXY_READY_TIMEOUT_S,
  launchProxy,
  proxyUrl,
  waitForProxy,
  type LaunchedProxy,
  type ProxySpec,
} from './proxy.js';
import { assertPortFree } from './port.js';
import { waitForReady } from './readiness.js';
import { launchServer, rawExitOf } from './server.js';
import type {
  LineFn,
  PrintFn,
  ServerExit,
  ServerHandle,
  ServerLogs,
  ServerSpec,
  StartOptions,
} from './types.js';

/** One server of a topology; `role` (`prefill`, `decode`, …) names it in every message and error. */
export interface TopologyServerSpec extends ServerSpec {
  role: string;
}

export interface TopologySpec {
  servers: TopologyServerSpec[];
  /** Started once every server is ready; its URL becomes the topology URL. */
  proxy?: ProxySpec;
}

export interface TopologyMember {
  role: string;
  handle: ServerHandle;
}

export interface TopologyHandle {
  /** Proxy URL if there is a proxy, else the (first) server's URL. */
  readonly url: string;
  /** In `spec.servers` order. */
  readonly members: readonly TopologyMember[];
  /** Proxy process id (also its process group id). */
  readonly proxyPid: number | undefined;
  /** Proxy argv as launched (secrets redacted); empty without a proxy. */
  readonly proxyCommand: readonly string[];
  /** Proxy log file and in-memory tail. */
  readonly proxyLogs: Pick<ServerLogs, 'file' | 'lineCount' | 'tail'> | undefined;
  /** Rejects when any server (`ServerExitedError` naming its role) or the proxy (`ProxyExitedError`) dies unexpectedly; never settles after `stop()`. */
  rejectOnExit(): Promise<never>;
  /** Idempotent: stops the proxy first, then every server in parallel. */
  stop(): Promise<void>;
}

const stdoutPrint: PrintFn = (line) => void process.stdout.write(`${line}\n`);
const stderrPrint: PrintFn = (line) => void process.stderr.write(`${line}\n`);
/** Default line sink: stdout, waiting for `drain` when stdout is congested. */
const stdoutLine: LineFn = (line) => {
  if (!process.stdout.write(`${line}\n`)) return once(process.stdout, 'drain').then(() => undefined);
  return undefined;
};
const never = () => new Promise<never>(() => undefined);

/** Put the role into `launchServer`'s progress lines. */
function tagLaunchLine(role: string, line: string): string {
  if (line.startsWith('--- :rocket: starting vllm: '))
    return line.replace('starting vllm:', `starting vllm ${role}:`);
  if (line.startsWith('--- :rocket: using external vllm server: '))
    return line.replace('external vllm server:', `external vllm ${role} server:`);
  if (line === '--- :memo: streaming vllm logs') return `--- :memo: streaming vllm ${role} logs`;
  return `[${role}] ${line}`;
}

function validate(spec: TopologySpec): void {
  if (spec.servers.length === 0) throw new TypeError('TopologySpec.servers must list at least one server');
  const roles = new Set<string>();
  const ports = new Map<number, string>();
  for (const server of spec.servers) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(server.role))
      throw new TypeError(`topology role '${server.role}' must be a simple name (letters, digits, . _ -)`);
    if (roles.has(server.role)) throw new TypeError(`topology role '${server.role}' is listed twice`);
    roles.add(server.role);
    if (server.runtime === 'external') continue;
    const other = ports.get(server.port);
    if (other)
      throw new TypeError(`topology roles '${other}' and '${server.role}' both use port ${server.port}`);
    ports.set(server.port, server.role);
  }
  if (spec.proxy) {
    const other = ports.get(spec.proxy.port);
    if (other) throw new TypeError(`the proxy and role '${other}' both use port ${spec.proxy.port}`);
    if (!spec.proxy.healthPath.startsWith('/'))
      throw new TypeError(`ProxySpec.healthPath must start with '/', got '${spec.proxy.healthPath}'`);
  }
}

function memberExitedError(
  member: TopologyMember,
  spec: ServerSpec,
  exit: ServerExit,
  phase: 'startup' | 'running',
  durationMs?: number,
) {
  const { handle, role } = member;
  return new ServerExitedError(phase, {
    command: handle.command,
    exitCode: exit.exitCode,
    signal: exit.signal,
    durationMs,
    outputTail: handle.logs.tail(),
    runtime: spec.runtime,
    diagnosis: handle.logs.diagnose(exit),
    logFile: spec.logFile,
    role,
  });
}

/** Errors of `launchServer` get the role into their message. */
function withRole(error: unknown, role: string): unknown {
  if (error instanceof ServerLaunchError && error.role === undefined) {
    return new ServerLaunchError(
      {
        command: error.command,
        exitCode: error.exitCode,
        signal: error.signal,
        durationMs: error.durationMs,
        timedOut: error.timedOut,
        outputTail: error.outputTail,
        runtime: error.runtime,
        diagnosis: error.diagnosis,
        logFile: error.logFile,
        role,
      },
      { cause: error },
    );
  }
  if (error instanceof PortInUseError && error.role === undefined)
    return new PortInUseError(error.port, { role, cause: error });
  if (error instanceof ServerModelMissingError && error.role === undefined) {
    return new ServerModelMissingError(error.url, error.expected, error.listed, { role, cause: error });
  }
  return error;
}

/**
 * Start a multi-server topology, e.g. disaggregated prefill/decode behind vLLM's toy proxy:
 * every server is launched concurrently and must become ready (`/health` + `/v1/models`, per role);
 * the first role to die, time out or serve the wrong model fails the whole start at once (the others
 * are stopped). Then the proxy is started and must answer `GET <healthPath>` 200 while alive.
 * On any failure, or when `options.signal` aborts, everything launched so far is stopped before the
 * typed error is thrown.
 *
 * Server lines reach `options.onLine` as `[<role>] <line>`, proxy lines as `[proxy] <line>`
 * (default: stdout).
 */
export async function startTopology(spec: TopologySpec, options: StartOptions = {}): Promise<TopologyHandle> {
  validate(spec);
  const print = options.print ?? stdoutPrint;
  const printError = options.printError ?? stderrPrint;
  const sink = options.onLine ?? stdoutLine;
  const tailLines = options.tailLines ?? 80;
  const signal = options.signal;
  if (signal?.aborted) throw new ServerCancelledError({ cause: signal.reason });

  // Refuse busy ports before anything is launched, naming the role.
  await Promise.all([
    ...spec.servers
      .filter((server) => server.runtime !== 'external')
      .map((server) =>
        assertPortFree(server.port, server.host ?? '127.0.0.1').catch((error: unknown) =>
          Promise.reject(withRole(error, server.role)),
        ),
      ),
    ...(spec.proxy
      ? [
          assertPortFree(spec.proxy.port, spec.proxy.host ?? '127.0.0.1').catch((error: unknown) =>
            Promise.reject(withRole(error, 'proxy')),
          ),
        ]
      : []),
  ]);

  /** Aborted at teardown (after the proxy is down): cancels launches in progress (docker run). */
  const serversAbort = new AbortController();
  const members: TopologyMember[] = [];
  let proxy: LaunchedProxy | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      signal?.removeEventListener('abort', onAbort);
      if (proxy) await proxy.stop();
      serversAbort.abort();
      await Promise.all(members.map((member) => member.handle.stop()));
    })();
    return stopping;
  };
  const onAbort = () => void stop();
  signal?.addEventListener('abort', onAbort, { once: true });
  const cancelled = () => new ServerCancelledError({ cause: signal?.reason });
  const fail = async (error: unknown): Promise<never> => {
    await stop();
    // An abort can run stop() while a launch is still in flight; whatever came up since goes too.
    await proxy?.stop();
    await Promise.all(members.map((member) => member.handle.stop()));
    throw signal?.aborted && !(error instanceof ServerCancelledError) ? cancelled() : error;
  };

  // 1. Launch every server concurrently.
  const launches = await Promise.allSettled(
    spec.servers.map((server) =>
      launchServer(server, {
        signal: serversAbort.signal,
        ...(options.forceSignal ? { forceSignal: options.forceSignal } : {}),
        print: (line) => print(tagLaunchLine(server.role, line)),
        printError: (line) => printError(`[${server.role}] ${line}`),
        onLine: (line) => sink(`[${server.role}] ${line}`),
        tailLines,
      }),
    ),
  );
  let launchError: unknown;
  launches.forEach((result, index) => {
    const server = spec.servers[index] as TopologyServerSpec;
    if (result.status === 'fulfilled') members.push({ role: server.role, handle: result.value });
    else launchError ??= withRole(result.reason, server.role);
  });
  if (launchError !== undefined) return fail(launchError);
  if (signal?.aborted) return fail(cancelled());

  // 2. Every role ready; the first failure aborts the other waits.
  const phase = new AbortController();
  let firstError: unknown;
  const failFast = (error: unknown) => {
    firstError ??= error;
    phase.abort();
  };
  const waitSignal = signal ? AbortSignal.any([phase.signal, signal]) : phase.signal;
  const specOf = (member: TopologyMember) =>
    spec.servers.find((server) => server.role === member.role) as TopologyServerSpec;
  await Promise.all(
    members.map(async (member) => {
      const server = specOf(member);
      const { role, handle } = member;
      print(`+++ :hourglass: waiting for ${role} /health (timeout ${server.startupTimeoutS}s)`);
      const apiKey = apiKeyOf(server);
      try {
        const outcome = await waitForReady({
          url: handle.url,
          servedModelName: server.servedModelName,
          timeoutS: server.startupTimeoutS,
          exited: rawExitOf(handle) as Promise<ServerExit>,
          print: (line) => print(line.replace('/health', `${role} /health`)),
          signal: waitSignal,
          ...(options.pollIntervalMs !== undefined ? { intervalMs: options.pollIntervalMs } : {}),
          ...(options.stillWaitingEveryS !== undefined
            ? { stillWaitingEveryS: options.stillWaitingEveryS }
            : {}),
          ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
          ...(apiKey ? { apiKey } : {}),
        });
        if (phase.signal.aborted) return; // another role failed first
        switch (outcome.status) {
          case 'ready':
            print(`${role} server healthy`);
            return;
          case 'exited': {
            phase.abort();
            if (signal?.aborted) return failFast(cancelled());
            printError(`vLLM ${role} server exited before becoming healthy`);
            failFast(memberExitedError(member, server, await handle.exited, 'startup', outcome.elapsedMs));
            return;
          }
          case 'timeout':
            printError(`${role} server never came up`);
            failFast(
              new ServerTimeoutError(handle.url, server.startupTimeoutS, server.logFile, {
                command: handle.command,
                durationMs: outcome.elapsedMs,
                outputTail: [...handle.logs.tail(), `(last probe: ${outcome.lastProbe})`],
                role,
              }),
            );
            return;
          case 'cancelled':
            failFast(cancelled());
            return;
        }
      } catch (error) {
        failFast(withRole(error, role));
      }
    }),
  );
  if (firstError !== undefined) return fail(firstError);

  // 3. The proxy, once every server is ready.
  let deadRole: TopologyMember | undefined;
  if (spec.proxy) {
    if (signal?.aborted) return fail(cancelled());
    const proxySpec = spec.proxy;
    print(`--- :rocket: starting proxy: ${proxyUrl(proxySpec)}`);
    try {
      proxy = await launchProxy(proxySpec, { onLine: (line) => sink(`[proxy] ${line}`), tailLines });
    } catch (error) {
      printError('proxy exited before becoming healthy');
      return fail(error);
    }
    const launched = proxy;
    print(`$ ${formatCommand(launched.command)}`);
    const timeoutS = proxySpec.readyTimeoutS ?? DEFAULT_PROXY_READY_TIMEOUT_S;
    const healthUrl = `${launched.url}${proxySpec.healthPath}`;
    print(`+++ :hourglass: waiting for proxy ${proxySpec.healthPath} (timeout ${timeoutS}s)`);
    // A server dying while the proxy boots ends the wait too.
    const proxyPhase = new AbortController();
    for (const member of members) {
      void rawExitOf(member.handle).then(() => {
        if (!proxyPhase.signal.aborted) {
          deadRole ??= member;
          proxyPhase.abort();
        }
      });
    }
    const outcome = await waitForProxy({
      healthUrl,
      timeoutS,
      processExit: launched.processExit,
      hasExited: launched.hasExited,
      intervalMs: options.pollIntervalMs ?? 200,
      stillWaitingEveryS: options.stillWaitingEveryS ?? 60,
      print,
      signal: signal ? AbortSignal.any([proxyPhase.signal, signal]) : proxyPhase.signal,
      dispatcher: options.dispatcher,
    });
    const dead = deadRole;
    proxyPhase.abort();
    switch (outcome.status) {
      case 'ready':
        print('proxy healthy');
        break;
      case 'exited':
        if (signal?.aborted) return fail(cancelled());
        printError('proxy exited before becoming healthy');
        return fail(launched.exitedError('startup', await launched.exited));
      case 'timeout':
        printError('proxy never came up');
        return fail(
          new ProxyTimeoutError(healthUrl, timeoutS, {
            command: launched.command,
            durationMs: outcome.elapsedMs,
            outputTail: [...launched.log.tail(), `(last probe: ${outcome.lastProbe})`],
            url: launched.url,
            logFile: proxySpec.logFile,
          }),
        );
      case 'cancelled': {
        if (signal?.aborted || !dead) return fail(cancelled());
        printError(`vLLM ${dead.role} server exited while the proxy was starting`);
        return fail(memberExitedError(dead, specOf(dead), await dead.handle.exited, 'running'));
      }
    }
  }

  const launchedProxy = proxy;
  const memberRejections = () =>
    members.map((member) =>
      member.handle.exited.then((exit) => {
        if (exit.stopped || stopping) return never();
        throw memberExitedError(member, specOf(member), exit, 'running');
      }),
    );
  const proxyRejection = () =>
    launchedProxy
      ? [
          launchedProxy.exited.then((exit) => {
            if (exit.stopped || stopping) return never();
            throw launchedProxy.exitedError('running', exit);
          }),
        ]
      : [];
  return {
    url: launchedProxy ? launchedProxy.url : (members[0] as TopologyMember).handle.url,
    members,
    proxyPid: launchedProxy?.pid,
    proxyCommand: launchedProxy?.command ?? [],
    proxyLogs: launchedProxy?.log,
    rejectOnExit: () => Promise.race([...memberRejections(), ...proxyRejection()]),
    stop,
  };
}
