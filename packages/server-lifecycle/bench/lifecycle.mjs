#!/usr/bin/env node
// Benchmarks for @perf-eval/server-lifecycle against the fake vLLM server (test/fixtures).
// Needs the built package: `npx tsc --build packages/server-lifecycle/tsconfig.lib.json` first.
//   node packages/server-lifecycle/bench/lifecycle.mjs            all figures
//   BENCH_LOG_BYTES=209715200 node …/lifecycle.mjs                smaller log for a quick run
// Figures: crash → error latency (native and docker), ready → detected latency, peak RSS of the
// orchestrator process while streaming a 2 GB server log (measured in a fresh child process).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../dist/index.js';

const FIXTURES = fileURLToPath(new URL('../test/fixtures/', import.meta.url));
const VLLM = join(FIXTURES, 'bin', 'vllm');
const DOCKER = join(FIXTURES, 'bin', 'docker');
const LOG_BYTES = Number(process.env.BENCH_LOG_BYTES ?? 2 * 1024 ** 3);

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

async function spec(dir, overrides = {}) {
  const port = await freePort();
  return {
    runtime: 'native',
    model: 'facebook/opt-125m',
    servedModelName: 'facebook/opt-125m',
    port,
    serveArgs: [],
    env: { FAKE_VLLM_STAMP: '1' },
    containerName: `bench-${port}`,
    startupTimeoutS: 600,
    logFile: join(dir, `server-${port}.log`),
    binary: VLLM,
    stopGraceS: 1,
    ...overrides,
    env: { FAKE_VLLM_STAMP: '1', ...overrides.env },
  };
}

const quiet = { print: () => undefined, printError: () => undefined };
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (ms) => `${ms.toFixed(0)} ms`;

async function crashLatency(dir, runtime) {
  const samples = [];
  for (let i = 0; i < 5; i++) {
    let crashedAt;
    const s = await spec(dir, {
      runtime,
      ...(runtime === 'docker' ? { image: 'vllm/vllm-openai:bench', docker: DOCKER, binary: undefined } : {}),
      // Crash well after the docker helpers (`logs -f`, `wait`: Node processes here) are up.
      env: { FAKE_VLLM_CRASH: 'before', FAKE_VLLM_CRASH_AFTER_MS: '1500' },
    });
    const error = await startServer(s, {
      ...quiet,
      onLine: (line) => {
        const match = /crashing at (\d+)/.exec(line);
        if (match) crashedAt = Number(match[1]);
      },
    }).catch((e) => e);
    const reportedAt = Date.now();
    if (error?.code !== 'E_SERVER_EXITED' || crashedAt === undefined)
      throw new Error(`unexpected outcome: ${error}`);
    samples.push(reportedAt - crashedAt);
  }
  return samples;
}

async function readyLatency(dir) {
  const samples = [];
  for (let i = 0; i < 5; i++) {
    let listeningAt;
    const s = await spec(dir, { env: { FAKE_VLLM_READY_DELAY_MS: '700' } });
    const handle = await startServer(s, {
      ...quiet,
      onLine: (line) => {
        const match = /listening since (\d+)/.exec(line);
        if (match) listeningAt = Number(match[1]);
      },
    });
    const detectedAt = Date.now();
    await handle.stop();
    samples.push(detectedAt - listeningAt);
  }
  return samples;
}

async function rssChild() {
  const dir = mkdtempSync(join(tmpdir(), 'lifecycle-bench-rss-'));
  try {
    let lines = 0;
    const s = await spec(dir, {
      env: { FAKE_VLLM_LOG_BYTES: String(LOG_BYTES), FAKE_VLLM_READY_DELAY_MS: '0' },
    });
    const started = performance.now();
    const handle = await startServer(s, { ...quiet, onLine: () => void lines++ });
    const seconds = (performance.now() - started) / 1000;
    await handle.stop();
    const bytes = statSync(s.logFile).size;
    process.stdout.write(JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, bytes, lines, seconds }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--rss-child') {
  await rssChild();
} else {
  const dir = mkdtempSync(join(tmpdir(), 'lifecycle-bench-'));
  const state = join(dir, 'docker-state');
  mkdirSync(state);
  process.env.FAKE_DOCKER_STATE = state;
  try {
    const native = await crashLatency(dir, 'native');
    console.log(
      `crash → error (native):  median ${fmt(median(native))}, max ${fmt(Math.max(...native))}   target ≤ 2000 ms`,
    );
    const docker = await crashLatency(dir, 'docker');
    console.log(
      `crash → error (docker):  median ${fmt(median(docker))}, max ${fmt(Math.max(...docker))}   target ≤ 2000 ms`,
    );
    const ready = await readyLatency(dir);
    console.log(
      `ready → detected:        median ${fmt(median(ready))}, max ${fmt(Math.max(...ready))}   target ≤ 300 ms`,
    );
    const child = JSON.parse(
      execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--rss-child'], {
        maxBuffer: 1 << 20,
      }).toString(),
    );
    const mb = child.maxRssKb / 1024;
    console.log(
      `peak RSS streaming ${(child.bytes / 1024 ** 3).toFixed(2)} GB log (${child.lines} lines, ${(child.bytes / 1024 ** 2 / child.seconds).toFixed(0)} MB/s): ${mb.toFixed(0)} MB   target ≤ 200 MB`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
