import { spawn } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { BIN, REPO } from '../../test/harness.js';

const TOKEN = 'tok-ingest-cli-0123456789';
const BENCH = resolve(REPO, '../shared/reference/fixtures/vllm_bench/er0080_bench_serve_v0.25.1.json');

interface Received {
  url: string;
  ingestId: string;
  date: string | undefined;
}

/**
 * A real node:http server on 127.0.0.1. `mode`: `ok` (200 after `delayMs`), `reject` (400: not
 * retried, the payload stays queued), `hang` (never answers).
 */
async function dashboard(): Promise<{
  base: string;
  received: Received[];
  mode: { value: 'ok' | 'reject' | 'hang'; delayMs: number };
}> {
  const received: Received[] = [];
  const mode = { value: 'ok' as 'ok' | 'reject' | 'hang', delayMs: 0 };
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const parsed = JSON.parse(body) as { ingest_id: string; date?: string };
      received.push({ url: req.url ?? '', ingestId: parsed.ingest_id, date: parsed.date });
      if (mode.value === 'hang') return;
      const status = mode.value === 'ok' ? 200 : 400;
      setTimeout(
        () => res.writeHead(status).end(status === 200 ? '{"ok":true}' : '{"detail":"rejected"}'),
        mode.delayMs,
      );
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  onTestFinished(() => {
    server.closeAllConnections();
    return new Promise<void>((done) => server.close(() => done()));
  });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, mode };
}

/** results/<name>/ as `perf-eval run` leaves it: a bench file, three lm-eval results files, the plan. */
function resultsDir(plan: { date?: string } = { date: '2026-08-20T01:02:03.000Z' }): string {
  const root = mkdtempSync(join(tmpdir(), 'perf-eval-ingest-'));
  onTestFinished(() => rmSync(root, { recursive: true, force: true, maxRetries: 5 }));
  const dir = join(root, 'wl');
  const files = ['m/results_1.json', 'm/results_2.json', 'm/results_3.json'];
  for (const [i, file] of files.entries()) {
    mkdirSync(dirname(join(dir, 'gsm8k', file)), { recursive: true });
    writeFileSync(
      join(dir, 'gsm8k', file),
      `{"results": {"gsm8k": {"exact_match,strict-match": 0.${i + 5}}}}`,
    );
  }
  copyFileSync(BENCH, join(dir, 'bench-a.json'));
  mkdirSync(join(dir, '.ingest'), { recursive: true });
  const context = { workload: 'wl', ...(plan.date ? { date: plan.date } : {}) };
  const items = [
    {
      kind: 'perf',
      runName: 'a',
      file: 'bench-a.json',
      meta: { device: 'h200', tp: 1, precision: 'bf16', model: 'org/m', isl: 8, osl: 8, conc: 2 },
    },
    { kind: 'eval', task: 'gsm8k', dir: 'gsm8k', files, samples: false },
  ];
  writeFileSync(join(dir, '.ingest/plan.json'), JSON.stringify({ version: 1, context, items }));
  return dir;
}

