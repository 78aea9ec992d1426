import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closestMatches } from '@perf-eval/workload-schema';
import { UsageError } from './args.js';
import { EXIT } from './exit-codes.js';
import { writeLine, type Io } from './io.js';
import type { CommandModule } from './main.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The flag values parseArgs infers from an option spec declared `as const` (or inline in defineCommand). */
export type FlagValues<O extends Options> = ReturnType<
  typeof parseArgs<{ options: O; strict: true }>
>['values'];

/**
 * Positional arguments. Omitted: none (parseArgs rejects any). `'any'`: the handler checks them.
 * A count: checked before the handler runs; `describe` names them in the error, worded
 * `expected exactly one recipe FILE` (1), `expected at most one recipe FILE` (0–1), else
 * `expected BASE and NEW, got N argument(s)`.
 */
export type PositionalSpec = 'any' | { min: number; max: number; describe: string };

export interface CommandSpec<O extends Options> {
  name: string;
  /** Printed for `--help`/`-h` (added to every command's options). */
  help: string;
  options?: O;
  positionals?: PositionalSpec;
}

export interface CommandArgs<O extends Options> {
  values: FlagValues<O>;
  positionals: string[];
}

/**
 * One command: strict parsing with one-line usage errors (exit 2), `--help`, the positional count,
 * then `handler`. The module exports the result's `run`, which main.ts loads lazily.
 */
export function defineCommand<const O extends Options = Record<never, never>>(
  spec: CommandSpec<O>,
  handler: (args: CommandArgs<O>, io: Io) => number | Promise<number>,
): CommandModule {
  const { name, help, positionals } = spec;
  const options: Options = spec.options ?? {};
  return {
    async run(argv, io) {
      const parsed = parseCommandArgs(name, argv, options, positionals !== undefined);
      if (parsed.values['help']) {
        writeLine(io.stdout, help);
        return EXIT.ok;
      }
      if (positionals !== undefined && positionals !== 'any')
        checkCount(name, parsed.positionals.length, positionals);
      return await handler(parsed as CommandArgs<O>, io);
    },
  };
}

function checkCount(
  name: string,
  count: number,
  { min, max, describe }: Exclude<PositionalSpec, 'any'>,
): void {
  if (count >= min && count <= max) return;
  const expected =
    max === 1
      ? `${min === 1 ? 'exactly' : 'at most'} one ${describe}, got ${count}`
      : `${describe}, got ${count} argument(s)`;
  throw new UsageError(`perf-eval ${name}: expected ${expected} (see 'perf-eval ${name} --help')`, name);
}

/** node:util parseArgs, strict, with errors turned into one-line usage errors. */
function parseCommandArgs(
  command: string,
  argv: readonly string[],
  options: Options,
  allowPositionals: boolean,
): { values: Record<string, unknown>; positionals: string[] } {
  try {
    return parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
      strict: true,
    });
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
