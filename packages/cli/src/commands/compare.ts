import { resolve } from 'node:path';
import { readBaseline, readResultsDir } from '@perf-eval/results';
import { compareRuns, renderVerdictTable } from '@perf-eval/verdicts';
import { UsageError } from '../lib/args.js';
import { defineCommand } from '../lib/command.js';
import { EXIT } from '../lib/exit-codes.js';
import { writeLine } from '../lib/io.js';

const HELP = `Usage: perf-eval compare BASE NEW [--json] [--all] [--fail-on regression]

Compare the results directory NEW with BASE (a results directory, or a history.jsonl whose latest
run of the same recipe is the baseline) under the noise model of @perf-eval/verdicts: Welch's test
on repetitions, else σ learned from the baseline's history (≥ 3 earlier comparable runs), else a
2.5 % noise floor, never a regression below a 2 % change; accuracy by a paired McNemar test on
per-sample outcomes, else a z-test on lm-eval's stderr.

Options:
  --json                 print {base, new, counts, rows, warnings}; each row has task, metric, base, new,
                         deltaPct, better, verdict, reason, method, evidence, files
  --all                  list unchanged rows too (the table shows changed rows only, worst first)
  --fail-on regression   exit 1 when any row is a regression

Exit: 0 compared, 1 a regression with --fail-on regression, 2 bad arguments or unreadable results.`;

export const { run } = defineCommand(
  {
    name: 'compare',
    help: HELP,
    options: {
      json: { type: 'boolean' },
      all: { type: 'boolean' },
      'fail-on': { type: 'string' },
    },
    positionals: { min: 2, max: 2, describe: 'BASE and NEW' },
  },
  async ({ values, positionals }, io) => {
    const failOn = values['fail-on'];
    if (failOn !== undefined && failOn !== 'regression')
      throw new UsageError(`perf-eval compare: --fail-on takes 'regression', got '${failOn}'`);
    const [basePath, newPath] = positionals.map((p) => resolve(io.cwd, p)) as [string, string];
    const fresh = await readResultsDir(newPath);
    const baseline = await readBaseline(basePath, fresh.identity.recipe, fresh.identity.runId);
    const comparison = compareRuns(baseline.run, fresh, { history: baseline.history });
    const warnings = [
      ...baseline.run.warnings.map((w) => `BASE ${w}`),
      ...fresh.warnings.map((w) => `NEW ${w}`),
    ];
    if (values.json) {
      writeLine(io.stdout, JSON.stringify({ ...comparison, warnings }, null, 2));
    } else {
      io.stdout.write(renderVerdictTable(comparison, { all: Boolean(values.all) }));
      for (const warning of warnings) writeLine(io.stderr, `warning: ${warning}`);
    }
    return failOn === 'regression' && comparison.counts.regression > 0 ? EXIT.failure : EXIT.ok;
  },
);
