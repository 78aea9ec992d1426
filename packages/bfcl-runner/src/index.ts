export { buildBfclArgv, bfclWorkDir } from './lib/argv.js';
export type { BfclRunSpec, BfclArgvOptions } from './lib/argv.js';
export {
  isBfclGroup,
  isBfclCategory,
  scoredSubcategories,
  bfclGroupDir,
  bfclModelDir,
  bfclScoreFile,
  bfclResultFile,
} from './lib/categories.js';
export { checkBfcl, diffCollectionMapping, parseBfclCheckOutput, verifyBfclInstall } from './lib/check.js';
export type { BfclCheckReport, CheckBfclOptions } from './lib/check.js';
export {
  BFCL_DRIVER_ASSET,
  driverSource,
  materializeDriver,
  packagedDriverPath,
  defaultDriverCacheDir,
} from './lib/driver.js';
export {
  BfclFailedError,
  BfclTimeoutError,
  BfclCancelledError,
  BfclNoScoreError,
  BfclParseError,
  BfclUnknownCategoryError,
  BfclDriverUnavailableError,
  BfclCheckError,
  BfclInferenceFailedError,
} from './lib/errors.js';
export { countInferenceErrors } from './lib/inference.js';
export type { BfclInferenceErrors } from './lib/inference.js';
export { bfclTimestamp, renderBfclLmEvalJson, writeBfclResults } from './lib/output.js';
export type { WriteBfclResultsOptions, BfclWrittenResults } from './lib/output.js';
export {
  BFCL_CSV_HEADERS,
  parseScoreSummary,
  readScoreSummary,
  parseBfclResultText,
  readBfclResultFile,
  isMultiTurnEntry,
  parseBfclCsv,
  readBfclCsv,
} from './lib/parse.js';
export type {
  BfclScoreSummary,
  BfclResultEntry,
  BfclNested,
  BfclCsvKind,
  BfclCsvCell,
  BfclCsv,
} from './lib/parse.js';
export { DEFAULT_BFCL_TIMEOUT_MS, bfclEnv, runBfcl } from './lib/run.js';
export type { RunBfclOptions, BfclOutcome } from './lib/run.js';
export { collectBfclScores } from './lib/scores.js';
export type { BfclScoreRow } from './lib/scores.js';
export { warnMissingToolCallParser } from './lib/warn.js';
