import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  batchSamples,
  buildResultsEvent,
  findEvalFiles,
  hashFile,
  readLines,
  SAMPLES_BATCH_BYTES,
} from './eval-events.js';
import type { MalformedLine, SampleBatch } from './eval-events.js';
import { pyFloat } from './json-text.js';
import { buildEvalMetadata, computeIngestId, contentHash } from './metadata.js';

const LM_EVAL = resolve(import.meta.dirname, '../../../../../shared/reference/fixtures/lm_eval');

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ingest-events-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

async function collect(options: Parameters<typeof batchSamples>[0]): Promise<SampleBatch[]> {
  const out: SampleBatch[] = [];
  for await (const batch of batchSamples(options)) out.push(batch);
  return out;
}

const MD = buildEvalMetadata({ workload: 'w', task: 't', env: {} });

describe('buildEvalMetadata', () => {
  it('orders workload, task, non-empty Buildkite vars (lower-cased keys), image, vllm_commit, nightly', () => {
    const env = {
      BUILDKITE_PIPELINE_SLUG: 'perf-eval',
      BUILDKITE_BUILD_NUMBER: '123',
      BUILDKITE_BUILD_ID: '0190-ABC',
      BUILDKITE_BUILD_URL: 'https://buildkite.com/vllm/perf-eval/builds/123',
      BUILDKITE_BRANCH: '',
      BUILDKITE_COMMIT: 'DEADBEEF',
      NIGHTLY: '1',
      INGEST_BEARER_TOKEN: 'secret-token',
    };
    const md = buildEvalMetadata({
      workload: 'gpt_oss_120b-h200',
      task: 'gsm8k',
      image: ' vllm/vllm-openai:nightly-abc ',
      vllmCommit: 'abc',
      env,
    });
    expect(Object.entries(md)).toEqual([
      ['workload', 'gpt_oss_120b-h200'],
      ['task', 'gsm8k'],
      ['buildkite_build_id', '0190-ABC'],
      ['buildkite_build_number', '123'],
      ['buildkite_build_url', 'https://buildkite.com/vllm/perf-eval/builds/123'],
      ['buildkite_commit', 'DEADBEEF'],
      ['buildkite_pipeline_slug', 'perf-eval'],
      ['image', 'vllm/vllm-openai:nightly-abc'],
      ['vllm_commit', 'abc'],
      ['nightly', true],
    ]);
  });

  it('omits blank image / commit and nightly unless NIGHTLY is exactly 1', () => {
    expect(
      buildEvalMetadata({ workload: 'w', task: 't', image: '  ', vllmCommit: '', env: { NIGHTLY: 'true' } }),
    ).toEqual({ workload: 'w', task: 't' });
  });
});

describe('pyFloat', () => {
  it('follows Python float()', () => {
    expect(pyFloat(' 2.5 ')).toBe(2.5);
    expect(pyFloat('1e3')).toBe(1000);
    expect(pyFloat('inf')).toBe(Infinity);
    expect(pyFloat('-Infinity')).toBe(-Infinity);
    expect(pyFloat('NaN')).toBeNaN();
    expect(pyFloat(false)).toBe(0);
    expect(pyFloat('1__0')).toBeUndefined();
    expect(pyFloat('')).toBeUndefined();
    expect(pyFloat(null)).toBeUndefined();
  });
});

