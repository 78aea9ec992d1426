import { isPerfEvalError, PerfEvalError } from '@perf-eval/util';
import {
  IngestAbortedError,
  IngestEndpointDownError,
  IngestFailedError,
  IngestHttpError,
  IngestNetworkError,
  IngestNoTokenError,
  IngestSourceError,
  NO_TOKEN_MESSAGE,
} from './errors.js';
import type { IngestFailure } from './errors.js';
import { DeliveryLedger } from './ledger.js';
import { displayEndpoint } from './metadata.js';
import type { EndpointKind } from './metadata.js';
import { listOutbox, readOutboxEntry, removeOutboxEntry, writeOutboxEntry } from './outbox.js';
import type { IngestTransport } from './transport.js';

/** What one high-level call did. Ingestion problems are reported here, not thrown (unless `strict`). */
export interface IngestReport {
  /** Payloads delivered with a 2xx (their outbox entries removed). */
  posted: number;
  /** Payloads not delivered; unless the source itself was unusable they remain in the outbox. */
  failed: number;
  /** Dry run: payloads written to `writeOut`. */
  printed: number;
  /** Malformed sample lines skipped. */
  skippedLines: number;
  /** Samples in posted (or, dry run, printed) batches. */
  samples: number;
  /** NaN / Infinity values replaced by null or dropped (D29). */
  nonFinite: number;
  /** Missing results dirs / bench files (upstream: a message and success). */
  notFound: number;
  /** Payloads not posted because their ingest_id is in the delivered ledger (their outbox copies removed). */
  alreadyDelivered: number;
  /** Payloads not posted because another live process was posting them (claimed); kept queued. */
  claimedElsewhere: number;
  failures: IngestFailure[];
}

/** Options shared by every high-level call. */
export interface DeliveryOptions {
  /** `results/<name>/.ingest/outbox`: every payload is queued here before it is sent. */
  outboxDir: string;
  transport: IngestTransport;
  /** Print each payload as one JSON line on `writeOut` instead of posting; no token needed, outbox untouched. */
  dryRun?: boolean | undefined;
  /** Throw IngestNoTokenError up front / IngestFailedError at the end instead of only reporting. */
  strict?: boolean | undefined;
  /** Console lines (progress, §15.2 / §15.3 wording). Default: stderr. */
  print?: ((line: string) => void) | undefined;
  /** Dry-run payload sink; receives each payload's UTF-8 bytes plus `\n`. Default: stdout (honouring backpressure). */
  writeOut?: ((line: Uint8Array) => void | Promise<void>) | undefined;
  /** Clock for outbox timestamps and the default perf `date`. */
  now?: (() => Date) | undefined;
}

export function emptyReport(): IngestReport {
  return {
    posted: 0,
    failed: 0,
    printed: 0,
    skippedLines: 0,
    samples: 0,
    nonFinite: 0,
    notFound: 0,
    alreadyDelivered: 0,
    claimedElsewhere: 0,
    failures: [],
  };
}

export function mergeReports(target: IngestReport, source: IngestReport): IngestReport {
  target.posted += source.posted;
  target.failed += source.failed;
  target.printed += source.printed;
  target.skippedLines += source.skippedLines;
  target.samples += source.samples;
  target.nonFinite += source.nonFinite;
  target.notFound += source.notFound;
  target.alreadyDelivered += source.alreadyDelivered;
  target.claimedElsewhere += source.claimedElsewhere;
  target.failures.push(...source.failures);
  return target;
}

function defaultPrint(line: string): void {
  process.stderr.write(`${line}\n`);
}

const NEWLINE = Buffer.from('\n');

async function defaultWriteOut(line: Uint8Array): Promise<void> {
  if (!process.stdout.write(line))
    await new Promise<void>((resolve) => process.stdout.once('drain', () => resolve()));
}

export type DeliveryOutcome =
  /** `skipped`: not posted now — already delivered (ledger) or being posted by another process. */
  | { ok: true; printed: boolean; skipped?: string | undefined }
  | { ok: false; error: PerfEvalError; outboxFile: string | undefined };

/** A payload about to be delivered. */
export interface Payload {
  kind: EndpointKind;
  label: string;
  /** The exact JSON text / UTF-8 bytes to POST. */
  body: string | Buffer;
  ingestId: string;
  /** Already queued (replay): send this file's body and remove it on success. */
  outboxFile?: string | undefined;
}

