/**
 * The README quick start, for real: `perf-eval run workloads/demo_sim.yaml` with the pinned tools
 * from `perf-eval setup` (global setup) against llm-d-inference-sim — then a server crash in the
 * accuracy phase and a SIGTERM, checked by pid. Timings are printed (never asserted, except the 5 s
 * teardown bound the brief sets for SIGTERM).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  cliEnv,
  DEMO,
  freePort,
  isAlive,
  PROFILES,
  readJson,
  readSummary,
  resultsRoot,
  simulatorPids,
  startCli,
  variantRecipe,
  waitFor,
  walk,
  type SummaryJson,
} from './helpers.js';
import { checkReportInBrowser, expectPrinted } from './report-check.js';

const BENCH_RUNS = ['64-in-16-out-conc-2', '64-in-16-out-conc-4'];
const BFCL = ['simple_java', 'simple_javascript'];
const report = (line: string): void => {
  process.stdout.write(`e2e: ${line}\n`);
};

describe('demo_sim.yaml with the real tools', () => {
  it('runs the whole recipe: bench, lm_eval, BFCL, summary, ingest plan; dry-run ingest prints the payloads', async () => {
    const root = resultsRoot();
    const port = await freePort();
    const cli = startCli(
      ['run', DEMO, '--results-dir', root, '--no-ingest'],
      cliEnv({ VLLM_PORT: String(port) }),
    );
    const out = await cli.done;
    report(`demo run: exit ${out.code} in ${out.wallS.toFixed(1)} s`);
    expect(out.code, cli.output().slice(-6000)).toBe(0);
    expect(out.stdout).toContain(`results: ${join(root, 'demo-sim')}/summary.md`);
    expect(simulatorPids(port)).toEqual([]);

    const dir = join(root, 'demo-sim');
    // Bench: one validated result per concurrency; the simulator honours ignore_eos, so exact counts.
    for (const run of BENCH_RUNS) {
      const result = readJson(join(dir, `bench-${run}.json`));
      expect(result['completed'], run).toBe(20);
      expect(result['failed'] ?? 0, run).toBe(0);
      expect(result['total_output_tokens'], run).toBe(20 * 16);
      expect(typeof result['output_throughput']).toBe('number');
    }

    // lm_eval: results + samples under gsm8k_local/<model>/.
    const lmFiles = walk(join(dir, 'gsm8k_local'));
    const resultsFile = lmFiles.find((f) => /results_.*\.json$/.test(f));
    expect(resultsFile, lmFiles.join(', ')).toBeDefined();
    expect(lmFiles.some((f) => /samples_gsm8k_local_.*\.jsonl$/.test(f))).toBe(true);
    const lm = readJson<{
      results: Record<string, Record<string, unknown>>;
      config: Record<string, unknown>;
    }>(join(dir, 'gsm8k_local', resultsFile as string));
    expect(Object.keys(lm.results)).toEqual(['gsm8k_local']);
    expect(typeof lm.results['gsm8k_local']?.['exact_match,strict-match']).toBe('number');
    expect(typeof lm.results['gsm8k_local']?.['exact_match,flexible-extract']).toBe('number');

    // BFCL: lm-eval-shaped results per category + the ingest manifest.
    for (const category of BFCL) {
      const files = walk(join(dir, `bfcl-${category}`)).filter((f) => /^results_.*\.json$/.test(f));
      expect(files.length, category).toBeGreaterThanOrEqual(1);
      const doc = readJson<{ results: Record<string, Record<string, unknown>> }>(
        join(dir, `bfcl-${category}`, files[0] as string),
      );
      const metrics = Object.values(doc.results)[0] ?? {};
      expect(typeof metrics['acc,none'], category).toBe('number');
      expect(readFileSync(join(dir, '.bfcl_ingest', `${category}.txt`), 'utf8')).toContain(category);
    }

    expect(statSync(join(dir, 'server.log')).size).toBeGreaterThan(0);
    const summary = readSummary(dir) as SummaryJson;
    expect(summary.status).toBe('ok');
    expect(summary.runtime).toBe('sim');
    expect(summary.server.status).toBe('stopped');
    expect(summary.tasks.map((t) => t.id).sort()).toEqual(
      [...BENCH_RUNS.map((r) => `bench:${r}`), 'lm_eval:gsm8k_local', ...BFCL.map((c) => `bfcl:${c}`)].sort(),
    );
    for (const task of summary.tasks)
      expect(task.status, `${task.id}: ${JSON.stringify(task.error ?? task.reason)}`).toBe('ok');
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain('demo-sim');
    expect(existsSync(join(dir, '.ingest', 'plan.json'))).toBe(true);

    // The HTML report of this run, in headless Chromium: offline, no errors, every chart with the
    // numbers of the result files in its table, a screenshot next to it (report.png).
    expect(out.stdout).toContain(`report: ${join(dir, 'report.html')}`);
    const page = await checkReportInBrowser(dir);
    const charts = page.charts;
    expect(charts.map((c) => c.kind)).toEqual([
      'latency',
      'latency',
      'throughput',
      'pareto',
      'accuracy',
      'timeline',
    ]);
    const cell = (rows: string[][], first: string, column: number): string | undefined =>
      rows.find((r) => r[0] === first)?.[column];
    for (const [i, run] of BENCH_RUNS.entries()) {
      const result = readJson<Record<string, number>>(join(dir, `bench-${run}.json`));
      const latency = charts[i] as (typeof charts)[number];
      expect(latency.texts).toContain('TTFT p50');
      expectPrinted(cell(latency.rows, 'TTFT p50', 1), result['median_ttft_ms'] as number, `${run} TTFT p50`);
      expectPrinted(cell(latency.rows, 'ITL p99', 1), result['p99_itl_ms'] as number, `${run} ITL p99`);
      const throughput = charts[2]?.rows.find((r) => r[1] === String(result['max_concurrency']));
      expectPrinted(throughput?.[2], result['output_throughput'] as number, `${run} output tok/s`);
    }
    const accuracy = charts[4]?.rows ?? [];
    const gsm8k = lm.results['gsm8k_local']?.['exact_match,strict-match'] as number;
    expectPrinted(
      accuracy.find((r) => r[1] === 'gsm8k_local · exact_match,strict-match')?.[2],
      gsm8k * 100,
      'gsm8k %',
    );
    for (const category of BFCL)
      expect(
        accuracy.some((r) => r[1] === `BFCL ${category}`),
        category,
      ).toBe(true);
    const phases = (charts[5]?.rows ?? []).map((r) => r[0]);
    expect(phases).toEqual(expect.arrayContaining(['server launch', ...summary.tasks.map((t) => t.id)]));
    report(`report: ${page.bytes} bytes, ${charts.length} charts, screenshot ${page.screenshot}`);

    // Dry-run ingestion: payloads as JSON lines on stdout, nothing posted (no token in the env).
    const ingest = startCli(['ingest', dir, '--dry-run'], cliEnv());
    const ingested = await ingest.done;
    expect(ingested.code, ingested.stderr).toBe(0);
    const payloads = ingested.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const perf = payloads.filter((p) => 'conc' in p);
    const results = payloads.filter((p) => p['kind'] === 'results');
    expect(perf.map((p) => p['conc']).sort()).toEqual([2, 4]);
    expect(
      results.map((p) => (p['md'] as Record<string, unknown> | undefined)?.['task'] ?? p['task']).length,
    ).toBeGreaterThanOrEqual(1 + BFCL.length);
    expect(ingested.stderr).toMatch(/ingest: \d+ payload\(s\) printed/);
    report(
      `dry-run ingest: ${payloads.length} payloads (${perf.length} perf rows, ${results.length} results events)`,
    );
  });

  it('a simulator crash during the accuracy phase ends the run quickly with the diagnosis; earlier results stay', async () => {
    const root = resultsRoot();
    const port = await freePort();
    const recipe = variantRecipe(root, 'demo-sim-crash');
    const cli = startCli(
      ['run', recipe, '--profiles', PROFILES, '--results-dir', root, '--no-ingest'],
      cliEnv({ VLLM_PORT: String(port) }),
    );
    const dir = join(root, 'demo-sim-crash');
    await waitFor(
      () =>
        readSummary(dir)?.tasks.some(
          (t) => (t.kind === 'lm_eval' || t.kind === 'bfcl') && t.status === 'running',
        ),
      'an accuracy task running',
      10 * 60_000,
    );
    const [pid] = simulatorPids(port);
    expect(pid, 'simulator pid').toBeDefined();
    const killedAt = Date.now();
    process.kill(pid as number, 'SIGKILL');
    const out = await cli.done;
    const afterKillS = (Date.now() - killedAt) / 1000;
    report(
      `crash: run ended ${afterKillS.toFixed(1)} s after the simulator was killed (exit ${out.code}); ${out.stderr
        .split('\n')
        .find((l) => l.includes('- server:'))
        ?.trim()}`,
    );
    expect(out.code, cli.output().slice(-6000)).toBe(1);
    expect(out.stderr).toContain('+++ :rotating_light: run failed');
    expect(out.stderr).toMatch(/- server: .+/);

    const summary = readSummary(dir) as SummaryJson;
    expect(summary.status).toBe('failed');
    expect(summary.server.status).toBe('failed');
    expect(summary.server.error?.message).toBeTruthy();
    const bench = summary.tasks.find((t) => t.id === 'bench:64-in-16-out-conc-2');
    expect(bench?.status).toBe('ok');
    expect(readJson(join(dir, 'bench-64-in-16-out-conc-2.json'))['completed']).toBe(20);
    for (const task of summary.tasks.filter((t) => t.kind !== 'bench'))
      expect(['failed', 'skipped'], task.id).toContain(task.status);
    expect(
      summary.tasks.some((t) => t.status === 'failed' && /^server died/.test(t.error?.message ?? '')),
    ).toBe(true);
  });

  it('SIGTERM to perf-eval run stops the simulator within 5 s and exits 143', async () => {
    const root = resultsRoot();
    const port = await freePort();
    const recipe = variantRecipe(root, 'demo-sim-term', { bench: false });
    const cli = startCli(
      ['run', recipe, '--profiles', PROFILES, '--results-dir', root, '--no-ingest'],
      cliEnv({ VLLM_PORT: String(port) }),
    );
    const dir = join(root, 'demo-sim-term');
    await waitFor(
      () => readSummary(dir)?.tasks.some((t) => t.status === 'running'),
      'a task running',
      10 * 60_000,
    );
    const [pid] = simulatorPids(port);
    expect(pid, 'simulator pid').toBeDefined();
    const sentAt = Date.now();
    cli.child.kill('SIGTERM');
    const goneAfterMs = await waitFor(
      () => (!isAlive(pid as number) ? Date.now() - sentAt : false),
      'simulator gone',
      5_000,
      20,
    );
    const out = await cli.done;
    report(
      `SIGTERM: simulator gone after ${goneAfterMs} ms, perf-eval exited after ${((Date.now() - sentAt) / 1000).toFixed(1)} s (exit ${out.code})`,
    );
    expect(out.code, cli.output().slice(-6000)).toBe(143);
    expect(out.stderr).toContain('perf-eval: received SIGTERM');
    expect(simulatorPids(port)).toEqual([]);
    expect(readSummary(dir)?.status).toBe('cancelled');
  });
});