function queued(dir: string): string[] {
  try {
    return readdirSync(join(dir, '.ingest/outbox')).filter(
      (name) => name.endsWith('.json') && !name.startsWith('.'),
    );
  } catch {
    return [];
  }
}

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function ingestCli(
  args: string[],
  env: Record<string, string>,
  onStart?: (child: ReturnType<typeof spawn>) => void,
): Promise<Outcome> {
  const child = spawn(process.execPath, [BIN, 'ingest', ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  onStart?.(child);
  return new Promise((settle) => child.on('close', (code) => settle({ code, stdout, stderr })));
}

const envFor = (base: string, extra: Record<string, string> = {}): Record<string, string> => ({
  INGEST_BEARER_TOKEN: TOKEN,
  INGEST_URL: `${base}/eval`,
  PERF_INGEST_URL: `${base}/perf`,
  ...extra,
});

async function until(probe: () => boolean, label: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (probe()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${label}`);
}

describe('perf-eval ingest: exactly once', () => {
  it('a successful full ingest clears what a failed one left queued, so a later --replay posts nothing', async () => {
    const server = await dashboard();
    const dir = resultsDir({});
    server.mode.value = 'reject';
    const failed = await ingestCli([dir], envFor(server.base));
    expect(failed.code, failed.stderr).toBe(0);
    expect(queued(dir)).toHaveLength(4);

    server.mode.value = 'ok';
    const before = server.received.length;
    const full = await ingestCli([dir], envFor(server.base));
    expect(full.code, full.stderr).toBe(0);
    expect(full.stderr).toContain('ingest: 4 posted, 0 failed');
    expect(queued(dir)).toEqual([]);
    const delivered = server.received.slice(before);
    expect(new Set(delivered.map((r) => r.ingestId)).size).toBe(4);

    const replay = await ingestCli([dir, '--replay'], envFor(server.base));
    expect(replay.code, replay.stderr).toBe(0);
    expect(server.received).toHaveLength(before + 4);
    // A second full ingest posts nothing either: every ingest_id is in the delivered ledger.
    const again = await ingestCli([dir], envFor(server.base));
    expect(again.stderr).toContain('4 already delivered');
    expect(server.received).toHaveLength(before + 4);
  });

  it('two concurrent --replay processes never both post an entry', async () => {
    const server = await dashboard();
    const dir = resultsDir({});
    server.mode.value = 'reject';
    await ingestCli([dir], envFor(server.base));
    expect(queued(dir)).toHaveLength(4);
    const before = server.received.length;
    // Slow replies keep both replays in flight at the same time.
    server.mode.value = 'ok';
    server.mode.delayMs = 150;
    const [a, b] = await Promise.all([
      ingestCli([dir, '--replay'], envFor(server.base)),
      ingestCli([dir, '--replay'], envFor(server.base)),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const ids = server.received.slice(before).map((r) => r.ingestId);
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(4);
    expect(queued(dir)).toEqual([]);
  });

  it('SIGTERM during an ingest exits 143 and keeps every undelivered payload queued', async () => {
    const server = await dashboard();
    const dir = resultsDir({});
    server.mode.value = 'hang';
    const out = await ingestCli([dir], envFor(server.base), (child) => {
      void until(() => server.received.length > 0, 'the first request').then(() => child.kill('SIGTERM'));
    });
    expect(out.code, out.stderr).toBe(143);
    expect(out.stderr).toContain('received SIGTERM');
    expect(out.stderr).toContain("for 'perf-eval ingest --replay'");
    expect(queued(dir)).toHaveLength(4);
    // Nothing is left claimed: a replay delivers everything.
    server.mode.value = 'ok';
    const replay = await ingestCli([dir, '--replay'], envFor(server.base));
    expect(replay.stderr).toContain('ingest: 4 posted, 0 failed');
  });
});

describe('perf-eval ingest: preflight and the run date', () => {
  it('a missing token exits 2 as --help documents, naming the variable and the fix; nothing is sent', async () => {
    const server = await dashboard();
    const dir = resultsDir();
    const help = await ingestCli(['--help'], {});
    expect(help.stdout).toMatch(/2 bad arguments, a\s+missing token/);
    const out = await ingestCli([dir], {
      INGEST_URL: `${server.base}/eval`,
      PERF_INGEST_URL: `${server.base}/perf`,
    });
    expect(out.code).toBe(2);
    expect(out.stderr.trim()).toBe(
      'perf-eval ingest: INGEST_BEARER_TOKEN is required for result ingestion; set it (CI: buildkite-agent secret get INGEST_BEARER_TOKEN) or use --dry-run',
    );
    expect(server.received).toEqual([]);
    expect(queued(dir)).toEqual([]);
  });

  it.each([
    ['INGEST_URL', 'not a url'],
    ['PERF_INGEST_URL', 'ftp://example.com/x'],
  ])('an invalid %s exits 2 naming it', async (name, value) => {
    const dir = resultsDir();
    const out = await ingestCli([dir], { INGEST_BEARER_TOKEN: TOKEN, [name]: value });
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(new RegExp(`^${name} (is not a URL|must be an http\\(s\\) URL)`));
    expect(out.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('re-ingesting posts the run date: from the plan, else summary.json startedAt, else the plan mtime', async () => {
    const server = await dashboard();
    const fromPlan = resultsDir({ date: '2026-08-20T01:02:03.000Z' });
    let out = await ingestCli([fromPlan], envFor(server.base));
    expect(out.stderr).toContain(
      'ingest: run date 2026-08-20T01:02:03.000Z (from .ingest/plan.json context.date)',
    );
    expect(server.received.find((r) => r.url === '/perf')?.date).toBe('2026-08-20 01:02:03');

    const fromSummary = resultsDir({});
    writeFileSync(
      join(fromSummary, 'summary.json'),
      JSON.stringify({ version: 1, startedAt: '2026-07-01T10:00:00.000Z' }),
    );
    server.received.length = 0;
    out = await ingestCli([fromSummary], envFor(server.base));
    expect(out.stderr).toContain('ingest: run date 2026-07-01T10:00:00.000Z (from summary.json startedAt');
    expect(server.received.find((r) => r.url === '/perf')?.date).toBe('2026-07-01 10:00:00');

    const fromMtime = resultsDir({});
    const mtime = new Date('2026-06-02T03:04:05.000Z');
    utimesSync(join(fromMtime, '.ingest/plan.json'), mtime, mtime);
    server.received.length = 0;
    out = await ingestCli([fromMtime], envFor(server.base));
    expect(out.stderr).toContain(
      'ingest: run date 2026-06-02T03:04:05.000Z (from the modification time of .ingest/plan.json',
    );
    expect(server.received.find((r) => r.url === '/perf')?.date).toBe('2026-06-02 03:04:05');
  });
});
