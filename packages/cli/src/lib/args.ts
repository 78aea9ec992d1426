import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PerfEvalError } from '@perf-eval/util';
import { closestMatches } from '@perf-eval/workload-schema';

/** Bad flags or arguments (exit 2). */
export class UsageError extends PerfEvalError {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super('E_USAGE', message, { category: 'usage' });
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed<V> {
  values: V;
  positionals: string[];
}

/** node:util parseArgs, strict, with errors turned into one-line usage errors. */
export function parseCommandArgs<V>(
  command: string,
  argv: readonly string[],
  options: Options,
  allowPositionals = true,
): Parsed<V> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
      strict: true,
    });
    return { values: values as V, positionals };
  } catch (error) {
    const message =
      (error as Error).message.split('\n')[0]?.replace(/\. To specify a positional argument.*$/, '') ??
      'invalid arguments';
    throw new UsageError(
      `perf-eval ${command}: ${message}${flagSuggestion(error, options)} (see 'perf-eval ${command} --help')`,
      command,
    );
  }
}

/** ` (did you mean '--profiles'?)` for a mistyped long option, like mistyped commands get. */
function flagSuggestion(error: unknown, options: Options): string {
  if ((error as { code?: string }).code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return '';
  const given = /Unknown option '(--?[^'=]+)/.exec((error as Error).message)?.[1];
  if (!given?.startsWith('--')) return '';
  const [best] = closestMatches(given.slice(2), [...Object.keys(options), 'help'], 1);
  return best ? ` (did you mean '--${best}'?)` : '';
}

/**
 * `--server-url`: an http(s) URL with a host, else a usage error naming the flag (exit 2).
 * Returns it without trailing slashes.
 */
export function parseServerUrl(command: string, value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new UsageError(
      `perf-eval ${command}: --server-url must be an http(s) URL like http://127.0.0.1:8000, got '${value}'`,
      command,
    );
  }
  return value.replace(/\/+$/, '');
}

export function parsePositiveInt(
  command: string,
  flag: string,
  value: string | undefined,
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new UsageError(`perf-eval ${command}: ${flag} must be a positive integer, got '${value}'`, command);
  return Number(value);
}
