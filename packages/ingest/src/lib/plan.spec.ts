import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_RESULT, PERF_META } from '../../test/perf-meta.js';
import { startRecordingServer } from '../../test/recording-server.js';
import { IngestPlanInvalidError, IngestPlanMissingError } from './errors.js';
import { listOutbox } from './outbox.js';
import {
  ingestPlan,
  outboxDirOf,
  pickPayloadEnv,
  planPathOf,
  readIngestPlan,
  validateIngestPlan,
  writeIngestPlan,
} from './plan.js';
import type { IngestPlan } from './plan.js';
import { createTransport } from './transport.js';

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ingest-plan-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

const PLAN: IngestPlan = {
  version: 1,
  context: {
    workload: 'gpt_oss_120b-h200',
    image: 'vllm/vllm-openai:nightly-abc',
    vllmCommit: 'abc',
    env: { BUILDKITE_BUILD_NUMBER: '12', NIGHTLY: '1' },
  },
  items: [
    {
      kind: 'perf',
      runName: '8k-in-1k-out-conc-128',
      file: 'bench-8k-in-1k-out-conc-128.json',
      meta: PERF_META,
    },
    {
      kind: 'eval',
      task: 'gsm8k',
      dir: 'gsm8k',
      files: ['m/results_1.json', 'm/samples_gsm8k_1.jsonl'],
      samples: true,
    },
    { kind: 'eval', task: 'simple_python', dir: 'bfcl-simple_python', samples: false },
  ],
};

