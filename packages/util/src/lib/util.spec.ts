import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineSplitter, LineTail } from './line-tail.js';
import { PerfEvalError, ToolError, isPerfEvalError } from './errors.js';
import { writeFileAtomic } from './atomic-write.js';
import {
  isSecretName,
  redactArgv,
  redactEnv,
  scrubText,
  scrubValues,
  secretList,
  secretValuesOf,
} from './redact.js';
import { runTool } from './run-tool.js';
import { formatCommand } from './shell-quote.js';

describe('errors', () => {
  it('carries code, name, cause and is recognised by brand', () => {
    const cause = new Error('boom');
    const error = new PerfEvalError('E_X', 'something', { cause });
    expect(error.code).toBe('E_X');
    expect(error.name).toBe('PerfEvalError');
    expect(error.cause).toBe(cause);
    expect(isPerfEvalError(error)).toBe(true);
    expect(isPerfEvalError(new Error('x'))).toBe(false);
    expect(isPerfEvalError({ code: 'E_X' })).toBe(false);
  });

  it('tool errors append the output tail to the full message', () => {
    const error = new ToolError('E_T', 'Command failed with exit code 2: x', {
      command: ['x'],
      exitCode: 2,
      outputTail: ['a', 'b'],
    });
    expect(error.fullMessage).toBe('Command failed with exit code 2: x\n  | a\n  | b');
    expect(error.exitCode).toBe(2);
    expect(error.timedOut).toBe(false);
  });
});

describe('writeFileAtomic', () => {
  it('creates directories, replaces content and leaves no temp files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pe-util-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));
    const target = join(dir, 'a', 'b', 'out.json');
    await writeFileAtomic(target, 'one');
    await writeFileAtomic(target, 'two');
    expect(await readFile(target, 'utf8')).toBe('two');
    expect(await readdir(join(dir, 'a', 'b'))).toEqual(['out.json']);
  });
});

describe('redaction', () => {
  it('hides secret env values and keeps order', () => {
    expect(redactEnv({ A: '1', HF_TOKEN: 'hf_abc', INGEST_BEARER_TOKEN: 'x', OPENAI_API_KEY: 'k' })).toEqual({
      A: '1',
      HF_TOKEN: '***',
      INGEST_BEARER_TOKEN: '***',
      OPENAI_API_KEY: '***',
    });
  });

  it('hides secrets in argv forms', () => {
    expect(
      redactArgv(
        ['-e', 'HF_TOKEN=hf_secret', '--api-key', 'k1', '--token=abc', 'Authorization=Bearer z', 'plain'],
        ['supersecretvalue'],
      ),
    ).toEqual(['-e', 'HF_TOKEN=***', '--api-key', '***', '--token=***', 'Authorization=***', 'plain']);
    expect(redactArgv(['echo', 'x-supersecretvalue-y'], ['supersecretvalue'])).toEqual(['echo', 'x-***-y']);
    // Latency flags that merely end in 'token' are not secrets (llm-d-inference-sim --time-to-first-token 20ms).
    expect(
      redactArgv(['--time-to-first-token', '20ms', '--time-to-first-token=5ms', '--hf-token', 'hf_x']),
    ).toEqual(['--time-to-first-token', '20ms', '--time-to-first-token=5ms', '--hf-token', '***']);
  });
});

describe('line tail', () => {
  it('keeps only the last N lines', () => {
    const tail = new LineTail(3);
    for (let i = 1; i <= 10; i++) tail.push(`l${i}`);
    expect(tail.lines()).toEqual(['l8', 'l9', 'l10']);
    const short = new LineTail(5);
    short.push('x');
    expect(short.lines()).toEqual(['x']);
  });

  it('splits chunks cut mid-line', () => {
    const splitter = new LineSplitter();
    expect(splitter.push('ab')).toEqual([]);
    expect(splitter.push('c\r\nde\nf')).toEqual(['abc', 'de']);
    expect(splitter.flush()).toEqual(['f']);
    expect(splitter.flush()).toEqual([]);
  });
});

