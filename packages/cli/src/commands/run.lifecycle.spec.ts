import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  cliEnv,
  freePort,
  isAlive,
  readSummary,
  sandbox,
  readJsonLines,
  serverPid,
  simRecipe,
  startCli,
  task,
  waitFor,
} from '../../test/harness.js';

describe('perf-eval run: server death and cancellation', () => {
  it('a server crash during the accuracy phase ends the run with the diagnosis and keeps earlier results', async () => {
    const box = sandbox();
    box.knobs['FAKE_LMEVAL_MODE'] = 'hang';
    box.knobs['FAKE_LMEVAL_LOG'] = box.path('lm_eval.jsonl');
    const cli = startCli(
      box,
      ['run', box.recipe(simRecipe('crash')), '--jobs', '1'],
      cliEnv(box, await freePort(), { FAKE_VLLM_CRASH_ON_SIGUSR1: '1' }),
    );
    const dir = box.resultsDir('crash');
    await waitFor(() => readJsonLines(box.path('lm_eval.jsonl')).length === 1, 'lm_eval gsm8k running', {
      cli,
    });
    const pid = await waitFor(() => serverPid(dir), 'server pid', { cli });
    process.kill(pid, 'SIGUSR1');
    const out = await cli.done;
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('vLLM server died during the run');
    expect(out.stderr).toMatch(/- server: .*\[.+\]/);

    const summary = readSummary(dir);
    expect(summary.status).toBe('failed');
    expect(summary.server.status).toBe('failed');
    expect(summary.server.diagnosis).toBeTruthy();
    expect(JSON.stringify(summary.server)).toContain('EngineDeadError');
    // Earlier results are kept.
    expect(task(summary, 'bench:short-conc-2').status).toBe('ok');
    expect(existsSync(join(dir, 'bench-short-conc-2.json'))).toBe(true);
    // The task in flight failed because of the server; the rest never started.
    const inFlight = task(summary, 'lm_eval:gsm8k');
    expect(inFlight.status).toBe('failed');
    expect(inFlight.error?.message).toMatch(/^server died: /);
    for (const id of ['lm_eval:ifeval', 'bfcl:simple_python', 'bfcl:multiple']) {
      expect(task(summary, id).status, id).toBe('skipped');
      expect(task(summary, id).reason, id).toBe('server died before this task started');
    }
    expect(isAlive(pid)).toBe(false);
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)(
    '%s stops the tools and the server, writes a partial summary and exits %i',
    async (signal, code) => {
      const box = sandbox();
      box.knobs['FAKE_LMEVAL_MODE'] = 'hang';
      box.knobs['FAKE_BFCL_MODE'] = 'hang';
      box.knobs['FAKE_LMEVAL_LOG'] = box.path('lm_eval.jsonl');
      const cli = startCli(
        box,
        ['run', box.recipe(simRecipe('cancel')), '--jobs', '2'],
        cliEnv(box, await freePort()),
      );
      const dir = box.resultsDir('cancel');
      // Both lm_eval processes are up (their fake logs its argv before hanging).
      await waitFor(
        () => readJsonLines(box.path('lm_eval.jsonl')).length === 2,
        'both lm_eval processes running',
        { cli },
      );
      const pid = await waitFor(() => serverPid(dir), 'server pid', { cli });
      expect(isAlive(pid)).toBe(true);
      cli.child.kill(signal);
      // The server is gone within 5 s of the signal.
      await waitFor(() => !isAlive(pid), `server pid ${pid} to exit`, 5000);
      const out = await cli.done;
      expect(out.code).toBe(code);
      expect(out.stderr).toContain(`received ${signal}`);

      const summary = readSummary(dir);
      expect(summary.status).toBe('cancelled');
      expect(summary.finishedAt).toBeTruthy();
      expect(task(summary, 'bench:short-conc-2').status).toBe('ok');
      for (const id of ['lm_eval:gsm8k', 'lm_eval:ifeval', 'bfcl:simple_python', 'bfcl:multiple']) {
        expect(task(summary, id).status, id).toBe('cancelled');
      }
      expect(existsSync(join(dir, 'summary.md'))).toBe(true);
    },
  );

  // Issue 12 item 5: a second signal used to exit at once, orphaning a server that ignores SIGTERM.
  it('two SIGTERMs 0.3 s apart with a server that ignores SIGTERM: the server is killed, the summary ends cancelled, exit 143', async () => {
    const box = sandbox();
    box.knobs['FAKE_VLLM_IGNORE_SIGTERM'] = '1';
    box.knobs['FAKE_LMEVAL_MODE'] = 'hang';
    box.knobs['FAKE_LMEVAL_LOG'] = box.path('lm_eval.jsonl');
    // A long stop grace: without the escalation the server would outlive perf-eval by far.
    const cli = startCli(
      box,
      ['run', box.recipe(simRecipe('twice', { bfcl: null })), '--jobs', '1'],
      cliEnv(box, await freePort(), { BUILDKITE_CANCEL_GRACE_PERIOD: '60' }),
    );
    const dir = box.resultsDir('twice');
    await waitFor(() => readJsonLines(box.path('lm_eval.jsonl')).length === 1, 'lm_eval running', { cli });
    const pid = await waitFor(() => serverPid(dir), 'server pid', { cli });
    cli.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    cli.child.kill('SIGTERM');
    const out = await cli.done;
    expect(out.code).toBe(143);
    expect(out.stderr).toContain('second SIGTERM; killing the server now');
    expect(out.stderr).not.toMatch(/\n\s+at /);
    // perf-eval waited for the teardown: the server is gone when it exits.
    expect(isAlive(pid)).toBe(false);
    const summary = readSummary(dir);
    expect(summary.status).toBe('cancelled');
    expect(summary.server.status).toBe('stopped');
    expect(task(summary, 'lm_eval:gsm8k').status).toBe('cancelled');
  });
});
