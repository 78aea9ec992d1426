#!/usr/bin/env node
// Benchmark `perf-eval validate` end to end (process start included) over the vendored recipes and
// over 1000 generated, valid recipes. Needs the built CLI: `npx tsc --build packages/cli/tsconfig.lib.json`.
// Usage (from the repository root): node packages/workload-schema/bench/validate.mjs
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseDocument } from 'yaml';

const REPO = resolve(import.meta.dirname, '../../..');
const BIN = join(REPO, 'packages/cli/dist/bin.js');
const PROFILES = join(REPO, 'profiles/gpu_profiles.yaml');
const WORKLOADS = join(REPO, 'workloads');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const GENERATED = Number(process.env.BENCH_GENERATED ?? 1000);

if (!existsSync(BIN)) {
  console.error(`missing ${BIN}; build first: npx tsc --build packages/cli/tsconfig.lib.json`);
  process.exit(2);
}

const vendored = readdirSync(WORKLOADS)
  .filter((name) => name.endsWith('.yaml'))
  .sort()
  .map((name) => join(WORKLOADS, name));

/** Varied, valid recipes derived from the vendored ones: names, lists of concurrencies, tasks, categories. */
function generate(dir, count) {
  const bfclPool = [
    'simple_python',
    'multiple',
    'parallel',
    'parallel_multiple',
    'multi_turn',
    'live_simple',
    'irrelevance',
    'memory',
  ];
  const files = [];
  for (let i = 0; i < count; i++) {
    const source = vendored[i % vendored.length];
    const doc = parseDocument(readFileSync(source, 'utf8'));
    doc.set('name', `gen-${i}`);
    if (i % 3 === 0) doc.set('timeout_in_minutes', 60 + (i % 7) * 30);
    const concs = [1, 2, 4, 8, 16, 32, 64, 128, 256].slice(0, 1 + (i % 9));
    const configs = [
      {
        name: `${1 + (i % 8)}k-in-1k-out`,
        backend: i % 4 === 0 ? 'openai-chat' : 'openai',
        dataset: 'random',
        input_len: 1024 * (1 + (i % 8)),
        output_len: 1024,
        num_prompts: concs.map((c) => Math.max(10, c * 4)),
        max_concurrency: concs,
        repetitions: i % 2 === 0 ? 3 : 1,
        args: { num_warmups: concs[0], percentile_metrics: 'ttft,tpot,itl', request_rate: 'inf' },
      },
      { name: 'short', input_len: 128, output_len: 128, num_prompts: 100, max_concurrency: 8 + (i % 5) },
    ];
    doc.setIn(['vllm_bench', 'configs'], doc.createNode(configs));
    const tasks = [
      { name: 'gsm8k', num_fewshot: 5, model_args: { num_concurrent: 64, max_length: 32768 } },
      ...(i % 2 === 0 ? [{ name: 'mmlu', num_fewshot: i % 6, model_args: { max_gen_toks: 256 } }] : []),
    ];
    doc.setIn(['lm_eval', 'tasks'], doc.createNode(tasks));
    const categories = bfclPool.slice(i % 4, (i % 4) + 1 + (i % 5));
    doc.set(
      'bfcl',
      doc.createNode({
        test_categories: categories,
        num_threads: 4 + (i % 13),
        max_test_cases: i % 2 ? 50 : { [categories[0]]: 20 },
      }),
    );
    const file = join(dir, `gen_${String(i).padStart(4, '0')}.yaml`);
    writeFileSync(file, doc.toString());
    files.push(file);
  }
  return files;
}

function once(files) {
  const argv = [BIN, 'validate', '--quiet', '--profiles', PROFILES, ...files];
  const useTime = existsSync('/usr/bin/time');
  const started = performance.now();
  const child = useTime
    ? spawnSync('/usr/bin/time', ['-f', '__TIME__ %M %U %S', process.execPath, ...argv], {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      })
    : spawnSync(process.execPath, argv, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = (performance.now() - started) / 1000;
  const match = /__TIME__ (\d+) ([\d.]+) ([\d.]+)/.exec(child.stderr ?? '');
  if (child.status !== 0) {
    console.error((child.stderr ?? '').split('\n').slice(0, 10).join('\n'));
    throw new Error(`perf-eval validate exited ${child.status}`);
  }
  return {
    wall,
    rssMb: match ? Number(match[1]) / 1024 : undefined,
    cpu: match ? Number(match[2]) + Number(match[3]) : undefined,
  };
}

function report(label, files, targetS) {
  once(files); // warm the file cache
  const samples = Array.from({ length: RUNS }, () => once(files));
  const walls = samples.map((s) => s.wall).sort((a, b) => a - b);
  const median = walls[Math.floor(walls.length / 2)];
  const rss = Math.max(...samples.map((s) => s.rssMb ?? 0));
  const cpus = samples
    .map((s) => s.cpu)
    .filter((c) => c !== undefined)
    .sort((a, b) => a - b);
  const cpu = cpus.length > 0 ? `${cpus[Math.floor(cpus.length / 2)].toFixed(2)} s` : 'n/a';
  const verdict = median <= targetS ? 'OK' : 'OVER TARGET';
  console.log(
    `${label.padEnd(28)} wall median ${median.toFixed(3)} s (min ${walls[0].toFixed(3)}, max ${walls[walls.length - 1].toFixed(3)}; target ≤ ${targetS} s) ${verdict}` +
      `   cpu (user+sys) median ${cpu}   peak RSS ${rss ? `${rss.toFixed(1)} MB` : 'n/a'}`,
  );
}

const dir = mkdtempSync(join(tmpdir(), 'perf-eval-bench-validate-'));
try {
  mkdirSync(join(dir, 'workloads'));
  const generated = generate(join(dir, 'workloads'), GENERATED);
  const load = existsSync('/proc/loadavg')
    ? readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
    : 'n/a';
  console.log(
    `perf-eval validate (node ${process.version}, ${RUNS} runs each, median; load average ${load})`,
  );
  report(`${vendored.length} vendored recipes`, vendored, 0.5);
  report(`${generated.length} generated recipes`, generated, 3);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
