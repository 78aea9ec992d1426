export {
  buildLmEvalArgv,
  redactModelArgs,
  renderBaseUrl,
  renderExtraModelArgs,
  renderModelArgs,
  secretModelArgValues,
} from './lib/argv.js';
export type { BuildLmEvalArgvOptions, LmEvalTaskSpec } from './lib/argv.js';
export {
  LmEvalCancelledError,
  LmEvalFailedError,
  LmEvalNoResultsError,
  LmEvalParseError,
  LmEvalTasksUnavailableError,
  LmEvalUnknownTaskError,
} from './lib/errors.js';
export { metricsOf, parseLmEvalResults } from './lib/results.js';
export type { LmEvalMetric, LmEvalResults, LmEvalRunConfig, LmEvalTaskResult } from './lib/results.js';
export { runLmEval } from './lib/run.js';
export type { LmEvalOutcome, RunLmEvalOptions } from './lib/run.js';
export { sanitizeModelName } from './lib/sanitize.js';
export {
  LMEVAL_TASKS_CODE,
  LMEVAL_VERSION_CODE,
  assertTaskNames,
  checkTaskNames,
  listLmEvalTasks,
  parseLsTasksOutput,
  suggestTaskNames,
} from './lib/tasks.js';
export type { ListLmEvalTasksOptions, UnknownTask } from './lib/tasks.js';
