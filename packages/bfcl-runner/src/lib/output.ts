import { join } from 'node:path';
import { pyFloatRepr, writeFileAtomic } from '@perf-eval/util';
import { isBfclGroup } from './categories.js';
import type { BfclScoreRow } from './scores.js';

/** `YYYY-MM-DDTHH-MM-SS` in local time (Python `time.strftime("%Y-%m-%dT%H-%M-%S")`). */
export function bfclTimestamp(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}-${pad(date.getMinutes())}-${pad(date.getSeconds())}`
  );
}

const FLOAT = '\u0001pyfloat:';

/**
 * The lm-eval-shaped document for one scored category (`recipe-compat.md` §10.6) as upstream's
 * `json.dump(…, indent=2)` writes it: 2-space indent, Python float rendering (`0.0`, `1.0`), no
 * trailing newline.
 */
export function renderBfclLmEvalJson(
  model: string,
  category: string,
  accuracy: number,
  isGroupTotal: boolean,
): string {
  const task = `bfcl_${category}`;
  const doc = {
    results: {
      [task]: {
        'acc,none': `${FLOAT}${pyFloatRepr(accuracy)}`,
        'acc_stderr,none': `${FLOAT}0.0`,
        alias: isGroupTotal ? `${task} (overall)` : task,
      },
    },
    configs: { [task]: { task, num_fewshot: 0 } },
    versions: { [task]: 1 },
    'n-shot': { [task]: 0 },
    config: { model: 'local-completions', model_args: `model=${model}` },
  };
  // JSON.stringify writes U+0001 as the escape \u0001; swap the marked strings for bare floats.
  return JSON.stringify(doc, null, 2).replace(/"\\u0001pyfloat:([^"]+)"/g, '$1');
}

export interface WriteBfclResultsOptions {
  /** Timestamp of the results files; default now. */
  now?: Date;
  /** Console lines; default stdout. */
  print?: (line: string) => void;
}

export interface BfclWrittenResults {
  /** `<resultsDir>/bfcl-<c>/results_<ts>.json`, one per row, in row order. */
  writtenFiles: string[];
  /** `<resultsDir>/.bfcl_ingest/<category>.txt`. */
  manifest: string;
}

/**
 * Write one results file per score row (group total first, then subcategories) and the ingest
 * manifest listing them, all atomically, printing upstream's `[bfcl] …` lines.
 */
export async function writeBfclResults(
  resultsDir: string,
  model: string,
  category: string,
  rows: readonly BfclScoreRow[],
  options: WriteBfclResultsOptions = {},
): Promise<BfclWrittenResults> {
  const print = options.print ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const stamp = bfclTimestamp(options.now ?? new Date());
  const writtenFiles: string[] = [];
  for (const row of rows) {
    const isGroupTotal = row.category === category && isBfclGroup(category);
    const file = join(resultsDir, `bfcl-${row.category}`, `results_${stamp}.json`);
    print(`[bfcl] ${row.category}: accuracy=${pyFloatRepr(row.accuracy)}`);
    await writeFileAtomic(file, renderBfclLmEvalJson(model, row.category, row.accuracy, isGroupTotal));
    print(`[bfcl] results written to ${file}`);
    writtenFiles.push(file);
  }
  const manifest = join(resultsDir, '.bfcl_ingest', `${category}.txt`);
  await writeFileAtomic(manifest, rows.map((row) => `${row.category}\n`).join(''));
  print(`[bfcl] ingest manifest written to ${manifest}`);
  return { writtenFiles, manifest };
}
