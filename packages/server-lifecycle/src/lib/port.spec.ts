import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { freePort } from '../../test/helpers.js';
import { PortInUseError, PortInvalidError } from './errors.js';
import { assertPortFree, posixCksum, resolvePort } from './port.js';

function systemCksum(text: string): number {
  return Number(execFileSync('cksum', { input: text }).toString().split(' ')[0]);
}

describe('posixCksum', () => {
  it('matches known POSIX cksum values', () => {
    expect(posixCksum('')).toBe(4294967295);
    expect(posixCksum('abc')).toBe(1219131554);
  });

  it.each(['', 'a', '0190a1b2-c3d4-4e5f-8a9b-0c1d2e3f4a5b', 'x'.repeat(300), 'ümlaut'])(
    'matches the system cksum for %j',
    (text) => {
      expect(posixCksum(text)).toBe(systemCksum(text));
    },
  );
});

describe('resolvePort', () => {
  it('prefers VLLM_PORT', () => {
    expect(resolvePort({ VLLM_PORT: '9001', BUILDKITE_JOB_ID: 'abc' })).toBe(9001);
  });

  it('derives 20000 + cksum(job id) % 40000 on Buildkite', () => {
    const jobId = '0190a1b2-c3d4-4e5f-8a9b-0c1d2e3f4a5b';
    const port = resolvePort({ BUILDKITE_JOB_ID: jobId });
    expect(port).toBe(20000 + (systemCksum(jobId) % 40000));
    expect(port).toBeGreaterThanOrEqual(20000);
    expect(port).toBeLessThan(60000);
  });

  it('falls back to 8000, treating an empty VLLM_PORT as unset', () => {
    expect(resolvePort({})).toBe(8000);
    expect(resolvePort({ VLLM_PORT: '' })).toBe(8000);
  });

  it.each(['0', '65536', 'abc', '80.5', '-1', '8000x'])('rejects VLLM_PORT=%j', (value) => {
    expect(() => resolvePort({ VLLM_PORT: value })).toThrow(PortInvalidError);
    expect(() => resolvePort({ VLLM_PORT: value })).toThrow(
      `VLLM_PORT must be an integer between 1 and 65535, got '${value}'`,
    );
  });
});

describe('assertPortFree', () => {
  it('accepts a free port', async () => {
    await expect(assertPortFree(await freePort())).resolves.toBeUndefined();
  });

  it('refuses a port something listens on (E_PORT_IN_USE)', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as { port: number }).port;
    const error = await assertPortFree(port).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortInUseError);
    expect(error).toMatchObject({ code: 'E_PORT_IN_USE', port });
  });
});
