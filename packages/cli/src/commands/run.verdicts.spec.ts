import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliEnv, freePort, readSummary, runCli, sandbox, simRecipe } from '../../test/harness.js';

interface VerdictsJson {
  baseline: string;
  counts: Record<string, number>;
  rows: { task: string; metric: string; verdict: string }[];
}

describe('perf-eval run: history, --baseline verdicts and gates (sim runtime, faked tools)', () => {
  it('writes history.jsonl, compares a second run with the first, and records verdicts in summary.json/md', async () => {
    const box = sandbox();
    const port = await freePort();
    const recipe = box.recipe(simRecipe('again', { bfcl: null }));
    const first = await runCli(box, ['run', recipe], cliEnv(box, port));
    expect(first.code).toBe(0);
    const dir = box.resultsDir('again');
    const summary1 = readSummary(dir) as unknown as { identity: Record<string, unknown>; verdicts?: unknown };
    expect(summary1.identity).toMatchObject({
      gpuCount: 1,
      serveArgs: ['--tool-call-parser', 'openai', '--enable-auto-tool-choice'],
      nightly: false,
    });
    expect(summary1.identity['recipeHash']).toMatch(/^[0-9a-f]{64}$/);
    expect(summary1.verdicts).toBeUndefined();
    expect(readFileSync(join(dir, 'history.jsonl'), 'utf8').trimEnd().split('\n')).toHaveLength(1);

    // The baseline is the first run's history (the results dir is about to be overwritten).
    const baseline = box.path('baseline-history.jsonl');
    const { copyFileSync } = await import('node:fs');
    copyFileSync(join(dir, 'history.jsonl'), baseline);
    const second = await runCli(box, ['run', recipe, '--baseline', baseline], cliEnv(box, port));
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`--- :bar_chart: verdicts vs ${baseline}`);
    const summary2 = readSummary(dir) as unknown as { verdicts: VerdictsJson };
    expect(summary2.verdicts.baseline).toBe(baseline);
    expect(summary2.verdicts.counts['regression']).toBe(0);
    expect(summary2.verdicts.rows.find((r) => r.task === 'lm_eval:gsm8k')).toBeDefined();
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toMatch(/#### Verdicts vs `[^`]+`/);
    // Carried forward: the first run plus this one.
    expect(readFileSync(join(dir, 'history.jsonl'), 'utf8').trimEnd().split('\n')).toHaveLength(2);
  });

  it('a failed accuracy gate fails the run with E_GATE_FAILED after saving the results', async () => {
    const box = sandbox();
    const port = await freePort();
    const gates =
      'gates:\n  accuracy:\n    - task: gsm8k\n      metric: exact_match,strict-match\n      expected: 2.0\n';
    const out = await runCli(
      box,
      ['run', box.recipe(simRecipe('gated', { bfcl: null, bench: null, extra: gates }))],
      cliEnv(box, port),
    );
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(
      /\+\+\+ :rotating_light: gate failed\ngate failed: lm_eval:gsm8k exact_match,strict-match ≥ 2·\(1 − 0\.08\) \(measured [0-9.]+ < 1\.84\)\n$/,
    );
    const summary = readSummary(box.resultsDir('gated')) as unknown as {
      status: string;
      gates: { passed: boolean }[];
    };
    expect(summary.status).toBe('ok');
    expect(summary.gates).toEqual([expect.objectContaining({ passed: false })]);
    expect(readFileSync(join(box.resultsDir('gated'), 'summary.md'), 'utf8')).toContain('#### Gates');
  });

  it('--baseline that does not exist is a usage error before anything starts', async () => {
    const box = sandbox();
    const out = await runCli(
      box,
      ['run', box.recipe(simRecipe('x')), '--baseline', 'missing-dir'],
      cliEnv(box, await freePort()),
    );
    expect(out.code).toBe(2);
    expect(out.stderr).toBe(
      'perf-eval run: --baseline missing-dir does not exist; pass a results dir, a history.jsonl, buildkite:<build> or auto\n',
    );
  });

  it('--baseline auto without a token warns and runs without a baseline', async () => {
    const box = sandbox();
    const out = await runCli(
      box,
      ['run', box.recipe(simRecipe('auto', { bfcl: null, lmEval: null })), '--baseline', 'auto'],
      cliEnv(box, await freePort()),
    );
    expect(out.code).toBe(0);
    expect(out.stderr).toBe(
      'warning: no baseline: no BUILDKITE_API_TOKEN and no buildkite-agent (outside a Buildkite job)\n',
    );
  });
});
