import { REDACTED, isSecretName, pyStr } from '@perf-eval/util';
import type { PyValue } from '@perf-eval/util';

/** One lm_eval invocation (one recipe task), built by the CLI from the resolved recipe. */
export interface LmEvalTaskSpec {
  /** lm-eval task (or group/tag) name; one task per invocation because `--num_fewshot` is global. */
  task: string;
  numFewshot: number;
  /** The full rendered `--model_args` value, see `renderModelArgs`. */
  modelArgs: string;
  /** `--model local-chat-completions` + `--apply_chat_template` instead of `local-completions`. */
  chat?: boolean;
  includePath?: string;
  limit?: number;
  seed?: number | string;
  genKwargs?: string;
  /** `--output_path`: `results/<name>/<task>`. */
  outputPath: string;
  /** Served model id (`model=` in model_args); lm-eval writes under `<outputPath>/<sanitized modelName>/`. */
  modelName: string;
}

export interface BuildLmEvalArgvOptions {
  /** The lm_eval command prefix, default `['lm_eval']` (e.g. `['/venv/bin/lm_eval']`). */
  command?: readonly string[];
}

/** The lm-eval endpoint for a server URL: the *full* completions or chat-completions URL. */
export function renderBaseUrl(serverUrl: string, chat = false): string {
  const root = serverUrl.replace(/\/+$/, '');
  return `${root}${chat ? '/v1/chat/completions' : '/v1/completions'}`;
}

/**
 * Render extra model args as upstream does (recipe-compat §8.3 step 2): `k=pyStr(v)` joined with
 * `,`, in insertion order, nothing escaped.
 */
export function renderExtraModelArgs(extra: Readonly<Record<string, PyValue>>): string {
  return Object.entries(extra)
    .map(([key, value]) => `${key}=${pyStr(value)}`)
    .join(',');
}

/**
 * The `--model_args` value (recipe-compat §8.3 step 3): `model=<m>,base_url=<b>` followed by
 * `,<extra>` only when the extra string is non-empty. `extra` is either the already-rendered string
 * or the merged model_args map.
 */
export function renderModelArgs(
  model: string,
  baseUrl: string,
  extra: string | Readonly<Record<string, PyValue>> = '',
): string {
  const rendered = typeof extra === 'string' ? extra : renderExtraModelArgs(extra);
  const head = `model=${model},base_url=${baseUrl}`;
  return rendered === '' ? head : `${head},${rendered}`;
}

/**
 * `lm_eval --model local-completions --model_args <s> --tasks <t> --num_fewshot <n> --log_samples
 * --output_path <dir>` (upstream order), then `--apply_chat_template` for chat, then
 * `--include_path`, `--limit`, `--seed`, `--gen_kwargs` when set.
 */
export function buildLmEvalArgv(spec: LmEvalTaskSpec, options: BuildLmEvalArgvOptions = {}): string[] {
  const command = options.command ?? ['lm_eval'];
  if (command.length === 0) throw new TypeError('buildLmEvalArgv: command must not be empty');
  const argv = [
    ...command,
    '--model',
    spec.chat ? 'local-chat-completions' : 'local-completions',
    '--model_args',
    spec.modelArgs,
    '--tasks',
    spec.task,
    '--num_fewshot',
    String(spec.numFewshot),
    '--log_samples',
    '--output_path',
    spec.outputPath,
  ];
  if (spec.chat) argv.push('--apply_chat_template');
  if (spec.includePath !== undefined) argv.push('--include_path', spec.includePath);
  if (spec.limit !== undefined) argv.push('--limit', String(spec.limit));
  if (spec.seed !== undefined) argv.push('--seed', String(spec.seed));
  if (spec.genKwargs !== undefined) argv.push('--gen_kwargs', spec.genKwargs);
  return argv;
}

/**
 * Hide the values of secret-named keys inside a `k=v,k2=v2` model_args string (`auth_token=…`,
 * `api_key=…`) for logs and error messages. lm-eval itself copies model_args into every results
 * file, so secrets must never be passed this way in the first place.
 */
export function redactModelArgs(modelArgs: string): string {
  return modelArgs
    .split(',')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0) return pair;
      return isSecretName(pair.slice(0, eq).trim()) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
    })
    .join(',');
}

/** Values of secret-named keys inside a model_args string, for scrubbing lm_eval's output. */
export function secretModelArgValues(modelArgs: string): string[] {
  const values: string[] = [];
  for (const pair of modelArgs.split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && isSecretName(pair.slice(0, eq).trim()) && pair.length - eq - 1 >= 4)
      values.push(pair.slice(eq + 1));
  }
  return values;
}
