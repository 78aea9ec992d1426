import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileReadError, formatBytes, readRegularFileSync } from './read-file.js';

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pe-read-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function failure(path: string, maxBytes = 1024): FileReadError {
  try {
    readRegularFileSync(path, { maxBytes });
  } catch (error) {
    expect(error).toBeInstanceOf(FileReadError);
    return error as FileReadError;
  }
  throw new Error(`reading ${path} did not fail`);
}

describe('readRegularFileSync', () => {
  it('reads a regular file up to the limit', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.yaml'), 'x'.repeat(1024));
    expect(readRegularFileSync(join(dir, 'a.yaml'), { maxBytes: 1024 })).toBe('x'.repeat(1024));
    writeFileSync(join(dir, 'empty.yaml'), '');
    expect(readRegularFileSync(join(dir, 'empty.yaml'), { maxBytes: 1024 })).toBe('');
  });

  it('says what the path is instead of reading it', () => {
    const dir = tempDir();
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    writeFileSync(join(dir, 'file'), 'x');
    mkdirSync(join(dir, 'sub'));
    const cases: [string, string, string][] = [
      [join(dir, 'missing.yaml'), 'not-found', 'not found'],
      [join(dir, 'sub'), 'is-directory', 'is a directory'],
      [fifo, 'not-regular-file', 'is a FIFO (named pipe), not a regular file'],
      ['/dev/zero', 'not-regular-file', 'is a character device, not a regular file'],
      [join(dir, 'file', 'x.yaml'), 'not-a-directory', 'a parent in the path is a file, not a directory'],
    ];
    for (const [path, problem, reason] of cases) {
      const error = failure(path);
      expect([error.problem, error.reason]).toEqual([problem, reason]);
      expect(error.message).toBe(`${path}: ${reason}`);
      expect(error.category).toBe('usage');
    }
  });

  it('reports permission problems as such', () => {
    if (process.getuid?.() === 0) return; // root reads everything
    const dir = tempDir();
    writeFileSync(join(dir, 'secret.yaml'), 'x');
    chmodSync(join(dir, 'secret.yaml'), 0o000);
    expect(failure(join(dir, 'secret.yaml')).problem).toBe('permission-denied');
  });

  it('rejects a file above the limit before reading it', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'big.yaml'), 'x'.repeat(3 * 1024 * 1024));
    const error = failure(join(dir, 'big.yaml'), 1024 * 1024);
    expect(error.problem).toBe('too-large');
    expect(error.reason).toBe('is 3 MiB, above the 1 MiB limit');
    expect([error.sizeBytes, error.limitBytes]).toEqual([3 * 1024 * 1024, 1024 * 1024]);
  });

  it('formats sizes for messages', () => {
    expect([
      formatBytes(300),
      formatBytes(1024),
      formatBytes(1536),
      formatBytes(1024 * 1024),
      formatBytes(52_428_800 + 1024 * 100),
    ]).toEqual(['300 bytes', '1 KiB', '1.5 KiB', '1 MiB', '50.1 MiB']);
  });
});
