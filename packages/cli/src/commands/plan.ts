import { formatPlan, planLocalRun, planSecrets, redactPlan } from '@perf-eval/run';
import { selectVariant } from '@perf-eval/workload-schema';
import { parseServerUrl } from '../lib/args.js';
import { defineCommand } from '../lib/command.js';
import { EXIT } from '../lib/exit-codes.js';
import { writeLine } from '../lib/io.js';
import { loadRecipe } from '../lib/workload.js';

const HELP = `Usage: perf-eval plan FILE [--json] [--profiles PATH] [--results-dir DIR] [--server-url URL] [--variant NAME]

Show what 'perf-eval run FILE' would do, without doing it: the server launch (or the prefill and
decode servers and their proxy), every bench, lm_eval, BFCL and semantic-eval command, the server
env (secrets as ***), the ports, the results directory and the sweep variants.

Options:
  --json             one JSON object on stdout (machine-readable)
  --profiles PATH    GPU profiles file
  --results-dir DIR  results root (default: results); files go to DIR/<name>/
  --server-url URL   plan against an already-running server (no launch)
  --variant NAME     the full plan of one sweep variant (names: see 'variants' of the plan)`;

export const { run } = defineCommand(
  {
    name: 'plan',
    help: HELP,
    options: {
      json: { type: 'boolean' },
      profiles: { type: 'string' },
      'results-dir': { type: 'string' },
      'server-url': { type: 'string' },
      variant: { type: 'string' },
    },
    positionals: { min: 1, max: 1, describe: 'recipe FILE' },
  },
  async ({ values, positionals }, io) => {
    const file = positionals[0] as string;
    const workload = selectVariant(loadRecipe(file, io, values.profiles), values.variant, {
      file,
      prefix: 'perf-eval plan: ',
    });
    const serverUrl = values['server-url'];
    if (serverUrl !== undefined) parseServerUrl('plan', serverUrl);
    const plan = planLocalRun(workload, {
      env: io.env,
      cwd: io.cwd,
      ...(values['results-dir'] !== undefined ? { resultsRoot: values['results-dir'] } : {}),
      ...(serverUrl !== undefined ? { serverUrl } : {}),
    });
    const shown = redactPlan(plan, planSecrets(workload, io.env));
    if (values.json) writeLine(io.stdout, JSON.stringify(shown, null, 2));
    else io.stdout.write(formatPlan(shown));
    return EXIT.ok;
  },
);
