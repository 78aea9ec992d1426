import { randomBytes } from 'node:crypto';
import { rewritePythonJson } from '@perf-eval/util';
import { BenchIncompleteError, BenchResultInvalidError } from './errors.js';

/**
 * A `vllm bench serve --save-result` file (tool-contracts §2.2). Known keys are typed; every other key
 * (metadata, sweep keys, percentiles, spec-decode, per-request arrays) is kept as parsed. Bare
 * `NaN`/`Infinity` in the file arrive here as `null` (see `ParsedBenchResult.nonFiniteKeys`).
 */
export interface BenchResult {
  date?: string;
  endpoint_type?: string;
  backend?: string;
  label?: string | null;
  model_id?: string;
  tokenizer_id?: string | null;
  num_prompts?: number;
  /** A number, or the string `"inf"` (everything sent at t = 0). */
  request_rate?: number | string | null;
  burstiness?: number | null;
  max_concurrency?: number | null;
  duration?: number | null;
  completed?: number | null;
  failed?: number | null;
  total_input_tokens?: number | null;
  total_output_tokens?: number | null;
  request_throughput?: number | null;
  request_goodput?: number | null;
  output_throughput?: number | null;
  total_token_throughput?: number | null;
  max_output_tokens_per_s?: number | null;
  max_concurrent_requests?: number | null;
  rtfx?: number | null;
  mean_ttft_ms?: number | null;
  median_ttft_ms?: number | null;
  std_ttft_ms?: number | null;
  p99_ttft_ms?: number | null;
  mean_tpot_ms?: number | null;
  median_tpot_ms?: number | null;
  std_tpot_ms?: number | null;
  p99_tpot_ms?: number | null;
  mean_itl_ms?: number | null;
  median_itl_ms?: number | null;
  std_itl_ms?: number | null;
  p99_itl_ms?: number | null;
  mean_e2el_ms?: number | null;
  median_e2el_ms?: number | null;
  std_e2el_ms?: number | null;
  p99_e2el_ms?: number | null;
  /** Legacy `benchmark_serving.py` files. */
  best_of?: number;
  /** Added by the median aggregate (recipe-compat §9.6). */
  aggregation_method?: 'median';
  aggregated_repetitions?: number;
  individual_result_files?: string[];
  [key: string]: unknown;
}

export interface ParsedBenchResult {
  result: BenchResult;
  /** Paths (`std_ttft_ms`, `itls[3]`, `a.b`) whose value was a bare NaN/Infinity/-Infinity, now null. */
  nonFiniteKeys: string[];
}

export interface SanitizedBenchText {
  /** Input with every non-finite token replaced by `null` (valid JSON, layout and key order kept). */
  text: string;
  /** How many tokens were replaced. */
  replaced: number;
}

/** Replace bare `NaN`, `Infinity`, `-Infinity` outside strings by `null` (D29). */
export function sanitizeBenchJson(text: string): SanitizedBenchText {
  const rewritten = rewritePythonJson(text);
  return { text: rewritten.text, replaced: rewritten.nonFinite };
}

function snippetAt(text: string, message: string): string {
  const match = /position (\d+)/.exec(message);
  const position = match ? Number(match[1]) : 0;
  return text.slice(Math.max(0, position - 40), position + 40).replace(/\s+/g, ' ');
}

function renderPath(stack: readonly (string | number)[]): string {
  let out = '';
  for (const part of stack) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out;
}

/**
 * Replace sentinel strings by null in place, recording their paths. Paths are only rendered for hits
 * and the walk stops once every replaced token is found, so large per-request arrays stay cheap.
 */
function restoreSentinels(root: object, sentinel: string, expected: number): string[] {
  const found: string[] = [];
  const stack: (string | number)[] = [];
  const visit = (container: Record<string | number, unknown>, key: string | number): void => {
    const value = container[key];
    if (typeof value === 'string') {
      if (value.startsWith(sentinel)) {
        container[key] = null;
        stack.push(key);
        found.push(renderPath(stack));
        stack.pop();
      }
    } else if (value !== null && typeof value === 'object') {
      stack.push(key);
      walk(value as Record<string | number, unknown>);
      stack.pop();
    }
  };
  const walk = (node: Record<string | number, unknown>): void => {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length && found.length < expected; i++) visit(node, i);
    } else {
      for (const key of Object.keys(node)) {
        if (found.length >= expected) return;
        visit(node, key);
      }
    }
  };
  walk(root as Record<string | number, unknown>);
  return found;
}

