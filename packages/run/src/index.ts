export { ALL_PHASES, DEFAULT_JOBS, planRun, planSecrets, planVariants, redactPlan } from './lib/plan.js';
export type {
  CacheResetPlan,
  Phase,
  PlannedLaunch,
  PlannedPerfIngest,
  PlannedServer,
  PlanRunOptions,
  RunPlan,
} from './lib/plan.js';
export { benchOnly, BFCL_DRIVER_PLACEHOLDER, DEFAULT_TOOLS } from './lib/compose.js';
export type { ToolCommands } from './lib/compose.js';
export { serverEnvironments, SERVER_DEV_MODE, toolEnvValues, withServerDevMode } from './lib/environment.js';
export type { ServerEnvironments, ToolEnvPlan } from './lib/environment.js';
export { formatPlan } from './lib/format.js';
export { describeWriteError, executeRun, PlanEnvMismatchError, realAdapters } from './lib/execute.js';
export type { ExecuteRunOptions, PostRunStep, RunAdapters, RunReporter } from './lib/execute.js';
export { runIdentityOf, verdictPostRun } from './lib/verdict-step.js';
export type { VerdictPostRunOptions } from './lib/verdict-step.js';
export { renderSummaryMarkdown, writeSummary } from './lib/summary.js';
export type {
  IngestSummary,
  BenchRepetitionRecord,
  RoleStatus,
  RunIdentityExtra,
  RunSummary,
  TaskError,
  TaskKind,
  TaskRecord,
  TaskStatus,
} from './lib/summary.js';
export {
  SemanticEvalFailedError,
  SemanticEvalResultError,
  SEMANTIC_EVAL_METRICS,
} from './lib/semantic-eval.js';
export type { SemanticEvalResult } from './lib/semantic-eval.js';
export { accountGpuTime, describeGpuTime, MEASURING_KINDS, Timeline } from './lib/timeline.js';
export type { GpuAccounting, IdleCause, PhaseKind, TimelinePhase } from './lib/timeline.js';
export {
  discoverRunTools,
  NO_AUTO_SETUP_ENV,
  planLocalRun,
  preflightRun,
  PreflightError,
  prepareDuringLaunch,
  provisionForLaunch,
  runToolComponents,
} from './lib/preflight.js';
export type { RunTools, RunToolsOptions } from './lib/preflight.js';
export { annotateBuild, reportLinkMarkdown, runFailures } from './lib/annotation.js';
export type { AnnotateOptions } from './lib/annotation.js';
export { ConsoleReporter } from './lib/console-reporter.js';
export type { ConsoleStreams } from './lib/console-reporter.js';
export { BaselineMissingError, runWorkload } from './lib/run-workload.js';
export type { RunWorkloadOptions, WorkloadRun } from './lib/run-workload.js';
