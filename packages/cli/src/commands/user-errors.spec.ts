/**
 * Hostile or mistaken input through the real CLI process (`node dist/bin.js`, build first): every case
 * ends with one clear line on stderr and exit 2 — no stack trace, no hang. How fast and how small each
 * case stays is measured by packages/workload-schema/bench/hostile.mjs, not asserted here.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, PROFILES, REPO } from '../../test/harness.js';

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'perf-eval-user-errors-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

/** Run the CLI; a process still alive after 20 s is killed (SIGKILL: a blocked read ignores SIGTERM) and reported. */
function cli(args: string[], cwd: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    // No colour variables: NO_COLOR next to a FORCE_COLOR inherited from nx makes Node print a warning.
    const env: Record<string, string | undefined> = { ...process.env, PERF_EVAL_PROFILES: '' };
    delete env['FORCE_COLOR'];
    delete env['NO_COLOR'];
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `perf-eval ${args.join(' ')} still running after 20 s; stderr so far: ${stderr.slice(0, 500)}`,
        ),
      );
    }, 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function stderrLines(out: Outcome): string[] {
  return out.stderr.split('\n').filter((line) => line !== '');
}

function expectOneLine(out: Outcome, line: string | RegExp): void {
  const lines = stderrLines(out);
  expect(lines).toHaveLength(1);
  if (typeof line === 'string') expect(lines[0]).toBe(line);
  else expect(lines[0]).toMatch(line);
  expect(out.stderr).not.toMatch(/\n\s+at |internal error/);
  expect(out.code).toBe(2);
}

const ALIAS_BOMB = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'
    .split('')
    .map((name, i) => `${name}: &${name} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`),
].join('\n');

describe('hostile recipe and profile files (issue 12 item 3)', () => {
  const cases: [string, (dir: string) => string, (path: string) => string | RegExp][] = [
    [
      'a 380-byte alias bomb',
      (dir) => (writeFileSync(join(dir, 'bomb.yaml'), ALIAS_BOMB), join(dir, 'bomb.yaml')),
      (path) =>
        new RegExp(
          `^${path}:\\d+:\\d+: invalid YAML: aliases expand to more than 10000 nodes \\(an alias bomb\\?\\); write the values out or use fewer aliases$`,
        ),
    ],
    [
      'a 50 MB recipe',
      (dir) => (
        writeFileSync(join(dir, 'big.yaml'), ''),
        truncateSync(join(dir, 'big.yaml'), 50 * 1024 * 1024),
        join(dir, 'big.yaml')
      ),
      (path) =>
        `cannot read recipe ${path}: is 50 MiB, above the 1 MiB limit; a recipe is a few KB; check that this is the right file`,
    ],
    [
      '100k-deep nesting',
      (dir) => (
        writeFileSync(join(dir, 'deep.yaml'), `gpu: [${'['.repeat(100_000)}${']'.repeat(100_000)}]\n`),
        join(dir, 'deep.yaml')
      ),
      (path) => `${path}:1:72: invalid YAML: nested deeper than 64 levels; flatten the document`,
    ],
    [
      '/dev/zero',
      () => '/dev/zero',
      () =>
        'cannot read recipe /dev/zero: is a character device, not a regular file; give a recipe file (YAML on disk)',
    ],
    [
      'a FIFO',
      (dir) => (execFileSync('mkfifo', [join(dir, 'fifo.yaml')]), join(dir, 'fifo.yaml')),
      (path) =>
        `cannot read recipe ${path}: is a FIFO (named pipe), not a regular file; give a recipe file (YAML on disk)`,
    ],
    [
      'a directory',
      (dir) => (mkdirSync(join(dir, 'recipes')), join(dir, 'recipes')),
      (path) =>
        `cannot read recipe ${path}: is a directory; give a recipe file, or 'perf-eval validate DIR' to check every recipe in it`,
    ],
  ];

  it.each(cases)('plan on %s: one line, exit 2', async (_name, make, expected) => {
    const dir = tempDir();
    const path = make(dir);
    expectOneLine(await cli(['plan', path, '--profiles', PROFILES], dir), expected(path));
  });

  it.each([
    ['/dev/zero', () => '/dev/zero', 'is a character device, not a regular file'],
    [
      'a FIFO',
      (dir: string) => (execFileSync('mkfifo', [join(dir, 'profiles.yaml')]), join(dir, 'profiles.yaml')),
      'is a FIFO (named pipe), not a regular file',
    ],
    [
      'an alias bomb',
      (dir: string) => (writeFileSync(join(dir, 'profiles.yaml'), ALIAS_BOMB), join(dir, 'profiles.yaml')),
      /./,
    ],
  ] as const)('a profiles file that is %s: one line, exit 2', async (_name, make, reason) => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'r.yaml'),
      'gpu: H200\nvllm: {model: m}\nvllm_bench: {configs: [{name: a, input_len: 1, output_len: 1, num_prompts: 1, max_concurrency: 1}]}\n',
    );
    const profiles = make(dir);
    const out = await cli(['plan', 'r.yaml', '--profiles', profiles], dir);
    if (typeof reason === 'string')
      expectOneLine(
        out,
        `cannot read GPU profiles file ${profiles}: ${reason}; pass --profiles PATH or set PERF_EVAL_PROFILES`,
      );
    else expectOneLine(out, /^.*profiles\.yaml:\d+:\d+: aliases expand to more than 10000 nodes/);
  });

  it('validate reports the FIFO and goes on with the other files', async () => {
    const dir = tempDir();
    execFileSync('mkfifo', [join(dir, 'fifo.yaml')]);
    const out = await cli(
      ['validate', 'fifo.yaml', join(REPO, 'workloads/demo_sim.yaml'), '--profiles', PROFILES],
      dir,
    );
    expect(stderrLines(out)).toEqual([
      'cannot read recipe fifo.yaml: is a FIFO (named pipe), not a regular file; give a recipe file (YAML on disk)',
      '2 recipe(s): 1 valid, 1 invalid, 0 warning(s)',
    ]);
    expect(out.code).toBe(2);
  });
});

