import { UsageError } from './args.js';
import { captureIo } from '../../test/capture-io.js';
import type { Io } from './io.js';
import { COMMANDS, runWith, type CommandEntry } from './main.js';

function capture(): { io: Io; out: () => { stdout: string; stderr: string } } {
  const { io, stdout, stderr } = captureIo();
  return { io, out: () => ({ stdout: stdout(), stderr: stderr() }) };
}

describe('runWith (the dispatch of run, over a given command table)', () => {
  const calls: string[][] = [];
  const table: Record<string, CommandEntry> = {
    greet: {
      summary: 'say hello',
      load: async () => ({
        run: async (argv) => {
          calls.push(argv);
          if (argv[0] === '--bad') throw new UsageError('greet: bad flag');
          return 0;
        },
      }),
    },
  };

  it('runs a command of the table with the rest of argv', async () => {
    const { io } = capture();
    expect(await runWith(table, ['greet', 'a', 'b'], io)).toBe(0);
    expect(calls.at(-1)).toEqual(['a', 'b']);
  });

  it('maps a command error to its exit code and message', async () => {
    const { io, out } = capture();
    expect(await runWith(table, ['greet', '--bad'], io)).toBe(2);
    expect(out().stderr).toBe('greet: bad flag\n');
  });

  it('knows only the commands of its table (help, unknown commands)', async () => {
    const help = capture();
    expect(await runWith(table, ['--help'], help.io)).toBe(0);
    expect(help.out().stdout).toMatch(/^ {2}greet {2}say hello$/m);
    expect(help.out().stdout).not.toContain('pipeline');

    const unknown = capture();
    expect(await runWith(table, ['pipeline'], unknown.io)).toBe(2);
    expect(unknown.out().stderr).toContain("perf-eval: unknown command 'pipeline'");
    expect(Object.keys(COMMANDS)).toContain('pipeline');
  });
});
