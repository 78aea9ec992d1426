import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import {
  capture,
  FAKE_SIM,
  freePort,
  LOG_MAX_MODEL_LEN,
  LOG_NO_KV_CACHE,
  LOG_UNRECOGNIZED,
  nativeSpec,
  pidAlive,
  testDir,
  waitFor,
} from '../../test/helpers.js';
import {
  PortInUseError,
  ServerCancelledError,
  ServerExitedError,
  ServerLaunchError,
  ServerModelMissingError,
  ServerTimeoutError,
} from './errors.js';
import { launchServer, startServer } from './server.js';
import type { ServerHandle } from './types.js';

function track(handle: ServerHandle): ServerHandle {
  onTestFinished(() => handle.stop());
  return handle;
}

describe('native runtime', () => {
  it('detects readiness, checks /v1/models, prints the console lines and streams the log', async () => {
    const spec = await nativeSpec({ env: { FAKE_VLLM_READY_DELAY_MS: '300', FAKE_VLLM_LOG_LINES: '5' } });
    const out = capture();
    const handle = track(await startServer(spec, out.options));
    expect(handle.url).toBe(`http://127.0.0.1:${spec.port}`);
    expect(pidAlive(handle.pid as number)).toBe(true);
    expect(out.printed).toEqual([
      `--- :rocket: starting vllm: ${spec.model}`,
      `$ ${spec.binary} serve facebook/opt-125m --port ${spec.port} --max-model-len 2048`,
      '--- :memo: streaming vllm logs',
      '+++ :hourglass: waiting for /health (timeout 30s)',
      'server healthy',
    ]);
    const response = await fetch(`${handle.url}/v1/models`);
    expect(((await response.json()) as { data: { id: string }[] }).data[0]?.id).toBe(spec.servedModelName);
    await handle.stop();
    const file = await readFile(spec.logFile, 'utf8');
    expect(file).toContain('filler line 5 of 5');
    expect(file).toContain(`Starting vLLM API server 0 on http://0.0.0.0:${spec.port}`);
    expect(out.lines.filter((line) => line.includes('filler line'))).toHaveLength(5);
    expect(file.trimEnd().split('\n')).toEqual(out.lines);
    expect(out.errors).toEqual([]);
  });

  it('passes the plan env to the child only, with VLLM_ENGINE_READY_TIMEOUT_S', async () => {
    const dir = await testDir();
    const dump = join(dir, 'env.json');
    const spec = await nativeSpec({
      env: { FAKE_VLLM_ENV_DUMP: dump, PLAN_ONLY_VAR: 'plan-value', HF_TOKEN: 'hf_supersecret' },
      startupTimeoutS: 45,
    });
    const before = { ...process.env };
    const out = capture();
    track(await startServer(spec, out.options));
    const childEnv = JSON.parse(await readFile(dump, 'utf8')) as Record<string, string>;
    expect(childEnv['PLAN_ONLY_VAR']).toBe('plan-value');
    expect(childEnv['VLLM_ENGINE_READY_TIMEOUT_S']).toBe('45');
    expect(childEnv['PATH']).toBe(process.env['PATH']);
    expect(process.env).toEqual(before);
    expect(out.printed.join('\n')).not.toContain('hf_supersecret');
  });

  it.each([
    [
      'unrecognized argument',
      LOG_UNRECOGNIZED,
      'bad_argument',
      'vllm: error: unrecognized arguments: --no-such-flag 3',
    ],
    ['max_model_len', LOG_MAX_MODEL_LEN, 'max_model_len', 'is greater than the derived max_model_len'],
    ['no KV cache', LOG_NO_KV_CACHE, 'out_of_memory', 'No available memory for the cache blocks'],
  ])(
    'crash before ready (%s) is reported with its class and the log tail',
    async (_name, log, kind, evidence) => {
      const spec = await nativeSpec({
        env: { FAKE_VLLM_CRASH: 'before', FAKE_VLLM_CRASH_LOG: log, FAKE_VLLM_EXIT_CODE: '1' },
      });
      const out = capture();
      const error = (await startServer(spec, out.options).catch((e: unknown) => e)) as ServerExitedError;
      expect(error).toBeInstanceOf(ServerExitedError);
      expect(error.code).toBe('E_SERVER_EXITED');
      expect(error.phase).toBe('startup');
      expect(error.exitCode).toBe(1);
      expect(error.diagnosis.kind).toBe(kind);
      expect(error.message).toMatch(
        /^vLLM server exited before becoming healthy \(failed with exit code 1\): /,
      );
      expect(error.message).toContain(evidence);
      const logLines = (await readFile(log, 'utf8')).split('\n');
      expect(error.outputTail.length).toBeLessThanOrEqual(80);
      expect(error.outputTail.at(-1)).toBe(logLines.at(-1));
      expect(error.fullMessage).toContain(`  | ${logLines.at(-2)}`);
      expect(out.errors).toEqual(['vLLM server exited before becoming healthy']);
    },
  );

  it('a real argparse failure of the fake vllm (bad serve arg) is classified as bad_argument', async () => {
    const spec = await nativeSpec({ serveArgs: ['--no-such-flag', '3'] });
    const error = (await startServer(spec, capture().options).catch((e: unknown) => e)) as ServerExitedError;
    expect(error).toBeInstanceOf(ServerExitedError);
    expect(error.exitCode).toBe(2);
    expect(error.diagnosis.evidence).toBe('vllm: error: unrecognized arguments: --no-such-flag 3');
  });

  it('a crash after ready resolves exited, and assertAlive / rejectOnExit throw', async () => {
    const spec = await nativeSpec({ env: { FAKE_VLLM_CRASH: 'after', FAKE_VLLM_CRASH_AFTER_MS: '300' } });
    const handle = track(await startServer(spec, capture().options));
    expect(() => handle.assertAlive()).not.toThrow();
    const rejection = handle.rejectOnExit().catch((e: unknown) => e);
    const exit = await handle.exited;
    expect(exit).toMatchObject({ exitCode: 1, stopped: false });
    expect(() => handle.assertAlive()).toThrow(ServerExitedError);
    const error = (await rejection) as ServerExitedError;
    expect(error.phase).toBe('running');
    expect(error.message).toMatch(/^vLLM server exited while in use \(failed with exit code 1\)/);
    expect(error.outputTail.at(-1)).toContain('EngineDeadError');
  });

  it('stop() kills the whole process group (SIGTERM ignored → SIGKILL) and is idempotent', async () => {
    const spec = await nativeSpec({
      env: { FAKE_VLLM_IGNORE_SIGTERM: '1', FAKE_VLLM_WORKER: '1' },
      stopGraceS: 1,
    });
    const out = capture();
    const handle = await startServer(spec, out.options);
    const workerLine = await waitFor(
      () => out.lines.find((line) => line.includes('(EngineCore pid=')),
      5000,
      'worker line',
    );
    const workerPid = Number(/pid=(\d+)/.exec(workerLine)?.[1]);
    const pid = handle.pid as number;
    expect(pidAlive(pid) && pidAlive(workerPid)).toBe(true);
    await Promise.all([handle.stop(), handle.stop()]);
    await handle.stop();
    expect(pidAlive(pid)).toBe(false);
    expect(pidAlive(workerPid)).toBe(false);
    const exit = await handle.exited;
    expect(exit).toMatchObject({ signal: 'SIGKILL', stopped: true });
    expect(() => handle.assertAlive()).not.toThrow();
    expect(out.lines).toContain(out.lines.find((line) => line.includes('received SIGTERM, ignoring it')));
  });

  it('forceSignal: a stop waiting out the grace of a server that ignores SIGTERM kills it as soon as the force signal aborts', async () => {
    // A grace far longer than the test: only the force signal can end the stop.
    const spec = await nativeSpec({ env: { FAKE_VLLM_IGNORE_SIGTERM: '1' }, stopGraceS: 600 });
    const out = capture();
    const force = new AbortController();
    const handle = await startServer(spec, { ...out.options, forceSignal: force.signal });
    const pid = handle.pid as number;
    const stopping = handle.stop();
    await waitFor(
      () => out.lines.find((line) => line.includes('received SIGTERM, ignoring it')),
      5000,
      'SIGTERM ignored',
    );
    expect(pidAlive(pid)).toBe(true);
    force.abort();
    await stopping;
    expect(pidAlive(pid)).toBe(false);
    expect(await handle.exited).toMatchObject({ signal: 'SIGKILL', stopped: true });
  });

  it('refuses a busy port before launching anything', async () => {
    const server = createServer((_req, res) => res.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as { port: number }).port;
    const spec = await nativeSpec({ port });
    const out = capture();
    await expect(startServer(spec, out.options)).rejects.toBeInstanceOf(PortInUseError);
    expect(out.printed).toEqual([]);
  });

  it('a healthy server that serves another name fails with E_SERVER_MODEL_MISSING and is stopped', async () => {
    const spec = await nativeSpec({ serveArgs: ['--served-model-name', 'other-name'] });
    const out = capture();
    let pid: number | undefined;
    const error = await startServer(spec, {
      ...out.options,
      onLine: (line) => {
        pid ??= Number(/\(APIServer pid=(\d+)\)/.exec(line)?.[1]) || undefined;
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerModelMissingError);
    expect((error as Error).message).toBe(
      `server at http://127.0.0.1:${spec.port} is healthy but /v1/models does not list 'facebook/opt-125m' (listed: other-name); check --served-model-name`,
    );
    expect(pidAlive(pid as number)).toBe(false);
  });

  it('sends the API key to /v1/models', async () => {
    const spec = await nativeSpec({ serveArgs: ['--api-key', 'sk-test-1234'] });
    const out = capture();
    track(await startServer(spec, out.options));
    expect(out.printed[1]).toBe(
      `$ ${spec.binary} serve facebook/opt-125m --port ${spec.port} --api-key '***'`,
    );
  });

  it('times out with "server never came up" and stops the server', async () => {
    const spec = await nativeSpec({ env: { FAKE_VLLM_READY_DELAY_MS: '60000' }, startupTimeoutS: 1 });
    const out = capture();
    const error = (await startServer(spec, { ...out.options, stillWaitingEveryS: 0.3 }).catch(
      (e: unknown) => e,
    )) as ServerTimeoutError;
    expect(error).toBeInstanceOf(ServerTimeoutError);
    expect(error.code).toBe('E_SERVER_TIMEOUT');
    expect(error.timedOut).toBe(true);
    expect(error.outputTail.at(-1)).toMatch(/^\(last probe: \/health: ECONNREFUSED\)$/);
    expect(out.errors).toEqual(['server never came up']);
    expect(out.printed.some((line) => /^still waiting for \/health after \d+s$/.test(line))).toBe(true);
  });

  it('a missing binary is a launch error', async () => {
    const spec = await nativeSpec({ binary: '/nonexistent/vllm' });
    const error = (await startServer(spec, capture().options).catch((e: unknown) => e)) as ServerLaunchError;
    expect(error).toBeInstanceOf(ServerLaunchError);
    expect(error.code).toBe('E_SERVER_LAUNCH');
    expect(error.message).toMatch(/ENOENT/);
  });

  it('aborting the signal during startup stops the server and throws E_SERVER_CANCELLED', async () => {
    const spec = await nativeSpec({ env: { FAKE_VLLM_READY_DELAY_MS: '60000' } });
    const controller = new AbortController();
    const handle = await launchServer(spec, { ...capture().options, signal: controller.signal });
    const { waitUntilReady } = await import('./server.js');
    const waiting = waitUntilReady(handle, spec, { ...capture().options, signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    setTimeout(() => controller.abort(), 200);
    expect(await waiting).toBeInstanceOf(ServerCancelledError);
    expect(pidAlive(handle.pid as number)).toBe(false);
    expect((await handle.exited).stopped).toBe(true);
  });
});

describe('sim runtime', () => {
  it('launches the simulator binary with --model and waits for readiness', async () => {
    const spec = await nativeSpec({ runtime: 'sim', binary: FAKE_SIM, serveArgs: [] });
    const out = capture();
    const handle = track(await startServer(spec, out.options));
    expect(out.printed[1]).toBe(`$ ${FAKE_SIM} --model facebook/opt-125m --port ${spec.port}`);
    expect(handle.runtime).toBe('sim');
    await handle.stop();
    expect(pidAlive(handle.pid as number)).toBe(false);
  });
});

describe('external runtime', () => {
  it('checks readiness of an existing server and never stops it', async () => {
    const port = await freePort();
    const served = 'ext-model';
    const server = createServer((req, res) => {
      if (req.url === '/health') return res.writeHead(200).end();
      if (req.url === '/v1/models') return res.writeHead(200).end(JSON.stringify({ data: [{ id: served }] }));
      return res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const spec = await nativeSpec({
      runtime: 'external',
      url: `http://127.0.0.1:${port}/v1/`,
      servedModelName: served,
      port,
    });
    const out = capture();
    const handle = await startServer(spec, out.options);
    expect(handle.url).toBe(`http://127.0.0.1:${port}`);
    await handle.stop();
    expect(server.listening).toBe(true);
    expect((await fetch(`${handle.url}/health`)).status).toBe(200);
    expect(out.printed.at(-1)).toBe('server healthy');
  });

  it('cancelling the wait for an external server does not claim it was stopped', async () => {
    const port = await freePort();
    const server = createServer((_req, res) => res.writeHead(503).end());
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const spec = await nativeSpec({ runtime: 'external', url: `http://127.0.0.1:${port}`, port });
    const controller = new AbortController();
    const starting = startServer(spec, { ...capture().options, signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    setTimeout(() => controller.abort(), 200);
    const error = (await starting) as ServerCancelledError;
    expect(error).toBeInstanceOf(ServerCancelledError);
    expect(error.external).toBe(true);
    expect(error.message).toBe(
      'waiting for the external server cancelled; it was left running (perf-eval does not stop a server it did not start)',
    );
    expect(error.message).not.toMatch(/was stopped/);
    expect(server.listening).toBe(true);
  });

  it('an external server serving another model is rejected', async () => {
    const port = await freePort();
    const server = createServer((req, res) =>
      res.writeHead(200).end(req.url === '/v1/models' ? '{"data":[{"id":"x"}]}' : ''),
    );
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const spec = await nativeSpec({ runtime: 'external', url: `http://127.0.0.1:${port}`, port });
    await expect(startServer(spec, capture().options)).rejects.toBeInstanceOf(ServerModelMissingError);
  });
});
