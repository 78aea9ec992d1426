import { PerfEvalError } from '@perf-eval/util';

/** Bad flags or arguments (exit 2). */
export class UsageError extends PerfEvalError {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super('E_USAGE', message, { category: 'usage' });
  }
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

/** A comma-separated list like `--only bench,lm_eval`: each item one of `allowed`, else a usage error naming it. */
export function parseChoices<T extends string>(
  command: string,
  flag: string,
  value: string,
  allowed: readonly T[],
): Set<T> {
  const chosen = new Set<T>();
  for (const item of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!(allowed as readonly string[]).includes(item))
      throw new UsageError(
        `perf-eval ${command}: ${flag} takes ${allowed.join(', ')}; got '${item}'`,
        command,
      );
    chosen.add(item as T);
  }
  return chosen;
}