function asPerfEvalError(error: unknown): PerfEvalError {
  if (isPerfEvalError(error)) return error;
  return new PerfEvalError('E_INGEST_INTERNAL', error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}

/**
 * Queue → send → dequeue, with a per-call breaker: once a payload for an endpoint exhausts its
 * retries (network, timeout, 429, 5xx) or the run is aborted, later payloads for that endpoint are
 * only queued, so a dead endpoint costs one retry budget instead of one per payload.
 */
export class Delivery {
  readonly report: IngestReport = emptyReport();
  readonly transport: IngestTransport;
  readonly outboxDir: string;
  readonly dryRun: boolean;
  readonly strict: boolean;
  readonly now: () => Date;
  private readonly printLine: (line: string) => void;
  private readonly writeOut: (line: Uint8Array) => void | Promise<void>;
  private readonly down = new Map<EndpointKind, PerfEvalError>();
  private tokenChecked = false;
  readonly ledger: DeliveryLedger;

  constructor(options: DeliveryOptions) {
    this.transport = options.transport;
    this.outboxDir = options.outboxDir;
    this.dryRun = options.dryRun ?? false;
    this.strict = options.strict ?? false;
    this.now = options.now ?? (() => new Date());
    this.printLine = options.print ?? defaultPrint;
    this.writeOut = options.writeOut ?? defaultWriteOut;
    this.ledger = new DeliveryLedger(this.outboxDir);
  }

  /** The word for a console line: `posted`, `dry-run`, `already delivered`, `being posted by pid N`. */
  verbOf(outcome: DeliveryOutcome & { ok: true }): string {
    return outcome.skipped ?? (outcome.printed ? 'dry-run' : 'posted');
  }

  /** Remove outbox copies of payloads the ledger says were delivered (e.g. by a later full ingest). */
  async pruneDelivered(): Promise<number> {
    if (this.dryRun) return 0;
    let removed = 0;
    for (const file of await listOutbox(this.outboxDir)) {
      try {
        const entry = await readOutboxEntry(file);
        if (await this.ledger.isDelivered(entry.ingest_id)) {
          await removeOutboxEntry(file);
          removed++;
        }
      } catch {
        // An unreadable entry is reported by the replay that reads it.
      }
    }
    return removed;
  }

  private async skipDelivered(outboxFile: string | undefined): Promise<DeliveryOutcome> {
    if (outboxFile !== undefined) await removeOutboxEntry(outboxFile).catch(() => undefined);
    this.report.alreadyDelivered++;
    return { ok: true, printed: false, skipped: 'already delivered' };
  }

  /** Print a console line with every secret value scrubbed. */
  print(line: string): void {
    this.printLine(this.transport.scrub(line));
  }

  warn(line: string): void {
    this.print(`    warning: ${line}`);
  }

  /** D16: check the token once, up front. Strict → throw; otherwise warn once and keep queuing. */
  checkToken(): void {
    if (this.dryRun || this.tokenChecked) return;
    this.tokenChecked = true;
    if (this.transport.hasToken) return;
    if (this.strict) throw new IngestNoTokenError();
    this.print(
      `  ingest: ${NO_TOKEN_MESSAGE}; payloads are kept in ${this.outboxDir} for 'perf-eval ingest --replay'`,
    );
  }

  async deliver(payload: Payload): Promise<DeliveryOutcome> {
    const body = typeof payload.body === 'string' ? Buffer.from(payload.body) : payload.body;
    if (this.dryRun) {
      await this.writeOut(Buffer.concat([body, NEWLINE]));
      this.report.printed++;
      return { ok: true, printed: true };
    }
    // Exactly once per ingest_id: never post what the ledger says was delivered.
    if (await this.ledger.isDelivered(payload.ingestId)) return this.skipDelivered(payload.outboxFile);
    let outboxFile = payload.outboxFile;
    if (outboxFile === undefined) {
      try {
        outboxFile = await writeOutboxEntry(
          this.outboxDir,
          { kind: payload.kind, label: payload.label, ingest_id: payload.ingestId, body },
          this.now(),
        );
      } catch (error) {
        this.warn(
          `cannot queue ${payload.label} in ${this.outboxDir} (${error instanceof Error ? error.message : String(error)}); posting without a replay copy`,
        );
      }
    }
    const fail = (error: PerfEvalError): DeliveryOutcome => {
      this.report.failed++;
      return { ok: false, error, outboxFile };
    };
    if (!this.transport.hasToken) return fail(new IngestNoTokenError());
    const down = this.down.get(payload.kind);
    if (down)
      return fail(
        new IngestEndpointDownError(displayEndpoint(this.transport.endpoints[payload.kind]), { cause: down }),
      );
    let claim: Awaited<ReturnType<DeliveryLedger['claim']>> | undefined;
    try {
      claim = await this.ledger.claim(payload.ingestId);
    } catch (error) {
      this.warn(
        `cannot claim ${payload.label} in ${this.ledger.claimsDir} (${error instanceof Error ? error.message : String(error)}); posting unclaimed`,
      );
    }
    if (claim && !claim.acquired) {
      this.report.claimedElsewhere++;
      return { ok: true, printed: false, skipped: `being posted by pid ${claim.holder}` };
    }
    try {
      return await this.send(payload, body, outboxFile, fail);
    } finally {
      if (claim?.acquired) await claim.release().catch(() => undefined);
    }
  }

  private async send(
    payload: Payload,
    body: Buffer,
    outboxFile: string | undefined,
    fail: (error: PerfEvalError) => DeliveryOutcome,
  ): Promise<DeliveryOutcome> {
    // Delivered by another process between the first check and the claim.
    if (await this.ledger.isDelivered(payload.ingestId)) return this.skipDelivered(outboxFile);
    try {
      await this.transport.send(payload.kind, body);
    } catch (error) {
      const failure = asPerfEvalError(error);
      const tripped =
        failure instanceof IngestNetworkError ||
        failure instanceof IngestAbortedError ||
        (failure instanceof IngestHttpError && failure.retryable);
      if (tripped) {
        this.down.set(payload.kind, failure);
        if (failure instanceof IngestAbortedError)
          this.down.set(payload.kind === 'eval' ? 'perf' : 'eval', failure);
      }
      return fail(failure);
    }
    this.report.posted++;
    try {
      await this.ledger.markDelivered(payload.ingestId, payload.label, this.now());
    } catch (error) {
      this.warn(
        `posted, but cannot record ${payload.label} as delivered (${error instanceof Error ? error.message : String(error)}); a replay could post it again`,
      );
    }
    if (outboxFile !== undefined) {
      try {
        await removeOutboxEntry(outboxFile);
      } catch (error) {
        this.warn(
          `posted, but cannot remove ${outboxFile} (${error instanceof Error ? error.message : String(error)}); a replay would post it again`,
        );
      }
    }
    return { ok: true, printed: false };
  }

  /** Record an item-level failure (one per file / bench run). */
  addFailure(failure: IngestFailure): void {
    this.report.failures.push(failure);
  }

  /** Source-level failure with nothing queued (unreadable or invalid file). */
  failSource(kind: EndpointKind, item: string, error: unknown): PerfEvalError {
    const failure = isPerfEvalError(error)
      ? error
      : new IngestSourceError(
          item,
          `cannot read: ${error instanceof Error ? error.message : String(error)}`,
          {},
          { cause: error },
        );
    this.report.failed++;
    this.addFailure({
      item,
      kind,
      code: failure.code,
      message: this.transport.scrub(failure.message),
      outboxFiles: [],
    });
    return failure;
  }

  /** The report, or IngestFailedError in strict mode when anything was not delivered. */
  finish(): IngestReport {
    if (this.report.failed > 0) {
      const kept = this.report.failures.reduce((n, f) => n + f.outboxFiles.length, 0);
      const replay = kept > 0 ? `; ${kept} kept in ${this.outboxDir} for 'perf-eval ingest --replay'` : '';
      this.print(
        `  ingest: ${this.report.failed} payload(s) not delivered, ${this.report.posted} posted${replay}`,
      );
    }
    if (this.strict && (this.report.failed > 0 || this.report.failures.length > 0)) {
      throw new IngestFailedError({
        failed: this.report.failed,
        posted: this.report.posted,
        failures: this.report.failures,
      });
    }
    return this.report;
  }
}
