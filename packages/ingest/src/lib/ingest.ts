import { readFile, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, sep } from 'node:path';
import { LMEVAL_RESULTS_FILE, LMEVAL_SAMPLES_FILE } from '@perf-eval/util';
import { Delivery } from './delivery.js';
import type { DeliveryOptions, IngestReport } from './delivery.js';
import { batchSamples, buildResultsEvent, comparePaths, findEvalFiles } from './eval-events.js';
import { buildEvalMetadata, computeIngestId, contentHash, displayEndpoint } from './metadata.js';
import type { IngestContext } from './metadata.js';
import { listOutbox, readOutboxEntry } from './outbox.js';
import { buildPerfRow, parseBenchResult, perfSummaryLine, serializePerfRow } from './perf-row.js';
import type { PerfMeta } from './perf-row.js';

export interface IngestEvalDirOptions extends DeliveryOptions {
  context: IngestContext;
  task: string;
  /** `results/<name>/<task>` or `results/<name>/bfcl-<c>`, as the job sees it (becomes `source_file`). */
  dir: string;
  /**
   * Only these files (paths relative to `dir`, or absolute): the ones the current invocation wrote
   * (D33). Default: every `results_*.json` / `samples_*.jsonl` under `dir`, sorted.
   */
  files?: readonly string[] | undefined;
  /** Post `samples_*.jsonl` (false for BFCL and when `INGEST_NO_SAMPLES` is set). */
  samples: boolean;
  /** Sample batch limit in bytes (default 4 MiB); for tests. */
  samplesLimitBytes?: number | undefined;
}

export interface IngestPerfRunOptions extends DeliveryOptions {
  context: IngestContext;
  /** `results/<name>/bench-<run>.json` (the median aggregate when repetitions > 1). */
  file: string;
  meta: PerfMeta;
}

/** Options of {@link replayOutbox}: the shared delivery options. */
export type ReplayOutboxOptions = DeliveryOptions;

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

async function selectFiles(
  dir: string,
  files: readonly string[] | undefined,
  samples: boolean,
  delivery: Delivery,
): Promise<{ results: string[]; samples: string[] }> {
  if (files === undefined) {
    const found = await findEvalFiles(dir);
    return { results: found.results, samples: samples ? found.samples : [] };
  }
  const results: string[] = [];
  const sampleFiles: string[] = [];
  for (const file of files) {
    const rel = toPosix(isAbsolute(file) ? relative(dir, file) : file);
    const name = basename(rel);
    if (LMEVAL_RESULTS_FILE.test(name)) results.push(rel);
    else if (LMEVAL_SAMPLES_FILE.test(name)) {
      if (samples) sampleFiles.push(rel);
    } else delivery.warn(`${rel} is neither results_*.json nor samples_*.jsonl; not ingested`);
  }
  return {
    results: [...new Set(results)].sort(comparePaths),
    samples: [...new Set(sampleFiles)].sort(comparePaths),
  };
}

