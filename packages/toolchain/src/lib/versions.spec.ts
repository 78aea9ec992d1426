import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkToolVersions, compareVersions, interpreterOf, SUPPORTED } from './versions.js';

function box(): string {
  const dir = mkdtempSync(join(tmpdir(), 'perf-eval-versions-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

/** A fake interpreter answering the importlib.metadata one-liner like Python would. */
function fakePython(dir: string, versions: Record<string, string>): string {
  const path = join(dir, 'python3');
  writeFileSync(
    path,
    `#!/usr/bin/env node
const code = process.argv[3] ?? '';
const dist = /m\\.version\\("([^"]+)"\\)/.exec(code)?.[1];
const versions = ${JSON.stringify(versions)};
if (process.argv[2] !== '-c' || !dist) { console.error('usage'); process.exit(2); }
if (!(dist in versions)) { console.error('importlib.metadata.PackageNotFoundError: No package metadata was found for ' + dist); process.exit(1); }
console.log(versions[dist]);
`,
  );
  chmodSync(path, 0o755);
  return path;
}

function consoleScript(dir: string, name: string, python: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!${python}\n# -*- coding: utf-8 -*-\nimport sys\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('tool versions', () => {
  it('compares dotted versions numerically', () => {
    expect(compareVersions('0.4.13', '0.4.9')).toBeGreaterThan(0);
    expect(compareVersions('0.5', '0.5.0')).toBe(0);
    expect(compareVersions('0.33.0', '0.10')).toBeGreaterThan(0);
    expect(SUPPORTED.lm_eval.accepts('0.4.13')).toBe(true);
    expect(SUPPORTED.lm_eval.accepts('0.5.1')).toBe(false);
    expect(SUPPORTED.lm_eval.accepts('0.4.8')).toBe(false);
    expect(SUPPORTED.bfcl.accepts('2026.3.23')).toBe(true);
    expect(SUPPORTED.vllm.accepts('0.9.2')).toBe(false);
  });

  it('finds a console script interpreter from its shebang', async () => {
    const dir = box();
    expect(await interpreterOf(consoleScript(dir, 'lm_eval', '/opt/venv/bin/python'))).toBe(
      '/opt/venv/bin/python',
    );
    expect(await interpreterOf(consoleScript(dir, 'vllm', '/usr/bin/env python3'))).toBe('python3');
    expect(await interpreterOf('/opt/venv/bin/python3.11')).toBe('/opt/venv/bin/python3.11');
    expect(await interpreterOf(join(dir, 'missing'))).toBeUndefined();
  });

  it('accepts supported versions, rejects others with the fix, and only warns when a version cannot be read', async () => {
    const dir = box();
    const python = fakePython(dir, { lm_eval: '0.4.13', 'bfcl-eval': '2025.10.1' });
    const report = await checkToolVersions(
      [
        { tool: 'lm_eval', executable: consoleScript(dir, 'lm_eval', python) },
        { tool: 'bfcl', executable: python },
        { tool: 'vllm', executable: consoleScript(dir, 'vllm', python) },
      ],
      { PATH: process.env['PATH'] ?? '' },
    );
    expect(report.versions).toEqual({ lm_eval: '0.4.13', bfcl: '2025.10.1' });
    expect(report.problems).toEqual([
      `bfcl: bfcl-eval 2025.10.1 at ${python} is not supported (need bfcl-eval==2026.3.23); run 'npx perf-eval setup' for the pinned version`,
    ]);
    expect(report.unknown).toEqual([`vllm (${join(dir, 'vllm')})`]);
    // Non-Python wrappers are not asked at all.
    const shim = join(dir, 'shim');
    writeFileSync(shim, '#!/bin/sh\nexit 0\n');
    chmodSync(shim, 0o755);
    expect(await checkToolVersions([{ tool: 'lm_eval', executable: shim }], {})).toEqual({
      problems: [],
      versions: {},
      unknown: [],
    });
  });
});
