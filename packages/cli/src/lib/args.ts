import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PerfEvalError } from '@perf-eval/util';

/** Bad flags or arguments (exit 2). */
export class UsageError extends PerfEvalError {
  constructor(message: string, readonly command?: string) {
    super('E_USAGE', message, { category: 'usage' });
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed<V> {
  values: V;
  positionals: string[];
}

/** node:util parseArgs, strict, with errors turned into one-line usage errors. */
export function parseCommandArgs<V>(command: string, argv: readonly string[], options: Options, allowPositionals = true): Parsed<V> {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
    return { values: values as V, positionals };
  } catch (error) {
    const message = (error as Error).message.split('\n')[0]?.replace(/\. To specify a positional argument.*$/, '') ?? 'invalid arguments';
    throw new UsageError(`perf-eval ${command}: ${message} (see 'perf-eval ${command} --help')`, command);
  }
}

export function parsePositiveInt(command: string, flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`perf-eval ${command}: ${flag} must be a positive integer, got '${value}'`, command);
  return Number(value);
}
