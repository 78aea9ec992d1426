import { resolve } from 'node:path';
import { createTransport, ingestPlan, outboxDirOf, readIngestPlan, replayOutbox, type IngestReport } from '@perf-eval/ingest';
import { parseCommandArgs, UsageError } from '../lib/args.js';
import { EXIT } from '../lib/exit-codes.js';
import { writeLine, type Io } from '../lib/io.js';

const HELP = `Usage: perf-eval ingest RESULTS_DIR [--dry-run] [--replay] [--strict]

(Re)ingest a finished results directory (results/<name>/) into the perf and eval dashboards, using
the ingest plan that 'perf-eval run' wrote (RESULTS_DIR/.ingest/plan.json).

Options:
  --dry-run   print each payload as one JSON line on stdout instead of posting (no token needed)
  --replay    deliver only the payloads left in RESULTS_DIR/.ingest/outbox/ by earlier failures
  --strict    exit 1 when any payload could not be delivered

Env: INGEST_BEARER_TOKEN (required unless --dry-run), INGEST_URL, PERF_INGEST_URL, NIGHTLY, BUILDKITE_*.
Exit: 0 delivered (or failures without --strict), 1 failures with --strict, 2 bad arguments,
missing token or an invalid plan.`;

interface IngestFlags {
  help?: boolean;
  'dry-run'?: boolean;
  replay?: boolean;
  strict?: boolean;
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs<IngestFlags>('ingest', argv, {
    'dry-run': { type: 'boolean' },
    replay: { type: 'boolean' },
    strict: { type: 'boolean' },
  });
  if (values.help) {
    writeLine(io.stdout, HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError(`perf-eval ingest: expected exactly one RESULTS_DIR, got ${positionals.length} (see 'perf-eval ingest --help')`);
  const resultsDir = positionals[0] as string;
  const dryRun = Boolean(values['dry-run']);
  const transport = createTransport({ env: io.env, signal: io.signal });
  const print = (line: string): void => writeLine(io.stderr, line);
  // Dry-run payloads go to stdout as they are produced (bytes, one JSON line each).
  const writeOut = (chunk: Uint8Array | string): void => {
    io.stdout.write(typeof chunk === 'string' ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8'));
  };
  let report: IngestReport;
  if (values.replay) {
    report = await replayOutbox({ outboxDir: outboxDirOf(resolve(io.cwd, resultsDir)), transport, dryRun, strict: Boolean(values.strict), print, writeOut });
  } else {
    const plan = await readIngestPlan(resolve(io.cwd, resultsDir));
    report = await ingestPlan(plan, { resultsDir, transport, dryRun, strict: Boolean(values.strict), print, writeOut });
  }
  const parts = dryRun ? [`${report.printed} payload(s) printed`] : [`${report.posted} posted`, `${report.failed} failed`];
  if (report.skippedLines) parts.push(`${report.skippedLines} malformed sample line(s) skipped`);
  writeLine(io.stderr, `ingest: ${parts.join(', ')}`);
  for (const failure of report.failures) writeLine(io.stderr, `  failed ${failure.item}: ${failure.message}`);
  return values.strict && report.failed > 0 ? EXIT.failure : EXIT.ok;
}
