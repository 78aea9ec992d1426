/**
 * Exactly-once bookkeeping of one outbox, shared by every process that delivers from it (the run's
 * background ingestion, `perf-eval ingest`, `perf-eval ingest --replay`, concurrent jobs):
 *
 * - `<outbox>/.delivered/<ingest_id>`: the ledger. Written (atomically) after a 2xx, before the
 *   outbox entry is removed; a payload whose id is in the ledger is never posted again.
 * - `<outbox>/.claims/<ingest_id>`: who is posting that payload right now, holding its pid. Created
 *   with an exclusive `link()` (O_EXCL semantics, content included), removed when the attempt ends.
 *   A claim whose pid is gone (a killed process) is stale and taken over.
 *
 * Why a claim per ingest_id rather than one lock file for the whole outbox: a lock would serialise
 * a run's background deliveries behind a replay (or make one of them fail), while per-payload claims
 * let concurrent invocations progress in parallel and still post each payload exactly once. Claims
 * are keyed by ingest_id, not by outbox file, because the same payload can be queued twice under two
 * file names (a failed run, then a re-ingest). The one window left is a crash between the 2xx and
 * the ledger write; the payload's `ingest_id` lets the consumer de-duplicate that case.
 * Pids are only meaningful on one host: the outbox is not meant to be shared across machines.
 */
import { link, mkdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@perf-eval/util';

/** ingest_id values are hex digests; anything else is not used as a file name. */
const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;

let tempSequence = 0;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export type ClaimResult =
  | { acquired: true; release: () => Promise<void> }
  | { acquired: false; holder: number };

export class DeliveryLedger {
  readonly deliveredDir: string;
  readonly claimsDir: string;

  constructor(readonly outboxDir: string) {
    this.deliveredDir = join(outboxDir, '.delivered');
    this.claimsDir = join(outboxDir, '.claims');
  }

  private deliveredPath(ingestId: string): string {
    if (!SAFE_ID.test(ingestId)) throw new TypeError(`not an ingest id: ${JSON.stringify(ingestId)}`);
    return join(this.deliveredDir, ingestId);
  }

  async isDelivered(ingestId: string): Promise<boolean> {
    try {
      await stat(this.deliveredPath(ingestId));
      return true;
    } catch {
      return false;
    }
  }

  /** Record a 2xx for `ingestId` (atomic; idempotent). */
  async markDelivered(ingestId: string, label: string, when: Date): Promise<void> {
    await writeFileAtomic(
      this.deliveredPath(ingestId),
      `${JSON.stringify({ delivered: when.toISOString(), label })}\n`,
    );
  }

  /**
   * Claim `ingestId` for this process. Not acquired when a live process holds it. A stale claim
   * (its pid is gone) is removed and claimed again.
   */
  async claim(ingestId: string): Promise<ClaimResult> {
    const path = join(this.claimsDir, this.deliveredPath(ingestId).slice(this.deliveredDir.length + 1));
    await mkdir(this.claimsDir, { recursive: true });
    // The claim appears complete (pid inside) or not at all: write a private temp file, then link it.
    const temp = join(this.claimsDir, `.tmp-${process.pid}-${++tempSequence}`);
    await writeFile(temp, `${process.pid}\n`);
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          await link(temp, path);
          return { acquired: true, release: () => rm(path, { force: true }) };
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
        const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
        if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder))
          return { acquired: false, holder };
        if (holder === process.pid) return { acquired: false, holder };
        await this.removeStale(path, holder);
      }
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      return { acquired: false, holder: Number.isInteger(holder) ? holder : 0 };
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  /**
   * Remove a claim whose process is gone. It is moved aside first and checked: when another process
   * took the stale claim over in between, the file moved is that fresh claim, and it is put back.
   */
  private async removeStale(path: string, stalePid: number): Promise<void> {
    const aside = join(this.claimsDir, `.stale-${process.pid}-${++tempSequence}`);
    try {
      await rename(path, aside);
    } catch {
      return; // already gone
    }
    const pid = Number((await readFile(aside, 'utf8').catch(() => '')).trim());
    if (pid !== stalePid && Number.isInteger(pid) && pid > 0 && isAlive(pid))
      await link(aside, path).catch(() => undefined);
    await unlink(aside).catch(() => undefined);
  }
}
