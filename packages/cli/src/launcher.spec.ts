import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The committed `perf-eval` bin: npm links it at install time, before the root `prepare` builds dist/. */
const LAUNCHER = resolve(import.meta.dirname, '../bin/perf-eval.js');

describe('bin/perf-eval.js', () => {
  it('runs the built CLI (dist/bin.js, built by the test setup)', () => {
    const version = (
      JSON.parse(readFileSync(resolve(import.meta.dirname, '../package.json'), 'utf8')) as { version: string }
    ).version;
    const ran = spawnSync(process.execPath, [LAUNCHER, '--version'], { encoding: 'utf8' });
    expect(ran.stderr).toBe('');
    expect(ran.stdout.trim()).toBe(version);
    expect(ran.status).toBe(0);
  });

  it('without a build says how to build and exits 2, without a stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'perf-eval-launcher-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    copyFileSync(LAUNCHER, join(dir, 'bin', 'perf-eval.js'));
    const ran = spawnSync(process.execPath, [join(dir, 'bin', 'perf-eval.js'), 'validate'], {
      encoding: 'utf8',
    });
    expect(ran.stdout).toBe('');
    expect(ran.stderr).toBe(
      'perf-eval: the CLI is not built (packages/cli/dist/bin.js is missing); run `npm run build` at the repository root\n',
    );
    expect(ran.status).toBe(2);
  });
});
