/**
 * Ingesting a finished results directory again: from the plan its run wrote, or (`replay`) only the
 * payloads that earlier failures left in its outbox.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DeliveryOptions, IngestReport } from './delivery.js';
import { replayOutbox } from './ingest.js';
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
