/**
 * `perf-eval report RESULTS_DIR [--baseline DIR] [-o FILE]` on results directories laid out like
 * `perf-eval run` writes them, with the real tool outputs from ../shared/reference/fixtures as the
 * bench and lm-eval result files.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Io } from '../lib/io.js';
import { run } from '../lib/main.js';
import type { RunSummary, TaskRecord } from '@perf-eval/run';

const FIXTURES = resolve(import.meta.dirname, '../../../../../shared/reference/fixtures');
const GSM8K = 'akamaslabs_gsm8k_platinum_cot_llama_results_2026-10-08T12-45-17.743940.json';

function testdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'perf-eval-report-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

async function cli(
  cwd: string,
  argv: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    env,
    cwd,
    signal: new AbortController().signal,
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

const T0 = Date.parse('2026-11-30T02:00:00Z');
const iso = (s: number): string => new Date(T0 + s * 1000).toISOString();

function taskRecord(
  kind: TaskRecord['kind'],
  name: string,
  status: TaskRecord['status'],
  from: number,
  to: number,
  extra: Partial<TaskRecord> = {},
): TaskRecord {
  return {
    id: `${kind}:${name}`,
    kind,
    name,
    status,
    startedAt: iso(from),
    finishedAt: iso(to),
    durationS: to - from,
    metrics: {},
    files: [],
    ...extra,
  };
}

/** A results dir: two bench concurrencies (real bench JSON), GSM8K (real lm-eval results file), a BFCL category, one failed task. */
function resultsDir(
  root: string,
  name: string,
  options: { swap?: boolean; vllmCommit?: string } = {},
): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'gsm8k', 'org__model'), { recursive: true });
  const [two, four] = options.swap
    ? ['er0080_sweep_run0_openai_e2el.json', 'er0080_bench_serve_v0.25.1.json']
    : ['er0080_bench_serve_v0.25.1.json', 'er0080_sweep_run0_openai_e2el.json'];
  copyFileSync(join(FIXTURES, 'vllm_bench', two), join(dir, 'bench-32-in-16-out-conc-2.json'));
  // Both fixtures ran at max_concurrency 2; the copy for the conc-4 run says 4, as a real conc-4 run would.
  const atFour = {
    ...(JSON.parse(readFileSync(join(FIXTURES, 'vllm_bench', four), 'utf8')) as Record<string, unknown>),
    max_concurrency: 4,
  };
  writeFileSync(join(dir, 'bench-32-in-16-out-conc-4.json'), JSON.stringify(atFour));
  const lmResults = join(dir, 'gsm8k', 'org__model', 'results_2026-11-30T02-05-00.json');
  // BFCL results as bfcl-runner writes them (lm-eval-shaped, acc with a placeholder 0.0 stderr).
  mkdirSync(join(dir, 'bfcl-simple_python'));
  writeFileSync(
    join(dir, 'bfcl-simple_python', 'results_2026-11-30T02-04-00.json'),
    JSON.stringify({
      results: { bfcl_simple_python: { 'acc,none': 0.955, 'acc_stderr,none': 0.0, alias: 'simple_python' } },
    }),
  );
  copyFileSync(join(FIXTURES, 'lm_eval', GSM8K), lmResults);
  const summary: RunSummary = {
    version: 1,
    workload: name,
    recipe: 'workloads/opt_125m_h200.yaml',
    gpu: 'H200',
    identity: { gpuCount: 2 },
    model: 'facebook/opt-125m',
    image: 'vllm/vllm-openai:nightly-0123456789abcdef',
    vllmCommit: options.vllmCommit ?? '0123456789abcdef0123456789abcdef01234567',
    runtime: 'docker',
    status: 'failed',
    startedAt: iso(0),
    finishedAt: iso(400),
    durationS: 400,
    server: { status: 'stopped', readyAfterS: 40 },
    tasks: [
      taskRecord('bench', '32-in-16-out-conc-2', 'ok', 40, 52, {
        files: [join(dir, 'bench-32-in-16-out-conc-2.json')],
      }),
      taskRecord('bench', '32-in-16-out-conc-4', 'ok', 52, 64, {
        files: [join(dir, 'bench-32-in-16-out-conc-4.json')],
      }),
      taskRecord('lm_eval', 'gsm8k_platinum_cot_llama', 'ok', 64, 300, { files: [lmResults] }),
      taskRecord('bfcl', 'simple_python', 'ok', 64, 200, { metrics: { 'accuracy:simple_python': 0.955 } }),
      taskRecord('bfcl', 'multiple', 'failed', 64, 90, {
        error: {
          code: 'E_BFCL_FAILED',
          message: 'bfcl failed with exit code 1',
          tail: ['Traceback (most recent call last):'],
        },
      }),
    ],
    ingest: { enabled: false, posted: 0, failed: 0, failures: [] },
  };
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
  mkdirSync(join(dir, '.ingest'));
  writeFileSync(
    join(dir, '.ingest', 'plan.json'),
    JSON.stringify({
      version: 1,
      context: {
        workload: name,
        env: { BUILDKITE_BUILD_URL: 'https://buildkite.com/vllm/perf-eval/builds/7' },
      },
      items: [],
    }),
  );
  return dir;
}

