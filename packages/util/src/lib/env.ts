/**
 * An environment as every perf-eval adapter accepts it: `process.env` fits as is, and `undefined` values
 * are treated as unset (never passed on as the string "undefined").
 */
export type EnvVars = Readonly<Record<string, string | undefined>>;
