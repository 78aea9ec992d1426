import { createConnection, createServer } from 'node:net';
import { PortInUseError, PortInvalidError } from './errors.js';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** POSIX `cksum` CRC (polynomial 0x04C11DB7, length appended, complemented) of a string's UTF-8 bytes. */
export function posixCksum(text: string): number {
  const bytes = Buffer.from(text, 'utf8');
  let crc = 0;
  const step = (byte: number) => {
    crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ byte) & 0xff] as number)) >>> 0;
  };
  for (const byte of bytes) step(byte);
  for (let n = bytes.length; n > 0; n = Math.floor(n / 256)) step(n & 0xff);
  return ~crc >>> 0;
}

/**
 * Server port (recipe-compat §19): `VLLM_PORT` if set and non-empty; else, on Buildkite,
 * `20000 + cksum(BUILDKITE_JOB_ID) % 40000` (input without a trailing newline, i.e.
 * `printf %s "$BUILDKITE_JOB_ID" | cksum`); else 8000.
 */
export function resolvePort(env: Readonly<Record<string, string | undefined>>): number {
  const explicit = env['VLLM_PORT'];
  if (explicit !== undefined && explicit !== '') {
    const text = explicit.trim();
    const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
    if (!(port >= 1 && port <= 65535)) throw new PortInvalidError(explicit);
    return port;
  }
  const jobId = env['BUILDKITE_JOB_ID'];
  if (jobId) return 20000 + (posixCksum(jobId) % 40000);
  return 8000;
}

function canConnect(port: number, host: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function bindFails(port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    // No host: the unspecified address (dual-stack), which is what vLLM (0.0.0.0) and `docker -p` bind.
    server.listen({ port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/**
 * Refuse to launch onto a busy port: something answering on `host:port`, or the port already bound
 * on this host (vLLM binds before it listens, so a booting server is caught too).
 */
export async function assertPortFree(port: number, host = '127.0.0.1'): Promise<void> {
  if (await canConnect(port, host, 1000)) throw new PortInUseError(port);
  const error = await bindFails(port);
  if (error?.code === 'EADDRINUSE') throw new PortInUseError(port, { cause: error });
}
