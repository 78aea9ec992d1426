import { PerfEvalError, ToolError, describeExit } from '@perf-eval/util';
import type { PerfEvalErrorOptions, ToolRunContext } from '@perf-eval/util';
import type { Diagnosis } from './diagnose.js';
import type { ServerRuntime } from './types.js';

export interface ServerFailureContext extends ToolRunContext {
  runtime: ServerRuntime;
  diagnosis: Diagnosis;
  logFile: string;
}

/** The server process or container exited before becoming ready, or while it was in use. */
export class ServerExitedError extends ToolError {
  readonly runtime: ServerRuntime;
  readonly phase: 'startup' | 'running';
  readonly diagnosis: Diagnosis;
  readonly logFile: string;

  constructor(phase: 'startup' | 'running', context: ServerFailureContext, options: PerfEvalErrorOptions = {}) {
    const what = phase === 'startup' ? 'vLLM server exited before becoming healthy' : 'vLLM server exited while in use';
    super('E_SERVER_EXITED', `${what} (${describeExit(context)}): ${context.diagnosis.summary}`, context, options);
    this.runtime = context.runtime;
    this.phase = phase;
    this.diagnosis = context.diagnosis;
    this.logFile = context.logFile;
  }
}

/** The server could not be launched at all (`docker run` failed, binary missing). */
export class ServerLaunchError extends ToolError {
  readonly runtime: ServerRuntime;
  readonly diagnosis: Diagnosis;
  readonly logFile: string;

  constructor(context: ServerFailureContext, options: PerfEvalErrorOptions = {}) {
    const program = context.command[0] ?? 'server';
    super('E_SERVER_LAUNCH', `could not start the vLLM server: ${program} ${describeExit(context)}: ${context.diagnosis.summary}`, context, options);
    this.runtime = context.runtime;
    this.diagnosis = context.diagnosis;
    this.logFile = context.logFile;
  }
}

/** `/health` never answered 200 before `startupTimeoutS`. */
export class ServerTimeoutError extends ToolError {
  readonly url: string;
  readonly timeoutS: number;
  readonly logFile: string;

  constructor(url: string, timeoutS: number, logFile: string, context: ToolRunContext, options: PerfEvalErrorOptions = {}) {
    super(
      'E_SERVER_TIMEOUT',
      `server never came up: ${url}/health did not return 200 within ${timeoutS}s (raise vllm.startup_timeout_s or check ${logFile})`,
      { ...context, timedOut: true },
      options,
    );
    this.url = url;
    this.timeoutS = timeoutS;
    this.logFile = logFile;
  }
}

/** `/health` is fine but `/v1/models` does not list the served model name. */
export class ServerModelMissingError extends PerfEvalError {
  readonly url: string;
  readonly expected: string;
  readonly listed: readonly string[];

  constructor(url: string, expected: string, listed: readonly string[], options: PerfEvalErrorOptions = {}) {
    super(
      'E_SERVER_MODEL_MISSING',
      `server at ${url} is healthy but /v1/models does not list '${expected}' (listed: ${listed.length ? listed.join(', ') : 'none'}); check --served-model-name`,
      options,
    );
    this.url = url;
    this.expected = expected;
    this.listed = listed;
  }
}

/** The start was aborted through the caller's AbortSignal; the server has been stopped. */
export class ServerCancelledError extends PerfEvalError {
  constructor(options: PerfEvalErrorOptions = {}) {
    super('E_SERVER_CANCELLED', 'server start cancelled; the server was stopped', options);
  }
}

/** A docker housekeeping command (`ps`, `rm`) failed. */
export class DockerCommandError extends ToolError {
  constructor(context: ToolRunContext, options: PerfEvalErrorOptions = {}) {
    super('E_SERVER_DOCKER', `${context.command.slice(0, 2).join(' ')} ${describeExit(context)}`, context, options);
  }
}

/** `VLLM_PORT` is not an integer in 1–65535. */
export class PortInvalidError extends PerfEvalError {
  readonly value: string;

  constructor(value: string, options: PerfEvalErrorOptions = {}) {
    super('E_PORT_INVALID', `VLLM_PORT must be an integer between 1 and 65535, got '${value}'`, options);
    this.value = value;
  }
}

/** Something already listens on (or has bound) the server port. */
export class PortInUseError extends PerfEvalError {
  readonly port: number;

  constructor(port: number, options: PerfEvalErrorOptions = {}) {
    super('E_PORT_IN_USE', `port ${port} is already in use on this host; stop whatever holds it or set VLLM_PORT to a free port`, options);
    this.port = port;
  }
}
