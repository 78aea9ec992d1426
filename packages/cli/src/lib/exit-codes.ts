/**
 * The one place that maps errors to exit codes. Commands throw typed errors (or return a code);
 * nothing else decides how the process ends.
 *
 * | code | meaning |
 * |---|---|
 * | 0 | ok (warnings, and ingestion problems unless --strict, do not fail) |
 * | 1 | run failure: a task, the server or required ingestion failed; or an internal error |
 * | 2 | usage or validation error: bad flags, invalid recipe/profile, failed preflight |
 * | 130 | interrupted (SIGINT) |
 * | 143 | terminated (SIGTERM, e.g. a Buildkite cancel or timeout) |
 */
import { isPerfEvalError } from '@perf-eval/util';

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  interrupted: 130,
  terminated: 143,
} as const;

const VALIDATION_CODE = /^E_(USAGE|RECIPE|PROFILE|PREFLIGHT|PORT_IN_USE|PORT_INVALID|LMEVAL_UNKNOWN_TASK|LMEVAL_TASKS_UNAVAILABLE|PIPELINE_SELECTION|PIPELINE_INVALID|INGEST_PLAN_INVALID|INGEST_NO_TOKEN)/;

export interface ExitDecision {
  code: number;
  /** Internal errors print a stack and ask for a bug report. */
  internal: boolean;
}

export function exitCodeFor(error: unknown): ExitDecision {
  if (isPerfEvalError(error)) {
    if (error.code === 'E_INTERRUPTED') return { code: EXIT.interrupted, internal: false };
    if (error.code === 'E_TERMINATED') return { code: EXIT.terminated, internal: false };
    if (error.category === 'usage' || error.category === 'validation' || error.category === 'preflight') return { code: EXIT.usage, internal: false };
    if (error.category === 'internal') return { code: EXIT.failure, internal: true };
    if (VALIDATION_CODE.test(error.code)) return { code: EXIT.usage, internal: false };
    return { code: EXIT.failure, internal: false };
  }
  return { code: EXIT.failure, internal: true };
}
