import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startRecordingServer } from '../../test/recording-server.js';
import type { RecordingServer } from '../../test/recording-server.js';
import { PERF_META } from '../../test/perf-meta.js';
import { IngestFailedError, IngestNoTokenError } from './errors.js';
import { ingestEvalDir, ingestPerfRun, replayOutbox } from './ingest.js';
import { listOutbox, readOutboxEntry } from './outbox.js';
import { buildPerfRow, parseBenchResult } from './perf-row.js';
import { createTransport } from './transport.js';

const SHARED = resolve(import.meta.dirname, '../../../../../shared/reference/fixtures');
const RESULTS_FIXTURE = join(
  SHARED,
  'lm_eval/akamaslabs_gsm8k_platinum_cot_llama_results_2026-10-08T12-45-17.743940.json',
);
const BENCH_FIXTURE = join(SHARED, 'vllm_bench/er0080_bench_serve_v0.25.1.json');
const TOKEN = 'ingest-token-DO-NOT-PRINT-42';
const FAST = { retries: 2, minTimeout: 1, maxTimeout: 5, factor: 1, randomize: false };
const RESULTS_REL = 'openai__gpt-oss-120b/results_2026-08-20T01-02-03.123456.json';
const SAMPLES_REL = 'openai__gpt-oss-120b/samples_gsm8k_2026-08-20T01-02-03.123456.jsonl';

interface Harness {
  server: RecordingServer;
  root: string;
  dir: string;
  outboxDir: string;
  lines: string[];
  print: (line: string) => void;
  transport: (env?: Record<string, string | undefined>) => ReturnType<typeof createTransport>;
}

async function harness(): Promise<Harness> {
  const server = await startRecordingServer();
  const root = await mkdtemp(join(tmpdir(), 'ingest-run-'));
  const lines: string[] = [];
  onTestFinished(async () => {
    // The token never reaches a console line, whatever happened in the test.
    for (const line of lines) expect(line).not.toContain(TOKEN);
    await server.close();
    await rm(root, { recursive: true, force: true, maxRetries: 5 });
  });
  const dir = join(root, 'results', 'gpt_oss_120b-h200', 'gsm8k');
  await mkdir(join(dir, 'openai__gpt-oss-120b'), { recursive: true });
  await writeFile(join(dir, RESULTS_REL), await readFile(RESULTS_FIXTURE));
  const samples = [
    JSON.stringify({
      doc_id: 0,
      target: '72',
      resps: [['Natalia sold 48/2 = 24 clips in May. #### 72']],
      filter: 'strict-match',
    }),
    '{"doc_id": 1, "target": "10", "resps": [["Weng earns 12/60 = $0.2 per minute. #### 10"]]}',
    '{"doc_id": 2, "broken": ',
    '',
    JSON.stringify({ doc_id: 3, target: '5', resps: [['Übung macht den Meister — 5']] }),
  ];
  await writeFile(join(dir, SAMPLES_REL), `${samples.join('\n')}\n`);
  return {
    server,
    root,
    dir,
    outboxDir: join(root, 'results', 'gpt_oss_120b-h200', '.ingest', 'outbox'),
    lines,
    print: (line) => lines.push(line),
    transport: (env = {}) =>
      createTransport({
        env: {
          INGEST_BEARER_TOKEN: TOKEN,
          INGEST_URL: server.url('/eval'),
          PERF_INGEST_URL: server.url('/perf'),
          ...env,
        },
        dispatcher: server.dispatcher,
        retry: FAST,
        timeoutMs: 1000,
      }),
  };
}

const CONTEXT = {
  workload: 'gpt_oss_120b-h200',
  image: 'vllm/vllm-openai:nightly-0123abcd',
  vllmCommit: '0123abcd',
  env: { BUILDKITE_BUILD_NUMBER: '4711', BUILDKITE_BRANCH: 'main', NIGHTLY: '1' },
};

