export {
  loadWorkload,
  loadWorkloadFile,
  loadWorkloadText,
  defaultProfilesPath,
  PROFILES_RELATIVE_PATH,
} from './lib/load.js';
export type { LoadOptions, LoadResult } from './lib/load.js';
export { listRecipeFiles, loadRecipeFile, checkRecipeFile, RecipeListError } from './lib/files.js';
export type { RecipeFileOptions, RecipeFileCheck } from './lib/files.js';
export { loadProfiles, parseProfiles } from './lib/profiles.js';
export type { GpuProfile, GpuProfiles, ServerRuntime } from './lib/profiles.js';
export {
  resolveWorkload,
  renderKeyValues,
  DEFAULT_STARTUP_TIMEOUT_S,
  DEFAULT_TIMEOUT_IN_MINUTES,
} from './lib/resolve.js';
export type {
  ResolvedWorkload,
  ResolvedGates,
  ResolvedAccuracyGate,
  ResolvedServer,
  ResolvedBenchRun,
  ResolvedLmEvalTask,
  ResolvedBfclRun,
  PerfMetadata,
} from './lib/resolve.js';
export {
  topologyPorts,
  renderProxyArgv,
  proxyHealthUrl,
  splitGpus,
  parseCudaVisibleDevices,
  kvTransferConfigJson,
  vllmSourcePath,
  flagValue,
  ensureFlag,
  TopologyPortError,
  DEFAULT_KV_CONNECTOR,
  DEFAULT_PROXY_SCRIPT,
  DEFAULT_PROXY_HEALTH_PATH,
  DEFAULT_NIXL_SIDE_CHANNEL_PORT,
} from './lib/topology.js';
export type {
  ResolvedRole,
  ResolvedProxy,
  ResolvedDisaggregation,
  RoleName,
  GpuSource,
  GpuSplit,
  TopologyPorts,
} from './lib/topology.js';
export {
  renderSemanticEval,
  semanticEvalOutputPath,
  defaultSemanticEvalCommand,
  semanticEvalTokens,
  placeholdersOf,
  SemanticEvalTemplateError,
  DEFAULT_SEMANTIC_EVAL_SCRIPT,
  DEFAULT_SEMANTIC_EVAL_QUESTIONS,
  DEFAULT_SEMANTIC_EVAL_TIMEOUT_MINUTES,
  DEFAULT_SEMANTIC_EVAL_OUTPUT,
} from './lib/semantic-eval.js';
export type { ResolvedSemanticEval, SemanticEvalValues } from './lib/semantic-eval.js';
export {
  expandVariants,
  selectVariant,
  VariantSelectionError,
  variantName,
  variantCount,
  setFlag,
  pathSafe,
} from './lib/sweep.js';
export type {
  Variant,
  ResolvedSweep,
  SweepDimension,
  SelectVariantOptions,
  VariantProblem,
} from './lib/sweep.js';
export { resolveImage, extractCommit, parseImageRef } from './lib/image.js';
export type { ImageInputs, ImageRef, ResolvedImage } from './lib/image.js';
export {
  splitServeArgs,
  parallelismOf,
  precisionOfModel,
  hasTrustRemoteCode,
  servedModelNameOf,
} from './lib/perf.js';
export { isTruthyFlag, normalizeBenchArgKey, benchRunName, workloadNameProblem } from './lib/validate.js';
export { formatDiagnostic, closestMatches, didYouMean } from './lib/diagnostics.js';
export type { Diagnostic, Severity } from './lib/diagnostics.js';
export {
  RecipeInvalidError,
  ProfileInvalidError,
  RecipeNotFoundError,
  RecipeReadError,
  readRecipeFile,
} from './lib/errors.js';
export {
  RecipeSchema,
  GpuProfileSchema,
  GpuProfilesSchema,
  recipeJsonSchema,
  BFCL_CATEGORIES,
  BFCL_LEAF_CATEGORIES,
  BFCL_GROUP_CATEGORIES,
  BENCH_RESERVED_OPTIONS,
  BENCH_DATASETS,
  MAX_SWEEP_VARIANTS,
  SEMANTIC_EVAL_PLACEHOLDERS,
  DEFAULT_GATE_RTOL,
  MAX_TIMER_MS,
  MAX_TIMEOUT_MINUTES,
  MAX_TIMEOUT_SECONDS,
  WORKLOAD_NAME_PATTERN,
} from './lib/schema.js';
export type { RecipeInput, GpuProfileInput } from './lib/schema.js';
export {
  loadYaml11,
  MAX_YAML_BYTES,
  MAX_YAML_TOKENS,
  MAX_NESTING_DEPTH,
  MAX_ALIAS_NODES,
} from './lib/yaml11.js';
export type { LoadedYaml } from './lib/yaml11.js';
