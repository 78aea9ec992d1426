import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRecordingServer } from '../../test/recording-server.js';
import { replayOutbox } from './ingest.js';
import { DeliveryLedger } from './ledger.js';
import { listOutbox, writeOutboxEntry } from './outbox.js';
import { createTransport } from './transport.js';

async function outbox(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'ingest-ledger-'));
  onTestFinished(() => rm(root, { recursive: true, force: true, maxRetries: 5 }));
  return join(root, '.ingest', 'outbox');
}

/** The pid of a process that has exited (so a claim holding it is stale). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

const ID = 'a'.repeat(64);

describe('DeliveryLedger', () => {
  it('records delivered ids atomically and answers for them', async () => {
    const ledger = new DeliveryLedger(await outbox());
    expect(await ledger.isDelivered(ID)).toBe(false);
    await ledger.markDelivered(ID, 'gsm8k/results_1.json', new Date('2026-08-20T01:02:03Z'));
    expect(await ledger.isDelivered(ID)).toBe(true);
    expect(JSON.parse(await readFile(join(ledger.deliveredDir, ID), 'utf8'))).toEqual({
      delivered: '2026-08-20T01:02:03.000Z',
      label: 'gsm8k/results_1.json',
    });
    // Ids are file names only when they look like digests.
    expect(await ledger.isDelivered('../../etc/passwd')).toBe(false);
  });

  it('a claim is exclusive while its holder lives and released for the next one', async () => {
    const ledger = new DeliveryLedger(await outbox());
    const first = await ledger.claim(ID);
    expect(first.acquired).toBe(true);
    expect(await ledger.claim(ID)).toEqual({ acquired: false, holder: process.pid });
    // Another live process holds it.
    await (first as { release: () => Promise<void> }).release();
    await writeFile(join(ledger.claimsDir, ID), `${process.ppid}\n`);
    expect(await ledger.claim(ID)).toEqual({ acquired: false, holder: process.ppid });
    await rm(join(ledger.claimsDir, ID));
    const again = await ledger.claim(ID);
    expect(again.acquired).toBe(true);
    // No temp files are left behind.
    expect((await readdir(ledger.claimsDir)).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('a claim left by a killed process is stale and taken over', async () => {
    const ledger = new DeliveryLedger(await outbox());
    await mkdir(ledger.claimsDir, { recursive: true });
    await writeFile(join(ledger.claimsDir, ID), `${deadPid()}\n`);
    const claim = await ledger.claim(ID);
    expect(claim.acquired).toBe(true);
    expect((await readFile(join(ledger.claimsDir, ID), 'utf8')).trim()).toBe(String(process.pid));
  });
});

describe('replayOutbox: exactly once', () => {
  it('two replays of one outbox running at the same time post each ingest_id once', async () => {
    const server = await startRecordingServer();
    onTestFinished(() => server.close());
    const dir = await outbox();
    for (let i = 0; i < 3; i++) {
      await writeOutboxEntry(dir, {
        kind: 'eval',
        label: `p${i}`,
        ingest_id: String(i).repeat(64),
        body: Buffer.from(`{"i":${i}}`),
      });
    }
    // The same payload queued twice (a failed run, then a failed re-ingest).
    await writeOutboxEntry(dir, {
      kind: 'eval',
      label: 'p0 again',
      ingest_id: '0'.repeat(64),
      body: Buffer.from('{"i":0}'),
    });
    server.script({ delayMs: 50, status: 200 }, { delayMs: 50, status: 200 });
    const transport = createTransport({
      env: { INGEST_BEARER_TOKEN: 'tok-ledger-1234', INGEST_URL: server.url('/eval') },
      dispatcher: server.dispatcher,
      retry: { retries: 0 },
    });
    const reports = await Promise.all([
      replayOutbox({ outboxDir: dir, transport, print: () => undefined }),
      replayOutbox({ outboxDir: dir, transport, print: () => undefined }),
    ]);
    expect(server.requests.map((r) => r.body).sort()).toEqual(['{"i":0}', '{"i":1}', '{"i":2}']);
    expect(reports[0].posted + reports[1].posted).toBe(3);
    expect(reports[0].failed + reports[1].failed).toBe(0);
    expect(await listOutbox(dir)).toEqual([]);
  });
});