describe('secret scrubbing', () => {
  it('secret names: tokens, *_KEY, *_SECRET, *_PASSWORD; not look-alikes', () => {
    for (const name of [
      'HF_TOKEN',
      'INGEST_BEARER_TOKEN',
      'STORAGE_KEY',
      'WANDB_API_KEY',
      'AWS_SECRET_ACCESS_KEY',
      'DB_PASSWORD',
      'hf_token',
      'KEY',
    ]) {
      expect(isSecretName(name), name).toBe(true);
    }
    for (const name of ['TOKENIZERS_PARALLELISM', 'HF_HOME', 'KEYBOARD', 'MONKEY', 'VLLM_PORT'])
      expect(isSecretName(name), name).toBe(false);
    expect(
      secretValuesOf({ HF_TOKEN: 'hf_abcdef', STORAGE_KEY: 'k-123456', SHORT_TOKEN: 'abc', A: 'plain' }),
    ).toEqual(['hf_abcdef', 'k-123456']);
  });

  it('masks the longest secret first, so a secret containing another leaves nothing behind', () => {
    expect(secretList(['abcd', 'abcdefgh', 'abcd', 'x'])).toEqual(['abcdefgh', 'abcd']);
    expect(scrubText('t=abcdefgh u=abcd', ['abcd', 'abcdefgh'])).toBe('t=*** u=***');
  });

  it('scrubValues masks every string (and key) of plan-like data in a copy', () => {
    const data = { a: ['x hf_secret1 y', 1, null, true], 'k-hf_secret1': { b: 'hf_secret1' } };
    expect(scrubValues(data, ['hf_secret1'])).toEqual({
      a: ['x *** y', 1, null, true],
      'k-***': { b: '***' },
    });
    expect(data.a[0]).toBe('x hf_secret1 y');
  });

  it('runTool masks the secrets of the environment the tool runs with, split across two writes', async () => {
    const script =
      "process.stdout.write('HF_TOKEN=' + process.env.HF_TOKEN.slice(0, 6)); setTimeout(() => { process.stdout.write(process.env.HF_TOKEN.slice(6) + '\\n'); console.error('bad token ' + process.env.HF_TOKEN); process.exit(3); }, 50);";
    const lines: string[] = [];
    const result = await runTool([process.execPath, '-e', script], {
      env: { HF_TOKEN: 'hf_splitsecret99', PATH: process.env['PATH'] ?? '' },
      onLine: (line) => lines.push(line),
    });
    expect(result.exitCode).toBe(3);
    expect(lines.sort()).toEqual(['HF_TOKEN=***', 'bad token ***']);
    expect(result.outputTail.join('\n')).not.toContain('secret99');
  });

  it('LineSplitter masks a secret split across two chunks', () => {
    const splitter = new LineSplitter({ secrets: ['hf_0123456789'] });
    expect(splitter.push('token=hf_0123')).toEqual([]);
    expect(splitter.push('456789 ok\nnext hf_01')).toEqual(['token=*** ok']);
    expect(splitter.push('23456789')).toEqual([]);
    expect(splitter.flush()).toEqual(['next ***']);
  });

  it('LineSplitter cuts an endless line into bounded pieces without cutting a secret in two', () => {
    const secret = 'S3CRET-VALUE-0123456789';
    for (let offset = 0; offset < secret.length + 2; offset++) {
      const splitter = new LineSplitter({ secrets: [secret], maxLineLength: 64 });
      const out: string[] = [];
      // The secret straddles the 64-character cut at every possible offset.
      const text = `${'a'.repeat(64 - offset)}${secret}${'b'.repeat(100)}`;
      for (const char of text) out.push(...splitter.push(char));
      out.push(...splitter.flush());
      expect(out.join(''), `offset ${offset}`).toBe(`${'a'.repeat(64 - offset)}***${'b'.repeat(100)}`);
      for (const piece of out) expect(piece.length).toBeLessThanOrEqual(64 + secret.length);
    }
  });
});

describe('formatCommand', () => {
  it('quotes only when needed', () => {
    expect(formatCommand(['vllm', 'serve', 'a/b', '--x', '{"a":1}', "it's", ''])).toBe(
      `vllm serve a/b --x '{"a":1}' 'it'\\''s' ''`,
    );
  });
});
