import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, PACKAGES, REPO } from '../../test/harness.js';

/** results' contract-faithful fake of the Buildkite REST API (a real HTTP server on 127.0.0.1). */
const FAKE_BUILDKITE = resolve(PACKAGES, 'results/test/fixtures/fake-buildkite.mjs');
const BENCH = readFileSync(
  resolve(REPO, '../shared/reference/fixtures/vllm_bench/er0080_bench_serve_v0.25.1.json'),
  'utf8',
);
const TOKEN = 'bkua_history_import_secret';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'perf-eval-history-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function entry(runId: string, recipe: string): string {
  return JSON.stringify({ v: 1, identity: { runId, recipe }, tasks: [], series: [] });
}

async function fakeBuildkite(dir: string): Promise<string> {
  const config = join(dir, 'fake.json');
  writeFileSync(
    config,
    JSON.stringify({
      token: TOKEN,
      org: 'vllm',
      pipeline: 'perf-eval',
      builds: [{ number: 41, branch: 'main', state: 'passed' }],
      artifacts: {
        '41': [
          {
            path: 'results/demo/history.jsonl',
            content: `${entry('build-40', 'demo')}\n${entry('build-41', 'demo')}\n`,
          },
        ],
        '42': [],
      },
    }),
  );
  const child: ChildProcess = spawn(process.execPath, [FAKE_BUILDKITE, config], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanup.push(() => child.kill('SIGTERM'));
  const line = await new Promise<string>((done) =>
    child.stdout?.once('data', (chunk: Buffer) => done(chunk.toString())),
  );
  return (JSON.parse(line) as { api: string }).api;
}

function history(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, 'history', ...args],
      { cwd, env: { PATH: process.env['PATH'] ?? '', ...env } },
      (error, stdout, stderr) => {
        done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('perf-eval history import', () => {
  it('--build downloads the history artifact through the API and merges it; the token is never printed', async () => {
    const dir = tempDir();
    const api = await fakeBuildkite(dir);
    writeFileSync(join(dir, 'history.jsonl'), `${entry('build-39', 'demo')}\n${entry('build-40', 'demo')}\n`);
    const env = { BUILDKITE_API_TOKEN: TOKEN, BUILDKITE_API_URL: api };
    const out = await history(
      ['import', '--build', 'https://buildkite.com/vllm/perf-eval/builds/41'],
      dir,
      env,
    );
    expect(out).toEqual({
      code: 0,
      stdout: '',
      stderr: `history: 2 run(s) of 1 recipe(s) from build 41 (results/demo/history.jsonl) → ${join(dir, 'history.jsonl')} (3 run(s) kept)\n`,
    });
    const ids = readFileSync(join(dir, 'history.jsonl'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { identity: { runId: string } }).identity.runId);
    expect(ids).toEqual(['build-39', 'build-40', 'build-41']);
    // A build without a history artifact, or no token at all: a warning, exit 0.
    const none = await history(['import', '--build', '42', '--out', 'h.jsonl'], dir, {
      ...env,
      BUILDKITE_ORGANIZATION_SLUG: 'vllm',
      BUILDKITE_PIPELINE_SLUG: 'perf-eval',
    });
    expect(none).toEqual({
      code: 0,
      stdout: '',
      stderr: 'warning: nothing imported: build 42 of vllm/perf-eval has no history.jsonl artifact\n',
    });
    const noToken = await history(
      ['import', '--build', 'https://buildkite.com/vllm/perf-eval/builds/41'],
      dir,
      { BUILDKITE_API_URL: api },
    );
    expect(noToken).toEqual({
      code: 0,
      stdout: '',
      stderr:
        'warning: nothing imported: no BUILDKITE_API_TOKEN and no buildkite-agent (outside a Buildkite job)\n',
    });
    // A rejected token fails (exit 1) with the scopes to check, never the token.
    const rejected = await history(
      ['import', '--build', 'https://buildkite.com/vllm/perf-eval/builds/41'],
      dir,
      { BUILDKITE_API_TOKEN: 'bkua_wrong', BUILDKITE_API_URL: api },
    );
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toMatch(
      /HTTP 401: the token was rejected; it needs the read_builds and read_artifacts scopes\n$/,
    );
    expect(rejected.stderr).not.toContain('bkua_wrong');
  });

  it('--results imports a results directory (its history plus the run)', async () => {
    const dir = tempDir();
    const results = join(dir, 'results', 'demo');
    mkdirSync(results, { recursive: true });
    writeFileSync(join(results, 'bench-a.json'), BENCH);
    writeFileSync(join(results, 'history.jsonl'), `${entry('older', 'demo')}\n`);
    const out = await history(['import', '--results', 'results/demo', '--out', 'all.jsonl'], dir);
    expect(out.code).toBe(0);
    const lines = readFileSync(join(dir, 'all.jsonl'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { identity: { runId: string }; series: unknown[] });
    expect(lines.map((l) => l.identity.runId)).toEqual(['older', 'demo']);
    expect(lines[1]?.series.length).toBe(14);
  });

  it('bad arguments exit 2', async () => {
    const dir = tempDir();
    expect(await history(['import'], dir)).toMatchObject({
      code: 2,
      stderr:
        "perf-eval history import: pass exactly one of --build and --results (see 'perf-eval history --help')\n",
    });
    expect((await history(['export'], dir)).code).toBe(2);
    expect(await history(['import', '--build', 'latest'], dir)).toMatchObject({
      code: 2,
      stderr:
        "Buildkite build 'latest': expected a build number or a URL like https://buildkite.com/<org>/<pipeline>/builds/<number>\n",
    });
  });
});
