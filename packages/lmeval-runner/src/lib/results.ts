import { parsePythonJson } from '@perf-eval/util';
import { LmEvalParseError } from './errors.js';

/**
 * One entry of `results` / `groups`: `name`, `alias`, `sample_len` plus `"<metric>,<filter>"` →
 * number and `"<metric>_stderr,<filter>"` → number or the string `"N/A"`.
 */
export interface LmEvalTaskResult {
  name?: string;
  alias?: string;
  sample_len?: number;
  [key: string]: unknown;
}

/** `config` of a results file (lm-eval 0.4.x). `model_args` is a dict in current versions. */
export interface LmEvalRunConfig {
  model?: string;
  model_args?: Record<string, unknown> | string;
  batch_size?: number | string;
  batch_sizes?: unknown[];
  device?: string | null;
  use_cache?: string | null;
  limit?: number | null;
  bootstrap_iters?: number;
  gen_kwargs?: Record<string, unknown> | string | null;
  random_seed?: number | null;
  numpy_seed?: number | null;
  torch_seed?: number | null;
  fewshot_seed?: number | null;
  [key: string]: unknown;
}

/**
 * A parsed `results_<date_id>.json` (tool-contracts §4.5). Keys the file does not have are absent,
 * except the per-task maps below, which default to `{}`. Unknown keys are preserved as they are.
 */
export interface LmEvalResults {
  results: Record<string, LmEvalTaskResult>;
  /** Only when a group defines an aggregation (e.g. mmlu). */
  groups?: Record<string, LmEvalTaskResult>;
  group_subtasks: Record<string, string[]>;
  configs: Record<string, Record<string, unknown>>;
  versions: Record<string, number | string | null>;
  'n-shot': Record<string, number>;
  higher_is_better: Record<string, Record<string, boolean>>;
  'n-samples': Record<string, { original: number; effective: number }>;
  config?: LmEvalRunConfig;
  git_hash?: string | null;
  /** Unix start time. */
  date?: number;
  pretty_env_info?: string;
  transformers_version?: string;
  lm_eval_version?: string;
  upper_git_hash?: string | null;
  task_hashes?: Record<string, string>;
  model_source?: string;
  model_name?: string;
  model_name_sanitized?: string;
  system_instruction?: string | null;
  system_instruction_sha?: string | null;
  fewshot_as_multiturn?: boolean;
  chat_template?: string | null;
  chat_template_sha?: string | null;
  /** A string in lm-eval's output. */
  total_evaluation_time_seconds?: string;
  [key: string]: unknown;
}

export interface LmEvalMetric {
  metric: string;
  filter: string;
  /** As written by lm-eval; may be NaN / ±Infinity (Python's json writes bare NaN). */
  value: number;
  /** `null` when lm-eval wrote `"N/A"`, a non-finite number, or no stderr key. */
  stderr: number | null;
}

const PER_TASK_MAPS = [
  'group_subtasks',
  'configs',
  'versions',
  'n-shot',
  'higher_is_better',
  'n-samples',
] as const;

/** Which file a parsed object came from, for error messages of `metricsOf`. */
const sourceFiles = new WeakMap<object, string>();

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function snippetAt(text: string, position: number | undefined): string {
  const at = position === undefined ? 0 : Math.max(0, Math.min(position, text.length));
  const start = Math.max(0, at - 100);
  return text.slice(start, start + 200);
}

/** Where V8's JSON error points: `at position N`, or the quoted `..."context"...` excerpt. */
function errorPosition(text: string, reason: string): number | undefined {
  const position = /position (\d+)/.exec(reason);
  if (position) return Number(position[1]);
  const excerpt = /"(?:\.\.\.)?([\s\S]*?)(?:\.\.\.)?" is not valid JSON/.exec(reason);
  if (!excerpt || excerpt[1] === '') return undefined;
  const at = text.indexOf(excerpt[1] as string);
  return at < 0 ? undefined : at + Math.floor((excerpt[1] as string).length / 2);
}

function parseJsonTolerant(text: string, file: string | undefined): unknown {
  try {
    return parsePythonJson(text, { nonFinite: 'number' }).value;
  } catch (error) {
    // Report JSON.parse's error on the text as written: its position then points into the file.
    let first: unknown = error;
    try {
      JSON.parse(text);
    } catch (plain) {
      first = plain;
    }
    const reason = first instanceof Error ? first.message : String(first);
    throw new LmEvalParseError(
      file,
      `invalid JSON (${reason})`,
      snippetAt(text, errorPosition(text, reason)),
      {
        cause: first,
      },
    );
  }
}

/** Parse the text of a `results_*.json`. Throws `LmEvalParseError` (`E_LMEVAL_PARSE`). */
export function parseLmEvalResults(text: string, file?: string): LmEvalResults {
  const data = parseJsonTolerant(text.replace(/^\uFEFF/, ''), file);
  if (!isRecord(data)) {
    throw new LmEvalParseError(
      file,
      `expected a JSON object, got ${Array.isArray(data) ? 'an array' : typeof data}`,
      snippetAt(text, 0),
    );
  }
  if (!isRecord(data['results'])) {
    throw new LmEvalParseError(file, "missing or invalid 'results' object", snippetAt(text, 0));
  }
  for (const [task, entry] of Object.entries(data['results'])) {
    if (!isRecord(entry))
      throw new LmEvalParseError(
        file,
        `results['${task}'] is not an object`,
        snippetAt(text, text.indexOf(`"${task}"`)),
      );
  }
  if (data['groups'] !== undefined && !isRecord(data['groups'])) {
    throw new LmEvalParseError(file, "'groups' is not an object", snippetAt(text, text.indexOf('"groups"')));
  }
  for (const key of PER_TASK_MAPS) {
    if (data[key] === undefined) data[key] = {};
    else if (!isRecord(data[key]))
      throw new LmEvalParseError(
        file,
        `'${key}' is not an object`,
        snippetAt(text, text.indexOf(`"${key}"`)),
      );
  }
  if (data['config'] !== undefined && !isRecord(data['config'])) {
    throw new LmEvalParseError(file, "'config' is not an object", snippetAt(text, text.indexOf('"config"')));
  }
  const results = data as LmEvalResults;
  if (file !== undefined) sourceFiles.set(results, file);
  return results;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * The metrics of one task (or aggregated group) in file order: keys `<metric>,<filter>` with their
 * `<metric>_stderr,<filter>` partner. Non-numeric metric values are skipped. Throws
 * `LmEvalParseError` when the task is in neither `results` nor `groups`.
 */
export function metricsOf(results: LmEvalResults, task: string): LmEvalMetric[] {
  const entry = results.results[task] ?? results.groups?.[task];
  if (entry === undefined) {
    const known = [...Object.keys(results.results), ...Object.keys(results.groups ?? {})];
    throw new LmEvalParseError(
      sourceFiles.get(results),
      `no results for task '${task}' (file has: ${known.join(', ') || 'none'})`,
      '',
    );
  }
  const metrics: LmEvalMetric[] = [];
  for (const [key, value] of Object.entries(entry)) {
    const comma = key.indexOf(',');
    if (comma <= 0) continue;
    const metric = key.slice(0, comma);
    const filter = key.slice(comma + 1);
    if (metric.endsWith('_stderr') || typeof value !== 'number') continue;
    metrics.push({ metric, filter, value, stderr: numberOrNull(entry[`${metric}_stderr,${filter}`]) });
  }
  return metrics;
}
