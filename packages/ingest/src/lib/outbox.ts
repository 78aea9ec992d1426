import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@perf-eval/util';
import { IngestOutboxError } from './errors.js';
import type { EndpointKind } from './metadata.js';

/**
 * One queued payload. On disk (`results/<name>/.ingest/outbox/<file>`): a one-line JSON header
 * `{version, kind, label, ingest_id, created, bytes}`, a newline, then the exact body bytes to POST.
 * Never holds the token.
 */
export interface OutboxEntry {
  version: 1;
  /** Which endpoint receives the body. */
  kind: EndpointKind;
  /** What the payload is, for console lines (`gsm8k/…/results_….json`, `… batch 3`). */
  label: string;
  ingest_id: string;
  /** ISO time the entry was queued. */
  created: string;
  /** The exact bytes to POST. */
  body: Buffer;
}

/** An entry read back from disk. */
export interface StoredOutboxEntry extends OutboxEntry {
  readonly file: string;
}

let sequence = 0;

/** `<ms>-<seq>-<pid>-<ingest id prefix>.json`: lexical order is creation order within a process. */
function entryName(createdMs: number, ingestId: string): string {
  sequence = (sequence + 1) % 1e8;
  return `${String(createdMs).padStart(15, '0')}-${String(sequence).padStart(8, '0')}-${process.pid}-${ingestId.slice(0, 16)}.json`;
}

/** Atomically queue a payload; returns the file path. */
export async function writeOutboxEntry(
  outboxDir: string,
  entry: { kind: EndpointKind; label: string; ingest_id: string; body: Uint8Array },
  now: Date = new Date(),
): Promise<string> {
  const header = {
    version: 1,
    kind: entry.kind,
    label: entry.label,
    ingest_id: entry.ingest_id,
    created: now.toISOString(),
    bytes: entry.body.length,
  };
  const file = join(outboxDir, entryName(now.getTime(), entry.ingest_id));
  await writeFileAtomic(file, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), entry.body]));
  return file;
}

export async function removeOutboxEntry(file: string): Promise<void> {
  await rm(file, { force: true });
}

/** Outbox files in creation order (temp files of interrupted writes are ignored). Missing dir → []. */
export async function listOutbox(outboxDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(outboxDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((name) => name.endsWith('.json') && !name.startsWith('.'))
    .sort()
    .map((name) => join(outboxDir, name));
}

/** Read and validate an outbox file. */
export async function readOutboxEntry(file: string): Promise<StoredOutboxEntry> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (error) {
    throw new IngestOutboxError(file, `cannot read outbox entry: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const newline = data.indexOf(0x0a);
  if (newline < 0) throw new IngestOutboxError(file, 'outbox entry has no header line');
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8', 0, newline));
  } catch (error) {
    throw new IngestOutboxError(file, `outbox header is not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const header = value as Record<string, unknown> | null;
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw new IngestOutboxError(file, 'outbox header is not a JSON object');
  if (header['version'] !== 1)
    throw new IngestOutboxError(
      file,
      `unsupported outbox entry version ${JSON.stringify(header['version'])}`,
    );
  const kind = header['kind'];
  if (kind !== 'eval' && kind !== 'perf')
    throw new IngestOutboxError(file, `kind must be 'eval' or 'perf', got ${JSON.stringify(kind)}`);
  for (const key of ['label', 'ingest_id', 'created'] as const) {
    if (typeof header[key] !== 'string') throw new IngestOutboxError(file, `${key} must be a string`);
  }
  const body = data.subarray(newline + 1);
  if (header['bytes'] !== body.length)
    throw new IngestOutboxError(
      file,
      `body has ${body.length} bytes, header says ${JSON.stringify(header['bytes'])}`,
    );
  return {
    version: 1,
    kind,
    label: header['label'] as string,
    ingest_id: header['ingest_id'] as string,
    created: header['created'] as string,
    body,
    file,
  };
}
