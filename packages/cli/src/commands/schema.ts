import { recipeJsonSchema } from '@perf-eval/workload-schema';
import { parseCommandArgs } from '../lib/args.js';
import { EXIT } from '../lib/exit-codes.js';
import type { Io } from '../lib/io.js';

const HELP = `Usage: perf-eval schema

Print the recipe JSON Schema (generated from the zod schema). workloads/workload.schema.json is a
committed copy; recipes reference it with a '# yaml-language-server: $schema=…' first line.`;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs<{ help?: boolean }>('schema', argv, {}, false);
  if (values.help) {
    io.stdout.write(`${HELP}\n`);
    return EXIT.ok;
  }
  io.stdout.write(`${JSON.stringify(recipeJsonSchema(), null, 2)}\n`);
  return EXIT.ok;
}
