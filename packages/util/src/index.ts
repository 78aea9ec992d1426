export {
  PerfEvalError,
  ToolError,
  InterruptedError,
  isPerfEvalError,
  cancellationCategory,
  describeExit,
} from './lib/errors.js';
export type {
  ErrorCategory,
  CancellationCategory,
  PerfEvalErrorOptions,
  ToolRunContext,
} from './lib/errors.js';
export { writeFileAtomic, writeJsonAtomic } from './lib/atomic-write.js';
export {
  REDACTED,
  isSecretName,
  redactEnv,
  redactArgv,
  secretValuesOf,
  secretList,
  scrubSorted,
  scrubText,
  scrubValues,
} from './lib/redact.js';
export { quoteArg, formatCommand } from './lib/shell-quote.js';
export { LineTail, LineSplitter } from './lib/line-tail.js';
export type { LineSplitterOptions } from './lib/line-tail.js';
export { PyFloat, pyFloatRepr, pyStr, pyRepr, pyJsonCompact, toPlain } from './lib/py-render.js';
export type { PyValue } from './lib/py-render.js';
export { runTool } from './lib/run-tool.js';
export type { RunToolOptions, RunToolResult, OutputStream } from './lib/run-tool.js';
export {
  BENCH_RESERVED_OPTIONS,
  LMEVAL_RESULTS_FILE,
  LMEVAL_SAMPLES_FILE,
  isLmEvalOutputFile,
  BFCL_EVAL_VERSION,
  BFCL_VERSION_PREFIX,
  BFCL_TEST_COLLECTION_MAPPING,
  BFCL_LEAF_CATEGORIES,
  BFCL_NON_SCORING_CATEGORIES,
  BFCL_CATEGORIES_NOT_IN_RECIPES,
  BFCL_RECIPE_LEAF_CATEGORIES,
  BFCL_RECIPE_GROUP_CATEGORIES,
} from './lib/tool-facts.js';
export {
  PYTHON_NON_FINITE_TOKENS,
  rewritePythonJson,
  parsePythonJson,
  compactPythonJsonBytes,
} from './lib/python-json.js';
export type {
  PythonNonFiniteToken,
  RewritePythonJsonOptions,
  RewrittenPythonJson,
  ParsePythonJsonOptions,
  ParsedPythonJson,
} from './lib/python-json.js';
export type { EnvVars } from './lib/env.js';
export { readRegularFileSync, FileReadError, formatBytes } from './lib/read-file.js';
export { describeFsError, directoryProblem } from './lib/fs-problem.js';
export type { FileReadProblem, ReadRegularFileOptions } from './lib/read-file.js';