describe('buildResultsEvent', () => {
  it('wraps a real lm-eval results file: kind, source_file, md, data, ingest_id last', async () => {
    const file = join(LM_EVAL, 'akamaslabs_ifeval_results_2026-10-08T12-48-42.913247.json');
    const bytes = await readFile(file);
    const md = buildEvalMetadata({
      workload: 'w',
      task: 'ifeval',
      image: 'img',
      env: { BUILDKITE_BUILD_NUMBER: '7', NIGHTLY: '1' },
    });
    const id = computeIngestId({
      kind: 'results',
      workload: 'w',
      task: 'ifeval',
      contentHash: contentHash(bytes),
    });
    const event = buildResultsEvent({
      sourceFile: 'results/w/ifeval/m/results_x.json',
      metadata: md,
      text: bytes.toString('utf8'),
      ingestId: id,
    });
    const parsed = JSON.parse(event.body) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual([
      'kind',
      'source_file',
      'workload',
      'task',
      'buildkite_build_number',
      'image',
      'nightly',
      'data',
      'ingest_id',
    ]);
    expect(parsed['kind']).toBe('results');
    expect(parsed['data']).toEqual(JSON.parse(bytes.toString('utf8')));
    expect(parsed['ingest_id']).toMatch(/^[0-9a-f]{64}$/);
    expect(event.body).not.toContain('\n');
    expect(event.nonFinite).toBe(0);
    // The "N/A" strings and float literals survive verbatim.
    expect(event.body).toContain('"inst_level_strict_acc_stderr,none":"N/A"');
  });

  it('keeps float literals (1.0) and nulls NaN in data', () => {
    const event = buildResultsEvent({
      sourceFile: 's',
      metadata: MD,
      text: '{"results": {"gsm8k": {"acc,none": 1.0, "acc_stderr,none": NaN}}, "n-shot": {"gsm8k": 5}}',
      ingestId: 'i',
    });
    expect(event.body).toBe(
      '{"kind":"results","source_file":"s","workload":"w","task":"t","data":{"results":{"gsm8k":{"acc,none":1.0,"acc_stderr,none":null}},"n-shot":{"gsm8k":5}},"ingest_id":"i"}',
    );
    expect(event.nonFinite).toBe(1);
  });

  it('throws E_INGEST_SOURCE_INVALID for a broken file', () => {
    expect(() =>
      buildResultsEvent({ sourceFile: 'x.json', metadata: MD, text: '{"results": ', ingestId: 'i' }),
    ).toThrow(expect.objectContaining({ code: 'E_INGEST_SOURCE_INVALID' }));
  });

  it('gives a stable id that depends on workload, task and content only', () => {
    const a = computeIngestId({ kind: 'results', workload: 'w', task: 't', contentHash: contentHash('x') });
    expect(
      computeIngestId({ kind: 'results', workload: 'w', task: 't', contentHash: contentHash('x') }),
    ).toBe(a);
    expect(
      computeIngestId({ kind: 'results', workload: 'w', task: 'u', contentHash: contentHash('x') }),
    ).not.toBe(a);
    expect(
      computeIngestId({ kind: 'results', workload: 'v', task: 't', contentHash: contentHash('x') }),
    ).not.toBe(a);
    expect(
      computeIngestId({ kind: 'results', workload: 'w', task: 't', contentHash: contentHash('y') }),
    ).not.toBe(a);
    expect(
      computeIngestId({
        kind: 'samples',
        workload: 'w',
        task: 't',
        contentHash: contentHash('x'),
        batchIndex: 0,
      }),
    ).not.toBe(
      computeIngestId({
        kind: 'samples',
        workload: 'w',
        task: 't',
        contentHash: contentHash('x'),
        batchIndex: 1,
      }),
    );
  });
});

