import { formatCommand, isPerfEvalError, scrubText, secretValuesOf, ToolError } from '@perf-eval/util';
import { UsageError } from './args.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import type { Io } from './io.js';
import { VERSION } from './version.js';

export interface CommandModule {
  run(argv: string[], io: Io): Promise<number>;
}

export interface CommandEntry {
  summary: string;
  load: () => Promise<CommandModule>;
}

/** Commands are imported lazily so `perf-eval validate` never loads HTTP or subprocess code. */
export const COMMANDS: Record<string, CommandEntry> = {
  validate: {
    summary: 'check recipes against the schema (no GPU, no tools needed)',
    load: () => import('../commands/validate.js'),
  },
  plan: {
    summary: 'show what a run would do: server, commands, env, results',
    load: () => import('../commands/plan.js'),
  },
  schema: { summary: 'print the recipe JSON Schema', load: () => import('../commands/schema.js') },
  ingest: {
    summary: '(re)ingest a results directory into the dashboards, or replay the outbox',
    load: () => import('../commands/ingest.js'),
  },
  pipeline: {
    summary: 'print the Buildkite pipeline for the selected recipes',
    load: () => import('../commands/pipeline.js'),
  },
  cleanup: {
    summary: 'stop and remove stale perf-eval vLLM containers of other jobs',
    load: () => import('../commands/cleanup.js'),
  },
  setup: {
    summary: 'provision pinned Python tools and the vLLM simulator under a cache directory',
    load: () => import('../commands/setup.js'),
  },
  compare: {
    summary: 'compare a results directory with a baseline under a noise model',
    load: () => import('../commands/compare.js'),
  },
  history: {
    summary: 'import a run history (history.jsonl) from a Buildkite build or a results directory',
    load: () => import('../commands/history.js'),
  },
  run: {
    summary: 'run a recipe: server, bench, lm_eval, BFCL, summary, ingest, teardown',
    load: () => import('../commands/run.js'),
  },
  report: {
    summary: 'write a self-contained HTML report (charts + tables) for a results directory',
    load: () => import('../commands/report.js'),
  },
};

function usage(commands: Readonly<Record<string, CommandEntry>>): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`);
  return [
    `perf-eval ${VERSION} — vLLM perf + accuracy recipes`,
    '',
    'Usage: perf-eval <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    "Run 'perf-eval <command> --help' for a command's options.",
    'Exit codes: 0 ok, 1 run failure, 2 usage or validation error, 130/143 interrupted.',
  ].join('\n');
}

function describe(error: unknown): string {
  if (error instanceof ToolError) return error.fullMessage;
  const full = (error as { fullMessage?: unknown }).fullMessage;
  if (isPerfEvalError(error)) return typeof full === 'string' ? full : error.message;
  return String(error);
}

/** Entry point: parse the command, run it, map any error to an exit code. Never calls process.exit. */
export function run(argv: readonly string[], io: Io): Promise<number> {
  return runWith(COMMANDS, argv, io);
}

/**
 * `run` over a given command table. scripts/bundle-cli.mjs bundles the commands the Buildkite
 * bootstrap runs (`validate`, `pipeline`) with this and a table of just those, so their bundle
 * holds none of the other commands' code (HTTP, subprocesses, charts) and starts fast.
 */
export async function runWith(
  commands: Readonly<Record<string, CommandEntry>>,
  argv: readonly string[],
  io: Io,
): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.stdout.write(`${usage(commands)}\n`);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    io.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  const entry = commands[command];
  try {
    if (!entry) {
      const known = Object.keys(commands);
      const close = known.find((name) => name.startsWith(command.slice(0, 2)));
      throw new UsageError(
        `perf-eval: unknown command '${command}'${close ? ` (did you mean '${close}'?)` : ''}; see 'perf-eval --help'`,
      );
    }
    const module = await entry.load();
    return await module.run(rest, io);
  } catch (error) {
    const decision = exitCodeFor(error);
    // Error messages and tails may quote tool output; the environment's secrets never reach the console.
    const secrets = secretValuesOf(io.env);
    if (decision.internal) {
      io.stderr.write(
        scrubText(
          `perf-eval: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n` +
            `This is a bug; please report it with the command line (${formatCommand(['perf-eval', ...argv])}).\n`,
          secrets,
        ),
      );
    } else {
      io.stderr.write(`${scrubText(describe(error), secrets)}\n`);
    }
    return decision.code;
  }
}
