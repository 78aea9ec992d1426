import { PerfEvalError, ToolError, describeExit, cancellationCategory } from '@perf-eval/util';
import type { PerfEvalErrorOptions, ToolRunContext } from '@perf-eval/util';
import type { Diagnosis } from './diagnose.js';
import type { ServerRuntime } from './types.js';

export interface ServerFailureContext extends ToolRunContext {
  runtime: ServerRuntime;
  diagnosis: Diagnosis;
  logFile: string;
  /** Topology role (`prefill`, `decode` …); named in the message when set. */
  role?: string | undefined;
}

/** `vLLM server` or `vLLM <role> server`. */
function serverNoun(role: string | undefined): string {
  return role ? `vLLM ${role} server` : 'vLLM server';
}

/** The server process or container exited before becoming ready, or while it was in use. */
export class ServerExitedError extends ToolError {
  readonly runtime: ServerRuntime;
  readonly phase: 'startup' | 'running';
  readonly diagnosis: Diagnosis;
  readonly logFile: string;
  readonly role: string | undefined;

  constructor(
    phase: 'startup' | 'running',
    context: ServerFailureContext,
    options: PerfEvalErrorOptions = {},
  ) {
    const noun = serverNoun(context.role);
    const what =
      phase === 'startup' ? `${noun} exited before becoming healthy` : `${noun} exited while in use`;
    super(
      'E_SERVER_EXITED',
      `${what} (${describeExit(context)}): ${context.diagnosis.summary}`,
      context,
      options,
    );
    this.runtime = context.runtime;
    this.phase = phase;
    this.diagnosis = context.diagnosis;
    this.logFile = context.logFile;
    this.role = context.role;
  }
}

/** The server could not be launched at all (`docker run` failed, binary missing). */
export class ServerLaunchError extends ToolError {
  readonly runtime: ServerRuntime;
  readonly diagnosis: Diagnosis;
  readonly logFile: string;
  readonly role: string | undefined;

  constructor(context: ServerFailureContext, options: PerfEvalErrorOptions = {}) {
    const program = context.command[0] ?? 'server';
    super(
      'E_SERVER_LAUNCH',
      `could not start the ${serverNoun(context.role)}: ${program} ${describeExit(context)}: ${context.diagnosis.summary}`,
      context,
      options,
    );
    this.runtime = context.runtime;
    this.diagnosis = context.diagnosis;
    this.logFile = context.logFile;
    this.role = context.role;
  }
}

/** `/health` never answered 200 before `startupTimeoutS`. */
export class ServerTimeoutError extends ToolError {
  readonly url: string;
  readonly timeoutS: number;
  readonly logFile: string;
  readonly role: string | undefined;

  constructor(
    url: string,
    timeoutS: number,
    logFile: string,
    context: ToolRunContext & { role?: string | undefined },
    options: PerfEvalErrorOptions = {},
  ) {
    const noun = context.role ? `${context.role} server` : 'server';
    super(
      'E_SERVER_TIMEOUT',
      `${noun} never came up: ${url}/health did not return 200 within ${timeoutS}s (raise vllm.startup_timeout_s or check ${logFile})`,
      { ...context, timedOut: true },
      options,
    );
    this.url = url;
    this.timeoutS = timeoutS;
    this.logFile = logFile;
    this.role = context.role;
  }
}

/** `/health` is fine but `/v1/models` does not list the served model name. */
export class ServerModelMissingError extends PerfEvalError {
  readonly url: string;
  readonly expected: string;
  readonly listed: readonly string[];
  readonly role: string | undefined;

  constructor(
    url: string,
    expected: string,
    listed: readonly string[],
    options: PerfEvalErrorOptions & { role?: string | undefined } = {},
  ) {
    super(
      'E_SERVER_MODEL_MISSING',
      `${options.role ? `${options.role} server` : 'server'} at ${url} is healthy but /v1/models does not list '${expected}' (listed: ${listed.length ? listed.join(', ') : 'none'}); check --served-model-name`,
      options,
    );
    this.url = url;
    this.expected = expected;
    this.listed = listed;
    this.role = options.role;
  }
}

