import { recipeJsonSchema } from '@perf-eval/workload-schema';
import { defineCommand } from '../lib/command.js';
import { EXIT } from '../lib/exit-codes.js';

const HELP = `Usage: perf-eval schema

Print the recipe JSON Schema (generated from the zod schema). workloads/workload.schema.json is a
committed copy; recipes reference it with a '# yaml-language-server: $schema=…' first line.`;

export const { run } = defineCommand({ name: 'schema', help: HELP }, (_args, io) => {
  io.stdout.write(`${JSON.stringify(recipeJsonSchema(), null, 2)}\n`);
  return EXIT.ok;
});
