import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  capture,
  FAKE_SIM,
  FAKE_TOY_PROXY,
  freePort,
  nativeSpec,
  pidAlive,
  pidsIn,
  testDir,
  waitFor,
  type Captured,
} from '../../test/helpers.js';
import {
  PortInUseError,
  ProxyExitedError,
  ProxyTimeoutError,
  ServerCancelledError,
  ServerExitedError,
  ServerModelMissingError,
} from './errors.js';
import type { ProxySpec } from './proxy.js';
import {
  startTopology,
  type TopologyHandle,
  type TopologyServerSpec,
  type TopologySpec,
} from './topology.js';

/** prefill runs as the simulator runtime, decode as native `vllm serve` (both the fake server). */
async function roleSpec(
  role: string,
  env: Record<string, string> = {},
  overrides: Partial<TopologyServerSpec> = {},
): Promise<TopologyServerSpec> {
  const base = await nativeSpec({ env: { FAKE_VLLM_READY_DELAY_MS: '200', ...env } });
  const dir = await testDir();
  return {
    ...base,
    ...(role === 'prefill' ? { runtime: 'sim' as const, binary: FAKE_SIM } : {}),
    logFile: join(dir, `${role}.log`),
    containerName: `perf-eval-${role}-${base.port}`,
    ...overrides,
    role,
  };
}

async function proxySpec(
  prefill: TopologyServerSpec,
  decode: TopologyServerSpec,
  overrides: Partial<ProxySpec> = {},
  extraArgs: string[] = [],
): Promise<ProxySpec> {
  const dir = await testDir();
  const port = await freePort();
  return {
    argv: [
      process.execPath,
      FAKE_TOY_PROXY,
      '--port',
      String(port),
      '--prefiller-hosts',
      '127.0.0.1',
      '--prefiller-ports',
      String(prefill.port),
      '--decoder-hosts',
      '127.0.0.1',
      '--decoder-ports',
      String(decode.port),
      ...extraArgs,
    ],
    port,
    healthPath: '/healthcheck',
    logFile: join(dir, 'proxy.log'),
    stopGraceS: 1,
    ...overrides,
  };
}

async function pdSpec(
  options: {
    prefillEnv?: Record<string, string>;
    decodeEnv?: Record<string, string>;
    proxy?: Partial<ProxySpec>;
    proxyArgs?: string[];
  } = {},
): Promise<TopologySpec & { proxy: ProxySpec }> {
  const prefill = await roleSpec('prefill', options.prefillEnv);
  const decode = await roleSpec('decode', options.decodeEnv);
  return {
    servers: [prefill, decode],
    proxy: await proxySpec(prefill, decode, options.proxy, options.proxyArgs),
  };
}