/**
 * Tolerant parser for bench result files (tool-contracts §2.2): bare non-finite tokens become `null`
 * and are reported in `nonFiniteKeys`; unknown keys are kept; arrays are optional. Throws
 * `BenchResultInvalidError` for text that is not JSON or not an object.
 */
export function parseBenchResult(text: string, file?: string): ParsedBenchResult {
  const where = file === undefined ? 'bench result' : `bench result ${file}`;
  const sentinel = `\u0000perf-eval-non-finite-${randomBytes(6).toString('hex')}:`;
  const { text: parseText, nonFinite: replaced } = rewritePythonJson(text, {
    replacement: (token) => JSON.stringify(sentinel + token),
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(parseText);
  } catch (error) {
    const message = (error as Error).message;
    throw new BenchResultInvalidError(
      `${where} is not valid JSON: ${message.split('\n', 1)[0]}`,
      { file, snippet: snippetAt(parseText, message) },
      { cause: error },
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new BenchResultInvalidError(`${where} is not a JSON object`, { file, snippet: text.slice(0, 80) });
  }
  const nonFiniteKeys = replaced > 0 ? restoreSentinels(parsed, sentinel, replaced) : [];
  return { result: parsed as BenchResult, nonFiniteKeys };
}

export interface BenchCounts {
  completed: number;
  failed: number;
  expected: number;
}

/** Keys tool-contracts §2.2 rule 2 requires besides the counts (value may be null after sanitising). */
export const BENCH_REQUIRED_KEYS: readonly string[] = Object.freeze([
  'duration',
  'request_throughput',
  'output_throughput',
  'total_token_throughput',
]);

function readCount(
  result: BenchResult,
  keys: readonly string[],
  where: string,
  file: string | undefined,
): number | undefined {
  for (const key of keys) {
    const value = result[key];
    if (value === null || value === undefined) continue;
    // Upstream applies Python int(): numbers truncate, integer strings parse, anything else crashes.
    if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
    if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
    throw new BenchResultInvalidError(`${where} has a non-integer ${key}: ${JSON.stringify(value)}`, {
      file,
      snippet: `"${key}": ${JSON.stringify(value)}`,
    });
  }
  return undefined;
}

/**
 * Extract `completed`/`failed` with upstream's alternative names (recipe-compat §9.6) and enforce
 * `failed == 0 && completed == numPrompts`. Throws `BenchResultInvalidError` when no completed count
 * (or a required key) is present and `BenchIncompleteError` (carrying `file`) on a partial run.
 */
export function validateBenchResult(result: BenchResult, numPrompts: number, file?: string): BenchCounts {
  const where = file === undefined ? 'bench result' : `bench result ${file}`;
  const completed = readCount(result, ['completed', 'successful', 'successful_requests'], where, file);
  if (completed === undefined) {
    throw new BenchResultInvalidError(
      `${where} has no completed count (looked for completed, successful, successful_requests)`,
      {
        file,
        snippet: Object.keys(result).slice(0, 12).join(', '),
      },
    );
  }
  const failed =
    readCount(result, ['failed', 'errored', 'failed_requests', 'num_failed_requests'], where, file) ?? 0;
  const missing = BENCH_REQUIRED_KEYS.filter((key) => !(key in result));
  if (missing.length > 0) {
    throw new BenchResultInvalidError(`${where} is missing required key(s): ${missing.join(', ')}`, {
      file,
      snippet: Object.keys(result).slice(0, 12).join(', '),
    });
  }
  const counts = { completed, failed, expected: numPrompts };
  if (failed !== 0 || completed !== numPrompts) throw new BenchIncompleteError(counts, file);
  return counts;
}
