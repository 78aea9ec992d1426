export { PerfEvalError, ToolError, isPerfEvalError, describeExit } from './lib/errors.js';
export type { PerfEvalErrorOptions, ToolRunContext } from './lib/errors.js';
export { writeFileAtomic, writeJsonAtomic } from './lib/atomic-write.js';
export { REDACTED, isSecretName, redactEnv, redactArgv, secretValuesOf, scrubText } from './lib/redact.js';
export { quoteArg, formatCommand } from './lib/shell-quote.js';
export { LineTail, LineSplitter } from './lib/line-tail.js';
export { PyFloat, pyFloatRepr, pyStr, pyRepr, pyJsonCompact, toPlain } from './lib/py-render.js';
export type { PyValue } from './lib/py-render.js';