/** Every process a test saw (server pids, proxy pid) is SIGKILLed at the end, whatever happened. */
function reap(out: Captured, topology?: TopologyHandle): void {
  onTestFinished(async () => {
    await topology?.stop();
    for (const pid of [
      ...pidsIn(out.lines, '[prefill]'),
      ...pidsIn(out.lines, '[decode]'),
      ...pidsIn(out.lines, '[proxy]'),
    ]) {
      if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
}

function allPids(topology: TopologyHandle): number[] {
  return [...topology.members.map((member) => member.handle.pid as number), topology.proxyPid as number];
}

type Post = { path: string; requestId: string; authorization: string | null; body: Record<string, unknown> };
async function requestLog(file: string): Promise<Post[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trim() === ''
    ? []
    : text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Post);
}

describe('startTopology: prefill/decode behind the toy proxy', () => {
  it('waits for every role and the proxy, then stop() leaves no process behind', async () => {
    const spec = await pdSpec();
    const out = capture();
    reap(out);
    const topology = await startTopology(spec, out.options);
    reap(out, topology);

    expect(topology.url).toBe(`http://127.0.0.1:${spec.proxy.port}`);
    expect(topology.members.map((member) => member.role)).toEqual(['prefill', 'decode']);
    expect(topology.members.map((member) => member.handle.url)).toEqual(
      spec.servers.map((server) => `http://127.0.0.1:${server.port}`),
    );
    const pids = allPids(topology);
    expect(pids.every((pid) => Number.isInteger(pid) && pidAlive(pid))).toBe(true);
    expect(topology.proxyCommand).toEqual(spec.proxy.argv);

    const health = await fetch(`${topology.url}/healthcheck`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', prefill_instances: 1, decode_instances: 1 });

    for (const role of ['prefill', 'decode']) {
      expect(out.printed).toContain(`--- :rocket: starting vllm ${role}: facebook/opt-125m`);
      expect(out.printed).toContain(`--- :memo: streaming vllm ${role} logs`);
      expect(out.printed).toContain(`+++ :hourglass: waiting for ${role} /health (timeout 30s)`);
      expect(out.printed).toContain(`${role} server healthy`);
    }
    const [prefill, decode] = spec.servers as [TopologyServerSpec, TopologyServerSpec];
    expect(out.printed).toContain(
      `[prefill] $ ${FAKE_SIM} --model facebook/opt-125m --port ${prefill.port} --max-model-len 2048`,
    );
    expect(out.printed).toContain(
      `[decode] $ ${decode.binary} serve facebook/opt-125m --port ${decode.port} --max-model-len 2048`,
    );
    expect(out.printed.slice(-4)).toEqual([
      `--- :rocket: starting proxy: ${topology.url}`,
      `$ ${process.execPath} ${FAKE_TOY_PROXY} ${spec.proxy.argv.slice(2).join(' ')}`,
      '+++ :hourglass: waiting for proxy /healthcheck (timeout 120s)',
      'proxy healthy',
    ]);
    expect(out.lines).toContain('[proxy] Initialized 1 prefill clients and 1 decode clients.');
    expect(out.lines.some((line) => line.startsWith('[prefill] (APIServer pid='))).toBe(true);
    expect(out.lines.some((line) => line.startsWith('[decode] (APIServer pid='))).toBe(true);
    expect(out.errors).toEqual([]);

    await topology.stop();
    expect(pids.filter(pidAlive)).toEqual([]);
    await topology.stop(); // idempotent
    expect(await readFile(spec.proxy.logFile, 'utf8')).toContain('INFO:     Finished server process');
    expect(await readFile(prefill.logFile, 'utf8')).toContain(
      `Starting vLLM API server 0 on http://0.0.0.0:${prefill.port}`,
    );
    expect(await readFile(decode.logFile, 'utf8')).toContain('Shutting down FastAPI HTTP server.');
  });

  it('a request through the proxy reaches the prefiller (max_tokens 1) and then the decoder (full request, streamed)', async () => {
    const dir = await testDir();
    const prefillLog = join(dir, 'prefill-requests.jsonl');
    const decodeLog = join(dir, 'decode-requests.jsonl');
    const spec = await pdSpec({
      prefillEnv: { FAKE_VLLM_REQUEST_LOG: prefillLog },
      decodeEnv: { FAKE_VLLM_REQUEST_LOG: decodeLog },
      proxy: { env: { OPENAI_API_KEY: 'sk-proxy-secret-1234' } },
    });
    const out = capture();
    reap(out);
    const topology = await startTopology(spec, out.options);
    reap(out, topology);

    const request = {
      model: 'facebook/opt-125m',
      prompt: 'Hello',
      max_tokens: 2,
      stream: true,
      stream_options: { include_usage: true },
      min_tokens: 2,
    };
    const response = await fetch(`${topology.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    expect(response.status).toBe(200);
    const streamed = await response.text();
    expect(streamed.split('\n\n').filter(Boolean).at(-1)).toBe('data: [DONE]');
    expect(streamed).toContain('"text":"Hello"');
    expect(streamed).toContain('"text":" world"');

    const [prefilled] = await requestLog(prefillLog);
    const [decoded] = await requestLog(decodeLog);
    expect(prefilled?.path).toBe('/v1/completions');
    expect(prefilled?.body).toEqual({
      model: 'facebook/opt-125m',
      prompt: 'Hello',
      max_tokens: 1,
      stream: false,
      kv_transfer_params: {
        do_remote_decode: true,
        do_remote_prefill: false,
        remote_engine_id: null,
        remote_block_ids: null,
        remote_host: null,
        remote_port: null,
      },
    });
    const [prefill] = spec.servers as [TopologyServerSpec];
    expect(decoded?.body).toEqual({
      ...request,
      kv_transfer_params: {
        do_remote_prefill: true,
        do_remote_decode: false,
        remote_engine_id: `fake-engine-${prefill.port}`,
        remote_block_ids: [0, 1],
        remote_host: '127.0.0.1',
        remote_port: prefill.port,
      },
    });
    expect(decoded?.requestId).toBe(prefilled?.requestId);
    expect(decoded?.authorization).toBe('Bearer sk-proxy-secret-1234');

    const chat = await fetch(`${topology.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'facebook/opt-125m',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 2,
      }),
    });
    expect(
      ((await chat.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content,
    ).toBe('Hello world');
    expect((await requestLog(prefillLog)).map((post) => post.path)).toEqual([
      '/v1/completions',
      '/v1/chat/completions',
    ]);
    expect((await requestLog(decodeLog)).map((post) => post.path)).toEqual([
      '/v1/completions',
      '/v1/chat/completions',
    ]);

    // Like the real toy proxy, there is no /v1/models route: clients must be given the model name.
    expect((await fetch(`${topology.url}/v1/models`)).status).toBe(404);
    // The proxy's secret env never reaches its log or the console.
    await topology.stop();
    expect(out.printed.join('\n') + out.lines.join('\n')).not.toContain('sk-proxy-secret-1234');
  });

  it('a prefill crash before ready fails fast naming prefill; decode is stopped and no proxy starts', async () => {
    // decode would need 10 minutes to become ready: the test only finishes if the crash ends the wait.
    const spec = await pdSpec({
      prefillEnv: { FAKE_VLLM_CRASH: 'before' },
      decodeEnv: { FAKE_VLLM_READY_DELAY_MS: '600000' },
    });
    const out = capture();
    reap(out);
    const error = (await startTopology(spec, out.options).catch((e: unknown) => e)) as ServerExitedError;
    expect(error).toBeInstanceOf(ServerExitedError);
    expect(error.code).toBe('E_SERVER_EXITED');
    expect(error.role).toBe('prefill');
    expect(error.phase).toBe('startup');
    expect(error.runtime).toBe('sim');
    expect(error.diagnosis.kind).toBe('engine_init');
    expect(error.message).toBe(
      'vLLM prefill server exited before becoming healthy (failed with exit code 1): engine initialisation failed: ' +
        `${error.diagnosis.evidence} (see the server log tail for the root cause)`,
    );
    expect(error.fullMessage).toContain('EngineCore failed to start.');
    expect(error.logFile).toBe(spec.servers[0]?.logFile);
    expect(out.errors).toEqual(['vLLM prefill server exited before becoming healthy']);
    expect(out.printed).not.toContain('decode server healthy');
    expect(out.printed.some((line) => line.includes('proxy'))).toBe(false);
    const [decodePid] = pidsIn(out.lines, '[decode]');
    expect(decodePid).toBeDefined();
    expect(pidAlive(decodePid as number)).toBe(false);
    expect(await readFile(spec.proxy.logFile).catch(() => 'absent')).toBe('absent');
  });

  it('a proxy that rejects its arguments fails the start with its argparse error; the servers are stopped', async () => {
    const spec = await pdSpec({ proxyArgs: ['--bogus', '1'] });
    const out = capture();
    reap(out);
    const error = (await startTopology(spec, out.options).catch((e: unknown) => e)) as ProxyExitedError;
    expect(error).toBeInstanceOf(ProxyExitedError);
    expect(error.code).toBe('E_SERVER_PROXY_EXITED');
    expect(error.phase).toBe('startup');
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(
      `proxy exited before becoming healthy (failed with exit code 2): toy_proxy_server.py: error: unrecognized arguments: --bogus 1 (see ${spec.proxy.logFile})`,
    );
    expect(error.outputTail[0]).toMatch(/^usage: toy_proxy_server\.py/);
    expect(out.errors).toEqual(['proxy exited before becoming healthy']);
    const serverPids = [...pidsIn(out.lines, '[prefill]'), ...pidsIn(out.lines, '[decode]')];
    expect(serverPids).toHaveLength(2);
    expect(serverPids.filter(pidAlive)).toEqual([]);
  });

  it('a proxy program that cannot be spawned fails the start with ProxyExitedError; the servers are stopped', async () => {
    const spec = await pdSpec();
    const dir = await testDir();
    const missing = join(dir, 'no-such-python3');
    spec.proxy.argv = [missing, ...spec.proxy.argv.slice(1)];
    const out = capture();
    reap(out);
    const error = (await startTopology(spec, out.options).catch((e: unknown) => e)) as ProxyExitedError;
    expect(error).toBeInstanceOf(ProxyExitedError);
    expect(error.phase).toBe('startup');
    expect(error.message).toMatch(
      new RegExp(
        `^proxy exited before becoming healthy \\(failed\\): .*ENOENT.* \\(see ${spec.proxy.logFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`,
      ),
    );
    expect(await readFile(spec.proxy.logFile, 'utf8')).toContain('ENOENT');
    const serverPids = [...pidsIn(out.lines, '[prefill]'), ...pidsIn(out.lines, '[decode]')];
    expect(serverPids).toHaveLength(2);
    expect(serverPids.filter(pidAlive)).toEqual([]);
  });

  it('a proxy that never answers its health check times out with ProxyTimeoutError; everything is stopped', async () => {
    const spec = await pdSpec({ proxy: { readyTimeoutS: 1, env: { FAKE_PROXY_READY_DELAY_MS: '600000' } } });
    const out = capture();
    reap(out);
    const error = (await startTopology(spec, out.options).catch((e: unknown) => e)) as ProxyTimeoutError;
    expect(error).toBeInstanceOf(ProxyTimeoutError);
    expect(error.code).toBe('E_SERVER_PROXY_TIMEOUT');
    expect(error.timedOut).toBe(true);
    expect(error.message).toBe(
      `proxy never came up: http://127.0.0.1:${spec.proxy.port}/healthcheck did not return 200 within 1s (raise proxy readyTimeoutS or check ${spec.proxy.logFile})`,
    );
    expect(error.outputTail.at(-1)).toBe('(last probe: ECONNREFUSED)');
    expect(out.errors).toEqual(['proxy never came up']);
    const pids = [
      ...pidsIn(out.lines, '[prefill]'),
      ...pidsIn(out.lines, '[decode]'),
      ...pidsIn(out.lines, '[proxy]'),
    ];
    expect(pids).toHaveLength(3);
    expect(pids.filter(pidAlive)).toEqual([]);
  });

  it('rejectOnExit names the proxy when it dies after ready', async () => {
    const spec = await pdSpec({ proxy: { env: { FAKE_PROXY_CRASH_ON_SIGUSR1: '1' } } });
    const out = capture();
    reap(out);
    const topology = await startTopology(spec, out.options);
    reap(out, topology);
    const rejected = topology.rejectOnExit().catch((e: unknown) => e);
    process.kill(topology.proxyPid as number, 'SIGUSR1');
    const error = (await rejected) as ProxyExitedError;
    expect(error).toBeInstanceOf(ProxyExitedError);
    expect(error.phase).toBe('running');
    expect(error.message).toBe(
      `proxy exited while in use (failed with exit code 1): RuntimeError: fake proxy crashed on request (see ${spec.proxy.logFile})`,
    );
    // The servers are untouched until the caller stops the topology.
    const serverPids = topology.members.map((member) => member.handle.pid as number);
    expect(serverPids.filter(pidAlive)).toHaveLength(2);
    await topology.stop();
    expect(allPids(topology).filter(pidAlive)).toEqual([]);
  });

  it('rejectOnExit names decode when it dies mid-run; never settles after stop()', async () => {
    const spec = await pdSpec({ decodeEnv: { FAKE_VLLM_CRASH_ON_SIGUSR1: '1' } });
    const out = capture();
    reap(out);
    const topology = await startTopology(spec, out.options);
    reap(out, topology);
    const rejected = topology.rejectOnExit().catch((e: unknown) => e);
    const decode = topology.members.find((member) => member.role === 'decode');
    process.kill(decode?.handle.pid as number, 'SIGUSR1');
    const error = (await rejected) as ServerExitedError;
    expect(error).toBeInstanceOf(ServerExitedError);
    expect(error.role).toBe('decode');
    expect(error.phase).toBe('running');
    expect(error.message).toMatch(/^vLLM decode server exited while in use \(failed with exit code 1\): /);
    expect(error.logFile).toBe(spec.servers[1]?.logFile);
    expect(error.fullMessage).toContain('EngineDeadError: EngineCore encountered an issue.');

    await topology.stop();
    expect(allPids(topology).filter(pidAlive)).toEqual([]);
    const settled = await Promise.race([
      topology.rejectOnExit().then(
        () => 'settled',
        () => 'settled',
      ),
      new Promise((resolve) => setTimeout(resolve, 300, 'pending')),
    ]);
    expect(settled).toBe('pending');
  });

  it('aborting the signal after ready tears everything down, even a proxy that ignores SIGTERM', async () => {
    const spec = await pdSpec({ proxy: { env: { FAKE_PROXY_IGNORE_SIGTERM: '1' } } });
    const controller = new AbortController();
    const out = capture();
    reap(out);
    const topology = await startTopology(spec, { ...out.options, signal: controller.signal });
    reap(out, topology);
    const pids = allPids(topology);
    controller.abort();
    await waitFor(() => pids.every((pid) => !pidAlive(pid)), 15_000, 'every topology process to exit');
    expect(await readFile(spec.proxy.logFile, 'utf8')).toContain('received SIGTERM, ignoring it');
  });

  it('aborting the signal during startup stops every role and throws ServerCancelledError', async () => {
    const spec = await pdSpec({ decodeEnv: { FAKE_VLLM_READY_DELAY_MS: '600000' } });
    const controller = new AbortController();
    const out = capture();
    reap(out);
    const started = startTopology(spec, { ...out.options, signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    await waitFor(() => out.printed.includes('prefill server healthy'), 15_000, 'prefill healthy');
    controller.abort();
    const error = await started;
    expect(error).toBeInstanceOf(ServerCancelledError);
    const pids = [...pidsIn(out.lines, '[prefill]'), ...pidsIn(out.lines, '[decode]')];
    expect(pids).toHaveLength(2);
    expect(pids.filter(pidAlive)).toEqual([]);
    expect(out.errors).toEqual([]);
  });
});

describe('startTopology: cancellation while the proxy starts', () => {
  it('aborting while waiting for the proxy stops the proxy and every server', async () => {
    const spec = await pdSpec({ proxy: { env: { FAKE_PROXY_READY_DELAY_MS: '600000' } } });
    const controller = new AbortController();
    const out = capture();
    reap(out);
    const started = startTopology(spec, { ...out.options, signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    await waitFor(() => pidsIn(out.lines, '[proxy]').length === 1, 15_000, 'proxy started');
    controller.abort();
    expect(await started).toBeInstanceOf(ServerCancelledError);
    const pids = [
      ...pidsIn(out.lines, '[prefill]'),
      ...pidsIn(out.lines, '[decode]'),
      ...pidsIn(out.lines, '[proxy]'),
    ];
    expect(pids).toHaveLength(3);
    expect(pids.filter(pidAlive)).toEqual([]);
    expect(out.errors).toEqual([]);
  });
});

describe('startTopology: validation and other failures', () => {
  it('rejects duplicate roles and shared ports before launching anything', async () => {
    const prefill = await roleSpec('prefill');
    const out = capture();
    await expect(
      startTopology({ servers: [prefill, { ...prefill, port: prefill.port + 1 }] }, out.options),
    ).rejects.toThrow("topology role 'prefill' is listed twice");
    await expect(
      startTopology({ servers: [prefill, { ...prefill, role: 'decode' }] }, out.options),
    ).rejects.toThrow(`topology roles 'prefill' and 'decode' both use port ${prefill.port}`);
    await expect(startTopology({ servers: [] }, out.options)).rejects.toThrow(
      'TopologySpec.servers must list at least one server',
    );
    expect(out.printed).toEqual([]);
  });

  it('a busy port is reported with its role before anything is launched', async () => {
    const spec = await pdSpec();
    const decode = spec.servers[1] as TopologyServerSpec;
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(decode.port, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const out = capture();
    const error = (await startTopology(spec, out.options).catch((e: unknown) => e)) as PortInUseError;
    expect(error).toBeInstanceOf(PortInUseError);
    expect(error.role).toBe('decode');
    expect(error.message).toBe(
      `port ${decode.port} (decode) is already in use on this host; stop whatever holds it or set VLLM_PORT to a free port`,
    );
    expect(out.printed).toEqual([]);
  });

  it('a role serving another model fails with ServerModelMissingError naming the role', async () => {
    const prefill = await roleSpec('prefill');
    const decode = await roleSpec('decode', {}, { servedModelName: 'other-model' });
    const out = capture();
    reap(out);
    const error = (await startTopology({ servers: [prefill, decode] }, out.options).catch(
      (e: unknown) => e,
    )) as ServerModelMissingError;
    expect(error).toBeInstanceOf(ServerModelMissingError);
    expect(error.role).toBe('decode');
    expect(error.message).toBe(
      `decode server at http://127.0.0.1:${decode.port} is healthy but /v1/models does not list 'other-model' (listed: facebook/opt-125m); check --served-model-name`,
    );
    expect([...pidsIn(out.lines, '[prefill]'), ...pidsIn(out.lines, '[decode]')].filter(pidAlive)).toEqual(
      [],
    );
  });

  it('without a proxy the URL is the single server, and rejectOnExit names its role', async () => {
    const server = await roleSpec('main', { FAKE_VLLM_CRASH_ON_SIGUSR1: '1' });
    const out = capture();
    reap(out);
    const topology = await startTopology({ servers: [server] }, out.options);
    reap(out, topology);
    expect(topology.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(topology.proxyPid).toBeUndefined();
    expect(topology.proxyCommand).toEqual([]);
    const rejected = topology.rejectOnExit().catch((e: unknown) => e);
    process.kill(topology.members[0]?.handle.pid as number, 'SIGUSR1');
    expect(((await rejected) as ServerExitedError).message).toMatch(/^vLLM main server exited while in use/);
  });
});
