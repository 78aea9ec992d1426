import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { IngestSourceError } from './errors.js';
import {
  LMEVAL_RESULTS_FILE,
  LMEVAL_SAMPLES_FILE,
  compactPythonJsonBytes,
  rewritePythonJson,
} from '@perf-eval/util';
import { checkJsonBytes } from './json-bytes.js';
import { computeIngestId } from './metadata.js';
import type { EvalMetadata } from './metadata.js';

/** Databricks Zerobus rejects records over 10 MiB; upstream packs sample batches under 4 MiB. */
export const SAMPLES_BATCH_BYTES = 4 * 1024 * 1024;

function metadataJson(metadata: EvalMetadata): string {
  let out = '';
  for (const [key, value] of Object.entries(metadata))
    out += `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
  return out;
}

function envelopePrefix(kind: 'results' | 'samples', sourceFile: string, metadata: EvalMetadata): string {
  return `{"kind":${JSON.stringify(kind)},"source_file":${JSON.stringify(sourceFile)}${metadataJson(metadata)}`;
}

/** A results event ready to send. */
export interface ResultsEvent {
  /** The exact JSON text posted. */
  readonly body: string;
  /** NaN / Infinity values of the results file replaced by null (D29). */
  readonly nonFinite: number;
}

/**
 * `{"kind":"results","source_file",…md,"data":<results JSON>,"ingest_id"}` (recipe-compat §15.2).
 * `data` is the results file's JSON, compacted with its number literals kept verbatim.
 * Throws {@link IngestSourceError} when the text is not JSON.
 */
export function buildResultsEvent(input: {
  sourceFile: string;
  metadata: EvalMetadata;
  text: string;
  ingestId: string;
}): ResultsEvent {
  const compact = rewritePythonJson(input.text, { compact: true });
  try {
    JSON.parse(compact.text);
  } catch (error) {
    throw new IngestSourceError(
      input.sourceFile,
      `invalid JSON: ${errorText(error)}`,
      { snippet: input.text.slice(0, 200) },
      { cause: error },
    );
  }
  const body = `${envelopePrefix('results', input.sourceFile, input.metadata)},"data":${compact.text},"ingest_id":${JSON.stringify(input.ingestId)}}`;
  return { body, nonFinite: compact.nonFinite };
}

/** One batch of samples, ready to send. */
export interface SampleBatch {
  /** 0-based position of the batch in the file. */
  readonly index: number;
  readonly samples: number;
  /** The exact UTF-8 bytes posted. */
  readonly body: Buffer;
  /** `body.length`. */
  readonly bytes: number;
  readonly ingestId: string;
}

/** A line of a samples file that is not JSON (skipped, as upstream). */
export interface MalformedLine {
  /** 1-based line number. */
  readonly line: number;
  readonly error: string;
}

export interface BatchSamplesOptions {
  /** The samples file to read (streamed line by line; memory is bounded by the batch limit). */
  file: string;
  /** `source_file` in the payload: the path as found, relative to the job's working directory. */
  sourceFile: string;
  metadata: EvalMetadata;
  workload: string;
  task: string;
  /** Byte limit of a batch (UTF-8 length of the posted body). Default 4 MiB. */
  limitBytes?: number | undefined;
  /** SHA-256 of the file, when already known; otherwise computed in a first streaming pass. */
  contentHash?: string | undefined;
  onMalformed?: ((line: MalformedLine) => void) | undefined;
  /** Called per sample with NaN / Infinity values replaced by null. */
  onNonFinite?: ((info: { line: number; count: number }) => void) | undefined;
}

const COMMA = Buffer.from(',');

/** A sample line as sent: compact JSON bytes (valid UTF-8), or why it was rejected. */
function prepareSample(line: Buffer): { bytes: Buffer; nonFinite: number } | { error: string } | null {
  const compact = compactPythonJsonBytes(line);
  if (compact.bytes.length === 0) return null;
  try {
    checkJsonBytes(compact.bytes);
  } catch {
    // Decode properly only to report JSON.parse's message in readable text.
    try {
      JSON.parse(compact.bytes.toString('utf8'));
    } catch (error) {
      return { error: errorText(error) };
    }
    return { error: 'invalid JSON' };
  }
  // Invalid UTF-8 is replaced (U+FFFD) so the endpoint always receives valid UTF-8 JSON.
  const bytes = isUtf8(compact.bytes) ? compact.bytes : Buffer.from(compact.bytes.toString('utf8'));
  return { bytes, nonFinite: compact.nonFinite };
}

/**
 * Greedy batching of recipe-compat §15.2: each sample is measured as the UTF-8 length of its
 * compact serialisation; a batch is flushed before a sample when
 * `overhead + batchBytes + size + 1 > limit`, where `overhead` is the envelope with an empty list
 * (including the fixed-length `ingest_id`). A posted body is therefore always below the limit,
 * except a single sample larger than the limit, which is posted alone.
 */
export async function* batchSamples(
  options: BatchSamplesOptions,
): AsyncGenerator<SampleBatch, void, undefined> {
  const limit = options.limitBytes ?? SAMPLES_BATCH_BYTES;
  const hash = options.contentHash ?? (await hashFile(options.file));
  const prefix = Buffer.from(
    `${envelopePrefix('samples', options.sourceFile, options.metadata)},"samples":[`,
  );
  const idFor = (index: number): string =>
    computeIngestId({
      kind: 'samples',
      workload: options.workload,
      task: options.task,
      contentHash: hash,
      batchIndex: index,
    });
  const suffixFor = (ingestId: string): Buffer => Buffer.from(`],"ingest_id":${JSON.stringify(ingestId)}}`);
  // Every ingest id has the same length, so the overhead is the same for every batch.
  const overhead = prefix.length + suffixFor(idFor(0)).length;

  let batch: Buffer[] = [];
  let batchBytes = 0;
  let index = 0;
  const flush = (): SampleBatch => {
    const ingestId = idFor(index);
    const parts: Buffer[] = [prefix];
    batch.forEach((sample, k) => {
      if (k > 0) parts.push(COMMA);
      parts.push(sample);
    });
    parts.push(suffixFor(ingestId));
    const body = Buffer.concat(parts, overhead + batchBytes - 1);
    const result: SampleBatch = { index, samples: batch.length, body, bytes: body.length, ingestId };
    index++;
    batch = [];
    batchBytes = 0;
    return result;
  };

  let lineNumber = 0;
  for await (const line of readLines(options.file)) {
    lineNumber++;
    const sample = prepareSample(line);
    if (sample === null) continue;
    if ('error' in sample) {
      options.onMalformed?.({ line: lineNumber, error: sample.error });
      continue;
    }
    if (sample.nonFinite > 0) options.onNonFinite?.({ line: lineNumber, count: sample.nonFinite });
    const size = sample.bytes.length;
    if (batch.length > 0 && overhead + batchBytes + size + 1 > limit) yield flush();
    // Copy views of the read buffer so a batch never pins more than its own bytes.
    batch.push(sample.bytes === line ? Buffer.from(sample.bytes) : sample.bytes);
    batchBytes += size + 1;
  }
  if (batch.length > 0) yield flush();
}

/** SHA-256 of a file, streamed. */
export async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The lines of a file as bytes (split on `\n`; a trailing `\r` is left for the JSON compactor to
 * drop), read with a stream: memory holds one chunk plus the current line. Yielded buffers may be
 * views of the read chunk.
 */
export async function* readLines(file: string): AsyncGenerator<Buffer, void, undefined> {
  let pending: Buffer[] = [];
  for await (const data of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const chunk = data as Buffer;
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline < 0) break;
      if (pending.length > 0) {
        pending.push(chunk.subarray(start, newline));
        yield Buffer.concat(pending);
        pending = [];
      } else {
        yield chunk.subarray(start, newline);
      }
      start = newline + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length > 0) yield Buffer.concat(pending);
}

/** Python `sorted()` order of pathlib paths: component-wise, by code point. */
export function comparePaths(a: string, b: string): number {
  const left = a.split('/');
  const right = b.split('/');
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const x = left[i] as string;
    const y = right[i] as string;
    if (x !== y) return compareCodePoints(x, y);
  }
  return left.length - right.length;
}

function compareCodePoints(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const x = (left[i] as string).codePointAt(0) as number;
    const y = (right[i] as string).codePointAt(0) as number;
    if (x !== y) return x - y;
  }
  return left.length - right.length;
}

/**
 * `dir/**\/results_*.json` and `dir/**\/samples_*.jsonl` as paths relative to `dir` (POSIX
 * separators), each list sorted like upstream's `sorted(root.glob(...))`. Symlinked directories are
 * not followed.
 */
export async function findEvalFiles(dir: string): Promise<{ results: string[]; samples: string[] }> {
  const results: string[] = [];
  const samples: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(relative ? join(dir, relative) : dir, { withFileTypes: true });
    for (const entry of entries) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        await walk(path);
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        if (LMEVAL_RESULTS_FILE.test(entry.name)) results.push(path);
        else if (LMEVAL_SAMPLES_FILE.test(entry.name)) samples.push(path);
      }
    }
  };
  await walk('');
  return { results: results.sort(comparePaths), samples: samples.sort(comparePaths) };
}

export function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
