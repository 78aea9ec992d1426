import { UsageError } from './args.js';
import { defineCommand, type PositionalSpec } from './command.js';
import { captureIo } from '../../test/capture-io.js';
import type { Io } from './io.js';

function capturedStdout(): { io: Io; out: () => string } {
  const { io, stdout } = captureIo();
  return { io, out: stdout };
}

/** A command that records what its handler received; exit 7 tells a handler run from `--help`. */
function probe(positionals?: PositionalSpec) {
  const calls: { values: unknown; positionals: string[] }[] = [];
  const command = defineCommand(
    {
      name: 'probe',
      help: 'Usage: perf-eval probe',
      options: {
        profiles: { type: 'string' },
        json: { type: 'boolean' },
        output: { type: 'string', short: 'o' },
      },
      ...(positionals === undefined ? {} : { positionals }),
    },
    ({ values, positionals }) => {
      calls.push({ values, positionals });
      return 7;
    },
  );
  return { command, calls };
}

async function usageMessage(promise: Promise<number>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  return (error as UsageError).message;
}

describe('defineCommand', () => {
  it('infers the flag values from the option spec', () => {
    defineCommand(
      { name: 'typed', help: '', options: { n: { type: 'string' }, q: { type: 'boolean' } } },
      ({ values }) => {
        expectTypeOf(values).toEqualTypeOf<{ n?: string | undefined; q?: boolean | undefined }>();
        return 0;
      },
    );
  });

  it('prints the help for --help and -h before counting positionals, without running the handler', async () => {
    const { command, calls } = probe({ min: 1, max: 1, describe: 'recipe FILE' });
    for (const argv of [['--help'], ['-h'], ['a', 'b', '--help']]) {
      const { io, out } = capturedStdout();
      expect(await command.run(argv, io)).toBe(0);
      expect(out()).toBe('Usage: perf-eval probe\n');
    }
    expect(calls).toEqual([]);
  });

  it('reports a bad flag before --help, with a did-you-mean for a mistyped long option', async () => {
    const { command } = probe('any');
    expect(await usageMessage(command.run(['--bogus', '--help'], capturedStdout().io))).toBe(
      "perf-eval probe: Unknown option '--bogus' (see 'perf-eval probe --help')",
    );
    expect(await usageMessage(command.run(['--profile', 'p'], capturedStdout().io))).toBe(
      "perf-eval probe: Unknown option '--profile' (did you mean '--profiles'?) (see 'perf-eval probe --help')",
    );
  });

  it.each<[PositionalSpec, string[], string]>([
    [{ min: 1, max: 1, describe: 'recipe FILE' }, [], 'expected exactly one recipe FILE, got 0'],
    [{ min: 1, max: 1, describe: 'RESULTS_DIR' }, ['a', 'b'], 'expected exactly one RESULTS_DIR, got 2'],
    [{ min: 0, max: 1, describe: 'recipe FILE' }, ['a', 'b', 'c'], 'expected at most one recipe FILE, got 3'],
    [{ min: 2, max: 2, describe: 'BASE and NEW' }, ['a'], 'expected BASE and NEW, got 1 argument(s)'],
  ])('counts positionals %j: %j', async (spec, argv, expected) => {
    const { command, calls } = probe(spec);
    expect(await usageMessage(command.run(argv, capturedStdout().io))).toBe(
      `perf-eval probe: ${expected} (see 'perf-eval probe --help')`,
    );
    expect(calls).toEqual([]);
  });

  it('passes parsed values and positionals to the handler and returns its exit code', async () => {
    const { command, calls } = probe({ min: 0, max: 1, describe: 'recipe FILE' });
    expect(await command.run(['r.yaml', '--json', '-o', 'x'], capturedStdout().io)).toBe(7);
    expect(calls).toEqual([{ values: { json: true, output: 'x' }, positionals: ['r.yaml'] }]);
  });

  it('rejects positionals when none are declared; any count with "any"', async () => {
    expect(await usageMessage(probe().command.run(['extra'], capturedStdout().io))).toBe(
      "perf-eval probe: Unexpected argument 'extra'. This command does not take positional arguments (see 'perf-eval probe --help')",
    );
    const { command, calls } = probe('any');
    expect(await command.run(['a', 'b', 'c'], capturedStdout().io)).toBe(7);
    expect(calls[0]?.positionals).toEqual(['a', 'b', 'c']);
  });
});
