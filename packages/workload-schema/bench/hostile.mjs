#!/usr/bin/env node
// Hostile recipe corpus (issue 12 item 3): every case must end with one line and exit 2 within a
// second and well under 300 MB. Generates the corpus in a temp dir, runs `perf-eval plan FILE` on each
// as a real process (start-up included), prints time and peak RSS per case and the worst case next to
// the targets. Needs the built CLI (`npm run bench` builds it).
// Usage (from the repository root): node packages/workload-schema/bench/hostile.mjs
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const REPO = resolve(import.meta.dirname, '../../..');
const BIN = join(REPO, 'packages/cli/dist/bin.js');
const PROFILES = join(REPO, 'profiles/gpu_profiles.yaml');
const TARGET_MS = 1000;
const TARGET_MB = 300;
// A case still running after this is killed and reported as a failure (a hang).
const KILL_AFTER_MS = 60_000;

if (!existsSync(BIN)) {
  console.error(`missing ${BIN}; build first: npx nx run-many -t build`);
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'perf-eval-hostile-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

// Runs the CLI in-process after recording its peak RSS on exit (getrusage maxrss of this process).
const WRAPPER = join(dir, 'measure.mjs');
writeFileSync(
  WRAPPER,
  `import { writeSync } from 'node:fs';\nprocess.on('exit', () => writeSync(3, String(process.resourceUsage().maxRSS)));\nprocess.argv.splice(1, 1);\nawait import(${JSON.stringify(BIN)});\n`,
);

function file(name, text) {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const HEAD =
  'gpu: H200\nvllm:\n  model: m\nvllm_bench:\n  configs: [{name: a, input_len: 1, output_len: 1, num_prompts: 1, max_concurrency: 1}]\n';

function aliasBomb(width, levels, leaf = '"lol"') {
  const lines = [`a0: &a0 [${Array(width).fill(leaf).join(',')}]`];
  for (let i = 1; i <= levels; i++)
    lines.push(
      `a${i}: &a${i} [${Array(width)
        .fill(`*a${i - 1}`)
        .join(',')}]`,
    );
  return lines.join('\n') + '\n';
}

function mergeBomb(width, levels) {
  const lines = [`m0: &m0 {${Array.from({ length: width }, (_, j) => `k${j}: ${j}`).join(', ')}}`];
  for (let i = 1; i <= levels; i++)
    lines.push(
      `m${i}: &m${i} {${Array.from({ length: width }, (_, j) => `x${j}: {<<: *m${i - 1}}`).join(', ')}}`,
    );
  return lines.join('\n') + '\n';
}

/** A document of exactly `bytes` bytes: the recipe head, then a flat list of `1`s (the most tokens per byte). */
function flatList(bytes) {
  const head = `${HEAD}x: [`;
  const items = Math.floor((bytes - head.length - 2) / 2);
  return `${head}${'1,'.repeat(items - 1)}1]\n`;
}

function manyKeys(bytes) {
  const lines = [HEAD.trimEnd(), 'env_bomb:'];
  let size = HEAD.length + 10;
  for (let i = 0; size < bytes - 20; i++) {
    const line = `  k${i}: v`;
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join('\n') + '\n';
}

const cases = [
  ['alias bomb, 9 × 9 (the 380-byte "billion laughs")', () => file('bomb.yaml', aliasBomb(9, 8))],
  ['alias bomb, 2 × 60 (deep and narrow)', () => file('bomb2.yaml', aliasBomb(2, 60))],
  ['merge-key bomb, 10 × 8', () => file('merge.yaml', mergeBomb(10, 8))],
  [
    '50 MB recipe',
    () =>
      file(
        'big.yaml',
        `${HEAD}${'# padding line of a huge recipe file\n'.repeat(Math.ceil((50 * 1024 * 1024) / 38))}`,
      ),
  ],
  [
    '1 MiB recipe, flat list (limit - 1 byte, fully parsed)',
    () => file('flat.yaml', flatList(1024 * 1024 - 1)),
  ],
  [
    '1 MiB recipe, 60k keys (quadratic duplicate check before)',
    () => file('keys.yaml', manyKeys(1024 * 1024 - 1)),
  ],
  [
    '1 MiB recipe, one long scalar',
    () => file('long.yaml', `${HEAD}x: "${'y'.repeat(1024 * 1024 - HEAD.length - 10)}"\n`),
  ],
  [
    '100k-deep flow nesting',
    () => file('deep.yaml', `gpu: [${'['.repeat(100_000)}${']'.repeat(100_000)}]\n`),
  ],
  ['100k-deep block sequences', () => file('deep-block.yaml', `${'- '.repeat(100_000)}x\n`)],
  ['/dev/zero', () => '/dev/zero'],
  ['a FIFO (no writer)', () => (execFileSync('mkfifo', [join(dir, 'fifo.yaml')]), join(dir, 'fifo.yaml'))],
  ['a directory', () => (mkdirSync(join(dir, 'adir')), join(dir, 'adir'))],
  [
    'alias bomb as the GPU profiles file',
    () => ({ recipe: file('ok.yaml', HEAD), profiles: file('profiles-bomb.yaml', aliasBomb(9, 8)) }),
  ],
  [
    'a FIFO as the GPU profiles file',
    () => ({
      recipe: file('ok2.yaml', HEAD),
      profiles: (execFileSync('mkfifo', [join(dir, 'pfifo')]), join(dir, 'pfifo')),
    }),
  ],
];

function measure(args) {
  return new Promise((resolvePromise) => {
    const started = performance.now();
    const child = spawn(process.execPath, [WRAPPER, BIN, ...args], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, PERF_EVAL_PROFILES: '' },
    });
    let stderr = '';
    let rss = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.resume();
    child.stdio[3].on('data', (chunk) => (rss += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        code,
        signal,
        ms: performance.now() - started,
        rssMb: Number(rss) / 1024,
        lines: stderr.split('\n').filter(Boolean),
      });
    });
  });
}