async function runEvalDir(delivery: Delivery, options: IngestEvalDirOptions): Promise<void> {
  const { context, task, dir } = options;
  if (!(await isDirectory(dir))) {
    delivery.print(`  ingest: results dir not found: ${dir}`);
    delivery.report.notFound++;
    return;
  }
  const selected = await selectFiles(dir, options.files, options.samples, delivery);
  delivery.print(
    `  ingest -> ${displayEndpoint(delivery.transport.endpoints.eval)}  (${selected.results.length} results, ${selected.samples.length} sample file(s))`,
  );
  const metadata = buildEvalMetadata({
    workload: context.workload,
    task,
    image: context.image,
    vllmCommit: context.vllmCommit,
    env: context.env,
  });
  const verb = delivery.dryRun ? 'dry-run' : 'posted';

  for (const rel of selected.results) {
    const path = join(dir, rel);
    const sourceFile = toPosix(path);
    let body: string;
    let ingestId: string;
    try {
      const bytes = await readFile(path);
      ingestId = computeIngestId({
        kind: 'results',
        workload: context.workload,
        task,
        contentHash: contentHash(bytes),
      });
      const event = buildResultsEvent({ sourceFile, metadata, text: bytes.toString('utf8'), ingestId });
      body = event.body;
      if (event.nonFinite > 0) {
        delivery.report.nonFinite += event.nonFinite;
        delivery.warn(`${rel}: ${event.nonFinite} non-finite number(s) (NaN/Infinity) posted as null`);
      }
    } catch (error) {
      const failure = delivery.failSource('eval', rel, error);
      delivery.print(`    failed ${rel}: ${failure.message}`);
      continue;
    }
    const outcome = await delivery.deliver({ kind: 'eval', label: rel, body, ingestId });
    if (outcome.ok) {
      delivery.print(`    ${delivery.verbOf(outcome)} ${rel}`);
    } else {
      delivery.addFailure({
        item: rel,
        kind: 'eval',
        code: outcome.error.code,
        message: delivery.transport.scrub(outcome.error.message),
        outboxFiles: outcome.outboxFile ? [outcome.outboxFile] : [],
      });
      delivery.print(`    failed ${rel}: ${outcome.error.message}`);
    }
  }

  for (const rel of selected.samples) {
    const path = join(dir, rel);
    let delivered = 0;
    let total = 0;
    let batches = 0;
    let firstError: { code: string; message: string } | undefined;
    const kept: string[] = [];
    try {
      for await (const batch of batchSamples({
        file: path,
        sourceFile: toPosix(path),
        metadata,
        workload: context.workload,
        task,
        limitBytes: options.samplesLimitBytes,
        onMalformed: (line) => {
          delivery.report.skippedLines++;
          delivery.print(`    skip malformed sample line: ${rel}:${line.line}: ${line.error}`);
        },
        onNonFinite: (info) => {
          delivery.report.nonFinite += info.count;
          delivery.warn(
            `${rel}:${info.line}: ${info.count} non-finite number(s) (NaN/Infinity) posted as null`,
          );
        },
      })) {
        batches++;
        total += batch.samples;
        const outcome = await delivery.deliver({
          kind: 'eval',
          label: `${rel} batch ${batch.index}`,
          body: batch.body,
          ingestId: batch.ingestId,
        });
        if (outcome.ok) {
          delivered += batch.samples;
          delivery.report.samples += batch.samples;
        } else {
          firstError ??= { code: outcome.error.code, message: outcome.error.message };
          if (outcome.outboxFile) kept.push(outcome.outboxFile);
        }
      }
    } catch (error) {
      const failure = delivery.failSource('eval', rel, error);
      delivery.print(`    failed ${rel}: ${failure.message} (${delivered} samples ${verb} before the error)`);
      continue;
    }
    if (firstError === undefined) {
      delivery.print(`    ${verb} ${rel} (${delivered} samples)`);
    } else {
      const message = `${firstError.message} (${delivered} of ${total} samples posted; ${kept.length} of ${batches} batch(es) kept in the outbox)`;
      delivery.addFailure({
        item: rel,
        kind: 'eval',
        code: firstError.code,
        message: delivery.transport.scrub(message),
        outboxFiles: kept,
      });
      delivery.print(`    failed ${rel}: ${message}`);
    }
  }
}

async function runPerfRun(delivery: Delivery, options: IngestPerfRunOptions): Promise<void> {
  const { context, file, meta } = options;
  if (!(await isFile(file))) {
    delivery.print(`  perf-ingest: raw result file not found: ${file}`);
    delivery.report.notFound++;
    return;
  }
  const header = `  perf-ingest -> ${displayEndpoint(delivery.transport.endpoints.perf)}`;
  let body: string;
  let ingestId: string;
  let summary: string;
  try {
    const bytes = await readFile(file);
    const { raw, nonFinite } = parseBenchResult(file, bytes.toString('utf8'));
    const warnings: string[] = [];
    if (nonFinite > 0) {
      delivery.report.nonFinite += nonFinite;
      warnings.push(`${file}: ${nonFinite} non-finite number(s) (NaN/Infinity) read as null`);
    }
    const row = buildPerfRow(raw, { ...meta, image: context.image }, context.env, {
      now: delivery.now,
      warn: (message, reason) => {
        if (reason === 'non-finite') delivery.report.nonFinite++;
        warnings.push(`${file}: ${message}`);
      },
    });
    ingestId = computeIngestId({
      kind: 'perf',
      workload: context.workload,
      task: '',
      contentHash: contentHash(bytes),
    });
    body = serializePerfRow(row, ingestId);
    summary = perfSummaryLine(row);
    delivery.print(header);
    for (const warning of warnings) delivery.warn(warning);
  } catch (error) {
    delivery.print(header);
    const failure = delivery.failSource('perf', file, error);
    delivery.print(`    failed: ${failure.message}`);
    return;
  }
  delivery.print(summary);
  const outcome = await delivery.deliver({ kind: 'perf', label: file, body, ingestId });
  if (outcome.ok) {
    delivery.print(`    ${delivery.verbOf(outcome)} ok`);
  } else {
    delivery.addFailure({
      item: file,
      kind: 'perf',
      code: outcome.error.code,
      message: delivery.transport.scrub(outcome.error.message),
      outboxFiles: outcome.outboxFile ? [outcome.outboxFile] : [],
    });
    delivery.print(`    failed: ${outcome.error.message}`);
  }
}

