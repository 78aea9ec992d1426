import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic, type EnvVars } from '@perf-eval/util';
import { BfclDriverUnavailableError } from './errors.js';

/** Name of the asset that carries the driver inside a Node single-executable application. */
export const BFCL_DRIVER_ASSET = 'bfcl_driver.py';

interface SeaModule {
  isSea(): boolean;
  getAsset(key: string, encoding: string): string;
}

/** `node:sea` when running inside a single-executable application, else undefined (Node < 20.12 has no such module). */
function seaModule(): SeaModule | undefined {
  try {
    const sea = createRequire(import.meta.url)('node:sea') as SeaModule;
    return sea.isSea() ? sea : undefined;
  } catch {
    return undefined;
  }
}

/** Where the driver lives in the package: `python/bfcl_driver.py` (same from `src/lib` and `dist/lib`). */
export function packagedDriverPath(): string {
  return fileURLToPath(new URL('../../python/bfcl_driver.py', import.meta.url));
}

/**
 * The driver's source text: the SEA asset `bfcl_driver.py` inside a single-executable application,
 * else the file shipped in the package.
 */
export async function driverSource(): Promise<string> {
  const sea = seaModule();
  if (sea !== undefined) {
    try {
      return sea.getAsset(BFCL_DRIVER_ASSET, 'utf8');
    } catch (error) {
      throw new BfclDriverUnavailableError(`SEA asset ${BFCL_DRIVER_ASSET}`, (error as Error).message, {
        cause: error,
      });
    }
  }
  const path = packagedDriverPath();
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new BfclDriverUnavailableError(path, (error as Error).message, { cause: error });
  }
}

/** `$XDG_CACHE_HOME/perf-eval` or `~/.cache/perf-eval`. */
export function defaultDriverCacheDir(env: EnvVars = process.env): string {
  const base = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(base, 'perf-eval');
}

/**
 * Write the driver to `<cacheDir>/bfcl_driver-<sha256[:12]>.py` (atomically; skipped when that file
 * already has the same content) and return its path. The content hash keeps concurrent runs of
 * different perf-eval versions from overwriting each other's driver.
 */
export async function materializeDriver(cacheDir: string): Promise<string> {
  const source = await driverSource();
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 12);
  const path = join(cacheDir, `bfcl_driver-${hash}.py`);
  try {
    if ((await readFile(path, 'utf8')) === source) return path;
  } catch {
    // not there yet
  }
  try {
    await writeFileAtomic(path, source);
  } catch (error) {
    throw new BfclDriverUnavailableError(path, (error as Error).message, { cause: error });
  }
  return path;
}
