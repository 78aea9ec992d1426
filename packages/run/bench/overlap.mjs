#!/usr/bin/env node
/**
 * Benchmark (issue 15 item 1): a GPU step whose machine lacks a tool. Server start-up S and tool
 * provisioning P used to run one after the other (`perf-eval setup --only …` then `perf-eval run`);
 * now `run` provisions while the server starts. Target: step start → first bench request
 * ≈ max(S, P) + ≤ 1 s, not S + P.
 *
 * Both designs run here, as processes of the built CLI (packages/cli/dist/bin.js), with fakes of known
 * durations: the simulator is server-lifecycle's fake server, ready FAKE_VLLM_READY_DELAY_MS after it
 * starts (S); the bench client (`bench` component) is installed by toolchain's fake CPython, each of
 * its two pip installs taking FAKE_PIP_MS (P is measured: the wall time of `perf-eval setup --only
 * bench` in the serial design). "First bench request" is the moment the provisioned `vllm bench serve`
 * client starts (a wrapper stamps it; the fake client sends its requests right away). Each design gets
 * a fresh tools directory, so both really install.
 *
 * Usage: node packages/run/bench/overlap.mjs [--runs N]    (build first: npm run build)
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const packages = resolve(import.meta.dirname, '../..');
const CLI = join(packages, 'cli/dist/bin.js');
const PROFILES = resolve(packages, '../profiles/gpu_profiles.yaml');
const FAKE_SERVER = join(packages, 'server-lifecycle/test/fixtures/fake-vllm-server.mjs');
const FAKE_CLIENT = join(packages, 'bench-runner/test/fixtures/bin/vllm');
const FAKE_PYTHON = join(packages, 'toolchain/test/fixtures/setup-bin/python3');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '2' } } });
const RUNS = Number(values.runs);

const RECIPE = `name: overlap
gpu: SIM
vllm:
  model: org/tiny
vllm_bench:
  configs:
    - name: short
      input_len: 8
      output_len: 8
      num_prompts: 4
      max_concurrency: 2
`;

const freePort = () =>
  new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });

function executable(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

/** A fresh step: tools dir with the simulator (ready after `serverMs`) and its tokenizer, no bench client. */
function sandbox(serverMs) {
  const dir = mkdtempSync(join(tmpdir(), 'perf-eval-overlap-'));
  const tools = join(dir, 'tools');
  executable(
    join(tools, 'bin/llm-d-inference-sim'),
    `#!/bin/sh\nFAKE_VLLM_READY_DELAY_MS=${serverMs} exec "${process.execPath}" "${FAKE_SERVER}" "$@"\n`,
  );
  mkdirSync(join(tools, 'tokenizers/sim-bpe'), { recursive: true });
  writeFileSync(join(tools, 'tokenizers/sim-bpe/tokenizer.json'), '{}');
  executable(join(dir, 'path/python3'), `#!/bin/sh\nexec "${process.execPath}" "${FAKE_PYTHON}" "$@"\n`);
  const stamps = join(dir, 'client-started');
  // The installed `vllm` runs this: stamp the client's start, then the fake bench client.
  executable(
    join(dir, 'client'),
    `#!/bin/sh\ndate +%s%3N >> "${stamps}"\nexec "${process.execPath}" "${FAKE_CLIENT}" "$@"\n`,
  );
  writeFileSync(join(dir, 'recipe.yaml'), RECIPE);
  return { dir, tools, stamps };
}

function cli(box, args, env) {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: box.dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) =>
      code === 0 ? done() : fail(new Error(`perf-eval ${args[0]} exited ${code}:\n${output.slice(-2000)}`)),
    );
  });
}

async function step(design, serverMs, pipMs) {
  const box = sandbox(serverMs);
  try {
    const env = {
      PATH: [join(box.dir, 'path'), dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
      HOME: box.dir,
      PERF_EVAL_TOOLS_DIR: box.tools,
      VLLM_PORT: String(await freePort()),
      FAKE_PIP_MS: String(pipMs),
      FAKE_PIP_VLLM_CLIENT: join(box.dir, 'client'),
    };
    const run = [
      'run',
      'recipe.yaml',
      '--profiles',
      PROFILES,
      '--results-dir',
      join(box.dir, 'results'),
      '--no-ingest',
    ];
    const started = Date.now();
    let provisioningMs;
    if (design === 'serial') {
      await cli(box, ['setup', '--only', 'bench'], env);
      provisioningMs = Date.now() - started;
    }
    await cli(box, run, env);
    const firstRequest = Number(readFileSync(box.stamps, 'utf8').split('\n')[0]);
    const summary = JSON.parse(readFileSync(join(box.dir, 'results/overlap/summary.json'), 'utf8'));
    const phase = (name) => summary.timeline.find((p) => p.name === name);
    const span = (p) => Date.parse(p.end) - Date.parse(p.start);
    return {
      firstRequestMs: firstRequest - started,
      launchMs: span(phase('server launch')),
      provisioningMs: provisioningMs ?? span(phase('tool provisioning and preflight')),
    };
  } finally {
    rmSync(box.dir, { recursive: true, force: true });
  }
}

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;

console.log(
  `step start -> first bench request, median of ${RUNS} run(s) per row (load ${(await import('node:os')).loadavg()[0].toFixed(1)})`,
);
console.log(
  '  S = server start-up (fake, configured), P = provisioning (fake pip: 2 installs of FAKE_PIP_MS)',
);
for (const [serverMs, pipMs] of [
  [4000, 1000],
  [1500, 2000],
  [3000, 1500],
]) {
  const rows = { serial: [], overlapped: [] };
  for (let i = 0; i < RUNS; i++)
    for (const design of ['serial', 'overlapped']) rows[design].push(await step(design, serverMs, pipMs));
  const serial = {
    first: median(rows.serial.map((r) => r.firstRequestMs)),
    p: median(rows.serial.map((r) => r.provisioningMs)),
  };
  const overlapped = {
    first: median(rows.overlapped.map((r) => r.firstRequestMs)),
    launch: median(rows.overlapped.map((r) => r.launchMs)),
    p: median(rows.overlapped.map((r) => r.provisioningMs)),
  };
  // P as the serial step paid it (setup's wall time); S as the overlapped run measured it (launch phase).
  const bound = Math.max(overlapped.launch, serial.p) + 1000;
  console.log(
    `  S ${s(serverMs)} (launch phase ${s(overlapped.launch)}), P ${s(serial.p)} (setup wall):` +
      ` serial (setup, then run) ${s(serial.first)};  overlapped (run alone) ${s(overlapped.first)}` +
      `   target <= max(S, P) + 1 s = ${s(bound)}: ${overlapped.first <= bound ? 'ok' : 'MISSED'}` +
      `   saved ${s(serial.first - overlapped.first)}`,
  );
}
