import {
  checkIngestCredentials,
  createTransport,
  formatReingestReport,
  outboxDirOf,
  reingestResults,
} from '@perf-eval/ingest';
import { scrubText, secretValuesOf } from '@perf-eval/util';
import { defineCommand } from '../lib/command.js';
import { EXIT } from '../lib/exit-codes.js';
import { writeLine } from '../lib/io.js';
import { interruptionOf } from '../lib/signals.js';

const HELP = `Usage: perf-eval ingest RESULTS_DIR [--dry-run] [--replay] [--strict]

(Re)ingest a finished results directory (results/<name>/) into the perf and eval dashboards, using
the ingest plan that 'perf-eval run' wrote (RESULTS_DIR/.ingest/plan.json).

Options:
  --dry-run   print each payload as one JSON line on stdout instead of posting (no token needed)
  --replay    deliver only the payloads left in RESULTS_DIR/.ingest/outbox/ by earlier failures
  --strict    exit 1 when any payload could not be delivered

Each payload is posted at most once per results dir: delivered ingest_ids are recorded in
RESULTS_DIR/.ingest/outbox/.delivered/, a full ingest removes outbox leftovers it delivered, and
concurrent invocations claim each payload before posting it. Perf rows carry the run's date (the
plan's, else summary.json's start time, else the plan file's mtime — the line 'run date' says which).

Env: INGEST_BEARER_TOKEN (required unless --dry-run), INGEST_URL, PERF_INGEST_URL (http(s) URLs),
NIGHTLY, BUILDKITE_*.
Exit: 0 delivered (or failures without --strict), 1 failures with --strict, 2 bad arguments, a
missing token, an invalid INGEST_URL / PERF_INGEST_URL or an invalid plan (nothing was sent),
130/143 interrupted by SIGINT/SIGTERM (undelivered payloads stay in the outbox for --replay).`;

export const { run } = defineCommand(
  {
    name: 'ingest',
    help: HELP,
    options: {
      'dry-run': { type: 'boolean' },
      replay: { type: 'boolean' },
      strict: { type: 'boolean' },
    },
    positionals: { min: 1, max: 1, describe: 'RESULTS_DIR' },
  },
  async ({ values, positionals }, io) => {
    const resultsDir = positionals[0] as string;
    const dryRun = Boolean(values['dry-run']);
    if (!dryRun) checkIngestCredentials(io.env);
    const transport = createTransport({
      env: io.env,
      signal: io.signal,
      onRetry: (notice) =>
        writeLine(
          io.stderr,
          `    retrying ${notice.kind} after attempt ${notice.attempt} (${notice.reason})${notice.retryAfterMs > 0 ? `; Retry-After: waiting ${(notice.retryAfterMs / 1000).toFixed(1)}s` : ''}`,
        ),
    });
    // Progress lines may quote a server reply; no secret of the environment reaches the console.
    const secrets = secretValuesOf(io.env);
    const print = (line: string): void => writeLine(io.stderr, scrubText(line, secrets));
    // Dry-run payloads go to stdout as they are produced (bytes, one JSON line each).
    const writeOut = (bytes: Uint8Array): void =>
      void io.stdout.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
    const report = await reingestResults(resultsDir, {
      cwd: io.cwd,
      replay: Boolean(values.replay),
      transport,
      dryRun,
      strict: Boolean(values.strict),
      print,
      writeOut,
    });
    const interruption = interruptionOf(io.signal);
    if (interruption) {
      writeLine(
        io.stderr,
        `${interruption.message}; ${report.posted} posted, undelivered payloads stay in ${outboxDirOf(resultsDir)} for 'perf-eval ingest --replay'`,
      );
      return interruption.signalName === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
    }
    for (const line of formatReingestReport(report, { dryRun })) writeLine(io.stderr, line);
    return values.strict && report.failed > 0 ? EXIT.failure : EXIT.ok;
  },
);
