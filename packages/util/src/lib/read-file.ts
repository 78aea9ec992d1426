import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { PerfEvalError, type PerfEvalErrorOptions } from './errors.js';

/** Why a file could not be read; `describe` turns it into words for the message. */
export type FileReadProblem =
  | 'not-found'
  | 'is-directory'
  | 'not-regular-file'
  | 'permission-denied'
  | 'not-a-directory'
  | 'too-large'
  | 'unreadable';

/**
 * A file that perf-eval was asked to read is missing, not a regular file, unreadable or above its size
 * limit. `reason` is the short human phrase (`is a directory`, `is a FIFO (named pipe), not a regular
 * file`, `permission denied`, …); callers wrap it into their own error with the fix.
 */
export class FileReadError extends PerfEvalError {
  constructor(
    readonly path: string,
    readonly problem: FileReadProblem,
    readonly reason: string,
    options: PerfEvalErrorOptions & { sizeBytes?: number; limitBytes?: number } = {},
  ) {
    super('E_FILE_READ', `${path}: ${reason}`, { category: 'usage', ...options });
    this.sizeBytes = options.sizeBytes;
    this.limitBytes = options.limitBytes;
  }
  readonly sizeBytes: number | undefined;
  readonly limitBytes: number | undefined;
}

export interface ReadRegularFileOptions {
  /** Larger files are rejected before anything is read (`too-large`). */
  maxBytes: number;
}

/** `1 MiB`, `50.0 MiB`, `12 KiB`, `300 bytes`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024)
    return `${Number.isInteger(bytes / 1024 / 1024) ? bytes / 1024 / 1024 : (bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024)
    return `${Number.isInteger(bytes / 1024) ? bytes / 1024 : (bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'a special file';
}

function problemOf(path: string, error: NodeJS.ErrnoException): FileReadError {
  switch (error.code) {
    case 'ENOENT':
      return new FileReadError(path, 'not-found', 'not found', { cause: error });
    case 'EACCES':
    case 'EPERM':
      return new FileReadError(path, 'permission-denied', 'permission denied', { cause: error });
    case 'ENOTDIR':
      return new FileReadError(path, 'not-a-directory', 'a parent in the path is a file, not a directory', {
        cause: error,
      });
    case 'EISDIR':
      return new FileReadError(path, 'is-directory', 'is a directory', { cause: error });
    case 'ELOOP':
      return new FileReadError(path, 'unreadable', 'is a symbolic link loop', { cause: error });
    default:
      return new FileReadError(path, 'unreadable', `cannot be read (${error.code ?? error.message})`, {
        cause: error,
      });
  }
}

/**
 * Read a regular file as UTF-8, refusing anything that could block or exhaust memory: it is opened
 * non-blocking (opening a FIFO would otherwise wait for a writer, and a blocked synchronous read keeps
 * SIGINT/SIGTERM handlers from ever running), checked with fstat on the open descriptor (no race with
 * a swapped path), and read only when it is a regular file no larger than `maxBytes` — a file that
 * grows while being read is cut off at `maxBytes + 1` bytes and rejected.
 */
export function readRegularFileSync(path: string, options: ReadRegularFileOptions): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw problemOf(path, error as NodeJS.ErrnoException);
  }
  try {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) throw new FileReadError(path, 'is-directory', 'is a directory');
    if (!stats.isFile())
      throw new FileReadError(path, 'not-regular-file', `is ${kindOf(stats)}, not a regular file`);
    const limit = options.maxBytes;
    if (stats.size > limit) {
      throw new FileReadError(
        path,
        'too-large',
        `is ${formatBytes(stats.size)}, above the ${formatBytes(limit)} limit`,
        { sizeBytes: stats.size, limitBytes: limit },
      );
    }
    // Read at most limit + 1 bytes whatever the file does meanwhile: one byte over proves it grew.
    const chunks: Buffer[] = [];
    let length = 0;
    while (length <= limit) {
      const chunk = Buffer.allocUnsafe(
        Math.min(limit + 1 - length, Math.max(stats.size - length, 0) + 65536),
      );
      let read: number;
      try {
        read = readSync(fd, chunk, 0, chunk.length, null);
      } catch (error) {
        throw problemOf(path, error as NodeJS.ErrnoException);
      }
      if (read === 0) break;
      chunks.push(chunk.subarray(0, read));
      length += read;
    }
    if (length > limit)
      throw new FileReadError(
        path,
        'too-large',
        `grew above the ${formatBytes(limit)} limit while being read`,
        { limitBytes: limit },
      );
    return Buffer.concat(chunks, length).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
