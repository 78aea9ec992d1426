/**
 * The semantic eval (`semantic_eval:`): a command run after the benchmark on the same server (as
 * CloudAI runs vLLM's `tests/evals/gsm8k/gsm8k_eval.py`), then its `--save-results` JSON
 * (tool-contracts.md §3) read back for the summary.
 */
import { readFile, rm } from 'node:fs/promises';
import {
  describeExit,
  PerfEvalError,
  runTool,
  ToolError,
  type OutputStream,
  type RunToolResult,
} from '@perf-eval/util';
import type { PlannedSemanticEval } from './compose.js';

/** The command failed: non-zero exit, killed, timed out, or could not be started. */
export class SemanticEvalFailedError extends ToolError {
  constructor(result: RunToolResult, timeoutMs: number) {
    const how = result.spawnErrorCode
      ? `could not be started (${result.spawnErrorCode}); check semantic_eval.command or VLLM_SOURCE_DIR`
      : result.timedOut
        ? `timed out after ${Math.round(timeoutMs / 1000)} s (semantic_eval.timeout_minutes, capped by the step timeout)`
        : describeExit({ exitCode: result.exitCode, signal: result.signal, timedOut: false });
    super(
      result.timedOut ? 'E_SEMANTIC_EVAL_TIMEOUT' : 'E_SEMANTIC_EVAL_FAILED',
      `semantic eval '${result.command.slice(0, 2).join(' ')}' ${how}`,
      {
        command: result.command,
        exitCode: result.exitCode,
        signal: result.signal,
        durationMs: result.durationMs,
        timedOut: result.timedOut,
        outputTail: result.outputTail,
      },
      result.error ? { cause: result.error } : {},
    );
  }
}

/** The command succeeded but its result file is missing or not gsm8k_eval.py's format. */
export class SemanticEvalResultError extends PerfEvalError {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly outputTail: readonly string[] = [],
    options: { cause?: unknown } = {},
  ) {
    super(
      'E_SEMANTIC_EVAL_RESULT',
      `semantic eval result ${file}: ${problem} (expected gsm8k_eval.py --save-results JSON with accuracy, invalid_rate, questions_per_second)`,
      options,
    );
  }
}

export interface SemanticEvalResult {
  accuracy: number;
  invalid_rate: number;
  latency?: number;
  questions_per_second: number;
  total_output_tokens?: number;
  tokens_per_second?: number;
  num_questions?: number;
  [key: string]: unknown;
}

/** Headline metrics for the summary. */
export const SEMANTIC_EVAL_METRICS = ['accuracy', 'invalid_rate', 'questions_per_second'] as const;

/** Reads and checks a `--save-results` file. */
export async function readSemanticEvalResult(
  file: string,
  outputTail: readonly string[] = [],
): Promise<SemanticEvalResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SemanticEvalResultError(
      file,
      code === 'ENOENT'
        ? 'the command exited 0 but wrote no result file'
        : `unreadable (${code ?? String(error)})`,
      outputTail,
      { cause: error },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SemanticEvalResultError(file, `not JSON (${(error as Error).message})`, outputTail, {
      cause: error,
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new SemanticEvalResultError(file, 'not a JSON object', outputTail);
  const record = parsed as Record<string, unknown>;
  for (const key of SEMANTIC_EVAL_METRICS) {
    if (typeof record[key] !== 'number' || !Number.isFinite(record[key])) {
      throw new SemanticEvalResultError(
        file,
        `'${key}' is ${record[key] === undefined ? 'missing' : `not a number (${JSON.stringify(record[key])})`}`,
        outputTail,
      );
    }
  }
  return record as SemanticEvalResult;
}

export interface RunSemanticEvalOptions {
  /** The complete environment of the command (the documented tool env; never the server env). */
  env: Record<string, string>;
  signal: AbortSignal;
  /** Overall budget left for the run; the command gets min(its own timeout, this). */
  remainingMs: number;
  onLine?: (line: string, stream: OutputStream) => void;
  secrets?: readonly string[];
}

/** Runs the command (no shell), then reads its result. A stale result file is removed first. */
export async function runSemanticEval(
  plan: PlannedSemanticEval,
  options: RunSemanticEvalOptions,
): Promise<SemanticEvalResult> {
  await rm(plan.outputPath, { force: true });
  const timeoutMs = Math.min(plan.timeoutMs, options.remainingMs);
  const result = await runTool(plan.argv, {
    env: options.env,
    extendEnv: false,
    signal: options.signal,
    timeoutMs,
    forceKillAfterMs: 5000,
    secrets: options.secrets,
    onLine: options.onLine,
  });
  if (!result.ok) throw new SemanticEvalFailedError(result, timeoutMs);
  return readSemanticEvalResult(plan.outputPath, result.outputTail);
}
