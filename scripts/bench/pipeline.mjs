#!/usr/bin/env node
/**
 * Benchmark, three parts:
 *   1. generation for 1000 generated recipes (target <= 3 s wall), split into uploads of <= 450 jobs,
 *      every upload checked against the Buildkite schema and the lints (issue 15 item 6);
 *   2. a large sweep fan-out: 16 recipes x 64 variants, and 8 multi-node (2-node) recipes x 64 variants
 *      (target <= 3 s each), same checks;
 *   3. the 21-recipe nightly set (the 13 upstream recipes of workloads/ plus 8 renamed copies of them),
 *      `perf-eval pipeline` as a process — `node build-cli/perf-eval.cjs pipeline` exactly as the
 *      bootstrap runs it (scripts/bundle-cli.mjs: the launcher, which runs the small bundle of
 *      `validate` and `pipeline` with the V8 code cache that the bootstrap's preceding `validate`
 *      writes; so `validate` runs once here first), the same without a code cache (what the first
 *      command after bundling costs), and the tsc-built dist — against a Python reconstruction of
 *      upstream's generator (PyYAML safe_load of the profiles and recipes, one step dict per nightly
 *      recipe, yaml.safe_dump; upstream's script is not in this repo, part 4 runs it). Target: Node no slower than
 *      Python (`python3` as found on PATH; when that is a wrapper such as a pyenv shim, the
 *      interpreter it starts is timed too, since the wrapper's start-up is part of the python3 figure).
 *      Wall (median) and CPU (user+sys, median) of --runs runs each; this machine is shared, so
 *      the CPU figure is the steadier one.
 * Parts 1-2 import the BUILT package (packages/pipeline/dist): run `npx tsc --build
 * packages/pipeline/tsconfig.lib.json` (or `npm run bench`) first.
 *
 *   4. optional, with --upstream DIR: upstream's real generator in a checkout of vllm-project/perf-eval,
 *      against `perf-eval pipeline` on that checkout's recipes (see compareWithUpstream below).
 * Node rows run without NODE_EXTRA_CA_CERTS, as the bootstrap runs them (Node loads that bundle at
 * start-up; the figure with it is printed when it is set).
 *
 * Usage: node scripts/bench/pipeline.mjs [--recipes N] [--schema PATH] [--runs N] [--upstream DIR]
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '../..');
// The built package by path: the root workspace is not an Nx project that may depend on libraries.
const { checkUploads, createSchemaValidator, generatePipeline, jobCount } = await import(
  pathToFileURL(resolve(root, 'packages/pipeline/dist/index.js')).href
);
const { values } = parseArgs({
  options: {
    recipes: { type: 'string', default: '1000' },
    schema: { type: 'string' },
    runs: { type: 'string', default: '7' },
    upstream: { type: 'string', default: process.env.PERF_EVAL_UPSTREAM_CHECKOUT },
  },
});
const count = Number(values.recipes);
const schemaPath = resolve(root, values.schema ?? '../shared/reference/buildkite/pipeline-schema.json');
const TARGET_MS = 3000;

const GPUS = ['H200', 'B200', 'MI300X', 'MI355X'];
function recipe(i) {
  const gpu = GPUS[i % GPUS.length];
  return [
    `name: bench-${i}-${gpu.toLowerCase()}`,
    `gpu: ${gpu}`,
    `num_gpus: ${1 + (i % 8)}`,
    'nightly: true',
    `timeout_in_minutes: ${60 + (i % 120)}`,
    'vllm:',
    `  model: org/model-${i}`,
    '  serve_args: >-',
    `    --tensor-parallel-size ${1 + (i % 8)}`,
    '    --trust-remote-code',
    'lm_eval:',
    '  tasks:',
    '    - name: gsm8k',
    '      num_fewshot: 5',
    ...(i % 3 === 0 ? ['bfcl:', '  test_categories: [simple_python, multiple]'] : []),
    'vllm_bench:',
    '  configs:',
    '    - name: 1k-in-1k-out',
    '      input_len: 1024',
    '      output_len: 1024',
    '      num_prompts: [64, 256]',
    '      max_concurrency: [16, 64]',
    '',
  ].join('\n');
}

const ENV = {
  VLLM_IMAGE: 'public.ecr.aws/q9t5s3a7/vllm-ci-postmerge-repo:0123456789abcdef0123456789abcdef01234567',
  MI355X_HF_CACHE_VOLUME: '{"persistentVolumeClaim":{"claimName":"hf"}}',
};
const ms = (a, b) => (b - a).toFixed(0);
const ok = (value, target) => (value <= target ? 'ok' : 'MISSED');

function tempRoot(name) {
  const dir = mkdtempSync(join(tmpdir(), `perf-eval-bench-${name}-`));
  mkdirSync(join(dir, 'workloads'));
  mkdirSync(join(dir, 'profiles'));
  cpSync(join(root, 'profiles/gpu_profiles.yaml'), join(dir, 'profiles/gpu_profiles.yaml'));
  return dir;
}

const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

/** Generate in-process, then check every upload (schema + lints + keys across uploads). */
function measure(title, dir, env = ENV) {
  const c0 = cpuMs();
  const t0 = performance.now();
  const generated = generatePipeline({ root: dir, env });
  const t1 = performance.now();
  const c1 = cpuMs();
  const issues = checkUploads(generated.uploads, {
    schemaPath,
    schemaCacheDir: null,
    context: generated.lintContext,
  });
  const t2 = performance.now();
  const jobs = generated.uploads.map((upload) => upload.steps.reduce((sum, step) => sum + jobCount(step), 0));
  const bytes = generated.uploadYaml.reduce((sum, text) => sum + text.length, 0);
  console.log(
    `${title}: ${generated.pipeline.steps.length} steps, ${jobs.reduce((a, b) => a + b, 0)} jobs -> ${generated.uploads.length} upload(s) of ${jobs.join(' + ')} jobs, ${(bytes / 1024 / 1024).toFixed(1)} MiB YAML`,
  );
  console.log(
    `  generate (load + validate recipes, steps, split, YAML): ${ms(t0, t1)} ms wall, ${ms(c0, c1)} ms CPU   (target <= ${TARGET_MS} ms: ${ok(t1 - t0, TARGET_MS)})`,
  );
  console.log(
    `  schema + lints of every upload: ${ms(t1, t2)} ms, ${issues.length} issue(s)${issues.length ? `: ${issues[0].message}` : ''}`,
  );
  if (issues.length > 0) process.exitCode = 1;
}

