import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeFsError, directoryProblem } from './fs-problem.js';

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pe-fsproblem-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: boom`), { code });
}

describe('describeFsError', () => {
  it('words the common codes and falls back to the code, then the message', () => {
    expect(describeFsError(errno('ENOENT'))).toBe('not found');
    expect(describeFsError(errno('EACCES'))).toBe('permission denied');
    expect(describeFsError(errno('EPERM'))).toBe('permission denied');
    expect(describeFsError(errno('ENOTDIR'))).toBe('a parent in the path is a file, not a directory');
    expect(describeFsError(errno('EISDIR'))).toBe('is a directory');
    expect(describeFsError(errno('ENOSPC'))).toBe('no space left on the device');
    expect(describeFsError(errno('EROFS'))).toBe('the file system is read-only');
    expect(describeFsError(errno('EMFILE'))).toBe('EMFILE');
    expect(describeFsError(new Error('odd'))).toBe('odd');
  });
});

describe('directoryProblem', () => {
  it('accepts an existing directory and a path that can be created', () => {
    const dir = tempDir();
    expect(directoryProblem(dir)).toBeUndefined();
    expect(directoryProblem(join(dir, 'a', 'b', 'c'))).toBeUndefined();
  });

  it('names the file that is in the way', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'afile'), '');
    mkdirSync(join(dir, 'sub'));
    expect(directoryProblem(join(dir, 'afile'))).toBe(`${join(dir, 'afile')} is a file, not a directory`);
    expect(directoryProblem(join(dir, 'afile', 'tools'))).toBe(
      `${join(dir, 'afile')} is a file, not a directory, so nothing can be created under it`,
    );
  });
});
