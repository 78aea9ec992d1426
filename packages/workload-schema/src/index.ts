export { loadWorkload, loadWorkloadFile, loadWorkloadText, defaultProfilesPath, PROFILES_RELATIVE_PATH } from './lib/load.js';
export type { LoadOptions, LoadResult } from './lib/load.js';
export { loadProfiles, parseProfiles } from './lib/profiles.js';
export type { GpuProfile, GpuProfiles, ServerRuntime } from './lib/profiles.js';
export { resolveWorkload, renderKeyValues, DEFAULT_STARTUP_TIMEOUT_S, DEFAULT_TIMEOUT_IN_MINUTES } from './lib/resolve.js';
export type {
  ResolvedWorkload,
  ResolvedServer,
  ResolvedBenchRun,
  ResolvedLmEvalTask,
  ResolvedBfclRun,
  PerfMetadata,
} from './lib/resolve.js';
export { resolveImage, extractCommit, parseImageRef } from './lib/image.js';
export type { ImageInputs, ImageRef, ResolvedImage } from './lib/image.js';
export { splitServeArgs, parallelismOf, precisionOfModel, hasTrustRemoteCode, servedModelNameOf } from './lib/perf.js';
export { isTruthyFlag, normalizeBenchArgKey, benchRunName } from './lib/validate.js';
export { formatDiagnostic, closestMatches, didYouMean } from './lib/diagnostics.js';
export type { Diagnostic, Severity } from './lib/diagnostics.js';
export { RecipeInvalidError, ProfileInvalidError, RecipeNotFoundError } from './lib/errors.js';
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
} from './lib/schema.js';
export type { RecipeInput, GpuProfileInput } from './lib/schema.js';
export { loadYaml11 } from './lib/yaml11.js';
export type { LoadedYaml } from './lib/yaml11.js';
