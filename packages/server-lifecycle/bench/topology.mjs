#!/usr/bin/env node
// Benchmarks for startTopology (prefill + decode fake vLLM servers behind the fake toy proxy).
// Needs the built package: `npx tsc --build packages/server-lifecycle/tsconfig.lib.json` first.
//   node packages/server-lifecycle/bench/topology.mjs
// Figures (5 samples each, median and max): a prefill crash during startup → startTopology rejects;
// proxy listening → topology ready; decode crash while in use → rejectOnExit rejects; wall time of
// stop() for the whole topology (servers and proxy answer SIGTERM); peak RSS of this process.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTopology } from '../dist/index.js';

const FIXTURES = fileURLToPath(new URL('../test/fixtures/', import.meta.url));
const VLLM = join(FIXTURES, 'bin', 'vllm');
const PROXY = join(FIXTURES, 'fake-toy-proxy.mjs');

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

async function server(dir, role, env = {}) {
  const port = await freePort();
  return {
    role,
    runtime: 'native',
    model: 'facebook/opt-125m',
    servedModelName: 'facebook/opt-125m',
    port,
    serveArgs: [],
    env: { FAKE_VLLM_STAMP: '1', FAKE_VLLM_READY_DELAY_MS: '200', ...env },
    containerName: `bench-${role}-${port}`,
    startupTimeoutS: 600,
    logFile: join(dir, `${role}-${port}.log`),
    binary: VLLM,
    stopGraceS: 1,
  };
}

async function topologySpec(dir, { prefillEnv, decodeEnv } = {}) {
  const prefill = await server(dir, 'prefill', prefillEnv);
  const decode = await server(dir, 'decode', decodeEnv);
  const port = await freePort();
  const argv = [
    process.execPath,
    PROXY,
    '--port',
    String(port),
    '--prefiller-hosts',
    '127.0.0.1',
    '--prefiller-ports',
    String(prefill.port),
  ];
  argv.push('--decoder-hosts', '127.0.0.1', '--decoder-ports', String(decode.port));
  return {
    servers: [prefill, decode],
    proxy: {
      argv,
      port,
      healthPath: '/healthcheck',
      env: { FAKE_PROXY_STAMP: '1' },
      logFile: join(dir, `proxy-${port}.log`),
      stopGraceS: 1,
    },
  };
}

const quiet = { print: () => undefined, printError: () => undefined };
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (values) => `median ${median(values).toFixed(0)} ms, max ${Math.max(...values).toFixed(0)} ms`;
const stampOf = (pattern) => {
  const box = { at: undefined };
  return { box, onLine: (line) => void (pattern.exec(line) && (box.at = Number(pattern.exec(line)[1]))) };
};

const dir = mkdtempSync(join(tmpdir(), 'topology-bench-'));
try {
  const crash = [];
  const ready = [];
  const midRun = [];
  const stops = [];
  for (let i = 0; i < 5; i++) {
    const crashed = stampOf(/\[prefill\] .*crashing at (\d+)/);
    const spec = await topologySpec(dir, {
      prefillEnv: { FAKE_VLLM_CRASH: 'before', FAKE_VLLM_CRASH_AFTER_MS: '500' },
      decodeEnv: { FAKE_VLLM_READY_DELAY_MS: '600000' },
    });
    const error = await startTopology(spec, { ...quiet, onLine: crashed.onLine }).catch((e) => e);
    const at = Date.now();
    if (error?.code !== 'E_SERVER_EXITED' || crashed.box.at === undefined)
      throw new Error(`unexpected outcome: ${error}`);
    crash.push(at - crashed.box.at);
  }
  console.log(`prefill crash → startTopology rejects: ${fmt(crash)}   target ≤ 2000 ms`);

  for (let i = 0; i < 5; i++) {
    const listening = stampOf(/\[proxy\] listening since (\d+)/);
    const dead = stampOf(/\[decode\] .*crashing at (\d+)/);
    const spec = await topologySpec(dir, { decodeEnv: { FAKE_VLLM_CRASH_ON_SIGUSR1: '1' } });
    const topology = await startTopology(spec, {
      ...quiet,
      onLine: (line) => (listening.onLine(line), dead.onLine(line)),
    });
    ready.push(Date.now() - listening.box.at);
    const rejected = topology.rejectOnExit().catch((e) => e);
    process.kill(topology.members[1].handle.pid, 'SIGUSR1');
    const error = await rejected;
    const at = Date.now();
    if (error?.code !== 'E_SERVER_EXITED' || dead.box.at === undefined)
      throw new Error(`unexpected outcome: ${error}`);
    midRun.push(at - dead.box.at);
    const started = performance.now();
    await topology.stop();
    stops.push(performance.now() - started);
  }
  console.log(`proxy listening → topology ready:     ${fmt(ready)}   target ≤ 300 ms (poll ≤ 250 ms)`);
  console.log(`decode crash → rejectOnExit:          ${fmt(midRun)}   target ≤ 2000 ms`);
  console.log(
    `stop() (proxy, then 1 live server):   ${fmt(stops)}   target ≤ proxy grace + server grace = 2000 ms`,
  );
  console.log(
    `peak RSS (orchestrator):              ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB   target ≤ 200 MB`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
