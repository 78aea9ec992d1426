import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** A file-system error as words for a one-line message: `permission denied`, `is a directory`, … */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'not found';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a parent in the path is a file, not a directory';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'the file system is read-only';
    default:
      return code ?? (error as Error).message;
  }
}

/**
 * Why a directory cannot be created at `path` (or used, if it exists), or undefined: the path or its
 * closest existing ancestor is a file, or that ancestor cannot be inspected. Callers check up front so
 * that a bad directory argument is a usage error, not an ENOTDIR stack in the middle of the work.
 */
export function directoryProblem(path: string): string | undefined {
  let current = resolve(path);
  for (;;) {
    let stats;
    try {
      stats = statSync(current);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        const parent = dirname(current);
        if (parent === current) return undefined;
        current = parent;
        continue;
      }
      return `${current}: ${describeFsError(error)}`;
    }
    if (!stats.isDirectory())
      return current === resolve(path)
        ? `${current} is a file, not a directory`
        : `${current} is a file, not a directory, so nothing can be created under it`;
    return undefined;
  }
}