describe('ingest plan file', () => {
  it('writes atomically to .ingest/plan.json and reads back the same plan', async () => {
    const dir = await tempDir();
    expect(await writeIngestPlan(dir, PLAN)).toBe(planPathOf(dir));
    expect(planPathOf(dir)).toBe(join(dir, '.ingest', 'plan.json'));
    expect(await readIngestPlan(dir)).toEqual(PLAN);
    expect((await readFile(planPathOf(dir), 'utf8')).endsWith('}\n')).toBe(true);
  });

  it('picks only payload-affecting variables for context.env', () => {
    expect(
      pickPayloadEnv({
        BUILDKITE_BUILD_ID: 'x',
        NIGHTLY: '1',
        INGEST_BEARER_TOKEN: 'secret',
        BUILDKITE_BRANCH: '',
        HF_TOKEN: 'y',
      }),
    ).toEqual({ BUILDKITE_BUILD_ID: 'x', NIGHTLY: '1' });
  });

  it('missing plan → E_INGEST_PLAN_MISSING; bad JSON → E_INGEST_PLAN_INVALID naming the file', async () => {
    const dir = await tempDir();
    await expect(readIngestPlan(dir)).rejects.toBeInstanceOf(IngestPlanMissingError);
    await mkdir(join(dir, '.ingest'));
    await writeFile(planPathOf(dir), '{"version": 1,');
    await expect(readIngestPlan(dir)).rejects.toMatchObject({
      code: 'E_INGEST_PLAN_INVALID',
      file: planPathOf(dir),
    });
  });

  it.each([
    [{ ...PLAN, version: 2 }, 'version', 'version must be 1, got 2'],
    [{ ...PLAN, extra: 1 }, 'extra', 'extra is not a known field'],
    [{ ...PLAN, context: { image: 'x' } }, 'context.workload', 'context.workload is required'],
    [
      { ...PLAN, context: { workload: 'w', env: { INGEST_BEARER_TOKEN: 't' } } },
      'context.env.INGEST_BEARER_TOKEN',
      'context.env.INGEST_BEARER_TOKEN is not a known field',
    ],
    [
      { ...PLAN, context: { workload: 'w', date: 'yesterday' } },
      'context.date',
      `context.date must be an ISO 8601 time like '2026-08-20T01:02:03.000Z', got "yesterday"`,
    ],
    [{ ...PLAN, items: {} }, 'items', 'items must be an array'],
    [
      { ...PLAN, items: [{ kind: 'bfcl' }] },
      'items[0].kind',
      `items[0].kind must be 'eval' or 'perf', got "bfcl"`,
    ],
    [
      { ...PLAN, items: [{ kind: 'eval', task: 'g', dir: '../other', samples: true }] },
      'items[0].dir',
      'items[0].dir must be a relative path inside the results dir, got "../other"',
    ],
    [
      { ...PLAN, items: [{ kind: 'eval', task: 'g', dir: 'g', samples: 'yes' }] },
      'items[0].samples',
      'items[0].samples must be a boolean',
    ],
    [
      {
        ...PLAN,
        items: [
          PLAN.items[1],
          { ...PLAN.items[0], meta: { ...(PLAN.items[0] as { meta: object }).meta, tp: 2.5 } },
        ],
      },
      'items[1].meta.tp',
      'items[1].meta.tp must be an integer',
    ],
    [
      {
        ...PLAN,
        items: [
          { ...PLAN.items[0], meta: { ...(PLAN.items[0] as { meta: object }).meta, date: '20260820' } },
        ],
      },
      'items[0].meta.date',
      `items[0].meta.date must be 'YYYY-MM-DD HH:MM:SS', got "20260820"`,
    ],
  ])('rejects an invalid plan (%#: %s)', (plan, field, message) => {
    const error = (() => {
      try {
        validateIngestPlan(plan, '/r/.ingest/plan.json');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(IngestPlanInvalidError);
    expect(error).toMatchObject({ code: 'E_INGEST_PLAN_INVALID', file: '/r/.ingest/plan.json', field });
    expect((error as Error).message).toBe(`/r/.ingest/plan.json: ${message}`);
  });

  it('writeIngestPlan refuses an invalid plan and writes nothing', async () => {
    const dir = await tempDir();
    await expect(writeIngestPlan(dir, { ...PLAN, context: { workload: '' } })).rejects.toMatchObject({
      field: 'context.workload',
    });
    await expect(readIngestPlan(dir)).rejects.toBeInstanceOf(IngestPlanMissingError);
  });
});

describe('ingestPlan', () => {
  it('re-ingests a finished results dir with the recorded context, one aggregated report', async () => {
    const server = await startRecordingServer();
    onTestFinished(() => server.close());
    const dir = await tempDir();
    await mkdir(join(dir, 'gsm8k', 'm'), { recursive: true });
    await writeFile(
      join(dir, 'gsm8k', 'm', 'results_1.json'),
      '{"results": {"gsm8k": {"exact_match,strict-match": 0.75}}}',
    );
    await writeFile(join(dir, 'gsm8k', 'm', 'results_0_other_invocation.json'), '{"results": {}}');
    await writeFile(join(dir, 'gsm8k', 'm', 'samples_gsm8k_1.jsonl'), '{"doc_id": 0}\n{"doc_id": 1}\n');
    await writeFile(join(dir, 'bench-8k-in-1k-out-conc-128.json'), await readFile(BENCH_RESULT));
    await writeIngestPlan(dir, PLAN);

    const lines: string[] = [];
    const transport = createTransport({
      env: {
        INGEST_BEARER_TOKEN: 'tok-123456',
        INGEST_URL: server.url('/eval'),
        PERF_INGEST_URL: server.url('/perf'),
      },
      dispatcher: server.dispatcher,
      retry: { retries: 0 },
    });
    const report = await ingestPlan(await readIngestPlan(dir), {
      resultsDir: dir,
      transport,
      print: (l) => lines.push(l),
    });

    expect(report).toMatchObject({ posted: 3, failed: 0, notFound: 1, samples: 2 });
    expect(server.requests.map((r) => r.url)).toEqual(['/perf', '/eval', '/eval']);
    const results = JSON.parse(server.requests[1]?.body ?? '') as Record<string, unknown>;
    expect(results).toMatchObject({
      source_file: join(dir, 'gsm8k', 'm', 'results_1.json'),
      workload: 'gpt_oss_120b-h200',
      task: 'gsm8k',
      buildkite_build_number: '12',
      image: 'vllm/vllm-openai:nightly-abc',
      vllm_commit: 'abc',
      nightly: true,
    });
    expect(JSON.parse(server.requests[0]?.body ?? '')).toMatchObject({
      date: '2026-08-20 01:02:03',
      conc: 2,
      tp: 4,
      nightly: true,
      image: 'vllm/vllm-openai:nightly-abc',
    });
    expect(lines).toContain(`  ingest: results dir not found: ${join(dir, 'bfcl-simple_python')}`);
    expect(await listOutbox(outboxDirOf(dir))).toEqual([]);

    // The same plan ingested again posts nothing: every ingest_id is in the delivered ledger.
    const again = await ingestPlan(await readIngestPlan(dir), {
      resultsDir: dir,
      transport,
      print: () => undefined,
    });
    expect(again).toMatchObject({ posted: 0, failed: 0, alreadyDelivered: 3 });
    expect(server.requests).toHaveLength(3);
  });

  it('dry run prints every payload and needs no token; strict + no token throws up front', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'bench-8k-in-1k-out-conc-128.json'), await readFile(BENCH_RESULT));
    const plan: IngestPlan = { ...PLAN, items: [PLAN.items[0] as IngestPlan['items'][number]] };
    const out: string[] = [];
    const transport = createTransport({ env: {} });
    const report = await ingestPlan(plan, {
      resultsDir: dir,
      transport,
      dryRun: true,
      print: () => undefined,
      writeOut: (l) => void out.push(Buffer.from(l).toString('utf8')),
    });
    expect(report.printed).toBe(1);
    expect(JSON.parse(out[0] as string)).toMatchObject({ device: 'h200', framework: 'vllm' });
    await expect(
      ingestPlan(plan, { resultsDir: dir, transport, strict: true, print: () => undefined }),
    ).rejects.toMatchObject({ code: 'E_INGEST_NO_TOKEN' });
    expect(await listOutbox(outboxDirOf(dir))).toEqual([]);
  });
});
