/**
 * Issue 12 item 2 with a real full disk: the results root is a small tmpfs that the test fills while
 * the second bench runs. Needs `mount -t tmpfs` (root); skipped with the reason otherwise.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunSummary } from '@perf-eval/run';
import {
  cliEnv,
  freePort,
  PROFILES,
  readJsonLines,
  sandbox,
  simRecipe,
  startCli,
  waitFor,
  type Sandbox,
} from '../../test/harness.js';

/** A fresh tmpfs of `size` mounted for this test, or the reason it cannot be. */
function mountTmpfs(size: string): { dir: string } | { reason: string } {
  if (process.getuid?.() !== 0) return { reason: 'mounting a tmpfs needs root' };
  const dir = mkdtempSync(join(tmpdir(), 'perf-eval-full-'));
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mount.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return {
      reason: `mount -t tmpfs is not permitted here (${(mount.stderr || mount.error?.message || '').trim()})`,
    };
  }
  onTestFinished(() => {
    spawnSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });
  return { dir };
}

/** Fills the file system under `dir` to the last byte. */
function fill(dir: string): void {
  const chunk = Buffer.alloc(64 * 1024);
  const filler = join(dir, 'filler');
  for (let size = chunk.length; size >= 1; size = Math.floor(size / 2)) {
    for (;;) {
      try {
        appendFileSync(filler, chunk.subarray(0, size));
      } catch {
        break;
      }
    }
  }
}

function recipe(box: Sandbox): string {
  const bench =
    'vllm_bench:\n  configs:\n    - {name: first, input_len: 8, output_len: 8, num_prompts: 4, max_concurrency: 2}\n    - {name: second, input_len: 8, output_len: 8, num_prompts: 4, max_concurrency: 2}\n';
  return box.recipe(simRecipe('full', { bench, bfcl: 'bfcl:\n  test_categories:\n    - multiple\n' }));
}

describe('perf-eval run on a full disk (ENOSPC mid-run)', { timeout: 90_000 }, () => {
  it('reports the cause, finishes every task, leaves a valid final summary and exits 1 without a stack trace', async (context) => {
    const mounted = mountTmpfs('1m');
    if ('reason' in mounted) return context.skip(mounted.reason);
    const box = sandbox();
    box.knobs['FAKE_VLLM_BENCH_MODE'] = 'slow';
    box.knobs['FAKE_VLLM_SLOW_MS'] = '1500';
    box.knobs['FAKE_VLLM_LOG'] = box.path('bench.jsonl');
    const run = startCli(
      box,
      ['run', recipe(box), '--results-dir', mounted.dir, '--profiles', PROFILES],
      cliEnv(box, await freePort()),
      {
        defaults: false,
      },
    );
    // The second bench is running (its fake logged its argv and sleeps): the disk fills up now.
    await waitFor(
      () =>
        readJsonLines<{ argv: string[] }>(box.path('bench.jsonl')).some((line) =>
          line.argv.some((token) => token.includes('bench-second')),
        ),
      'the second bench',
      { cli: run },
    );
    fill(mounted.dir);
    const out = await run.done;
    const dir = join(mounted.dir, 'full');

    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`could not write the run summary: no space left on ${dir} (ENOSPC)`);
    expect(out.stderr).not.toContain('internal error');
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
    expect(summary.status).toBe('failed');
    expect(summary.finishedAt).toBeTruthy();
    expect(summary.tasks.map((task) => task.id)).toEqual([
      'bench:first-conc-2',
      'bench:second-conc-2',
      'lm_eval:gsm8k',
      'lm_eval:ifeval',
      'bfcl:multiple',
    ]);
    expect(summary.tasks.filter((task) => task.status === 'running' || task.status === 'pending')).toEqual(
      [],
    );
    expect(summary.tasks[0]?.status).toBe('ok');
    expect(summary.writeErrors?.[0]).toBe(
      `could not write the run summary: no space left on ${dir} (ENOSPC)`,
    );
    // The space reserved at the start took the final writes: the ingest plan is there for a later `perf-eval ingest`.
    expect(JSON.parse(readFileSync(join(dir, '.ingest/plan.json'), 'utf8')).items.length).toBeGreaterThan(0);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain('no space left on');
  });
});
