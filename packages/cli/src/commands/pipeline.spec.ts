import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { exitCodeFor } from '../lib/exit-codes.js';
import { captureIo } from '../../test/capture-io.js';
import { run } from './pipeline.js';

const REPO = resolve(import.meta.dirname, '../../../..');
const SCHEMA = resolve(REPO, '../shared/reference/buildkite/pipeline-schema.json');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Calls the command like main.ts does: thrown errors become the mapped exit code and one stderr line. */
async function invoke(
  argv: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Outcome> {
  const { io, stdout, stderr } = captureIo({ env: options.env ?? {}, cwd: options.cwd ?? REPO });
  let code: number;
  try {
    code = await run(argv, io);
  } catch (error) {
    code = exitCodeFor(error).code;
    io.stderr.write(`${(error as Error).message}\n`);
  }
  return { code, stdout: stdout(), stderr: stderr() };
}

function tempRoot(recipes: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'perf-eval-pipeline-cli-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));
  mkdirSync(join(dir, 'workloads'));
  mkdirSync(join(dir, 'profiles'));
  copyFileSync(join(REPO, 'profiles/gpu_profiles.yaml'), join(dir, 'profiles/gpu_profiles.yaml'));
  for (const [name, text] of Object.entries(recipes)) writeFileSync(join(dir, 'workloads', name), text);
  return dir;
}

const RECIPE =
  'gpu: H200\nnightly: true\nvllm:\n  model: org/m\nvllm_bench:\n  configs:\n    - {name: a, input_len: 8, output_len: 8, num_prompts: 4, max_concurrency: 2}\n';

describe('perf-eval pipeline', () => {
  it('prints the nightly pipeline YAML on stdout', async () => {
    const out = await invoke([]);
    expect(out.code).toBe(0);
    const doc = parse(out.stdout) as { steps: Array<{ key: string }> };
    expect(doc.steps).toHaveLength(13);
    expect(doc.steps[0]?.key).toBe('wl-deepseek_v4_flash_b200');
    expect(out.stderr).toContain('warning: vllm_bench config');
  });

  it('--validate checks the Buildkite schema (path from env) and the lints', async () => {
    const out = await invoke(['--validate'], {
      env: { PERF_EVAL_BUILDKITE_SCHEMA: SCHEMA, WORKLOADS: 'qwen3_5_h200' },
    });
    expect(out.code).toBe(0);
    expect((parse(out.stdout) as { steps: unknown[] }).steps).toHaveLength(1);
  });

  it('--validate finds the schema at ../shared by default and fails clearly without it', async () => {
    expect((await invoke(['--validate'], { env: { WORKLOADS: 'qwen3_5_h200' } })).code).toBe(0);
    const missing = await invoke(['--validate', '--schema', '/nonexistent/schema.json'], {
      env: { WORKLOADS: 'qwen3_5_h200' },
    });
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe(
      'Buildkite pipeline schema not found at /nonexistent/schema.json (ENOENT); pass --schema PATH or set PERF_EVAL_BUILDKITE_SCHEMA\n',
    );
  });

  it('exits 2 for an unknown WORKLOADS entry, naming close matches, and warns about duplicates', async () => {
    const unknown = await invoke([], { env: { WORKLOADS: 'qwen3_5_h200,qwen3_5_h20' } });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      "WORKLOADS entry 'qwen3_5_h20' did not match any file in workloads/ (closest: qwen3_5_h200, qwen3_5_b200)\n",
    );
    const duplicate = await invoke([], { env: { WORKLOADS: 'qwen3_5_h200\nworkloads/qwen3_5_h200.yaml' } });
    expect(duplicate.code).toBe(0);
    expect(duplicate.stderr).toBe(
      "warning: WORKLOADS entry 'workloads/qwen3_5_h200.yaml' duplicates 'qwen3_5_h200' (workloads/qwen3_5_h200.yaml); running it once\n",
    );
  });

  it('exits 2 and prints every diagnostic when a selected recipe is invalid', async () => {
    const root = tempRoot({ 'good.yaml': RECIPE, 'bad.yaml': `${RECIPE}nigthly: true\n` });
    const out = await invoke([], { cwd: root });
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(
      /^workloads\/bad\.yaml:\d+:\d+: unknown field 'nigthly' \(did you mean 'nightly'\?\)\n1 selected recipe\(s\) invalid; no pipeline generated: /,
    );
    expect((await invoke([], { cwd: root, env: { WORKLOADS: 'good' } })).code).toBe(0);
  });

  it('fans a sweep out into one valid step per variant', async () => {
    const sweep = `${RECIPE}sweep:\n  serve_args:\n    --max-num-seqs: [64, 128]\n`;
    const root = tempRoot({ 'sw.yaml': sweep });
    const out = await invoke(['--validate'], {
      cwd: root,
      env: { WORKLOADS: 'sw', PERF_EVAL_BUILDKITE_SCHEMA: SCHEMA },
    });
    expect(out.code).toBe(0);
    const doc = parse(out.stdout) as { steps: Array<{ key: string; label: string; commands: string[] }> };
    expect(doc.steps.map((step) => [step.key, step.label])).toEqual([
      ['wl-sw--max-num-seqs-64', ':h200: sw--max-num-seqs-64'],
      ['wl-sw--max-num-seqs-128', ':h200: sw--max-num-seqs-128'],
    ]);
    expect(doc.steps[1]?.commands[1]).toMatch(
      /\.\/perf-eval run workloads\/sw\.yaml --variant sw--max-num-seqs-128$/,
    );
  });

  it('emits a parallel step for a multi-node recipe on a native profile and exits 2 on docker', async () => {
    const multi = (gpu: string) =>
      RECIPE.replace('gpu: H200', `gpu: ${gpu}`).replace(
        '  model: org/m\n',
        '  model: org/m\n  num_nodes: 2\n',
      );
    const root = tempRoot({ 'mn.yaml': multi('B200'), 'dk.yaml': multi('H200') });
    const out = await invoke(['--validate'], {
      cwd: root,
      env: { WORKLOADS: 'mn', PERF_EVAL_BUILDKITE_SCHEMA: SCHEMA },
    });
    expect(out.code).toBe(0);
    const doc = parse(out.stdout) as {
      steps: Array<{ key: string; parallelism: number; commands: string[] }>;
    };
    expect(doc.steps[0]).toMatchObject({ key: 'wl-mn', parallelism: 2 });
    expect(doc.steps[0]?.commands[1]).toContain('BUILDKITE_PARALLEL_JOB');
    const docker = await invoke([], { cwd: root, env: { WORKLOADS: 'dk' } });
    expect(docker.code).toBe(2);
    expect(docker.stdout).toBe('');
    expect(docker.stderr).toBe(
      "workloads/dk.yaml: multi-node serving (vllm.num_nodes: 2) needs a GPU profile with server_runtime native (Kubernetes pods with hostNetwork); profile 'H200' uses docker\n",
    );
  });

  it('--output writes the file atomically; --validate FILE re-checks it; a broken file gets per-step messages', async () => {
    const root = tempRoot({ 'a.yaml': RECIPE });
    const written = await invoke(['--validate', '--schema', SCHEMA, '--output', 'out.yaml'], { cwd: root });
    expect(written.code).toBe(0);
    expect(written.stdout).toBe('out.yaml\n');
    expect(written.stderr).toBe('wrote out.yaml: 1 step(s), 1 job(s), valid against the Buildkite schema\n');
    expect((await invoke(['--validate', '--schema', SCHEMA, 'out.yaml'], { cwd: root })).stderr).toBe(
      'ok out.yaml: 1 step(s), 1 job(s) pass the Buildkite schema and the lints\n',
    );
    const doc = parse(readFileSync(join(root, 'out.yaml'), 'utf8')) as {
      steps: Array<Record<string, unknown>>;
    };
    (doc.steps[0] as Record<string, unknown>)['timeout_in_minutes'] = 0;
    (doc.steps[0] as Record<string, unknown>)['retry'] = { automatic: true };
    writeFileSync(join(root, 'broken.yaml'), stringify(doc));
    const broken = await invoke(['--validate', '--schema', SCHEMA, 'broken.yaml'], { cwd: root });
    expect(broken.code).toBe(2);
    expect(broken.stderr.split('\n')).toEqual([
      'steps[0] (:h200: a): /timeout_in_minutes must be >= 1',
      'steps[0] (:h200: a): retry.automatic: true retries every failure; list the lost-agent rules instead',
      'steps[0] (:h200: a): timeout_in_minutes must be an integer >= 1, got 0',
      'perf-eval pipeline: 3 problem(s); nothing was written',
      '',
    ]);
  });

  it('beyond 450 jobs: --output writes one file per upload and prints them in order; stdout alone is refused', async () => {
    const sweep =
      'sweep:\n  serve_args:\n    --a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]\n    --b: [1, 2, 3, 4]\n';
    const recipes: Record<string, string> = {};
    for (let i = 0; i < 8; i++) recipes[`r${i}.yaml`] = `name: r${i}\n${RECIPE}${sweep}`;
    const root = tempRoot(recipes);
    const refused = await invoke([], { cwd: root });
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(
      "perf-eval pipeline: 512 jobs need 2 uploads of at most 450 jobs; pass --output FILE to write one file per upload (see 'perf-eval pipeline --help')",
    );

    const written = await invoke(['--validate', '--schema', SCHEMA, '--output', 'out/p.yaml'], { cwd: root });
    expect(written.code, written.stderr).toBe(0);
    expect(written.stdout).toBe('out/p.1.yaml\nout/p.2.yaml\n');
    expect(written.stderr).toBe(
      'wrote out/p.1.yaml (upload 1/2): 450 step(s), 450 job(s), valid against the Buildkite schema\n' +
        'wrote out/p.2.yaml (upload 2/2): 62 step(s), 62 job(s), valid against the Buildkite schema\n',
    );
    const uploads = ['out/p.1.yaml', 'out/p.2.yaml'].map(
      (file) => parse(readFileSync(join(root, file), 'utf8')) as { steps: Array<{ key: string }> },
    );
    expect(uploads.map((upload) => upload.steps.length)).toEqual([450, 62]);
    expect(uploads[1]?.steps[0]?.key).toBe('wl-r7--a-1--b-3');

    // Re-checking the files together also checks keys across them.
    expect(
      (await invoke(['--validate', '--schema', SCHEMA, 'out/p.1.yaml', 'out/p.2.yaml'], { cwd: root })).code,
    ).toBe(0);
    const twice = await invoke(['--validate', '--schema', SCHEMA, 'out/p.1.yaml', 'out/p.1.yaml'], {
      cwd: root,
    });
    expect(twice.code).toBe(2);
    expect(twice.stderr.split('\n')[0]).toBe(
      "upload 2/2: steps[0]: key 'wl-r0--a-1--b-1' is already used in upload 1",
    );
    expect((await invoke(['out/p.1.yaml'], { cwd: root })).stderr).toContain(
      'FILE arguments need --validate',
    );
  });

  it('--escape-dollars doubles every $ for an upload with interpolation', async () => {
    const out = await invoke(['--escape-dollars'], {
      env: { WORKLOADS: 'qwen3_5_h200', VLLM_IMAGE: 'img:$TAG' },
    });
    expect(out.code).toBe(0);
    const [step] = (
      parse(out.stdout) as { steps: Array<{ env: Record<string, string>; commands: string[] }> }
    ).steps;
    expect(step?.env).toEqual({ VLLM_IMAGE: 'img:$$TAG' });
    expect(step?.commands[1]).toContain('"$$(buildkite-agent secret get INGEST_BEARER_TOKEN)"');
  });

  it('rejects bad flag combinations and unknown flags with usage errors', async () => {
    expect(await invoke(['file.yaml'])).toMatchObject({
      code: 2,
      stderr: "perf-eval pipeline: FILE arguments need --validate (see 'perf-eval pipeline --help')\n",
    });
    expect(await invoke(['--schema', 'x.json'])).toMatchObject({
      code: 2,
      stderr: 'perf-eval pipeline: --schema needs --validate\n',
    });
    expect((await invoke(['--bogus'])).code).toBe(2);
    const help = await invoke(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: perf-eval pipeline /);
  });
});
