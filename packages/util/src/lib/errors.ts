/**
 * Base class of every perf-eval error. `code` is stable and namespaced (`E_…`), the message is one
 * actionable line, machine data lives in fields. A symbol brand makes `isPerfEvalError` work across
 * duplicated copies of this package (npm can install two).
 */
const BRAND = Symbol.for('perf-eval.error');

/**
 * What kind of failure an error is; the CLI maps categories (and nothing else) to exit codes:
 * `usage`, `validation` and `preflight` → 2 (nothing was started), `failure` → 1, `interrupted` → 130,
 * `terminated` → 143, `internal` → 1 with a stack (a bug).
 */
export type ErrorCategory =
  | 'usage'
  | 'validation'
  | 'preflight'
  | 'failure'
  | 'interrupted'
  | 'terminated'
  | 'internal';

export interface PerfEvalErrorOptions {
  cause?: unknown;
  /** Default `failure`. */
  category?: ErrorCategory;
}

export class PerfEvalError extends Error {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly [BRAND] = true;

  constructor(code: string, message: string, options: PerfEvalErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.category = options.category ?? 'failure';
    this.name = new.target.name;
  }
}

export function isPerfEvalError(value: unknown): value is PerfEvalError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** A stop asked for by a signal or a caller: what every *CancelledError carries. */
export type CancellationCategory = Extract<ErrorCategory, 'interrupted' | 'terminated'>;

/**
 * The process was asked to stop by a signal: SIGINT → `interrupted` (`E_INTERRUPTED`), SIGTERM and
 * SIGHUP → `terminated` (`E_TERMINATED`). The CLI aborts its one AbortController with this as the
 * reason, so every adapter's cancellation error can tell which signal stopped it.
 */
export class InterruptedError extends PerfEvalError {
  constructor(readonly signalName: NodeJS.Signals) {
    const category: CancellationCategory = signalName === 'SIGINT' ? 'interrupted' : 'terminated';
    super(
      category === 'interrupted' ? 'E_INTERRUPTED' : 'E_TERMINATED',
      `perf-eval: received ${signalName}; stopped`,
      { category },
    );
  }
}

/**
 * The category of a cancellation, from the abort reason or an error caused by it: the first
 * `interrupted` / `terminated` error along the `cause` chain, else `terminated` (the work was stopped
 * from outside, which is what SIGTERM means too). Cancellation errors pass their `cause` here.
 */
export function cancellationCategory(reason: unknown): CancellationCategory {
  let current = reason;
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth++) {
    if (isPerfEvalError(current) && (current.category === 'interrupted' || current.category === 'terminated'))
      return current.category;
    current = (current as { cause?: unknown }).cause;
  }
  return 'terminated';
}

/** What a failed (or suspicious) subprocess run leaves behind, copied into every tool error. */
export interface ToolRunContext {
  /** argv as executed (secrets already redacted). */
  command: readonly string[];
  exitCode?: number | undefined;
  signal?: string | undefined;
  durationMs?: number | undefined;
  timedOut?: boolean | undefined;
  /** The last lines of the tool's combined output. */
  outputTail?: readonly string[] | undefined;
}

/**
 * A failure of an external tool (vllm bench, lm_eval, BFCL, docker …). The first message line reads
 * like execa's short message; `fullMessage` appends the output tail for humans.
 */
export class ToolError extends PerfEvalError {
  readonly command: readonly string[];
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  readonly durationMs: number | undefined;
  readonly timedOut: boolean;
  readonly outputTail: readonly string[];

  constructor(code: string, message: string, context: ToolRunContext, options: PerfEvalErrorOptions = {}) {
    super(code, message, options);
    this.command = context.command;
    this.exitCode = context.exitCode;
    this.signal = context.signal;
    this.durationMs = context.durationMs;
    this.timedOut = context.timedOut ?? false;
    this.outputTail = context.outputTail ?? [];
  }

  get fullMessage(): string {
    if (this.outputTail.length === 0) return this.message;
    return `${this.message}\n${this.outputTail.map((line) => `  | ${line}`).join('\n')}`;
  }
}

/** Short, execa-like description of how a process ended. */
export function describeExit(context: Pick<ToolRunContext, 'exitCode' | 'signal' | 'timedOut'>): string {
  if (context.timedOut) return 'timed out';
  if (context.signal) return `was killed with ${context.signal}`;
  if (context.exitCode !== undefined) return `failed with exit code ${context.exitCode}`;
  return 'failed';
}
