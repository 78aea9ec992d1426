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
  specSecrets,
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
export { startTopology } from './lib/topology.js';
export type { TopologySpec, TopologyServerSpec, TopologyHandle, TopologyMember } from './lib/topology.js';
export type { ProxySpec } from './lib/proxy.js';
export { DEFAULT_PROXY_READY_TIMEOUT_S, DEFAULT_PROXY_STOP_GRACE_S } from './lib/proxy.js';
export { buildRayArgv, RAY_EXECUTOR_FLAG, DEFAULT_RAY_PORT } from './lib/ray.js';
export type { RayNodeOptions } from './lib/ray.js';
export { ProxyExitedError, ProxyTimeoutError } from './lib/errors.js';
export type { ProxyFailureContext } from './lib/errors.js';
export { resetServerCaches, CACHE_RESET_PATHS } from './lib/cache-reset.js';
export type { CacheResetOptions, CacheResetOutcome, CacheResetEndpoint } from './lib/cache-reset.js';
export {
  startMetricsSampler,
  parsePrometheusText,
  summarizeSnapshots,
  SERVER_METRIC_NAMES,
} from './lib/server-metrics.js';
export type {
  MetricsSampler,
  MetricsSamplerOptions,
  ServerView,
  GaugeSummary,
  MetricSample,
} from './lib/server-metrics.js';
