export { generatePipeline, resolveProfilesPath, toYaml, assignStepKeys } from './lib/generate.js';
export type { GenerateOptions, GeneratedPipeline } from './lib/generate.js';
export {
  listWorkloadFiles,
  parseWorkloadsEnv,
  selectFromEntries,
  stemOf,
  WORKLOADS_DIR,
} from './lib/selection.js';
export type { Selection } from './lib/selection.js';
export {
  buildStep,
  stepCommands,
  stepEnv,
  stepKey,
  stepKeyFor,
  hashedStepKey,
  MAX_KEY_LENGTH,
  gpuEmoji,
  queueFor,
  hfCacheVolumeFor,
  podImage,
  retryRules,
  SECRET_COMMAND,
  EXECUTABLE,
  EXECUTABLE_STEP_KEY,
  ECR_PULL_THROUGH_PREFIX,
  DEFAULT_AMD_HF_HOME,
} from './lib/steps.js';
export type { Env } from './lib/steps.js';
export {
  nodeCount,
  checkMultiNode,
  multiNodeFetch,
  multiNodeRun,
  rayMetaDataKeys,
  RAY_HEAD_PORT,
  DEFAULT_RAY_WAIT_S,
  DEFAULT_RAY_POLL_S,
} from './lib/multinode.js';
export {
  escapeDollars,
  escapeDeep,
  interpolate,
  simulateUpload,
  findUnescapedDollars,
} from './lib/interpolation.js';
export type { InterpolationMode } from './lib/interpolation.js';
export {
  createSchemaValidator,
  defaultSchemaCacheDir,
  SCHEMA_CACHE_DIR_ENV,
  defaultSchemaPath,
  loadSchema,
  DEFAULT_SCHEMA_RELATIVE_PATH,
  SCHEMA_PATH_ENV,
  SCHEMA_ID,
} from './lib/schema.js';
export type { SchemaValidator, SchemaValidatorOptions } from './lib/schema.js';
export { lintPipeline, jobCount, UPLOAD_JOB_LIMIT } from './lib/lint.js';
export { splitPipeline, uploadFileNames, JOBS_PER_UPLOAD } from './lib/split.js';
export type { LintContext, ExpectedStep } from './lib/lint.js';
export { checkPipeline, checkUploads, assertValidPipeline } from './lib/validate.js';
export type { CheckOptions } from './lib/validate.js';
export { checkOutputPath, checkPipelineFiles, writeUploads, PipelineFileError } from './lib/files.js';
export type {
  PipelineFile,
  PipelineFileProblem,
  WriteUploadsOptions,
  CheckFilesOptions,
} from './lib/files.js';
export {
  PipelineSelectionError,
  PipelineRecipeError,
  PipelineOverrideError,
  PipelineInvalidError,
  PipelineSchemaError,
  PipelineTopologyError,
} from './lib/errors.js';
export type { PipelineIssue } from './lib/errors.js';
export type { Pipeline, CommandStep, RetryRule, KubernetesPlugin } from './lib/types.js';