// Parts 3-4 run first: they time processes, and spawning from this process once parts 1-2 have
// grown its heap costs tens of milliseconds per spawn (fork copies the page tables), which would
// inflate every wall figure alike.
let dir;
// 3. the 21-recipe nightly set: Node (as a process) vs a Python reconstruction of upstream's generator
const runs = Number(values.runs);
const PYTHON = `
import glob, sys, yaml
profiles = yaml.safe_load(open('profiles/gpu_profiles.yaml'))
steps = []
for path in sorted(glob.glob('workloads/*.yaml')):
    w = yaml.safe_load(open(path))
    if not w.get('nightly'):
        continue
    p = profiles[w['gpu']]
    step = {
        'label': w.get('name', path),
        'agents': {'queue': p['queue']},
        'timeout_in_minutes': w.get('timeout_in_minutes', 120),
        'commands': ['python3 -m venv .venv && .venv/bin/pip install -q "lm-eval[api]" pyyaml',
                     'INGEST_BEARER_TOKEN="$(buildkite-agent secret get INGEST_BEARER_TOKEN)" && python3 run_workload.py ' + path],
        'artifact_paths': ['results/**/*'],
    }
    if p.get('server_runtime') == 'native':
        step['plugins'] = [{'kubernetes': {'podSpec': {'containers': [{'image': p.get('image_repo', 'vllm/vllm-openai'), 'resources': {'limits': {'nvidia.com/gpu': w.get('num_gpus', 8)}}, 'env': [{'name': 'HF_HOME', 'value': p.get('hf_home', '')}]}]}}}]
    steps.append(step)
sys.stdout.write(yaml.safe_dump({'steps': steps}, sort_keys=False))
`;

/** The steps of a generated pipeline's YAML: its `- label:` lines. */
const stepCount = (yaml) => (yaml.match(/^\s*- label:/gm) ?? []).length;

/** process.env with `changes` applied; a variable set to undefined is removed. */
function withEnv(changes) {
  const out = { ...process.env, ...changes };
  for (const [name, value] of Object.entries(changes)) if (value === undefined) delete out[name];
  return out;
}

function timed(command, args, cwd, env) {
  const wall = [];
  const cpu = [];
  let stdout = '';
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', join(cwd, '.time'), command, ...args], {
      cwd,
      env: withEnv(env),
      encoding: 'utf8',
    });
    wall.push(performance.now() - started);
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
    const [user, sys] = readFileSync(join(cwd, '.time'), 'utf8').trim().split(/\s+/).map(Number);
    cpu.push((user + sys) * 1000);
    stdout = result.stdout;
  }
  const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
  return { wall: median(wall), cpu: median(cpu), stdout };
}

