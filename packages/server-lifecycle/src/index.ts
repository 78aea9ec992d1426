export { startServer, launchServer, waitUntilReady } from './lib/server.js';
export type {
  ServerSpec,
  ServerRuntime,
  ServerHandle,
  ServerExit,
  ServerLogs,
  LaunchOptions,
  StartOptions,
  PrintFn,
  LineFn,
} from './lib/types.js';
export {
  buildDockerRunArgv,
  buildNativeArgv,
  buildkiteLabels,
  serverEnv,
  stopGraceFromEnv,
  DEFAULT_STOP_GRACE_S,
} from './lib/argv.js';
export { resolvePort, assertPortFree, posixCksum } from './lib/port.js';
export { waitForReady } from './lib/readiness.js';
export type { ReadinessOptions, ReadyOutcome } from './lib/readiness.js';
export { classifyServerLog, FailureScanner, stripLogPrefix } from './lib/diagnose.js';
export type { Diagnosis, FailureKind } from './lib/diagnose.js';
export { ServerLog, printVllmLine } from './lib/server-log.js';
export type { ServerLogOptions } from './lib/server-log.js';
export { findStaleContainers, removeContainers } from './lib/stale.js';
export type { StaleContainer, DockerOptions } from './lib/stale.js';
export {
  ServerExitedError,
  ServerLaunchError,
  ServerTimeoutError,
  ServerModelMissingError,
  ServerCancelledError,
  DockerCommandError,
  PortInvalidError,
  PortInUseError,
} from './lib/errors.js';
export type { ServerFailureContext } from './lib/errors.js';
