import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { isSecretName, redactArgv } from '@perf-eval/util';
import { buildDockerRunArgv, buildNativeArgv, serverEnv, specSecrets, stopGraceOf } from './argv.js';
import { classifyServerLog, makeDiagnosis } from './diagnose.js';
import { ServerLaunchError } from './errors.js';
import type { ServerLog } from './server-log.js';
import type { ServerExit, ServerSpec } from './types.js';

/** A launched server before readiness: how to see it die and how to take it down. */
export interface Launched {
  /** Display argv, secrets redacted. */
  command: string[];
  pid: number | undefined;
  containerName: string | undefined;
  /** Resolves as soon as the process/container has exited (logs may still be draining). */
  processExit: Promise<Omit<ServerExit, 'stopped'>>;
  /** Slower post-mortem details (docker inspect: exit code fallback, OOMKilled), after `processExit`. */
  exitDetails?: Promise<Omit<ServerExit, 'stopped'>>;
  /** Stop and remove; resolves when the server is gone (bounded). */
  terminate(): Promise<void>;
}

export interface LaunchContext {
  log: ServerLog;
  signal: AbortSignal | undefined;
  /** Aborted: teardown kills at once instead of waiting for a graceful stop. */
  forceSignal?: AbortSignal | undefined;
}

/** Resolves when `signal` aborts (never, without one); for racing a graceful wait. */
function whenAborted(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return new Promise<void>(() => undefined);
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((done) => signal.addEventListener('abort', () => done(), { once: true }));
}

type RawExit = Omit<ServerExit, 'stopped'>;

export function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  const timer = new AbortController();
  return Promise.race([
    promise,
    sleep(ms, undefined, { signal: timer.signal }).catch(() => undefined),
  ]).finally(() => timer.abort());
}

export function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * A long-running child in its own process group (so teardown can signal the whole group), its output
 * left unbuffered for a ServerLog to follow, and a promise that never rejects (exits are classified
 * by the caller). `pid` is undefined when the spawn itself failed.
 */
export function spawnDetached(argv: readonly string[], env: NodeJS.ProcessEnv) {
  const [program, ...args] = argv;
  if (!program) throw new TypeError('spawnDetached: argv must not be empty');
  return execa(program, args, {
    env,
    extendEnv: false,
    detached: true,
    cleanup: false,
    buffer: false,
    stdin: 'ignore',
    reject: false,
  });
}

/** execa's description of a failed spawn, as log lines. */
export function spawnFailureLines(result: { shortMessage?: string; message?: string }): string[] {
  return String(result.shortMessage ?? result.message ?? 'spawn failed')
    .split('\n')
    .filter(Boolean);
}

/** Native `vllm serve` or the simulator: a detached child (own process group) with the server env. */
export async function launchProcess(spec: ServerSpec, ctx: LaunchContext): Promise<Launched> {
  const argv = buildNativeArgv(spec);
  const command = redactArgv(argv, specSecrets(spec));
  const child = spawnDetached(argv, { ...process.env, ...serverEnv(spec) });
  const pid = child.pid;
  if (pid === undefined) {
    const result = await child;
    const lines = spawnFailureLines(result);
    await ctx.log.write(lines);
    const classified = classifyServerLog(lines);
    throw new ServerLaunchError(
      {
        command,
        runtime: spec.runtime,
        diagnosis: classified.kind === 'unknown' ? makeDiagnosis('unknown', lines.at(-1)) : classified,
        logFile: spec.logFile,
        outputTail: lines,
        exitCode: result.exitCode,
        durationMs: result.durationMs,
      },
      { cause: result },
    );
  }
  void ctx.log.follow(child.stdout);
  void ctx.log.follow(child.stderr);
  let done = false;
  const processExit: Promise<RawExit> = child.then((result) => {
    done = true;
    return { exitCode: result.exitCode, signal: result.signal };
  });

  const terminate = async () => {
    if (!done) {
      killGroup(pid, ctx.forceSignal?.aborted ? 'SIGKILL' : 'SIGTERM');
      const graceful = Promise.race([processExit, whenAborted(ctx.forceSignal).then(() => undefined)]);
      if (!(await raceTimeout(graceful, stopGraceOf(spec) * 1000))) {
        killGroup(pid, 'SIGKILL');
        await raceTimeout(processExit, 2000);
      }
    }
    // Engine workers share the group and may outlive the API server process.
    killGroup(pid, 'SIGKILL');
    if (!(await ctx.log.drained(1000))) {
      child.stdout.destroy();
      child.stderr.destroy();
    }
  };
  return { command, pid, containerName: undefined, processExit, terminate };
}