dir = tempRoot('nightly21');
try {
  const upstream = readdirSync(join(root, 'workloads'))
    .filter((name) => name.endsWith('.yaml') && name !== 'demo_sim.yaml')
    .sort();
  for (const name of upstream) cpSync(join(root, 'workloads', name), join(dir, 'workloads', name));
  for (const name of upstream.slice(0, 8)) {
    const text = readFileSync(join(root, 'workloads', name), 'utf8').replace(
      /^name: (.*)$/m,
      'name: $1-copy',
    );
    writeFileSync(join(dir, 'workloads', name.replace('.yaml', '_copy.yaml')), text);
  }
  const bundle = join(dir, 'build-cli/perf-eval.cjs');
  spawnSync(process.execPath, [join(root, 'scripts/bundle-cli.mjs'), '--output', bundle], {
    stdio: 'ignore',
  });
  const cacheDir = join(dir, 'schema-cache');
  // As .buildkite/bootstrap.sh runs them: without NODE_EXTRA_CA_CERTS, which Node reads at start-up.
  const env = {
    PERF_EVAL_SCHEMA_CACHE_DIR: cacheDir,
    PERF_EVAL_BUILDKITE_SCHEMA: schemaPath,
    NODE_EXTRA_CA_CERTS: undefined,
  };
  // As in the bootstrap: `validate` runs first and leaves the bundle's V8 code cache behind.
  const validate = spawnSync(process.execPath, [bundle, 'validate', '--quiet'], {
    cwd: dir,
    env: withEnv(env),
    encoding: 'utf8',
  });
  if (validate.status !== 0) throw new Error(`perf-eval validate failed: ${validate.stderr}`);
  const python = timed('python3', ['-c', PYTHON], dir, {});
  const steps = stepCount(python.stdout);
  // `python3` may be a wrapper (a pyenv shim is a bash script that execs pyenv, then python).
  const interpreter = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], {
    encoding: 'utf8',
  }).stdout.trim();
  const onPath = spawnSync('sh', ['-c', 'command -v python3'], { encoding: 'utf8' }).stdout.trim();
  const wrapped = interpreter !== '' && onPath !== '' && realpathSync(onPath) !== realpathSync(interpreter);
  const rows = [
    ['python3 + PyYAML (upstream-like: load + emit, no checks)', python],
    ...(wrapped
      ? [
          [
            '  the same, its interpreter directly (python3 is a wrapper)',
            timed(interpreter, ['-c', PYTHON], dir, {}),
          ],
        ]
      : []),
    [
      'node bundle: perf-eval pipeline (recipes validated, lints)',
      timed(process.execPath, [bundle, 'pipeline'], dir, env),
    ],
    [
      '  the same, no code cache (the first command after bundling)',
      timed(process.execPath, [bundle, 'pipeline'], dir, { ...env, PERF_EVAL_CODE_CACHE: 'off' }),
    ],
    [
      'node bundle: perf-eval pipeline --validate (schema cached)',
      (timed(process.execPath, [bundle, 'pipeline', '--validate'], dir, env),
      timed(process.execPath, [bundle, 'pipeline', '--validate'], dir, env)),
    ],
    [
      'node bundle: perf-eval pipeline --validate (no schema cache)',
      timed(process.execPath, [bundle, 'pipeline', '--validate'], dir, {
        ...env,
        PERF_EVAL_SCHEMA_CACHE_DIR: 'off',
      }),
    ],
    [
      'node dist (tsc output): perf-eval pipeline',
      timed(process.execPath, [join(root, 'packages/cli/dist/bin.js'), 'pipeline'], dir, env),
    ],
  ];
  const node = timed(process.execPath, ['-e', '0'], dir, { NODE_EXTRA_CA_CERTS: undefined });
  const python0 = timed('python3', ['-c', 'pass'], dir, {});
  const interpreter0 = wrapped ? timed(interpreter, ['-c', 'pass'], dir, {}) : undefined;
  console.log(
    `21-recipe nightly set (${steps} steps; ${runs} runs each, median; process start-up alone: node ${node.wall.toFixed(0)} ms, python3 ${python0.wall.toFixed(0)} ms${interpreter0 ? ` (its interpreter ${interpreter0.wall.toFixed(0)} ms)` : ''} wall):`,
  );
  for (const [title, figure] of rows)
    console.log(
      `  ${title.padEnd(62)} ${figure.wall.toFixed(0).padStart(5)} ms wall ${figure.cpu.toFixed(0).padStart(5)} ms CPU`,
    );
  const [, nodePlain] = rows[wrapped ? 2 : 1];
  console.log(
    `  perf-eval pipeline vs python: ${(nodePlain.wall / python.wall).toFixed(2)}x wall, ${(nodePlain.cpu / python.cpu).toFixed(2)}x CPU   (target <= 1.00x: ${ok(nodePlain.wall / python.wall, 1)})`,
  );
  if (wrapped) {
    const [, direct] = rows[1];
    console.log(
      `  perf-eval pipeline vs ${interpreter} directly: ${(nodePlain.wall / direct.wall).toFixed(2)}x wall, ${(nodePlain.cpu / direct.cpu).toFixed(2)}x CPU`,
    );
  }
  if (process.env.NODE_EXTRA_CA_CERTS) {
    const withCerts = timed(process.execPath, ['-e', '0'], dir, {});
    console.log(
      `  NODE_EXTRA_CA_CERTS is set here: node -e 0 takes ${withCerts.wall.toFixed(0)} ms with it, ${node.wall.toFixed(0)} ms without (the bootstrap unsets it for validate and pipeline)`,
    );
  }
  if (values.upstream)
    compareWithUpstream(resolve(values.upstream), join(dir, 'build-cli/perf-eval.cjs'), env);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const compileStarted = performance.now();
