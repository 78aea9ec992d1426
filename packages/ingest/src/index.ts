export {
  NO_TOKEN_MESSAGE,
  IngestNoTokenError,
  IngestUrlInvalidError,
  IngestHttpError,
  IngestNetworkError,
  IngestAbortedError,
  IngestEndpointDownError,
  IngestSourceError,
  IngestOutboxError,
  IngestPlanMissingError,
  IngestPlanInvalidError,
  IngestFailedError,
} from './lib/errors.js';
export type { IngestFailure } from './lib/errors.js';
export {
  DEFAULT_EVAL_ENDPOINT,
  DEFAULT_PERF_ENDPOINT,
  BUILDKITE_METADATA_VARS,
  PAYLOAD_ENV_VARS,
  buildEvalMetadata,
  endpointFor,
  ingestUrlProblems,
  isNightly,
  computeIngestId,
  contentHash,
} from './lib/metadata.js';
export type { IngestContext, IngestEnv, EvalMetadata, EndpointKind } from './lib/metadata.js';
export { SAMPLES_BATCH_BYTES, buildResultsEvent, batchSamples, findEvalFiles } from './lib/eval-events.js';
export type { ResultsEvent, SampleBatch, MalformedLine, BatchSamplesOptions } from './lib/eval-events.js';
export {
  PERF_INT_KEYS,
  buildPerfRow,
  serializePerfRow,
  perfSummaryLine,
  parseBenchResult,
  formatPerfDate,
} from './lib/perf-row.js';
export type { PerfMeta, PerfRow, PerfValue, PerfWarningReason, BuildPerfRowOptions } from './lib/perf-row.js';
export { pyFixed } from './lib/json-text.js';
export { createTransport, parseRetryAfter } from './lib/transport.js';
export type {
  IngestTransport,
  TransportOptions,
  RetryOptions,
  RetryNotice,
  SendResult,
} from './lib/transport.js';
export { writeOutboxEntry, readOutboxEntry, listOutbox } from './lib/outbox.js';
export type { OutboxEntry, StoredOutboxEntry } from './lib/outbox.js';
export type { IngestReport, DeliveryOptions } from './lib/delivery.js';
export { ingestEvalDir, ingestPerfRun, replayOutbox } from './lib/ingest.js';
export type { IngestEvalDirOptions, IngestPerfRunOptions, ReplayOutboxOptions } from './lib/ingest.js';
export {
  PLAN_FILE,
  OUTBOX_DIR,
  planPathOf,
  outboxDirOf,
  pickPayloadEnv,
  validateIngestPlan,
  writeIngestPlan,
  readIngestPlan,
  ingestPlan,
} from './lib/plan.js';
export { checkIngestCredentials, formatReingestReport, reingestResults } from './lib/reingest.js';
export type { ReingestOptions } from './lib/reingest.js';
export type {
  IngestPlan,
  IngestPlanItem,
  IngestPlanEvalItem,
  IngestPlanPerfItem,
  IngestPlanOptions,
} from './lib/plan.js';
