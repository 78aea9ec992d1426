import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultDriverCacheDir, driverSource, materializeDriver, packagedDriverPath } from './driver.js';

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bfcl-driver-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

describe('driver materialisation', () => {
  it('reads the packaged python/bfcl_driver.py', async () => {
    expect(packagedDriverPath()).toMatch(/packages\/bfcl-runner\/python\/bfcl_driver\.py$/);
    const source = await driverSource();
    expect(source).toBe(await readFile(packagedDriverPath(), 'utf8'));
    expect(source).toContain('MODEL_CONFIG_MAPPING');
  });

  it('writes a content-addressed copy once and reuses it', async () => {
    const cache = await tempDir();
    const first = await materializeDriver(join(cache, 'nested'));
    expect(first).toMatch(/\/nested\/bfcl_driver-[0-9a-f]{12}\.py$/);
    expect(await readFile(first, 'utf8')).toBe(await driverSource());
    const before = (await stat(first)).mtimeMs;
    expect(await materializeDriver(join(cache, 'nested'))).toBe(first);
    expect((await stat(first)).mtimeMs).toBe(before);
    expect(await readdir(join(cache, 'nested'))).toHaveLength(1);
  });

  it('fails with E_BFCL_DRIVER_UNAVAILABLE when the cache dir is not writable', async () => {
    const cache = await tempDir();
    const file = join(cache, 'file');
    await (await import('node:fs/promises')).writeFile(file, 'x');
    await expect(materializeDriver(join(file, 'sub'))).rejects.toMatchObject({
      code: 'E_BFCL_DRIVER_UNAVAILABLE',
    });
  });

  it('defaults the cache dir to XDG_CACHE_HOME/perf-eval', () => {
    expect(defaultDriverCacheDir({ XDG_CACHE_HOME: '/x/cache' })).toBe('/x/cache/perf-eval');
    expect(defaultDriverCacheDir({})).toMatch(/\/\.cache\/perf-eval$/);
  });
});