describe('user errors: one line and exit 2, not a stack (issue 12 item 7)', () => {
  it("plan --server-url 'not a url'", async () => {
    const out = await cli(['plan', 'workloads/demo_sim.yaml', '--server-url', 'not a url'], REPO);
    expectOneLine(
      out,
      "perf-eval plan: --server-url must be an http(s) URL like http://127.0.0.1:8000, got 'not a url'",
    );
  });

  it('run --server-url with a non-http scheme', async () => {
    const out = await cli(['run', 'workloads/demo_sim.yaml', '--server-url', 'ftp://x', '--no-ingest'], REPO);
    expectOneLine(
      out,
      "perf-eval run: --server-url must be an http(s) URL like http://127.0.0.1:8000, got 'ftp://x'",
    );
  });

  it('pipeline --output <a directory>', async () => {
    const dir = tempDir();
    const out = await cli(['pipeline', '--output', dir], REPO);
    expectOneLine(
      out,
      `perf-eval pipeline: --output ${dir} is a directory; give a file path such as ${dir}/pipeline.yaml`,
    );
  });

  it('pipeline --output under a file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), '');
    const out = await cli(['pipeline', '--output', join(dir, 'file', 'p.yaml')], REPO);
    expectOneLine(
      out,
      `perf-eval pipeline: cannot write --output ${join(dir, 'file', 'p.yaml')}: ${join(dir, 'file')} is a file, not a directory`,
    );
  });

  it('pipeline --validate <a FIFO>', async () => {
    const dir = tempDir();
    execFileSync('mkfifo', [join(dir, 'p.yaml')]);
    const out = await cli(['pipeline', '--validate', join(dir, 'p.yaml')], REPO);
    expectOneLine(
      out,
      `perf-eval pipeline: cannot read ${join(dir, 'p.yaml')}: is a FIFO (named pipe), not a regular file`,
    );
  });

  it('setup --tools-dir <a path under a file>', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'afile'), '');
    const out = await cli(['setup', '--only', 'sim', '--tools-dir', join(dir, 'afile', 'tools')], dir);
    expectOneLine(
      out,
      `perf-eval setup: cannot use --tools-dir ${join(dir, 'afile', 'tools')} as the tools directory: ${join(dir, 'afile')} is a file, not a directory, so nothing can be created under it; choose another directory`,
    );
    expect(out.stdout).toBe('');
  });

  it('a mistyped flag gets a did-you-mean', async () => {
    const out = await cli(['validate', '--profile', PROFILES], REPO);
    expectOneLine(
      out,
      "perf-eval validate: Unknown option '--profile' (did you mean '--profiles'?) (see 'perf-eval validate --help')",
    );
    const run = await cli(['run', 'x.yaml', '--result-dir', 'r'], REPO);
    expectOneLine(
      run,
      "perf-eval run: Unknown option '--result-dir' (did you mean '--results-dir'?) (see 'perf-eval run --help')",
    );
  });

  it('validate DIR validates the recipes in DIR', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'recipes'));
    writeFileSync(
      join(dir, 'recipes', 'a.yaml'),
      'gpu: H200\nvllm: {model: m}\nvllm_bench: {configs: [{name: a, input_len: 1, output_len: 1, num_prompts: 1, max_concurrency: 1}]}\n',
    );
    writeFileSync(
      join(dir, 'recipes', 'b.yaml'),
      'gpu: H201\nvllm: {model: m}\nvllm_bench: {configs: [{name: a, input_len: 1, output_len: 1, num_prompts: 1, max_concurrency: 1}]}\n',
    );
    writeFileSync(join(dir, 'recipes', 'notes.txt'), 'not a recipe');
    const out = await cli(['validate', 'recipes', '--profiles', PROFILES], dir);
    expect(out.stdout).toBe(`ok ${join('recipes', 'a.yaml')}\n`);
    expect(stderrLines(out)).toEqual([
      `${join('recipes', 'b.yaml')}:1:6: unknown gpu 'H201' in ${PROFILES} (have H200, B200, MI300X, MI355X, SIM) (did you mean 'H200'?)`,
      '2 recipe(s): 1 valid, 1 invalid, 0 warning(s)',
    ]);
    expect(out.code).toBe(2);
  });

  it('validate of an empty directory says so', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'empty'));
    const out = await cli(['validate', 'empty', '--profiles', PROFILES], dir);
    expect(stderrLines(out)).toEqual([
      'empty: no *.yaml recipes in this directory',
      '0 recipe(s): 0 valid, 0 invalid, 0 warning(s)',
    ]);
    expect(out.code).toBe(2);
  });
});