async function runReplay(delivery: Delivery): Promise<void> {
  const files = await listOutbox(delivery.outboxDir);
  if (files.length === 0) {
    delivery.print(`  ingest replay: nothing queued in ${delivery.outboxDir}`);
    return;
  }
  delivery.print(`  ingest replay -> ${files.length} queued payload(s) in ${delivery.outboxDir}`);
  for (const file of files) {
    let entry;
    try {
      entry = await readOutboxEntry(file);
    } catch (error) {
      // Gone since the listing: another process delivered (or dropped) it.
      if (((error as { cause?: NodeJS.ErrnoException }).cause?.code ?? '') === 'ENOENT') continue;
      const failure = delivery.failSource('eval', file, error);
      delivery.print(`    failed ${file}: ${failure.message}`);
      continue;
    }
    const outcome = await delivery.deliver({
      kind: entry.kind,
      label: entry.label,
      body: entry.body,
      ingestId: entry.ingest_id,
      outboxFile: file,
    });
    if (outcome.ok) {
      // A copy queued twice (a failed run, then a re-ingest) is dropped by the ledger, not posted again.
      delivery.print(`    ${delivery.verbOf(outcome)} ${entry.label}`);
    } else {
      delivery.addFailure({
        item: entry.label,
        kind: entry.kind,
        code: outcome.error.code,
        message: delivery.transport.scrub(outcome.error.message),
        outboxFiles: [file],
      });
      delivery.print(`    failed ${entry.label}: ${outcome.error.message}`);
    }
  }
}

/**
 * Post the lm-eval (or BFCL) results — and, with `samples`, the sample batches — of one task dir
 * (recipe-compat §15.2). Never throws for ingestion problems unless `strict`; returns a report.
 */
export async function ingestEvalDir(options: IngestEvalDirOptions): Promise<IngestReport> {
  const delivery = new Delivery(options);
  delivery.checkToken();
  await runEvalDir(delivery, options);
  return delivery.finish();
}

/** Post the perf row of one bench run (recipe-compat §15.3). Never throws unless `strict`. */
export async function ingestPerfRun(options: IngestPerfRunOptions): Promise<IngestReport> {
  const delivery = new Delivery(options);
  delivery.checkToken();
  await runPerfRun(delivery, options);
  return delivery.finish();
}

/** Deliver outbox leftovers in creation order, removing each after a 2xx. Never throws unless `strict`. */
export async function replayOutbox(options: ReplayOutboxOptions): Promise<IngestReport> {
  const delivery = new Delivery(options);
  const files = await listOutbox(options.outboxDir);
  if (files.length > 0) delivery.checkToken();
  await runReplay(delivery);
  await delivery.pruneDelivered();
  return delivery.finish();
}

/** For the plan runner: several items through one Delivery (one token check, one breaker). */
export async function runItems(
  delivery: Delivery,
  items: ReadonlyArray<
    { kind: 'eval'; options: IngestEvalDirOptions } | { kind: 'perf'; options: IngestPerfRunOptions }
  >,
): Promise<void> {
  for (const item of items) {
    if (item.kind === 'eval') await runEvalDir(delivery, item.options);
    else await runPerfRun(delivery, item.options);
  }
}