async function evalRun(h: Harness, extra: Partial<Parameters<typeof ingestEvalDir>[0]> = {}) {
  return ingestEvalDir({
    context: CONTEXT,
    task: 'gsm8k',
    dir: h.dir,
    samples: true,
    outboxDir: h.outboxDir,
    transport: h.transport(),
    print: h.print,
    ...extra,
  });
}

describe('ingestEvalDir', () => {
  it('posts one results event and the sample batches with upstream console lines, then empties the outbox', async () => {
    const h = await harness();
    const report = await evalRun(h);
    expect(h.lines[0]).toBe(`  ingest -> ${h.server.url('/eval')}  (1 results, 1 sample file(s))`);
    expect(h.lines.slice(1)).toEqual([
      `    posted ${RESULTS_REL}`,
      expect.stringMatching(
        new RegExp(`^    skip malformed sample line: ${SAMPLES_REL.replace(/[.]/g, '\\.')}:3: .*JSON`),
      ),
      `    posted ${SAMPLES_REL} (3 samples)`,
    ]);
    expect(report).toMatchObject({ posted: 2, failed: 0, skippedLines: 1, samples: 3, failures: [] });
    expect(h.server.requests).toHaveLength(2);
    const results = JSON.parse(h.server.requests[0]?.body ?? '') as Record<string, unknown>;
    expect(Object.keys(results)).toEqual([
      'kind',
      'source_file',
      'workload',
      'task',
      'buildkite_build_number',
      'buildkite_branch',
      'image',
      'vllm_commit',
      'nightly',
      'data',
      'ingest_id',
    ]);
    expect(results).toMatchObject({
      kind: 'results',
      source_file: join(h.dir, RESULTS_REL),
      workload: 'gpt_oss_120b-h200',
      task: 'gsm8k',
      buildkite_build_number: '4711',
      nightly: true,
    });
    expect(results['data']).toEqual(JSON.parse(await readFile(RESULTS_FIXTURE, 'utf8')));
    const samples = JSON.parse(h.server.requests[1]?.body ?? '') as {
      kind: string;
      samples: Array<{ doc_id: number }>;
    };
    expect(samples.kind).toBe('samples');
    expect(samples.samples.map((s) => s.doc_id)).toEqual([0, 1, 3]);
    expect(h.server.requests[1]?.body).toContain('Übung macht den Meister — 5');
    expect(await listOutbox(h.outboxDir)).toEqual([]);
  });

  it('keeps failed payloads in the outbox; a replay delivers them once and a second replay sends nothing', async () => {
    const h = await harness();
    h.server.fallback = { status: 500 };
    const report = await evalRun(h);
    // The results event used its retry budget (3 attempts); the sample batch was then only queued.
    expect(h.server.requests).toHaveLength(3);
    expect(report).toMatchObject({ posted: 0, failed: 2 });
    expect(report.failures.map((f) => [f.item, f.code])).toEqual([
      [RESULTS_REL, 'E_INGEST_HTTP'],
      [SAMPLES_REL, 'E_INGEST_ENDPOINT_DOWN'],
    ]);
    expect(h.lines).toContain(
      `    failed ${RESULTS_REL}: POST ${h.server.url('/eval')} failed: HTTP 500: status 500 (3 attempts)`,
    );
    expect(h.lines.at(-1)).toBe(
      `  ingest: 2 payload(s) not delivered, 0 posted; 2 kept in ${h.outboxDir} for 'perf-eval ingest --replay'`,
    );
    const queued = await listOutbox(h.outboxDir);
    expect(queued).toHaveLength(2);
    expect(report.failures.flatMap((f) => f.outboxFiles)).toEqual(queued);
    const entry = await readOutboxEntry(queued[0] as string);
    expect(Object.keys(entry)).toEqual(['version', 'kind', 'label', 'ingest_id', 'created', 'body', 'file']);
    expect(entry).toMatchObject({ version: 1, kind: 'eval', label: RESULTS_REL });
    expect(await readFile(queued[0] as string, 'utf8')).not.toContain(TOKEN);

    h.server.fallback = { status: 200 };
    const replay = await replayOutbox({ outboxDir: h.outboxDir, transport: h.transport(), print: h.print });
    expect(replay).toMatchObject({ posted: 2, failed: 0 });
    expect(h.lines.slice(-3)).toEqual([
      `  ingest replay -> 2 queued payload(s) in ${h.outboxDir}`,
      `    posted ${RESULTS_REL}`,
      `    posted ${SAMPLES_REL} batch 0`,
    ]);
    expect(await listOutbox(h.outboxDir)).toEqual([]);
    const delivered = h.server.delivered();
    expect(delivered).toHaveLength(2);
    expect(JSON.parse(delivered[0] as string)).toMatchObject({ kind: 'results', ingest_id: entry.ingest_id });
    expect(delivered[0]).toBe(entry.body.toString('utf8'));

    const again = await replayOutbox({ outboxDir: h.outboxDir, transport: h.transport(), print: h.print });
    expect(again).toMatchObject({ posted: 0, failed: 0 });
    expect(h.server.requests).toHaveLength(5);
    expect(h.lines.at(-1)).toBe(`  ingest replay: nothing queued in ${h.outboxDir}`);
  });

  it('does not retry a 401 and still attempts the next payload', async () => {
    const h = await harness();
    // A misbehaving endpoint echoes the credential back: it must still never reach a console line.
    h.server.script({ status: 401, body: `bad token: Bearer ${TOKEN}` });
    const report = await evalRun(h);
    expect(h.server.requests.map((r) => r.status)).toEqual([401, 200]);
    expect(h.server.requests[0]?.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    expect(h.lines[1]).toBe(
      `    failed ${RESULTS_REL}: POST ${h.server.url('/eval')} failed: HTTP 401: bad token: Bearer *** (1 attempt)`,
    );
    expect(h.lines.join('\n')).not.toContain(TOKEN);
    expect(JSON.stringify(report)).not.toContain(TOKEN);
    expect(report).toMatchObject({ posted: 1, failed: 1 });
    expect(report.failures[0]).toMatchObject({ item: RESULTS_REL, code: 'E_INGEST_HTTP' });
    expect(await listOutbox(h.outboxDir)).toHaveLength(1);
  });

  it('retries dropped connections and slow replies without delivering a payload twice', async () => {
    const h = await harness();
    h.server.script({ destroy: true }, { delayMs: 3000, status: 200 });
    const report = await evalRun(h);
    expect(report).toMatchObject({ posted: 2, failed: 0 });
    expect(h.server.requests.map((r) => r.outcome)).toEqual(['destroyed', 'slow', 'answered', 'answered']);
    const delivered = h.server.delivered();
    expect(delivered).toHaveLength(2);
    expect(new Set(delivered.map((b) => (JSON.parse(b) as { ingest_id: string }).ingest_id)).size).toBe(2);
    expect(await listOutbox(h.outboxDir)).toEqual([]);
    await replayOutbox({ outboxDir: h.outboxDir, transport: h.transport(), print: h.print });
    expect(h.server.requests).toHaveLength(4);
  });

  it('without a token: warns once, sends nothing, queues everything for a replay', async () => {
    const h = await harness();
    const transport = h.transport({ INGEST_BEARER_TOKEN: ' ' });
    const report = await ingestEvalDir({
      context: CONTEXT,
      task: 'gsm8k',
      dir: h.dir,
      samples: true,
      outboxDir: h.outboxDir,
      transport,
      print: h.print,
    });
    expect(h.server.requests).toHaveLength(0);
    expect(h.lines[0]).toBe(
      `  ingest: INGEST_BEARER_TOKEN is required for result ingestion; payloads are kept in ${h.outboxDir} for 'perf-eval ingest --replay'`,
    );
    expect(report).toMatchObject({ posted: 0, failed: 2 });
    expect(report.failures.map((f) => f.code)).toEqual(['E_INGEST_NO_TOKEN', 'E_INGEST_NO_TOKEN']);
    expect(await listOutbox(h.outboxDir)).toHaveLength(2);

    // Ingesting again queues the same payloads (same ids); the replay posts each id once.
    await ingestEvalDir({
      context: CONTEXT,
      task: 'gsm8k',
      dir: h.dir,
      samples: true,
      outboxDir: h.outboxDir,
      transport,
      print: h.print,
    });
    expect(await listOutbox(h.outboxDir)).toHaveLength(4);
    const replay = await replayOutbox({ outboxDir: h.outboxDir, transport: h.transport(), print: h.print });
    expect(replay).toMatchObject({ posted: 2, failed: 0 });
    expect(h.server.requests).toHaveLength(2);
    expect(h.lines.filter((l) => l.startsWith('    already delivered '))).toHaveLength(2);
    expect(replay.alreadyDelivered).toBe(2);
    expect(await listOutbox(h.outboxDir)).toEqual([]);
  });

  it('strict: a missing token throws before any file is read or queued', async () => {
    const h = await harness();
    const error = await ingestEvalDir({
      context: CONTEXT,
      task: 'gsm8k',
      dir: h.dir,
      samples: true,
      outboxDir: h.outboxDir,
      transport: h.transport({ INGEST_BEARER_TOKEN: undefined }),
      strict: true,
      print: h.print,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IngestNoTokenError);
    expect(h.server.requests).toHaveLength(0);
    expect(existsSync(h.outboxDir)).toBe(false);
  });

  it('strict: undelivered payloads throw E_INGEST_FAILED after everything was attempted', async () => {
    const h = await harness();
    h.server.script({ status: 403 });
    const error = await evalRun(h, { strict: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IngestFailedError);
    expect(error).toMatchObject({ code: 'E_INGEST_FAILED', failed: 1, posted: 1 });
    expect((error as Error).message).toBe(
      `ingestion failed: 1 payload(s) not delivered, 1 posted; first: ${RESULTS_REL}: POST ${h.server.url('/eval')} failed: HTTP 403: status 403 (1 attempt)`,
    );
  });

  it('dry run: one JSON line per payload on writeOut, no token, no request, outbox untouched', async () => {
    const h = await harness();
    const out: string[] = [];
    const report = await evalRun(h, {
      transport: h.transport({ INGEST_BEARER_TOKEN: undefined }),
      dryRun: true,
      writeOut: (line) => void out.push(Buffer.from(line).toString('utf8')),
    });
    expect(report).toMatchObject({ printed: 2, posted: 0, failed: 0, samples: 3 });
    expect(out).toHaveLength(2);
    for (const line of out) {
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toContain('\n');
      JSON.parse(line);
    }
    expect(h.lines).toContain(`    dry-run ${SAMPLES_REL} (3 samples)`);
    expect(h.server.requests).toHaveLength(0);
    expect(existsSync(h.outboxDir)).toBe(false);
  });

  it('ingests only the listed files (D33) and skips samples when disabled', async () => {
    const h = await harness();
    await writeFile(
      join(h.dir, 'openai__gpt-oss-120b', 'results_2026-01-01T00-00-00.json'),
      '{"results": {}}',
    );
    const report = await evalRun(h, {
      files: [RESULTS_REL, SAMPLES_REL, 'gone/results_9.json'],
      samples: false,
    });
    expect(h.lines[0]).toBe(`  ingest -> ${h.server.url('/eval')}  (2 results, 0 sample file(s))`);
    expect(report.posted).toBe(1);
    expect(report.failures).toEqual([
      expect.objectContaining({ item: 'gone/results_9.json', code: 'E_INGEST_SOURCE_INVALID' }),
    ]);
    expect(h.lines).toContain(
      `    failed gone/results_9.json: gone/results_9.json: cannot read: ENOENT: no such file or directory, open '${join(h.dir, 'gone/results_9.json')}'`,
    );
    expect(h.server.requests).toHaveLength(1);
    expect(JSON.parse(h.server.requests[0]?.body ?? '')).toMatchObject({
      source_file: join(h.dir, RESULTS_REL),
    });
  });

  it('reports an unreadable or invalid results file without queuing it', async () => {
    const h = await harness();
    await writeFile(join(h.dir, RESULTS_REL), '{"results": ');
    const report = await evalRun(h, { samples: false });
    expect(report).toMatchObject({ posted: 0, failed: 1 });
    expect(report.failures[0]).toMatchObject({
      item: RESULTS_REL,
      code: 'E_INGEST_SOURCE_INVALID',
      outboxFiles: [],
    });
    expect(h.lines[1]).toMatch(
      new RegExp(`^    failed ${RESULTS_REL.replace(/[.]/g, '\\.')}: .*invalid JSON`),
    );
    expect(h.server.requests).toHaveLength(0);
  });

  it('a missing results dir prints the upstream line and succeeds', async () => {
    const h = await harness();
    const missing = join(h.root, 'nope');
    const report = await evalRun(h, { dir: missing, strict: true });
    expect(h.lines).toEqual([`  ingest: results dir not found: ${missing}`]);
    expect(report).toMatchObject({ notFound: 1, posted: 0, failed: 0 });
  });
});

describe('ingestPerfRun', () => {
  it('posts the perf row with X-Source and prints the upstream lines', async () => {
    const h = await harness();
    const report = await ingestPerfRun({
      context: CONTEXT,
      file: BENCH_FIXTURE,
      meta: PERF_META,
      outboxDir: h.outboxDir,
      transport: h.transport(),
      print: h.print,
    });
    expect(h.lines).toEqual([
      `  perf-ingest -> ${h.server.url('/perf')}`,
      '    tput_per_gpu=62.17  mean_ttft=0.2155s  mean_tpot=0.0113s',
      '    posted ok',
    ]);
    expect(report).toMatchObject({ posted: 1, failed: 0 });
    const request = h.server.requests[0];
    expect(request?.url).toBe('/perf');
    expect(request?.headers['x-source']).toBe('perf-eval');
    const body = JSON.parse(request?.body ?? '') as Record<string, unknown>;
    const { raw } = parseBenchResult(BENCH_FIXTURE, await readFile(BENCH_FIXTURE, 'utf8'));
    const expected = buildPerfRow(raw, { ...PERF_META, image: CONTEXT.image }, CONTEXT.env);
    expect(Object.keys(body)).toEqual([...Object.keys(expected), 'ingest_id']);
    expect(body).toEqual({ ...expected, ingest_id: body['ingest_id'] });
    expect(body['nightly']).toBe(true);
    expect(await listOutbox(h.outboxDir)).toEqual([]);
  });

  it('tolerates bare NaN / Infinity in the bench file and never posts them', async () => {
    const h = await harness();
    const file = join(h.root, 'bench-nan.json');
    await writeFile(
      file,
      '{"model_id": "m", "max_concurrency": 4, "total_token_throughput": 100.0, "output_throughput": NaN, "mean_ttft_ms": Infinity, "mean_tpot_ms": 20.0, "p99_tpot_ms": "inf"}',
    );
    const report = await ingestPerfRun({
      context: CONTEXT,
      file,
      meta: PERF_META,
      outboxDir: h.outboxDir,
      transport: h.transport(),
      print: h.print,
    });
    expect(report.posted).toBe(1);
    expect(report.nonFinite).toBe(3);
    const body = h.server.requests[0]?.body ?? '';
    expect(body).not.toMatch(/NaN|Infinity|inf/);
    expect(JSON.parse(body)).toMatchObject({
      tput_per_gpu: 25,
      output_tput_per_gpu: 0,
      mean_tpot: 0.02,
      mean_intvty: 50,
    });
    expect(JSON.parse(body)).not.toHaveProperty('mean_ttft');
    expect(JSON.parse(body)).not.toHaveProperty('p99_tpot');
    expect(h.lines.filter((l) => l.startsWith('    warning: '))).toHaveLength(2);
  });

  it('missing file: upstream message, success; failure: "failed:" line and the row stays queued', async () => {
    const h = await harness();
    const missing = join(h.root, 'bench-none.json');
    const report = await ingestPerfRun({
      context: CONTEXT,
      file: missing,
      meta: PERF_META,
      outboxDir: h.outboxDir,
      transport: h.transport(),
      print: h.print,
    });
    expect(report.notFound).toBe(1);
    expect(h.lines).toEqual([`  perf-ingest: raw result file not found: ${missing}`]);

    h.server.fallback = { destroy: true };
    const failed = await ingestPerfRun({
      context: CONTEXT,
      file: BENCH_FIXTURE,
      meta: PERF_META,
      outboxDir: h.outboxDir,
      transport: h.transport(),
      print: h.print,
    });
    expect(failed).toMatchObject({ posted: 0, failed: 1 });
    expect(h.lines.at(-1)).toBe(
      `  ingest: 1 payload(s) not delivered, 0 posted; 1 kept in ${h.outboxDir} for 'perf-eval ingest --replay'`,
    );
    expect(h.lines.at(-2)).toMatch(
      /^ {4}failed: POST http:\/\/127\.0\.0\.1:\d+\/perf failed: .+ \(3 attempts\)$/,
    );
    const [queued] = await listOutbox(h.outboxDir);
    expect((await readOutboxEntry(queued as string)).kind).toBe('perf');

    h.server.fallback = { status: 200 };
    expect(
      await replayOutbox({ outboxDir: h.outboxDir, transport: h.transport(), print: h.print }),
    ).toMatchObject({ posted: 1 });
    const delivered = h.server.delivered();
    expect(delivered).toHaveLength(1);
    expect(h.server.requests.at(-1)?.headers['x-source']).toBe('perf-eval');
    expect(h.server.requests.at(-1)?.url).toBe('/perf');
  });
});

describe('replayOutbox', () => {
  it('dry run prints the queued bodies and leaves the outbox as it was', async () => {
    const h = await harness();
    await evalRun(h, { transport: h.transport({ INGEST_BEARER_TOKEN: undefined }) });
    const queued = await listOutbox(h.outboxDir);
    expect(queued).toHaveLength(2);
    const out: string[] = [];
    const report = await replayOutbox({
      outboxDir: h.outboxDir,
      transport: h.transport({ INGEST_BEARER_TOKEN: undefined }),
      dryRun: true,
      print: h.print,
      writeOut: (l) => void out.push(Buffer.from(l).toString('utf8')),
    });
    expect(report).toMatchObject({ printed: 2, posted: 0, failed: 0 });
    expect(out.map((l) => l.slice(0, -1))).toEqual(
      await Promise.all(queued.map(async (f) => (await readOutboxEntry(f)).body.toString('utf8'))),
    );
    expect(await listOutbox(h.outboxDir)).toEqual(queued);
    expect(h.server.requests).toHaveLength(0);
  });

  it('still posts when the outbox cannot be written, and says so', async () => {
    const h = await harness();
    const blocked = join(h.root, 'not-a-dir');
    await writeFile(blocked, 'x');
    const report = await evalRun(h, { outboxDir: join(blocked, 'outbox'), samples: false });
    expect(report).toMatchObject({ posted: 1, failed: 0 });
    expect(
      h.lines.some((l) =>
        l.startsWith(`    warning: cannot queue ${RESULTS_REL} in ${join(blocked, 'outbox')}`),
      ),
    ).toBe(true);
  });

  it('leaves a corrupt entry in place and reports it', async () => {
    const h = await harness();
    await mkdir(h.outboxDir, { recursive: true });
    await writeFile(join(h.outboxDir, '000000000000001-00000001-1-x.json'), '{"version": 2}');
    const report = await replayOutbox({ outboxDir: h.outboxDir, transport: h.transport(), print: h.print });
    expect(report.failed).toBe(1);
    expect(report.failures[0]?.code).toBe('E_INGEST_OUTBOX_INVALID');
    expect(await readdir(h.outboxDir)).toHaveLength(1);
    expect(h.server.requests).toHaveLength(0);
  });
});
