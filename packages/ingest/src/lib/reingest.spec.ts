import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { BENCH_RESULT, UNDATED_PERF_META } from '../../test/perf-meta.js';
import { emptyReport } from './delivery.js';
import { IngestNoTokenError, IngestUrlInvalidError } from './errors.js';
import { writeOutboxEntry } from './outbox.js';
import {
  outboxDirOf,
  planPathOf,
  writeIngestPlan,
  type IngestPlan,
  type IngestPlanPerfItem,
} from './plan.js';
import { checkIngestCredentials, formatReingestReport, reingestResults } from './reingest.js';
import { createTransport } from './transport.js';

const PERF: IngestPlanPerfItem = {
  kind: 'perf',
  runName: 'short',
  file: 'bench-short.json',
  meta: UNDATED_PERF_META,
};

async function resultsDir(context: IngestPlan['context'] = { workload: 'w' }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ingest-reingest-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  await writeFile(join(dir, PERF.file), await readFile(BENCH_RESULT));
  await writeIngestPlan(dir, { version: 1, context, items: [PERF] });
  return dir;
}

/** A dry run of `dir` (as `relative` to `cwd` if given): the printed lines and the payloads. */
async function dryRun(
  dir: string,
  options: { replay?: boolean; cwd?: string } = {},
): Promise<{ lines: string[]; payloads: unknown[] }> {
  const lines: string[] = [];
  const payloads: unknown[] = [];
  await reingestResults(options.cwd ? relative(options.cwd, dir) : dir, {
    ...options,
    transport: createTransport({ env: {} }),
    dryRun: true,
    print: (line) => lines.push(line),
    writeOut: (bytes) => void payloads.push(JSON.parse(Buffer.from(bytes).toString('utf8'))),
  });
  return { lines, payloads };
}

describe('reingestResults', () => {
  it('dates perf rows from the plan context.date', async () => {
    const dir = await resultsDir({ workload: 'w', date: '2026-08-20T01:02:03.000Z' });
    const { lines, payloads } = await dryRun(dir);
    expect(lines[0]).toBe('ingest: run date 2026-08-20T01:02:03.000Z (from .ingest/plan.json context.date)');
    expect(payloads).toEqual([expect.objectContaining({ date: '2026-08-20 01:02:03', device: 'h200' })]);
  });

  it('for an older plan: summary.json startedAt, else the plan file mtime', async () => {
    const dir = await resultsDir();
    await writeFile(join(dir, 'summary.json'), JSON.stringify({ startedAt: '2026-07-01T10:00:00.000Z' }));
    expect((await dryRun(dir)).lines[0]).toBe(
      'ingest: run date 2026-07-01T10:00:00.000Z (from summary.json startedAt; the plan predates context.date)',
    );
    await writeFile(join(dir, 'summary.json'), '{"startedAt": "not a date"}');
    const mtime = new Date('2026-06-02T03:04:05.000Z');
    await utimes(planPathOf(dir), mtime, mtime);
    const { lines, payloads } = await dryRun(dir);
    expect(lines[0]).toBe(
      'ingest: run date 2026-06-02T03:04:05.000Z (from the modification time of .ingest/plan.json; the plan predates context.date and summary.json has no startedAt)',
    );
    expect(payloads).toEqual([expect.objectContaining({ date: '2026-06-02 03:04:05' })]);
  });

  it('replay delivers the outbox only and reads no plan', async () => {
    const dir = await resultsDir();
    await rm(planPathOf(dir));
    await writeOutboxEntry(outboxDirOf(dir), {
      kind: 'perf',
      label: 'bench-short.json',
      ingest_id: 'id-1',
      body: Buffer.from('{"queued":true}'),
    });
    const { lines, payloads } = await dryRun(dir, { replay: true, cwd: dirname(dir) });
    expect(payloads).toEqual([{ queued: true }]);
    expect(lines.some((line) => line.startsWith('ingest: run date'))).toBe(false);
  });
});

describe('checkIngestCredentials', () => {
  it('passes with a token and usable URLs; refuses a bad URL first, then a missing token (preflight)', () => {
    expect(() => checkIngestCredentials({ INGEST_BEARER_TOKEN: 't' })).not.toThrow();
    expect(() => checkIngestCredentials({ INGEST_BEARER_TOKEN: 't', INGEST_URL: 'ftp://x' })).toThrow(
      IngestUrlInvalidError,
    );
    expect(() => checkIngestCredentials({ INGEST_URL: 'nope' })).toThrow(IngestUrlInvalidError);
    expect(() => checkIngestCredentials({ INGEST_BEARER_TOKEN: '  ' })).toThrow(
      expect.objectContaining({
        code: 'E_INGEST_NO_TOKEN',
        category: 'preflight',
        message:
          'perf-eval ingest: INGEST_BEARER_TOKEN is required for result ingestion; set it (CI: buildkite-agent secret get INGEST_BEARER_TOKEN) or use --dry-run',
      }),
    );
    expect(() => checkIngestCredentials({})).toThrow(IngestNoTokenError);
  });
});

describe('formatReingestReport', () => {
  it('counts what was posted or printed, names what else happened, then each failure', () => {
    expect(formatReingestReport({ ...emptyReport(), posted: 4 })).toEqual(['ingest: 4 posted, 0 failed']);
    expect(formatReingestReport({ ...emptyReport(), printed: 3 }, { dryRun: true })).toEqual([
      'ingest: 3 payload(s) printed',
    ]);
    const report = {
      ...emptyReport(),
      posted: 1,
      failed: 1,
      skippedLines: 2,
      alreadyDelivered: 3,
      claimedElsewhere: 1,
      failures: [
        { item: 'gsm8k', kind: 'eval' as const, code: 'E_INGEST_HTTP', message: 'HTTP 500', outboxFiles: [] },
      ],
    };
    expect(formatReingestReport(report)).toEqual([
      'ingest: 1 posted, 1 failed, 2 malformed sample line(s) skipped, 3 already delivered (not posted again), 1 being posted by another process',
      '  failed gsm8k: HTTP 500',
    ]);
  });
});