/**
 * The start was aborted through the caller's AbortSignal; a launched server has been stopped. An
 * external server (`runtime: 'external'`) was never ours: it is left running, and the message says so.
 */
export class ServerCancelledError extends PerfEvalError {
  readonly external: boolean;
  constructor(options: PerfEvalErrorOptions & { external?: boolean } = {}) {
    super(
      'E_SERVER_CANCELLED',
      options.external
        ? 'waiting for the external server cancelled; it was left running (perf-eval does not stop a server it did not start)'
        : 'server start cancelled; the server was stopped',
      { ...options, category: options.category ?? cancellationCategory(options.cause) },
    );
    this.external = options.external ?? false;
  }
}

/** A docker housekeeping command (`ps`, `rm`) failed. */
export class DockerCommandError extends ToolError {
  constructor(context: ToolRunContext, options: PerfEvalErrorOptions = {}) {
    super(
      'E_SERVER_DOCKER',
      `${context.command.slice(0, 2).join(' ')} ${describeExit(context)}`,
      context,
      options,
    );
  }
}

/** `VLLM_PORT` is not an integer in 1–65535. */
export class PortInvalidError extends PerfEvalError {
  readonly value: string;

  constructor(value: string, options: PerfEvalErrorOptions = {}) {
    super('E_PORT_INVALID', `VLLM_PORT must be an integer between 1 and 65535, got '${value}'`, {
      ...options,
      category: 'validation',
    });
    this.value = value;
  }
}

/** Something already listens on (or has bound) the server port. */
export class PortInUseError extends PerfEvalError {
  readonly port: number;
  readonly role: string | undefined;

  constructor(port: number, options: PerfEvalErrorOptions & { role?: string | undefined } = {}) {
    const owner = options.role ? ` (${options.role})` : '';
    super(
      'E_PORT_IN_USE',
      `port ${port}${owner} is already in use on this host; stop whatever holds it or set VLLM_PORT to a free port`,
      { ...options, category: 'preflight' },
    );
    this.port = port;
    this.role = options.role;
  }
}

/** What a proxy failure carries besides the ToolRunContext. */
export interface ProxyFailureContext extends ToolRunContext {
  /** Proxy base URL, e.g. `http://127.0.0.1:8192`. */
  url: string;
  logFile: string;
}

/** Last non-empty proxy log line, quoted as evidence in the message. */
function evidenceOf(tail: readonly string[] | undefined): string {
  const last = [...(tail ?? [])].reverse().find((line) => line.trim() !== '');
  return last ? `: ${last.trim()}` : '';
}

/** The disaggregation proxy exited before answering its health check, or while in use. */
export class ProxyExitedError extends ToolError {
  readonly phase: 'startup' | 'running';
  readonly url: string;
  readonly logFile: string;

  constructor(
    phase: 'startup' | 'running',
    context: ProxyFailureContext,
    options: PerfEvalErrorOptions = {},
  ) {
    const what = phase === 'startup' ? 'proxy exited before becoming healthy' : 'proxy exited while in use';
    super(
      'E_SERVER_PROXY_EXITED',
      `${what} (${describeExit(context)})${evidenceOf(context.outputTail)} (see ${context.logFile})`,
      context,
      options,
    );
    this.phase = phase;
    this.url = context.url;
    this.logFile = context.logFile;
  }
}

/** The proxy's health endpoint never answered 200 within its timeout. */
export class ProxyTimeoutError extends ToolError {
  readonly url: string;
  readonly timeoutS: number;
  readonly logFile: string;

  constructor(
    healthUrl: string,
    timeoutS: number,
    context: ProxyFailureContext,
    options: PerfEvalErrorOptions = {},
  ) {
    super(
      'E_SERVER_PROXY_TIMEOUT',
      `proxy never came up: ${healthUrl} did not return 200 within ${timeoutS}s (raise proxy readyTimeoutS or check ${context.logFile})`,
      { ...context, timedOut: true },
      options,
    );
    this.url = context.url;
    this.timeoutS = timeoutS;
    this.logFile = context.logFile;
  }
}