describe('perf-eval report', () => {
  it('writes RESULTS_DIR/report.html with every chart and its table, the failed task, the build link and the timeline', async () => {
    const root = testdir();
    const dir = resultsDir(root, 'opt-h200');
    const out = await cli(root, ['report', 'opt-h200']);
    expect(out).toEqual({ code: 0, stdout: `${join(dir, 'report.html')}\n`, stderr: '' });
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect([...html.matchAll(/data-chart="([a-z]+)"/g)].map((m) => m[1])).toEqual([
      'latency',
      'latency',
      'throughput',
      'pareto',
      'accuracy',
      'timeline',
    ]);
    expect(html).toContain('<a href="https://buildkite.com/vllm/perf-eval/builds/7" rel="noreferrer">');
    expect(html).toContain('H200 × 2');
    // Real numbers from the files: the GSM8K metric and its stderr interval, the bench TTFT p50.
    expect(html).toContain(
      '<td>gsm8k_platinum_cot_llama · exact_match,strict-match</td><td class="num">95.2%</td><td>94.0% – 96.4%',
    );
    expect(html).toContain('<td>TTFT p50</td><td class="num">55.68</td>');
    expect(html).toContain('<td>BFCL simple_python</td><td class="num">95.5%</td><td>—</td>');
    expect(html).toContain('<code>E_BFCL_FAILED</code> bfcl failed with exit code 1');
    expect(html).toContain(
      '<td>server start-up</td><td>server</td><td class="num">0</td><td class="num">40</td>',
    );
    expect(html).toContain('No baseline given');
  });

  it('--baseline DIR adds the comparison columns; -o writes elsewhere', async () => {
    const root = testdir();
    resultsDir(root, 'new');
    resultsDir(root, 'old', { swap: true, vllmCommit: 'fedcba9876543210fedcba9876543210fedcba98' });
    const out = await cli(root, ['report', 'new', '--baseline', 'old', '-o', 'out/page.html']);
    expect(out.code, out.stderr).toBe(0);
    const html = readFileSync(join(root, 'out', 'page.html'), 'utf8');
    expect(existsSync(join(root, 'new', 'report.html'))).toBe(false);
    expect(html).toContain('fedcba9876543210fedcba9876543210fedcba98');
    // conc-2: new 55.68 ms (bench fixture) vs baseline 44.92 ms (sweep fixture).
    expect(html).toContain(
      '<td>TTFT p50</td><td class="num">55.68</td><td class="num">44.92</td><td class="num"><span class="worse">+23.9%</span></td>',
    );
    expect(html).toContain('baseline output tok/s');
    // The verdict table comes from @perf-eval/verdicts: one row per (task, metric) with its reason.
    const verdicts = html.slice(
      html.indexOf('<section id="section-verdicts">'),
      html.indexOf('</section>', html.indexOf('<section id="section-verdicts">')),
    );
    expect(verdicts).not.toContain('No verdicts were computed');
    expect(verdicts).toContain('median_ttft_ms');
    expect(verdicts).toMatch(/regression|noisy|unchanged|not-comparable|insufficient/);
    // Same GSM8K file on both sides: Δ 0 points, z 0.
    expect(html).toMatch(
      /exact_match,strict-match<\/td><td class="num">95\.2%<\/td>.*?<td class="num">95\.2%<\/td>.*?<td class="num">\+?0\.0<\/td><td class="num">0<\/td>/,
    );
  });

  it('a partial run (still running, server failed, nothing written yet) still gets a page', async () => {
    const root = testdir();
    const dir = join(root, 'partial');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'summary.json'),
      JSON.stringify({
        version: 1,
        workload: 'partial',
        recipe: 'r.yaml',
        gpu: 'H200',
        model: 'm',
        image: '',
        vllmCommit: '',
        runtime: 'docker',
        status: 'running',
        startedAt: iso(0),
        server: {
          status: 'failed',
          error: {
            code: 'E_SERVER_EXITED',
            message: 'vLLM exited with code 1 while starting',
            tail: ['ValueError: <bad> & "worse"'],
          },
        },
        tasks: [
          {
            id: 'bench:a-conc-2',
            kind: 'bench',
            name: 'a-conc-2',
            status: 'skipped',
            reason: 'server not available',
            metrics: {},
            files: [],
          },
        ],
        ingest: { enabled: false, posted: 0, failed: 0, failures: [] },
      }),
    );
    const out = await cli(root, ['report', dir]);
    expect(out.code, out.stderr).toBe(0);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<span class="status status-other">running</span>');
    expect(html).toContain('ValueError: &lt;bad&gt; &amp; &quot;worse&quot;');
    expect(html).toContain('server not available');
    expect(html).not.toContain('data-chart=');
  });

  it('an upstream-layout directory without summary.json: the tasks with results, from the files alone', async () => {
    const root = testdir();
    const dir = resultsDir(root, 'upstream');
    rmSync(join(dir, 'summary.json'));
    const out = await cli(root, ['report', dir]);
    expect(out.code, out.stderr).toBe(0);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect([...html.matchAll(/data-chart="([a-z]+)"/g)].map((m) => m[1])).toEqual([
      'latency',
      'latency',
      'throughput',
      'pareto',
      'accuracy',
    ]);
    expect(html).toContain('<td>bench:32-in-16-out-conc-4</td><td><span class="status status-ok">ok</span>');
  });

  it('bad input: one line naming the file, the field and the fix; exit 2', async () => {
    const root = testdir();
    expect(await cli(root, ['report', 'missing'])).toEqual({
      code: 2,
      stdout: '',
      stderr: `${join(root, 'missing')}: no such directory; give a results/<name>/ directory written by 'perf-eval run'\n`,
    });
    mkdirSync(join(root, 'empty'));
    const empty = await cli(root, ['report', 'empty']);
    expect(empty.code).toBe(2);
    // No summary.json and no result files: the results package's error (exit 2, usage).
    expect(empty.stderr).toMatch(
      /^results .*\/empty: holds no bench-\*\.json.*; pass the results\/<name>\/ directory a run wrote\n$/,
    );
    mkdirSync(join(root, 'broken'));
    writeFileSync(join(root, 'broken', 'summary.json'), '{"workload": "x", "tasks": [');
    const broken = await cli(root, ['report', 'broken']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(
      /broken\/summary\.json: not valid JSON \(.+\); re-run 'perf-eval run' to rewrite it\n$/,
    );
    writeFileSync(
      join(root, 'broken', 'summary.json'),
      JSON.stringify({ workload: 'x', tasks: [{ id: 'a', kind: 'bench', name: 'a', status: 'exploded' }] }),
    );
    const field = await cli(root, ['report', 'broken']);
    expect(field.code).toBe(2);
    expect(field.stderr).toContain(
      "summary.json: field 'tasks[0].status' must be one of pending, running, ok, failed, skipped, cancelled;",
    );
    expect((await cli(root, ['report'])).code).toBe(2);
    expect((await cli(root, ['report', 'a', 'b'])).stderr).toContain(
      'expected exactly one RESULTS_DIR, got 2',
    );
  });

  it('a corrupt result file is shown as a validity flag beside what summary.json says, not a crash; secrets are scrubbed', async () => {
    const root = testdir();
    const dir = resultsDir(root, 'odd');
    writeFileSync(join(dir, 'bench-32-in-16-out-conc-4.json'), '{ not json');
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
    (summary.tasks[4] as TaskRecord).error = {
      code: 'E_BFCL_FAILED',
      message: 'auth failed for token hf_abcdef123456',
    };
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
    const out = await cli(root, ['report', dir], { HF_TOKEN: 'hf_abcdef123456' });
    expect(out.code, out.stderr).toBe(0);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toMatch(
      /<td>results<\/td><td>unreadable-results<\/td><td><span class="status status-invalid">invalid<\/span><\/td><td>[^<]*bench-32-in-16-out-conc-4\.json[^<]*not valid JSON/,
    );
    expect(html).not.toContain('hf_abcdef123456');
    expect(html).toContain('auth failed for token ***');
  });
});