describe('batchSamples', () => {
  const envelope = (batch: SampleBatch) =>
    JSON.parse(batch.body.toString('utf8')) as { samples: unknown[]; ingest_id: string } & Record<
      string,
      unknown
    >;

  it('batches greedily at the byte boundary of a small limit', async () => {
    const dir = await tempDir();
    const file = join(dir, 'samples_t.jsonl');
    // Each sample serialises to exactly 10 bytes: {"i":"NN"} is 10 chars.
    const lines = Array.from({ length: 7 }, (_, i) => `{"i": "${String(i).padStart(2, '0')}"}`);
    await writeFile(file, `${lines.join('\n')}\n`);
    const prefix = '{"kind":"samples","source_file":"S","workload":"w","task":"t","samples":[';
    const suffix = `],"ingest_id":"${'0'.repeat(64)}"}`;
    const overhead = prefix.length + suffix.length; // 73 + 81 = the envelope with an empty list
    expect(overhead).toBe(154);
    // Room for exactly 3 samples: overhead + 3 * (10 + 1) = 187 ≤ limit; a 4th needs 198.
    const limit = overhead + 3 * 11;
    const batches = await collect({
      file,
      sourceFile: 'S',
      metadata: MD,
      workload: 'w',
      task: 't',
      limitBytes: limit,
    });
    expect(batches.map((b) => b.samples)).toEqual([3, 3, 1]);
    for (const b of batches) {
      expect(b.bytes).toBe(Buffer.byteLength(b.body));
      expect(b.bytes).toBeLessThan(limit);
    }
    expect(batches[0]?.bytes).toBe(overhead + 3 * 10 + 2); // two commas
    expect(envelope(batches[0] as SampleBatch).samples).toEqual([{ i: '00' }, { i: '01' }, { i: '02' }]);
    expect(batches.map((b) => b.index)).toEqual([0, 1, 2]);
    // One byte less and only 2 fit.
    const tighter = await collect({
      file,
      sourceFile: 'S',
      metadata: MD,
      workload: 'w',
      task: 't',
      limitBytes: limit - 1,
    });
    expect(tighter.map((b) => b.samples)).toEqual([2, 2, 2, 1]);
    const ids = new Set(tighter.map((b) => b.ingestId));
    expect(ids.size).toBe(4);
    expect(Object.keys(envelope(tighter[0] as SampleBatch))).toEqual([
      'kind',
      'source_file',
      'workload',
      'task',
      'samples',
      'ingest_id',
    ]);
  });

  it('skips blank and malformed lines and reports them with line numbers', async () => {
    const dir = await tempDir();
    const file = join(dir, 'samples_t.jsonl');
    await writeFile(file, '{"a": 1}\n\n   \n{"a": \nnot json\n{"a": 2}\r\n{"a": NaN}');
    const malformed: MalformedLine[] = [];
    const nonFinite: number[] = [];
    const batches = await collect({
      file,
      sourceFile: 'S',
      metadata: MD,
      workload: 'w',
      task: 't',
      onMalformed: (m) => malformed.push(m),
      onNonFinite: (n) => nonFinite.push(n.line),
    });
    expect(malformed.map((m) => m.line)).toEqual([4, 5]);
    expect(malformed[0]?.error).toMatch(/JSON/);
    expect(nonFinite).toEqual([7]);
    expect(batches).toHaveLength(1);
    expect(envelope(batches[0] as SampleBatch).samples).toEqual([{ a: 1 }, { a: 2 }, { a: null }]);
  });

  it('sends valid UTF-8 even when a line is not (invalid bytes become U+FFFD)', async () => {
    const dir = await tempDir();
    const file = join(dir, 'samples_t.jsonl');
    await writeFile(
      file,
      Buffer.concat([Buffer.from('{"t": "a'), Buffer.from([0xff, 0xfe]), Buffer.from('b"}\n')]),
    );
    const [batch] = await collect({ file, sourceFile: 'S', metadata: MD, workload: 'w', task: 't' });
    expect(envelope(batch as SampleBatch).samples).toEqual([{ t: 'a\ufffd\ufffdb' }]);
    expect(batch?.bytes).toBe(batch?.body.length);
  });

  it('posts a sample larger than the limit alone', async () => {
    const dir = await tempDir();
    const file = join(dir, 'samples_t.jsonl');
    const big = JSON.stringify({ text: 'x'.repeat(5000) });
    await writeFile(file, ['{"n":1}', big, '{"n":2}', '{"n":3}'].join('\n'));
    const batches = await collect({
      file,
      sourceFile: 'S',
      metadata: MD,
      workload: 'w',
      task: 't',
      limitBytes: 1000,
    });
    expect(batches.map((b) => b.samples)).toEqual([1, 1, 2]);
    expect(batches[1]?.bytes).toBeGreaterThan(1000);
    expect(envelope(batches[1] as SampleBatch).samples).toEqual([JSON.parse(big)]);
  });

  it('measures non-ASCII samples in UTF-8 bytes, not characters', async () => {
    const dir = await tempDir();
    const file = join(dir, 'samples_t.jsonl');
    // "é" is 1 UTF-16 unit but 2 UTF-8 bytes; "😀" is 2 units and 4 bytes.
    const sample = JSON.stringify({ q: 'é'.repeat(40) + '😀'.repeat(10) }); // 8 + 80 + 40 = 128 bytes; 8 + 40 + 20 = 68 units
    expect(Buffer.byteLength(sample)).toBe(128);
    expect(sample.length).toBe(68);
    await writeFile(file, `${sample}\n${sample}\n${sample}\n`);
    // Envelope 154 bytes (as above). By UTF-8 bytes two fit in 500 (154 + 2 × 129 = 412, a third needs 541);
    // counting UTF-16 units would have packed all three (154 + 3 × 69 = 361).
    const batches = await collect({
      file,
      sourceFile: 'S',
      metadata: MD,
      workload: 'w',
      task: 't',
      limitBytes: 500,
    });
    expect(batches.map((b) => b.samples)).toEqual([2, 1]);
    expect(batches[0]?.bytes).toBe(Buffer.byteLength(batches[0]?.body ?? ''));
    expect(envelope(batches[0] as SampleBatch).samples[0]).toEqual(JSON.parse(sample));
  });

  it('keeps every real batch under 4 MiB', async () => {
    const dir = await tempDir();
    const file = join(dir, 'samples_big.jsonl');
    // 90 samples of ~100 KiB (with non-ASCII) ≈ 9 MiB → 3 batches.
    const lines: string[] = [];
    for (let i = 0; i < 90; i++)
      lines.push(JSON.stringify({ doc_id: i, resps: [['ü'.repeat(20_000) + 'a'.repeat(60_000 + i)]] }));
    await writeFile(file, lines.join('\n'));
    const batches = await collect({
      file,
      sourceFile: 'results/w/t/samples_big.jsonl',
      metadata: MD,
      workload: 'w',
      task: 't',
    });
    expect(SAMPLES_BATCH_BYTES).toBe(4_194_304);
    expect(batches.length).toBe(3);
    expect(batches.reduce((n, b) => n + b.samples, 0)).toBe(90);
    for (const b of batches) {
      expect(Buffer.byteLength(b.body)).toBe(b.bytes);
      expect(b.bytes).toBeLessThan(SAMPLES_BATCH_BYTES);
    }
    // Greedy: the next sample would not have fitted into any earlier batch.
    const sizes = lines.map((l) => Buffer.byteLength(l));
    let offset = 0;
    for (const b of batches.slice(0, -1)) {
      offset += b.samples;
      expect(b.bytes + 1 + (sizes[offset] as number)).toBeGreaterThanOrEqual(SAMPLES_BATCH_BYTES);
    }
  });

  it('reads lines across chunk boundaries and hashes the file', async () => {
    const dir = await tempDir();
    const file = join(dir, 'l.txt');
    const long = 'y'.repeat(3 * 1024 * 1024);
    await writeFile(file, `a\n${long}\nb`);
    const lines: string[] = [];
    for await (const line of readLines(file)) lines.push(line.toString('utf8'));
    expect(lines.map((l) => l.length)).toEqual([1, long.length, 1]);
    expect(await hashFile(file)).toBe(contentHash(await readFile(file)));
  });
});

describe('findEvalFiles', () => {
  it('finds results_*.json and samples_*.jsonl recursively, sorted component-wise like pathlib', async () => {
    const dir = await tempDir();
    for (const sub of ['m', 'm-b', 'm/x']) await mkdir(join(dir, sub), { recursive: true });
    for (const f of [
      'm-b/results_1.json',
      'm/results_2.json',
      'm/x/results_0.json',
      'm/samples_t_2.jsonl',
      'm/samples_t_1.jsonl',
      'm/other.json',
      'results_top.json',
      'm/results_.jsonl',
    ]) {
      await writeFile(join(dir, f), '{}');
    }
    expect(await findEvalFiles(dir)).toEqual({
      results: ['m/results_2.json', 'm/x/results_0.json', 'm-b/results_1.json', 'results_top.json'],
      samples: ['m/samples_t_1.jsonl', 'm/samples_t_2.jsonl'],
    });
  });
});
