export {
  toolsDir,
  toolPaths,
  isExecutable,
  findOnPath,
  discoverTools,
  DEFAULT_TOOLS,
  SERVER_VLLM_ENV,
  BENCH_VLLM_ENV,
} from './lib/tools.js';
export type {
  ToolCommands,
  ToolRole,
  ToolRoles,
  ToolSource,
  ServerRuntime,
  DiscoverToolsOptions,
  DiscoveredTools,
} from './lib/tools.js';
export { COMPONENTS, provision, SetupStepError, SetupPrerequisiteError } from './lib/provision.js';
export type { Component, ProvisionOptions, Stamp, StepReport, StepStatus } from './lib/provision.js';
export { componentsFor, ensureTools, hasComponent } from './lib/ensure.js';
export type { ToolNeeds, EnsureToolsResult } from './lib/ensure.js';
export { Heartbeat, formatElapsed, terminalProgress } from './lib/progress.js';
export type { ProgressOptions, ProgressStream } from './lib/progress.js';
export {
  LM_EVAL_VERSION,
  VLLM_VERSION,
  TORCH_VERSION,
  PIP_VERSION,
  TOKENIZERS_VERSION,
  SIMULATOR_MODULE,
  SIMULATOR_VERSION,
} from './lib/pins.js';
export { SUPPORTED, checkToolVersions, compareVersions } from './lib/versions.js';
export type { SupportedRange, VersionCheck, VersionReport } from './lib/versions.js';
export { checkToolsDir, formatProvisionReports, ToolsDirError } from './lib/setup.js';