// Baseline: a valid recipe, so the figures above it show what the hostile part costs.
const baseline = await measure(['plan', file('valid.yaml', HEAD), '--profiles', PROFILES]);
console.log(
  `baseline (valid recipe): ${baseline.ms.toFixed(0)} ms, ${baseline.rssMb.toFixed(0)} MB, exit ${baseline.code}`,
);
console.log('');
console.log(
  `${'case'.padEnd(58)} ${'exit'.padStart(4)} ${'lines'.padStart(5)} ${'ms'.padStart(7)} ${'MB'.padStart(6)}  first line`,
);
let worstMs = { ms: 0 };
let worstMb = { rssMb: 0 };
let bad = 0;
for (const [name, make] of cases) {
  const made = make();
  const recipe = typeof made === 'string' ? made : made.recipe;
  const profiles = typeof made === 'string' ? PROFILES : made.profiles;
  const result = { name, ...(await measure(['plan', recipe, '--profiles', profiles])) };
  const ok =
    result.code === 2 &&
    result.lines.length === 1 &&
    !/\n\s+at |internal error/.test(result.lines.join('\n'));
  if (!ok) bad++;
  if (result.ms > worstMs.ms) worstMs = result;
  if (result.rssMb > worstMb.rssMb) worstMb = result;
  const first = (result.lines[0] ?? '').replace(dir, '<tmp>');
  console.log(
    `${name.padEnd(58)} ${String(result.code ?? result.signal).padStart(4)} ${String(result.lines.length).padStart(5)} ${result.ms.toFixed(0).padStart(7)} ${result.rssMb.toFixed(0).padStart(6)}  ${ok ? '' : 'UNEXPECTED: '}${first.slice(0, 110)}`,
  );
}
console.log('');
console.log(
  `worst time: ${worstMs.ms.toFixed(0)} ms (${worstMs.name}), ${(worstMs.ms - baseline.ms).toFixed(0)} ms over the valid-recipe baseline   target < ${TARGET_MS} ms per case`,
);
console.log(`worst peak RSS: ${worstMb.rssMb.toFixed(0)} MB (${worstMb.name})   target < ${TARGET_MB} MB`);
console.log(`${cases.length - bad}/${cases.length} cases: one line on stderr, exit 2`);
console.log(
  `load average now: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} (figures scale with it on a shared machine)`,
);
process.exitCode = bad > 0 ? 1 : 0;
