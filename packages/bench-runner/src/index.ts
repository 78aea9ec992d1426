export {
  BENCH_RESERVED_OPTIONS,
  DEFAULT_SPEED_BENCH_SUBSET,
  benchBaseUrl,
  buildBenchArgv,
  renderExtraArgs,
} from './lib/argv.js';
export type { BenchRunSpec, BenchTarget, BuildBenchArgvOptions } from './lib/argv.js';
export {
  BENCH_REQUIRED_KEYS,
  parseBenchResult,
  sanitizeBenchJson,
  validateBenchResult,
} from './lib/result.js';
export type { BenchCounts, BenchResult, ParsedBenchResult, SanitizedBenchText } from './lib/result.js';
export { BENCH_IDENTITY_KEYS, aggregateMedian, formatSortedJson } from './lib/aggregate.js';
export type { SortedJson } from './lib/aggregate.js';
export { DEFAULT_BENCH_TIMEOUT_MS, runBench } from './lib/run.js';
export type { BenchExecutor, BenchRunOutcome, RunBenchOptions } from './lib/run.js';
export {
  DEFAULT_SPEED_BENCH_PREP_TIMEOUT_MS,
  SPEED_BENCH_PREPARE_SCRIPT,
  prepareSpeedBench,
  resolveSpeedBenchDir,
} from './lib/speed-bench.js';
export type { PrepareSpeedBenchOptions, SpeedBenchData, SpeedBenchLocation } from './lib/speed-bench.js';
export {
  BenchAggregateError,
  BenchCancelledError,
  BenchDatasetError,
  BenchDockerError,
  BenchFailedError,
  BenchIncompleteError,
  BenchReservedOptionError,
  BenchResultInvalidError,
  BenchResultMissingError,
  BenchSpecError,
  BenchTimeoutError,
  SpeedBenchOfflineError,
  SpeedBenchPrepError,
} from './lib/errors.js';
export {
  validityFlags,
  WARM_CACHE_HIT_RATE,
  CLIENT_BOUND_FRACTION,
  MIN_LOAD_SAMPLES,
} from './lib/validity.js';
export type { ValidityFlag, ValidityCode, ValidityInput, ServerLoadView } from './lib/validity.js';
