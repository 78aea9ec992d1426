#!/usr/bin/env node
/**
 * Benchmark of `perf-eval run` orchestration with the adapters' fake tools (sim runtime), printing
 * figures next to their targets (nothing is asserted):
 *
 *  1. Orchestration overhead per recipe: wall time of `perf-eval run` (1 bench config, 2 lm_eval tasks,
 *     2 BFCL categories, --jobs 1, instant fakes) minus the time spent in tools (server ready time +
 *     the summed task durations from summary.json). Target <= 1 s.
 *  2. Accuracy-phase wall time with K=4 tasks of known duration (2 s, 2 s, 3 s, 4 s) at --jobs 1 and
 *     at the default (DEFAULT_JOBS of packages/run/src/lib/plan.ts). Target <= 1.25 x the longest task.
 *
 * Runs the BUILT CLI (packages/cli/dist/bin.js; `npx tsc --build packages/cli/tsconfig.lib.json` first).
 * Usage: node scripts/bench/run.mjs [--repeat N]
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '../..');
const packages = join(root, 'packages');
const BIN = join(packages, 'cli/dist/bin.js');
const PROFILES = join(root, 'profiles/gpu_profiles.yaml');
const { values } = parseArgs({ options: { repeat: { type: 'string', default: '5' } } });
const repeat = Math.max(1, Number(values.repeat));
const DEFAULT_JOBS = Number(
  /export const DEFAULT_JOBS = (\d+);/.exec(
    readFileSync(join(packages, 'run/src/lib/plan.ts'), 'utf8'),
  )?.[1] ?? 4,
);

if (!existsSync(BIN)) {
  console.error(`missing ${BIN}; run: npx tsc --build packages/cli/tsconfig.lib.json`);
  process.exit(2);
}

const FAKES = {
  'venvs/lmeval/bin/lm_eval': 'lmeval-runner/test/fixtures/bin/lm_eval',
  'venvs/lmeval/bin/python': 'lmeval-runner/test/fixtures/bin/python-lmeval',
  'venvs/bfcl/bin/python': 'bfcl-runner/test/fixtures/bin/fake-bfcl-python',
  'venvs/vllm/bin/vllm': 'bench-runner/test/fixtures/bin/vllm',
  'bin/llm-d-inference-sim': 'server-lifecycle/test/fixtures/bin/llm-d-inference-sim',
};

/** A tools dir whose tools are the fakes behind wrappers that load `knobs` into their env. */
function makeSandbox(knobs) {
  const dir = mkdtempSync(join(tmpdir(), 'perf-eval-bench-run-'));
  const knobsFile = join(dir, 'knobs.json');
  writeFileSync(knobsFile, JSON.stringify(knobs));
  // The offline tokenizer `perf-eval setup` builds for bench runs against the simulator.
  mkdirSync(join(dir, 'tools/tokenizers/sim-bpe'), { recursive: true });
  writeFileSync(join(dir, 'tools/tokenizers/sim-bpe/tokenizer.json'), '{}');
  for (const [path, fake] of Object.entries(FAKES)) {
    const target = join(dir, 'tools', path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(
      target,
      `#!/usr/bin/env node\nimport { readFileSync } from 'node:fs';\nObject.assign(process.env, JSON.parse(readFileSync(${JSON.stringify(knobsFile)}, 'utf8')));\nawait import(${JSON.stringify(join(packages, fake))});\n`,
    );
    chmodSync(target, 0o755);
  }
  return dir;
}

async function freePort() {
  const server = createServer();
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return port;
}

const RECIPE = `name: benchrun
gpu: SIM
vllm:
  model: org/tiny
  serve_args: --tool-call-parser openai --enable-auto-tool-choice
lm_eval:
  tasks:
    - name: gsm8k
    - name: ifeval
bfcl:
  test_categories:
    - simple_python
    - multiple
vllm_bench:
  configs:
    - name: short
      input_len: 8
      output_len: 8
      num_prompts: 4
      max_concurrency: 2
`;

/** One `perf-eval run`; returns wall ms and the summary. */
async function runOnce(knobs, extraArgs, serverEnv = {}) {
  const dir = makeSandbox(knobs);
  try {
    writeFileSync(join(dir, 'recipe.yaml'), RECIPE);
    const env = {
      PATH: [dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
      HOME: dir,
      PERF_EVAL_TOOLS_DIR: join(dir, 'tools'),
      VLLM_PORT: String(await freePort()),
      ...serverEnv,
    };
    const args = [
      BIN,
      'run',
      'recipe.yaml',
      '--profiles',
      PROFILES,
      '--results-dir',
      join(dir, 'results'),
      ...extraArgs,
    ];
    const started = performance.now();
    const startedEpoch = Date.now();
    const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    const code = await new Promise((done) => child.on('close', done));
    const wallMs = performance.now() - started;
    const endedEpoch = Date.now();
    if (code !== 0) throw new Error(`perf-eval run exited ${code}: ${stderr}`);
    const summary = JSON.parse(readFileSync(join(dir, 'results/benchrun/summary.json'), 'utf8'));
    // Before the Orchestrator starts (node startup, recipe load, preflight) and after its summary (exit).
    const beforeMs = Date.parse(summary.startedAt) - startedEpoch;
    const afterMs = endedEpoch - Date.parse(summary.finishedAt);
    return { wallMs, summary, beforeMs, afterMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${(ms / 1000).toFixed(3)} s`;

// ---- 1. orchestration overhead
const overheads = [];
const walls = [];
const toolTimes = [];
const befores = [];
const afters = [];
for (let i = 0; i < repeat; i++) {
  const { wallMs, summary, beforeMs, afterMs } = await runOnce({}, ['--jobs', '1'], {
    FAKE_VLLM_READY_DELAY_MS: '0',
  });
  const toolMs =
    (summary.server.readyAfterS + summary.tasks.reduce((sum, t) => sum + (t.durationS ?? 0), 0)) * 1000;
  walls.push(wallMs);
  toolTimes.push(toolMs);
  overheads.push(wallMs - toolMs);
  befores.push(beforeMs);
  afters.push(afterMs);
}
console.log(
  `1. orchestration overhead per recipe (1 bench + 2 lm_eval + 2 bfcl, --jobs 1, instant fakes; median of ${repeat})`,
);
console.log(`   wall ${fmt(median(walls))}, server ready + summed task time ${fmt(median(toolTimes))}`);
console.log(
  `   overhead ${fmt(median(overheads))} (min ${fmt(Math.min(...overheads))}, max ${fmt(Math.max(...overheads))})   target <= 1.000 s`,
);
console.log(
  `   of which: node start + recipe + preflight ${fmt(median(befores))}, after the final summary (exit) ${fmt(median(afters))}`,
);

// ---- 2. accuracy phase with K=4 tasks of 2, 2, 3, 4 s
const knobs = {
  FAKE_LMEVAL_SLEEP_MS: 'gsm8k=2000,ifeval=2000',
  FAKE_BFCL_SLEEP_MS: 'simple_python=3000,multiple=4000',
};
const longest = 4000;
console.log(
  `2. accuracy phase, K=4 tasks sleeping 2 s, 2 s, 3 s, 4 s (--only lm_eval,bfcl); target <= ${fmt(1.25 * longest)} (1.25 x longest)`,
);
for (const [label, args] of [
  ['--jobs 1', ['--jobs', '1']],
  [`default (--jobs ${DEFAULT_JOBS})`, []],
]) {
  const { summary } = await runOnce(knobs, ['--only', 'lm_eval,bfcl', ...args]);
  const tasks = summary.tasks.filter((t) => t.kind !== 'bench');
  const phaseMs =
    Math.max(...tasks.map((t) => Date.parse(t.finishedAt))) -
    Math.min(...tasks.map((t) => Date.parse(t.startedAt)));
  console.log(
    `   ${label.padEnd(22)} ${fmt(phaseMs)} = ${(phaseMs / longest).toFixed(2)} x longest   (tasks: ${tasks.map((t) => `${t.name} ${t.durationS.toFixed(2)}s`).join(', ')})`,
  );
}
