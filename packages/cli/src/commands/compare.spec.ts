import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, REPO } from '../../test/harness.js';

const FIXTURES = resolve(REPO, '../shared/reference/fixtures');
const BENCH = JSON.parse(
  readFileSync(join(FIXTURES, 'vllm_bench/er0080_bench_serve_v0.25.1.json'), 'utf8'),
) as Record<string, number>;
const LMEVAL = join(
  FIXTURES,
  'lm_eval/akamaslabs_gsm8k_platinum_cot_llama_results_2026-10-08T12-45-17.743940.json',
);

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function resultsDir(
  name: string,
  patch: Record<string, number> = {},
  options: { lmEval?: boolean } = {},
): string {
  const root = mkdtempSync(join(tmpdir(), 'perf-eval-compare-'));
  dirs.push(root);
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'bench-1k-conc-2.json'), JSON.stringify({ ...BENCH, ...patch }));
  if (options.lmEval !== false) {
    mkdirSync(join(dir, 'gsm8k', 'm'), { recursive: true });
    copyFileSync(LMEVAL, join(dir, 'gsm8k', 'm', 'results_2026-10-08T12-45-17.743940.json'));
  }
  return dir;
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function compare(...args: string[]): Promise<Outcome> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, 'compare', ...args],
      { env: { PATH: process.env['PATH'] ?? '' } },
      (error, stdout, stderr) => {
        done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

interface JsonRow {
  task: string;
  metric: string;
  base: number | null;
  new: number | null;
  deltaPct: number | null;
  better: string;
  verdict: string;
  reason: string;
}

describe('perf-eval compare', () => {
  it('A/A: nothing changed, exit 0 even with --fail-on regression', async () => {
    const a = resultsDir('a');
    const { code, stdout, stderr } = await compare(a, resultsDir('a'), '--fail-on', 'regression');
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toBe('compare a → a: 15 unchanged\nnothing changed (use --all to list every row)\n');
  });

  it('--json: the row contract for an injected throughput drop; --fail-on regression exits 1', async () => {
    const base = resultsDir('base');
    const fresh = resultsDir('new', { output_throughput: BENCH['output_throughput'] * 0.7 });
    const { code, stdout } = await compare(base, fresh, '--json', '--fail-on', 'regression');
    expect(code).toBe(1);
    const out = JSON.parse(stdout) as {
      rows: JsonRow[];
      counts: Record<string, number>;
      base: { runId: string };
    };
    expect(out.counts).toMatchObject({ regression: 1, unchanged: 14 });
    const row = out.rows[0] as JsonRow;
    expect(Object.keys(row).slice(0, 8)).toEqual([
      'task',
      'metric',
      'base',
      'new',
      'deltaPct',
      'better',
      'verdict',
      'reason',
    ]);
    expect(row).toMatchObject({
      task: 'bench:1k-conc-2',
      metric: 'output_throughput',
      base: BENCH['output_throughput'],
      better: 'higher',
      verdict: 'regression',
      method: 'floor',
    });
    expect(row.deltaPct).toBeCloseTo(-30, 10);
    expect(out.rows.find((r) => r.metric === 'exact_match,strict-match')).toMatchObject({
      task: 'lm_eval:gsm8k_platinum_cot_llama',
      verdict: 'unchanged',
    });
    expect((await compare(base, fresh)).code).toBe(0);
  });

  it('table: worst first, missing results listed, --all adds unchanged rows', async () => {
    const base = resultsDir('base', { mean_ttft_ms: 100 });
    const fresh = resultsDir('new', { mean_ttft_ms: 150 }, { lmEval: false });
    const { code, stdout } = await compare(base, fresh);
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe('compare base → new: 1 regression, 12 unchanged, 2 missing');
    expect(lines[3]).toMatch(/^regression +bench:1k-conc-2 +mean_ttft_ms +100 +150 +\+50\.0%/);
    expect(lines[4]).toMatch(
      /^missing +lm_eval:gsm8k_platinum_cot_llama +exact_match,flexible-extract .*NEW has no result/,
    );
    expect(lines.filter((l) => l.startsWith('unchanged'))).toHaveLength(0);
    expect(
      (await compare(base, fresh, '--all')).stdout.split('\n').filter((l) => l.startsWith('unchanged')),
    ).toHaveLength(12);
  });

  it('a history file as BASE: its latest run of the recipe is the baseline', async () => {
    const dir = resultsDir('demo');
    const history = join(dir, '..', 'history.jsonl');
    const series = [
      { task: 'bench:1k-conc-2', metric: 'output_throughput', better: 'higher', value: 100, values: [100] },
    ];
    const entry = (runId: string, value: number): string =>
      JSON.stringify({
        v: 1,
        identity: { runId, recipe: 'demo' },
        tasks: [
          {
            task: 'bench:1k-conc-2',
            kind: 'bench',
            configKey:
              '{"backend":"vllm","burstiness":1,"max_concurrency":2,"num_prompts":8,"request_rate":"inf"}',
            flags: [],
            files: [],
          },
        ],
        series: [{ ...series[0], value, values: [value] }],
      });
    writeFileSync(
      history,
      `${['h1', 'h2', 'h3', 'h4'].map((id, i) => entry(id, 82.9 + (i % 2) * 0.2)).join('\n')}\n`,
    );
    const { code, stdout } = await compare(history, dir, '--json');
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as {
      base: { runId: string };
      rows: (JsonRow & { method: string; evidence: { historyRuns: number } })[];
    };
    expect(out.base.runId).toBe('h4');
    expect(out.rows.find((r) => r.metric === 'output_throughput')).toMatchObject({
      method: 'history',
      verdict: 'unchanged',
      evidence: { historyRuns: 4 },
    });
    // Rows the history does not have are new.
    expect(out.rows.find((r) => r.metric === 'mean_ttft_ms')?.verdict).toBe('new');
  });

  it('bad input: one line, exit 2', async () => {
    const base = resultsDir('base');
    expect(await compare(base)).toEqual({
      code: 2,
      stdout: '',
      stderr:
        "perf-eval compare: expected BASE and NEW, got 1 argument(s) (see 'perf-eval compare --help')\n",
    });
    expect(await compare(base, '/nonexistent/x')).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'results /nonexistent/x: does not exist; pass the results/<name>/ directory a run wrote (or a history file)\n',
    });
    writeFileSync(join(base, 'bench-broken.json'), '{"output_throughput": ');
    const corrupt = await compare(base, resultsDir('new'));
    expect(corrupt.code).toBe(2);
    expect(corrupt.stderr).toMatch(
      /^result file .*bench-broken\.json: is not valid JSON .*; re-run the task or delete the file\n$/,
    );
    expect((await compare(base, base, '--fail-on', 'noise')).stderr).toBe(
      "perf-eval compare: --fail-on takes 'regression', got 'noise'\n",
    );
    const history = join(base, 'history.jsonl');
    writeFileSync(history, 'garbage\n');
    expect((await compare(history, resultsDir('new'))).stderr).toMatch(
      /^history .*history\.jsonl line 1: is not JSON/,
    );
  });
});
