export { readResultsDir } from './lib/read.js';
export type { ReadResultsOptions } from './lib/read.js';
export { seriesOf, seriesKey, canonicalJson, benchMetricDirection } from './lib/model.js';
export type {
  Better,
  MetricRecord,
  MetricSeries,
  RunIdentity,
  RunResults,
  SampleOutcomes,
  TaskInfo,
  TaskKind,
} from './lib/model.js';
export { toPytorchBenchmarkV3, toJsonl } from './lib/export.js';
export type { PytorchBenchmarkRecord } from './lib/export.js';
export {
  HISTORY_FILE,
  HISTORY_VERSION,
  DEFAULT_HISTORY_KEEP,
  MAX_HISTORY_BYTES,
  historyEntryOf,
  historyValues,
  runOfHistoryEntry,
  readHistory,
  parseHistory,
  parseHistoryLine,
  readHistoryOf,
  mergeHistory,
  renderHistory,
  writeHistory,
  mergeHistoryFile,
} from './lib/history.js';
export type { HistoryEntry, HistorySeries } from './lib/history.js';
export { readBaseline, resolveBaseline } from './lib/baseline.js';
export type { Baseline, ResolveBaselineOptions, ResolvedBaseline } from './lib/baseline.js';
export { importHistory } from './lib/history-import.js';
export type { HistorySource, ImportedRuns, ImportHistoryOptions } from './lib/history-import.js';
export { ResultsDirError, ResultsFileError, HistoryFileError } from './lib/errors.js';
export {
  BuildkiteClient,
  BuildkiteApiError,
  BuildkiteRefError,
  BUILDKITE_API_URL,
  parseBuildRef,
  importBuildkiteHistory,
} from './lib/buildkite.js';
export type {
  BuildkiteArtifact,
  BuildkiteClientOptions,
  BuildRef,
  ImportedHistory,
} from './lib/buildkite.js';
