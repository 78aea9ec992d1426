/**
 * Ingesting a finished results directory again: from the plan its run wrote, or (`replay`) only the
 * payloads that earlier failures left in its outbox.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DeliveryOptions, IngestReport } from './delivery.js';
import { IngestNoTokenError, IngestUrlInvalidError, NO_TOKEN_MESSAGE } from './errors.js';
import { replayOutbox } from './ingest.js';
import { ingestUrlProblems, type IngestEnv } from './metadata.js';
import { ingestPlan, outboxDirOf, planPathOf, readIngestPlan, type IngestPlan } from './plan.js';

export interface ReingestOptions extends Omit<DeliveryOptions, 'outboxDir'> {
  /** Deliver only the outbox leftovers (`<resultsDir>/.ingest/outbox`); no plan is read. */
  replay?: boolean | undefined;
  /**
   * Base of a relative `resultsDir` for reading the plan and the outbox (default: the process's).
   * Payloads name their files under `resultsDir` as given, as the run's own ingestion did.
   */
  cwd?: string | undefined;
}

/**
 * Before a re-ingest that posts (not a dry run): usable INGEST_URL / PERF_INGEST_URL and a token. A
 * delivery without them would only queue every payload, so `perf-eval ingest` refuses up front
 * instead. Throws `IngestUrlInvalidError` or `IngestNoTokenError` (both `preflight`, exit 2).
 */
export function checkIngestCredentials(env: IngestEnv): void {
  const problems = ingestUrlProblems(env);
  if (problems.length > 0) throw new IngestUrlInvalidError(problems);
  if (!env['INGEST_BEARER_TOKEN']?.trim()) {
    throw new IngestNoTokenError(
      `perf-eval ingest: ${NO_TOKEN_MESSAGE}; set it (CI: buildkite-agent secret get INGEST_BEARER_TOKEN) or use --dry-run`,
    );
  }
}

/**
 * Re-ingest `resultsDir`: every item of its `.ingest/plan.json`, perf rows dated with the run's date
 * (an `ingest: run date …` line says where it came from), or with `replay` the outbox only. Returns
 * the report; throws only as `ingestPlan` / `replayOutbox` do (a missing or invalid plan, `strict`).
 */
export async function reingestResults(resultsDir: string, options: ReingestOptions): Promise<IngestReport> {
  const { replay, cwd = process.cwd(), ...delivery } = options;
  const dir = resolve(cwd, resultsDir);
  if (replay) return replayOutbox({ ...delivery, outboxDir: outboxDirOf(dir) });
  const plan = await readIngestPlan(dir);
  const date = await runDateOf(plan, dir);
  (delivery.print ?? ((line: string) => process.stderr.write(`${line}\n`)))(
    `ingest: run date ${date.date.toISOString()} (from ${date.source})`,
  );
  return ingestPlan(plan, { ...delivery, resultsDir, date: date.date });
}

/**
 * The run's date for its perf rows: recorded in the plan since `context.date` exists; for older
 * plans summary.json's `startedAt`, else the plan file's modification time.
 */
async function runDateOf(plan: IngestPlan, resultsDir: string): Promise<{ date: Date; source: string }> {
  if (plan.context.date)
    return { date: new Date(plan.context.date), source: '.ingest/plan.json context.date' };
  try {
    const summary = JSON.parse(await readFile(join(resultsDir, 'summary.json'), 'utf8')) as {
      startedAt?: unknown;
    };
    const started = typeof summary.startedAt === 'string' ? new Date(summary.startedAt) : undefined;
    if (started && !Number.isNaN(started.getTime()))
      return { date: started, source: 'summary.json startedAt; the plan predates context.date' };
  } catch {
    // No usable summary: fall through to the plan file's time.
  }
  return {
    date: (await stat(planPathOf(resultsDir))).mtime,
    source:
      'the modification time of .ingest/plan.json; the plan predates context.date and summary.json has no startedAt',
  };
}

/**
 * The closing lines of a re-ingest: `ingest: N posted, M failed` (a dry run: `N payload(s) printed`)
 * plus skipped sample lines, already delivered and claimed payloads when there are any, then one
 * `  failed <item>: <message>` line per failure.
 */
export function formatReingestReport(report: IngestReport, options: { dryRun?: boolean } = {}): string[] {
  const parts = options.dryRun
    ? [`${report.printed} payload(s) printed`]
    : [`${report.posted} posted`, `${report.failed} failed`];
  if (report.skippedLines) parts.push(`${report.skippedLines} malformed sample line(s) skipped`);
  if (report.alreadyDelivered) parts.push(`${report.alreadyDelivered} already delivered (not posted again)`);
  if (report.claimedElsewhere) parts.push(`${report.claimedElsewhere} being posted by another process`);
  return [
    `ingest: ${parts.join(', ')}`,
    ...report.failures.map((failure) => `  failed ${failure.item}: ${failure.message}`),
  ];
}
