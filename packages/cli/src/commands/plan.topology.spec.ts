import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Io } from '../lib/io.js';
import { run } from '../lib/main.js';

const REPO = resolve(import.meta.dirname, '../../../..');
const REAL_PROFILES = resolve(REPO, 'profiles/gpu_profiles.yaml');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Plans hold absolute paths (the run's own results dir); outputs are shown relative to the sandbox.
 * No tools dir and an empty PATH: tool commands are the bare names.
 */
async function cli(text: string, argv: string[], env: Record<string, string> = {}): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'perf-eval-topology-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));
  copyFileSync(REAL_PROFILES, join(dir, 'profiles.yaml'));
  writeFileSync(join(dir, 'recipe.yaml'), text);
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    env: { PERF_EVAL_TOOLS_DIR: join(dir, 'no-tools'), PATH: '', ...env },
    cwd: dir,
    signal: new AbortController().signal,
  };
  const code = await run(
    [...argv.slice(0, 1), 'recipe.yaml', ...argv.slice(1), '--profiles', join(dir, 'profiles.yaml')],
    io,
  );
  return { code, stdout: stdout.split(`${dir}/`).join(''), stderr };
}

/** `perf-eval validate` diagnostics of an invalid recipe (summary line dropped). */
async function invalid(text: string, env: Record<string, string> = {}): Promise<string[]> {
  const out = await cli(text, ['validate'], env);
  expect(out.code).toBe(2);
  return out.stderr.split('\n').filter((line) => line !== '' && !/ recipe\(s\): /.test(line));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON plan, inspected field by field
async function planJson(
  text: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<Record<string, any>> {
  const out = await cli(text, ['plan', '--json', ...extra], env);
  expect(out.stderr).toBe('');
  expect(out.code).toBe(0);
  return JSON.parse(out.stdout) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

// Lines 1-4; `vllm:` children start at line 4.
const HEAD = `gpu: B200
num_gpus: 8
vllm:
  model: org/m
`;
const BENCH = `vllm_bench:
  configs:
    - {name: s, input_len: 8, output_len: 8, num_prompts: 4, max_concurrency: 2}
`;

describe('perf-eval validate: invalid topologies, semantic evals and sweeps (file:line:col)', () => {
  it('only one of prefill/decode', async () => {
    expect(await invalid(`${HEAD}  prefill: {}\n${BENCH}`)).toEqual([
      'recipe.yaml:5:3: vllm.prefill needs vllm.decode: disaggregated serving sets both roles',
    ]);
    expect(await invalid(`${HEAD}  decode:\n    serve_args: -tp 2\n${BENCH}`)).toEqual([
      'recipe.yaml:5:3: vllm.decode needs vllm.prefill: disaggregated serving sets both roles',
    ]);
  });

  it('kv_transfer or proxy without roles; vllm.num_nodes together with roles', async () => {
    expect(await invalid(`${HEAD}  kv_transfer: {num_threads: 4}\n  proxy: {port: 9000}\n${BENCH}`)).toEqual([
      'recipe.yaml:5:3: vllm.kv_transfer needs vllm.prefill and vllm.decode (disaggregated serving)',
      'recipe.yaml:6:3: vllm.proxy needs vllm.prefill and vllm.decode (disaggregated serving)',
    ]);
    expect(await invalid(`${HEAD}  num_nodes: 2\n  prefill: {}\n  decode: {}\n${BENCH}`)).toEqual([
      'recipe.yaml:5:3: vllm.num_nodes applies to the aggregated server; with prefill/decode set vllm.prefill.num_nodes and vllm.decode.num_nodes',
    ]);
  });

  it('gpu_ids: not ints, duplicates, only one role, overlap', async () => {
    expect(
      await invalid(`${HEAD}  prefill: {gpu_ids: [0, '1']}\n  decode: {gpu_ids: [2, 2.0, 3]}\n${BENCH}`),
    ).toEqual([
      "recipe.yaml:5:26: vllm.prefill.gpu_ids[1] must be a GPU index (an integer >= 0), got '1'",
      'recipe.yaml:6:25: vllm.decode.gpu_ids[1] must be a GPU index (an integer >= 0), got 2.0',
    ]);
    expect(await invalid(`${HEAD}  prefill: {gpu_ids: [0, 1, 0]}\n  decode: {gpu_ids: 3}\n${BENCH}`)).toEqual(
      [
        'recipe.yaml:5:29: vllm.prefill.gpu_ids lists GPU 0 twice',
        'recipe.yaml:6:21: vllm.decode.gpu_ids must be a non-empty list of GPU indices',
      ],
    );
    expect(await invalid(`${HEAD}  prefill: {gpu_ids: [0, 1]}\n  decode: {}\n${BENCH}`)).toEqual([
      'recipe.yaml:5:22: vllm.prefill.gpu_ids is set but vllm.decode.gpu_ids is not; set both or neither',
    ]);
    expect(
      await invalid(`${HEAD}  prefill:\n    gpu_ids: [0, 1, 2]\n  decode:\n    gpu_ids: [3, 2]\n${BENCH}`),
    ).toEqual(['recipe.yaml:8:14: vllm.prefill.gpu_ids and vllm.decode.gpu_ids overlap on GPU(s) 2']);
  });

  it('an odd GPU count without gpu_ids, from num_gpus or CUDA_VISIBLE_DEVICES', async () => {
    const text = `gpu: B200\nvllm:\n  model: org/m\n  prefill: {}\n  decode: {}\n${BENCH}`;
    expect(await invalid(text)).toEqual([
      'recipe.yaml:4:3: cannot split 1 GPU(s) (num_gpus: 1) evenly between prefill and decode; set vllm.prefill.gpu_ids and vllm.decode.gpu_ids',
    ]);
    expect(
      await invalid(`${HEAD}  prefill: {}\n  decode: {}\n${BENCH}`, { CUDA_VISIBLE_DEVICES: '4,5,6' }),
    ).toEqual([
      'recipe.yaml:5:3: cannot split 3 GPU(s) (CUDA_VISIBLE_DEVICES=4,5,6) evenly between prefill and decode; set vllm.prefill.gpu_ids and vllm.decode.gpu_ids',
    ]);
  });

  it('docker runtime with roles names the profile; role, kv_transfer and proxy fields are checked', async () => {
    expect(
      await invalid(`gpu: H200\nnum_gpus: 8\nvllm:\n  model: org/m\n  prefill: {}\n  decode: {}\n${BENCH}`),
    ).toEqual([
      "recipe.yaml:5:3: disaggregated prefill/decode is not supported with the docker server runtime (GPU profile 'H200'); use a profile with server_runtime native or sim",
    ]);
    const text = `${HEAD}  prefill: {port: 70000, num_nodes: 0, gpu: [1]}
  decode: {port: 9000}
  kv_transfer: {connector: '', num_threads: 0}
  proxy: {port: 9000, health_path: healthz, script: 3}
${BENCH}`;
    expect(await invalid(text)).toEqual([
      'recipe.yaml:5:19: vllm.prefill.port must be a port number (1-65535)',
      'recipe.yaml:5:37: vllm.prefill.num_nodes must be a positive integer',
      "recipe.yaml:5:40: unknown field 'vllm.prefill.gpu' (did you mean 'gpu_ids'?)",
      'recipe.yaml:6:18: vllm.decode.port 9000 is also vllm.proxy.port; each service needs its own port',
      'recipe.yaml:7:28: vllm.kv_transfer.connector must be a non-empty string',
      'recipe.yaml:7:45: vllm.kv_transfer.num_threads must be a positive integer',
      "recipe.yaml:8:36: vllm.proxy.health_path must be a path starting with '/', got 'healthz'",
      'recipe.yaml:8:53: vllm.proxy.script must be a non-empty string',
    ]);
  });

  it('semantic_eval: unknown placeholders (list token and string), options that need the default command', async () => {
    const text = `${HEAD}${BENCH}semantic_eval:
  command: [python3, eval.py, '--host={hots}', '{port}']
  python: python3.12
  num_questions: 10
  output_path: '{output_path}/x.json'
  timeout_minutes: 0
`;
    expect(await invalid(text)).toEqual([
      "recipe.yaml:9:31: semantic_eval.command[2] has unknown placeholder '{hots}' (known: {model}, {host}, {port}, {url}, {output_path}, {result_dir}) (did you mean '{host}'?)",
      'recipe.yaml:10:3: semantic_eval.python only applies to the default command; put the interpreter in semantic_eval.command',
      'recipe.yaml:11:3: semantic_eval.num_questions only applies to the default command; put --num-questions in semantic_eval.command',
      "recipe.yaml:12:16: semantic_eval.output_path has unknown placeholder '{output_path}' (known: {result_dir})",
      'recipe.yaml:13:20: semantic_eval.timeout_minutes must be a positive integer',
    ]);
    expect(
      await invalid(`${HEAD}${BENCH}semantic_eval:\n  command: python3 x.py --dir {resultdir}\n  extra: 1\n`),
    ).toEqual([
      "recipe.yaml:9:12: semantic_eval.command has unknown placeholder '{resultdir}' (known: {model}, {host}, {port}, {url}, {output_path}, {result_dir}) (did you mean '{result_dir}'?)",
      "recipe.yaml:10:3: unknown field 'semantic_eval.extra'",
    ]);
  });

  it('sweep: non-flag keys, empty and non-list values, bad and duplicate values, too many variants', async () => {
    const text = `${HEAD}${BENCH}sweep:
  serve_args:
    max-num-seqs: [1]
    --a: []
    --b: 3
    --c: [true, 'x y', 1, 1]
`;
    expect(await invalid(text)).toEqual([
      "recipe.yaml:10:5: sweep.serve_args key 'max-num-seqs' is not a serve flag; write it as '--max-num-seqs'",
      "recipe.yaml:11:10: sweep.serve_args['--a'] has an empty value list",
      "recipe.yaml:12:10: sweep.serve_args['--b'] must be a list of values",
      "recipe.yaml:13:11: sweep.serve_args['--c'][0] must be a number or a non-empty string without whitespace, got True",
      "recipe.yaml:13:17: sweep.serve_args['--c'][1] must be a number or a non-empty string without whitespace, got 'x y'",
      "recipe.yaml:13:27: sweep.serve_args['--c'] lists 1 twice",
    ]);
    const big = `${HEAD}${BENCH}sweep:\n  serve_args:\n    --a: [1, 2, 3, 4, 5, 6, 7, 8, 9]\n    --b: [1, 2, 3, 4, 5, 6, 7, 8]\n`;
    expect(await invalid(big)).toEqual([
      'recipe.yaml:8:1: sweep expands to 72 variants (9 × 8); at most 64 are allowed',
    ]);
    expect(await invalid(`${HEAD}${BENCH}sweep: {}\n`)).toEqual([
      'recipe.yaml:8:1: sweep.serve_args must map serve flags to lists of values, e.g. {--max-num-seqs: [128, 256]}',
    ]);
  });

  it('a valid recipe with every extension validates cleanly', async () => {
    const out = await cli(
      `${HEAD}  prefill: {gpu_ids: [0, 1]}\n  decode: {gpu_ids: [2, 3]}\n  proxy: {port: 9000}\n${BENCH}semantic_eval: {}\nsweep:\n  serve_args:\n    --max-num-seqs: [8, 16]\n`,
      ['validate'],
    );
    expect([out.code, out.stderr]).toEqual([0, '']);
  });
});

const DISAGG = `name: pd
gpu: B200
num_gpus: 8
vllm:
  model: org/m
  serve_args: --max-model-len 4096 --api-key sk-secret-1234
  env: {HF_TOKEN: hf_abcdefgh}
  prefill:
    serve_args: --tensor-parallel-size 4
    num_nodes: 2
  decode:
    serve_args: --tensor-parallel-size 4
  kv_transfer: {num_threads: 4}
${BENCH}semantic_eval: {num_questions: 20}
sweep:
  serve_args:
    --max-num-seqs: [128, 256]
    --gpu-memory-utilization: [0.9]
`;

describe('perf-eval plan: roles, proxy, semantic eval and variants', () => {
  it('disaggregated: proxy on the resolved port, prefill +1, decode +2; argv, env and GPUs per role; secrets redacted', async () => {
    const plan = await planJson(DISAGG, [], { VLLM_PORT: '8100', VLLM_SOURCE_DIR: '/opt/vllm' });
    expect(plan['topology']).toBe('disaggregated');
    expect(plan['server'].port).toBe(8100);
    expect(plan['server'].argv).toEqual([]);
    expect(plan['proxy']).toEqual({
      port: 8100,
      healthUrl: 'http://localhost:8100/healthcheck',
      script: '/opt/vllm/tests/v1/kv_connector/nixl_integration/toy_proxy_server.py',
      kvConnector: 'NixlConnector',
      argv: [
        'python3',
        '/opt/vllm/tests/v1/kv_connector/nixl_integration/toy_proxy_server.py',
        '--port',
        '8100',
        '--prefiller-hosts',
        'localhost',
        '--prefiller-ports',
        '8101',
        '--decoder-hosts',
        'localhost',
        '--decoder-ports',
        '8102',
      ],
    });
    const [prefill, decode] = plan['roles'];
    expect(prefill).toMatchObject({
      role: 'prefill',
      port: 8101,
      gpuIds: [0, 1, 2, 3],
      gpuSource: 'num_gpus',
      numNodes: 2,
      distributedExecutorBackend: 'ray',
      healthUrl: 'http://localhost:8101/health',
    });
    expect(prefill.argv).toEqual([
      'vllm',
      'serve',
      'org/m',
      '--port',
      '8101',
      '--max-model-len',
      '4096',
      '--api-key',
      '***',
      '--tensor-parallel-size',
      '4',
      '--kv-transfer-config',
      '{"kv_connector":"NixlConnector","kv_role":"kv_producer","kv_connector_extra_config":{"num_threads":4}}',
      '--distributed-executor-backend',
      'ray',
    ]);
    expect(decode).toMatchObject({
      role: 'decode',
      port: 8102,
      gpuIds: [4, 5, 6, 7],
      numNodes: 1,
      distributedExecutorBackend: null,
    });
    expect(decode.argv.slice(-2)).toEqual([
      '--kv-transfer-config',
      '{"kv_connector":"NixlConnector","kv_role":"kv_consumer","kv_connector_extra_config":{"num_threads":4}}',
    ]);
    expect(decode.env).toMatchObject({
      HF_TOKEN: '***',
      CUDA_VISIBLE_DEVICES: '4,5,6,7',
      VLLM_NIXL_SIDE_CHANNEL_PORT: '5604',
    });
    // Every tool talks to the proxy.
    expect(plan['bench'][0].argv).toEqual(expect.arrayContaining(['--port', '8100']));
    expect(plan['semanticEval']).toMatchObject({
      name: 'gsm8k',
      timeoutMs: 30 * 60_000,
      outputPath: 'results/pd/semantic_eval.json',
      timeoutMinutes: 30,
      defaultCommand: true,
      argv: [
        'python3',
        '/opt/vllm/tests/evals/gsm8k/gsm8k_eval.py',
        '--host',
        'http://localhost',
        '--port',
        '8100',
        '--num-questions',
        '20',
        '--save-results',
        'results/pd/semantic_eval.json',
      ],
    });
    expect(plan['variant']).toBeNull();
    expect(plan['variants'].map((v: { name: string; resultsDir: string }) => [v.name, v.resultsDir])).toEqual(
      [
        [
          'pd--max-num-seqs-128--gpu-memory-utilization-0.9',
          'results/pd--max-num-seqs-128--gpu-memory-utilization-0.9',
        ],
        [
          'pd--max-num-seqs-256--gpu-memory-utilization-0.9',
          'results/pd--max-num-seqs-256--gpu-memory-utilization-0.9',
        ],
      ],
    );
    expect(plan['variants'][1].serveArgs).toEqual([
      '--max-model-len',
      '4096',
      '--api-key',
      '***',
      '--max-num-seqs',
      '256',
      '--gpu-memory-utilization',
      '0.9',
    ]);
    expect(plan['variants'][1].roleServeArgs.decode).toContain('256');
  });

  it("--variant prints that variant's full plan; --results-dir roots the variant dirs", async () => {
    const plan = await planJson(DISAGG, [
      '--variant',
      'pd--max-num-seqs-256--gpu-memory-utilization-0.9',
      '--results-dir',
      'out',
    ]);
    expect(plan['workload'].name).toBe('pd--max-num-seqs-256--gpu-memory-utilization-0.9');
    expect(plan['resultsDir']).toBe('out/pd--max-num-seqs-256--gpu-memory-utilization-0.9');
    expect(plan['variant']).toEqual({
      name: 'pd--max-num-seqs-256--gpu-memory-utilization-0.9',
      baseName: 'pd',
      settings: { '--max-num-seqs': '256', '--gpu-memory-utilization': '0.9' },
    });
    expect(plan['variants']).toEqual([]);
    expect(plan['roles'][1].argv.slice(-4)).toEqual([
      '--max-num-seqs',
      '256',
      '--gpu-memory-utilization',
      '0.9',
    ]);
    expect(plan['semanticEval'].argv.at(-1)).toBe(
      'out/pd--max-num-seqs-256--gpu-memory-utilization-0.9/semantic_eval.json',
    );
  });

  it('an unknown --variant exits 2 listing the names; --variant without a sweep exits 2', async () => {
    const unknown = await cli(DISAGG, ['plan', '--variant', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      "perf-eval plan: unknown variant 'nope'; recipe.yaml has 2: pd--max-num-seqs-128--gpu-memory-utilization-0.9, pd--max-num-seqs-256--gpu-memory-utilization-0.9",
    );
    const none = await cli(`${HEAD}${BENCH}`, ['plan', '--variant', 'x']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("perf-eval plan: --variant 'x' given but recipe.yaml has no sweep: block");
  });

  it('explicit role/proxy ports; a derived port colliding with an explicit one exits 2', async () => {
    const text = `${HEAD}  prefill: {port: 9001}\n  decode: {port: 9002}\n  proxy: {port: 9000}\n${BENCH}`;
    const plan = await planJson(text);
    expect([plan['server'].port, plan['proxy'].port, plan['roles'][0].port, plan['roles'][1].port]).toEqual([
      9000, 9000, 9001, 9002,
    ]);
    const clash = await cli(`${HEAD}  prefill: {port: 8002}\n  decode: {}\n${BENCH}`, ['plan', '--json']);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain(
      'prefill and decode would both listen on port 8002; set distinct vllm.prefill.port / vllm.decode.port',
    );
  });

  it('aggregated multi-node: Ray backend in the server argv; the plan keeps its aggregated shape', async () => {
    const plan = await planJson(`${HEAD}  serve_args: -tp 8\n  num_nodes: 2\n${BENCH}`);
    expect(plan['topology']).toBe('aggregated');
    expect(plan['server']).toMatchObject({ port: 8000, numNodes: 2, distributedExecutorBackend: 'ray' });
    expect(plan['server'].argv).toEqual([
      'vllm',
      'serve',
      'org/m',
      '--port',
      '8000',
      '-tp',
      '8',
      '--distributed-executor-backend',
      'ray',
    ]);
    expect([plan['roles'], plan['proxy'], plan['semanticEval'], plan['variants']]).toEqual([
      [],
      null,
      null,
      [],
    ]);
  });

  it('the human plan lists proxy, roles, variants and the semantic eval', async () => {
    const out = await cli(DISAGG, ['plan']);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('proxy (port 8000, health http://localhost:8000/healthcheck');
    expect(out.stdout).toContain('prefill (native, port 8001, GPUs 0,1,2,3 from num_gpus, 2 node(s))');
    expect(out.stdout).toContain('variants (2; plan one with --variant NAME)');
    expect(out.stdout).toContain(
      '  $ python3 tests/evals/gsm8k/gsm8k_eval.py --host http://localhost --port 8000 --num-questions 20 --save-results results/pd/semantic_eval.json',
    );
    expect(out.stdout).not.toContain('sk-secret-1234');
  });
});
