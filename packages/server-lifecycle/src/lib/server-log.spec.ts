import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { testDir } from '../../test/helpers.js';
import { ServerLog } from './server-log.js';

describe('ServerLog', () => {
  it('writes every line to the file and the callback, keeps a bounded tail, scrubs secrets', async () => {
    const dir = await testDir();
    const seen: string[] = [];
    const log = new ServerLog(join(dir, 'nested', 'server.log'), {
      onLine: (line) => void seen.push(line),
      tailLines: 3,
      secrets: ['hf_topsecret'],
    });
    await log.open();
    const stream = new PassThrough();
    const done = log.follow(stream);
    stream.write('first\nsec');
    stream.write('ond token=hf_topsecret\r\nthird\n');
    stream.end('fourth without newline');
    await done;
    await log.close();
    const expected = ['first', 'second token=***', 'third', 'fourth without newline'];
    expect(seen).toEqual(expected);
    expect(await readFile(log.file, 'utf8')).toBe(`${expected.join('\n')}\n`);
    expect(log.tail()).toEqual(expected.slice(1));
    expect(log.lineCount).toBe(4);
  });

  it('applies backpressure: a slow async consumer pauses the source instead of buffering', async () => {
    const dir = await testDir();
    let consumed = 0;
    const log = new ServerLog(join(dir, 'server.log'), {
      onLine: async () => {
        consumed++;
        await sleep(1);
      },
    });
    await log.open();
    const stream = new PassThrough({ highWaterMark: 1024 });
    const done = log.follow(stream);
    const line = `${'y'.repeat(99)}\n`;
    let refused = 0;
    for (let i = 0; i < 200; i++) if (!stream.write(line)) refused++;
    // The producer is told to wait long before the consumer has caught up.
    expect(refused).toBeGreaterThan(0);
    expect(consumed).toBeLessThan(200);
    stream.end();
    await done;
    await log.close();
    expect(consumed).toBe(200);
  });

  it('classifies from all lines seen, and drained() reports unfinished sources', async () => {
    const dir = await testDir();
    const log = new ServerLog(join(dir, 'server.log'), { onLine: () => undefined, tailLines: 2 });
    await log.open();
    const stream = new PassThrough();
    void log.follow(stream);
    stream.write('(EngineCore pid=2) ValueError: No available memory for the cache blocks.\n');
    for (let i = 0; i < 10; i++) stream.write(`noise ${i}\n`);
    expect(await log.drained(50)).toBe(false);
    stream.end();
    expect(await log.drained(1000)).toBe(true);
    expect(log.diagnose().kind).toBe('out_of_memory');
    expect(log.tail()).toEqual(['noise 8', 'noise 9']);
    await log.write(['x'], { scan: false });
    await log.close();
  });
});
