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
import type { ErrorCategory } from '@perf-eval/util';

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  interrupted: 130,
  terminated: 143,
} as const;

/** Exit code of each error category; every package's errors carry one (`PerfEvalError.category`). */
const CATEGORY_EXIT: Readonly<Record<ErrorCategory, number>> = {
  usage: EXIT.usage,
  validation: EXIT.usage,
  preflight: EXIT.usage,
  failure: EXIT.failure,
  interrupted: EXIT.interrupted,
  terminated: EXIT.terminated,
  internal: EXIT.failure,
};

export interface ExitDecision {
  code: number;
  /** Internal errors print a stack and ask for a bug report. */
  internal: boolean;
}

/** How the process ends for a thrown error: by its category; anything that is not a PerfEvalError is a bug. */
export function exitCodeFor(error: unknown): ExitDecision {
  if (!isPerfEvalError(error)) return { code: EXIT.failure, internal: true };
  return { code: CATEGORY_EXIT[error.category] ?? EXIT.failure, internal: error.category === 'internal' };
}

/** How the process ends when a signal stopped it: SIGINT → 130, SIGTERM and SIGHUP → 143 (128 + SIGTERM, as Buildkite expects). */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
}
