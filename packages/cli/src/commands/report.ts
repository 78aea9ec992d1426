import { resolve } from 'node:path';
import { secretValuesOf } from '@perf-eval/util';
import { defineCommand } from '../lib/command.js';
import { EXIT } from '../lib/exit-codes.js';
import { writeLine } from '../lib/io.js';

const HELP = `Usage: perf-eval report RESULTS_DIR [--baseline DIR] [-o FILE]

Write one self-contained HTML page for a results directory (results/<name>/ of 'perf-eval run'): the
run's identity, tasks and what failed, validity flags, latency percentiles, throughput against
concurrency, tokens/s per user against tokens/s per GPU, accuracy with confidence intervals and the
step's timeline, each chart with its data table. The page loads nothing (offline, no JavaScript).

Options:
  --baseline DIR   a results directory of an earlier run to compare against (new vs baseline)
  -o, --output FILE  where to write the page (default: RESULTS_DIR/report.html)

Exit: 0 written, 2 bad arguments or a results directory without a readable summary.json.`;

export const { run } = defineCommand(
  {
    name: 'report',
    help: HELP,
    options: {
      baseline: { type: 'string' },
      output: { type: 'string', short: 'o' },
    },
    positionals: { min: 1, max: 1, describe: 'RESULTS_DIR' },
  },
  async ({ values, positionals }, io) => {
    const resultsDir = resolve(io.cwd, positionals[0] as string);
    const output = resolve(io.cwd, values.output ?? resolve(resultsDir, 'report.html'));
    // Loaded after the arguments are checked: rendering loads ECharts, which takes a while.
    const { writeReport } = await import('@perf-eval/report');
    await writeReport(resultsDir, output, {
      baselineDir: values.baseline === undefined ? undefined : resolve(io.cwd, values.baseline),
      secrets: secretValuesOf(io.env),
    });
    writeLine(io.stdout, output);
    return EXIT.ok;
  },
);
