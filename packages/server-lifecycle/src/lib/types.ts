import type { Dispatcher } from 'undici';
import type { Diagnosis } from './diagnose.js';

export type ServerRuntime = 'docker' | 'native' | 'external' | 'sim';

/** What the CLI builds from a resolved recipe. Everything the launchers need, nothing else. */
export interface ServerSpec {
  runtime: ServerRuntime;
  /** Positional model argument (HF id or path). */
  model: string;
  /** The id `/v1/models` must list (`--served-model-name` if given, else `model`). */
  servedModelName: string;
  port: number;
  /** Host used for probes and the returned URL. Default `127.0.0.1`. */
  host?: string;
  /** `vllm.serve_args` tokens, verbatim. */
  serveArgs: string[];
  /** Server-only environment, ordered (recipe-compat §7). Never applied to this process. */
  env: Record<string, string>;
  /** Docker image (docker runtime). */
  image?: string;
  /** Container name (docker); also names the server in messages. */
  containerName: string;
  /** Container labels (docker), e.g. from `buildkiteLabels()`. */
  labels?: Record<string, string>;
  /** Directory bind-mounted read-write at the same path (docker). Default: `env.HF_HOME`. */
  hfHome?: string;
  /** Readiness deadline and `VLLM_ENGINE_READY_TIMEOUT_S` (unless `env` sets it). */
  startupTimeoutS: number;
  /** Every server log line is appended here (e.g. `results/<name>/server.log`). */
  logFile: string;
  /** Base URL of an already-running server (external runtime). */
  url?: string;
  /** `vllm` (native) or simulator (sim) executable. Defaults: `vllm`, `llm-d-inference-sim`. */
  binary?: string;
  /** Docker executable. Default `docker`. */
  docker?: string;
  /** Seconds between SIGTERM/`docker stop` and SIGKILL. Default 5. Also `--stop-timeout`. */
  stopGraceS?: number;
}

/** How a server process or container ended. */
export interface ServerExit {
  exitCode: number | undefined;
  signal: string | undefined;
  /** True when `stop()` caused the exit. */
  stopped: boolean;
  /** Docker reported the container as OOM-killed. */
  oomKilled?: boolean;
}

export type PrintFn = (line: string) => void;
/** Receives every server log line (secrets scrubbed). Return a promise to apply backpressure. */
export type LineFn = (line: string) => void | Promise<void>;

export interface LaunchOptions {
  /** Aborting stops the server (start is cancelled, a running server is torn down). */
  signal?: AbortSignal;
  /**
   * Aborting makes teardown skip the graceful part: SIGKILL the process group at once, `docker kill`
   * the container (e.g. on a second SIGTERM). Teardown always completes; this only shortens it.
   */
  forceSignal?: AbortSignal;
  /** Progress lines (stdout by default). */
  print?: PrintFn;
  /** Failure headers such as `server never came up` (stderr by default). */
  printError?: PrintFn;
  /** Server log lines. Default: `[vllm] <line>` to stdout. */
  onLine?: LineFn;
  /** Lines kept in memory for diagnosis. Default 80. */
  tailLines?: number;
}

export interface StartOptions extends LaunchOptions {
  /** `/health` poll interval. Default 200 ms. */
  pollIntervalMs?: number;
  /** Interval of `still waiting for /health after <N>s`. Default 60 s. */
  stillWaitingEveryS?: number;
  /** undici dispatcher for the probes (tests, proxies). Default: a private Agent. */
  dispatcher?: Dispatcher;
}

export interface ServerLogs {
  /** Path of the full log file. */
  readonly file: string;
  /** Number of lines seen so far. */
  readonly lineCount: number;
  /** The last `tailLines` lines. */
  tail(): string[];
  /** Failure class from every line seen so far plus the exit state. */
  diagnose(exit?: ServerExit): Diagnosis;
}

export interface ServerHandle {
  readonly runtime: ServerRuntime;
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:8000`. */
  readonly url: string;
  /** Native/sim: process id (its process group id too). */
  readonly pid: number | undefined;
  /** Docker: container name. */
  readonly containerName: string | undefined;
  /** The argv that was launched (secrets redacted); empty for external. */
  readonly command: readonly string[];
  readonly logs: ServerLogs;
  /** Resolves once the server has exited and its log has been drained. Never rejects. Pending forever for external. */
  readonly exited: Promise<ServerExit>;
  /** Throws `ServerExitedError` if the server has exited without `stop()`. */
  assertAlive(): void;
  /** Rejects with `ServerExitedError` when the server dies unexpectedly; never settles after `stop()`. For `Promise.race`. */
  rejectOnExit(): Promise<never>;
  /** Idempotent teardown: SIGTERM the process group / `docker stop`, then SIGKILL / `docker rm -f`. */
  stop(): Promise<void>;
}