function dockerEnv(spec: ServerSpec): Record<string, string> {
  // Secret values reach the container through `-e NAME` + the docker CLI's own env, never argv.
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(spec.env)) if (isSecretName(key)) env[key] = value;
  return env;
}

function parseExitCode(text: string | undefined): number | undefined {
  const trimmed = (text ?? '').trim();
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : undefined;
}

/** `docker run -d`, then `docker logs -f` for the log and `docker wait` + `docker inspect` for liveness. */
export async function launchDocker(spec: ServerSpec, ctx: LaunchContext): Promise<Launched> {
  const argv = buildDockerRunArgv(spec);
  const docker = argv[0] as string;
  const name = spec.containerName;
  const command = redactArgv(argv, specSecrets(spec));
  const grace = stopGraceOf(spec);
  const removeContainer = () =>
    execa(docker, ['rm', '-f', name], {
      reject: false,
      stdin: 'ignore',
      timeout: 15_000,
      forceKillAfterDelay: 1000,
    });

  const run = await execa(docker, argv.slice(1), {
    env: { ...process.env, ...dockerEnv(spec) },
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: spec.startupTimeoutS * 1000,
    forceKillAfterDelay: 2000,
    ...(ctx.signal ? { cancelSignal: ctx.signal } : {}),
  });
  const runErr = String(run.stderr ?? '')
    .split(/\r?\n/)
    .filter((line) => line !== '')
    .map((line) => ctx.log.scrub(line));
  if (run.failed) {
    // An aborted or failed `docker run` may still have created the container.
    await removeContainer();
    await ctx.log.write(runErr.length ? runErr : [run.shortMessage ?? 'docker run failed']);
    const classified = classifyServerLog(runErr);
    throw new ServerLaunchError(
      {
        command,
        runtime: 'docker',
        diagnosis:
          classified.kind === 'unknown'
            ? makeDiagnosis('unknown', runErr.at(-1) ?? run.shortMessage)
            : classified,
        logFile: spec.logFile,
        outputTail: ctx.log.tail(),
        exitCode: run.exitCode,
        signal: run.signal,
        timedOut: run.timedOut,
        durationMs: run.durationMs,
      },
      { cause: run },
    );
  }
  // Pull progress ("Unable to find image … locally") is normal on success: log it, don't classify it.
  await ctx.log.write(runErr, { scan: false });

  const helpers: ResultPromise[] = [];
  const logs = execa(docker, ['logs', '-f', name], { buffer: false, reject: false, stdin: 'ignore' });
  helpers.push(logs);
  void ctx.log.follow(logs.stdout);
  void ctx.log.follow(logs.stderr);
  const wait = execa(docker, ['wait', name], { reject: false, stdin: 'ignore' });
  helpers.push(wait);

  let done = false;
  const processExit: Promise<RawExit> = wait.then((result) => {
    done = true;
    return { exitCode: result.failed ? undefined : parseExitCode(String(result.stdout)), signal: undefined };
  });
  const exitDetails: Promise<RawExit> = processExit.then(async (raw) => {
    let exitCode = raw.exitCode;
    let oomKilled: boolean | undefined;
    const inspect = await execa(docker, ['inspect', '--format', '{{json .State}}', name], {
      reject: false,
      stdin: 'ignore',
      timeout: 10_000,
    });
    if (!inspect.failed) {
      try {
        const state = JSON.parse(String(inspect.stdout)) as { ExitCode?: number; OOMKilled?: boolean };
        exitCode ??= state.ExitCode;
        oomKilled = state.OOMKilled === true;
      } catch {
        // Keep what `docker wait` said.
      }
    }
    return { exitCode, signal: undefined, ...(oomKilled ? { oomKilled } : {}) };
  });

  const killContainer = () =>
    execa(docker, ['kill', name], {
      reject: false,
      stdin: 'ignore',
      timeout: 15_000,
      forceKillAfterDelay: 1000,
    });
  const terminate = async () => {
    if (!done) {
      if (ctx.forceSignal?.aborted) {
        await killContainer();
      } else {
        const stopping = execa(docker, ['stop', '-t', String(grace), name], {
          reject: false,
          stdin: 'ignore',
          timeout: (grace + 3) * 1000,
          forceKillAfterDelay: 1000,
        });
        // A second signal during the graceful stop: kill now instead of waiting out the grace.
        await Promise.race([stopping, whenAborted(ctx.forceSignal).then(killContainer)]);
      }
    }
    await removeContainer();
    await raceTimeout(processExit, 2000);
    if (!(await ctx.log.drained(1000))) logs.kill('SIGKILL');
    for (const helper of helpers)
      if (helper.exitCode === null && helper.signalCode === null) helper.kill('SIGKILL');
  };
  return { command, pid: undefined, containerName: name, processExit, exitDetails, terminate };
}