createSchemaValidator(schemaPath, { cacheDir: null });
console.log(
  `Buildkite schema compile (uncached, once per process): ${ms(compileStarted, performance.now())} ms`,
);

// 1. 1000 recipes
dir = tempRoot('pipeline');
try {
  for (let i = 0; i < count; i++)
    writeFileSync(join(dir, 'workloads', `bench_${String(i).padStart(5, '0')}.yaml`), recipe(i));
  measure(`${count} recipes`, dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// 2. sweep fan-outs
const SWEEP64 = [
  'sweep:',
  '  serve_args:',
  '    --max-num-seqs: [32, 64, 128, 256, 384, 512, 768, 1024]',
  '    --max-num-batched-tokens: [2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144]',
];
dir = tempRoot('sweep');
try {
  for (let i = 0; i < 16; i++)
    writeFileSync(
      join(dir, 'workloads', `sweep_${String(i).padStart(2, '0')}.yaml`),
      `${recipe(i)}${SWEEP64.join('\n')}\n`,
    );
  measure('sweep fan-out, 16 recipes x 64 variants', dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
dir = tempRoot('multinode');
try {
  for (let i = 0; i < 8; i++) {
    const text = recipe(4 * i + 1)
      .replace('gpu: B200', 'gpu: B200')
      .replace(/num_gpus: \d+/, 'num_gpus: 8')
      .replace('vllm:\n', 'vllm:\n  num_nodes: 2\n');
    writeFileSync(join(dir, 'workloads', `multi_${i}.yaml`), `${text}${SWEEP64.join('\n')}\n`);
  }
  measure('multi-node sweep, 8 two-node B200 recipes x 64 variants', dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * 4. With --upstream DIR (or PERF_EVAL_UPSTREAM_CHECKOUT), a checkout of vllm-project/perf-eval: its own
 * generator, .buildkite/generate_pipeline.py, against `perf-eval pipeline` on the same recipes (DIR's
 * workloads/, its nightly set) and profiles (DIR/lib/gpu_profiles.yaml), both run in DIR (nothing is
 * written there). Upstream's bootstrap runs it as `python3 .buildkite/generate_pipeline.py`.
 */
function compareWithUpstream(checkout, bundle, env) {
  const generator = join(checkout, '.buildkite/generate_pipeline.py');
  const commit = spawnSync('git', ['-C', checkout, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  const upstream = timed('python3', [generator], checkout, {});
  const interpreter = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], {
    encoding: 'utf8',
  }).stdout.trim();
  const direct = timed(interpreter, [generator], checkout, {});
  const ours = timed(
    process.execPath,
    [bundle, 'pipeline', '--profiles', 'lib/gpu_profiles.yaml'],
    checkout,
    env,
  );
  console.log(
    `upstream's own generator (${checkout}${commit.status === 0 ? ` @ ${commit.stdout.trim()}` : ''}), its nightly set: ${stepCount(upstream.stdout)} steps upstream, ${stepCount(ours.stdout)} here`,
  );
  for (const [title, figure] of [
    ['python3 .buildkite/generate_pipeline.py (as upstream runs it)', upstream],
    [`  the same, ${interpreter}`, direct],
    ['node bundle: perf-eval pipeline, same recipes and profiles', ours],
  ])
    console.log(
      `  ${title.padEnd(62)} ${figure.wall.toFixed(0).padStart(5)} ms wall ${figure.cpu.toFixed(0).padStart(5)} ms CPU`,
    );
  for (const [what, base] of [
    ['python3', upstream],
    [interpreter, direct],
  ])
    console.log(
      `  perf-eval pipeline vs upstream via ${what}: ${(ours.wall / base.wall).toFixed(2)}x wall, ${(ours.cpu / base.cpu).toFixed(2)}x CPU   (target <= 1.00x: ${ok(ours.wall / base.wall, 1)})`,
    );
}
