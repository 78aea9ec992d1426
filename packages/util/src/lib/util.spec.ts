import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineSplitter, LineTail } from './line-tail.js';
import { PerfEvalError, ToolError, isPerfEvalError } from './errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { redactArgv, redactEnv } from './redact.js';
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
      redactArgv(['-e', 'HF_TOKEN=hf_secret', '--api-key', 'k1', '--token=abc', 'Authorization=Bearer z', 'plain'], ['supersecretvalue']),
    ).toEqual(['-e', 'HF_TOKEN=***', '--api-key', '***', '--token=***', 'Authorization=***', 'plain']);
    expect(redactArgv(['echo', 'x-supersecretvalue-y'], ['supersecretvalue'])).toEqual(['echo', 'x-***-y']);
    // Latency flags that merely end in 'token' are not secrets (llm-d-inference-sim --time-to-first-token 20ms).
    expect(redactArgv(['--time-to-first-token', '20ms', '--time-to-first-token=5ms', '--hf-token', 'hf_x'])).toEqual(['--time-to-first-token', '20ms', '--time-to-first-token=5ms', '--hf-token', '***']);
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

describe('formatCommand', () => {
  it('quotes only when needed', () => {
    expect(formatCommand(['vllm', 'serve', 'a/b', '--x', '{"a":1}', "it's", ''])).toBe(
      `vllm serve a/b --x '{"a":1}' 'it'\\''s' ''`,
    );
  });
});
