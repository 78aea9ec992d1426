import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadWorkloadFile, loadWorkloadText } from './load.js';
import type { ResolvedWorkload } from './resolve.js';
import { recipeJsonSchema } from './schema.js';
import { renderSemanticEval, SemanticEvalTemplateError, semanticEvalOutputPath } from './semantic-eval.js';
import { expandVariants, setFlag, variantName } from './sweep.js';
import { renderProxyArgv, splitGpus, TopologyPortError, topologyPorts } from './topology.js';

const REPO = resolve(import.meta.dirname, '../../../..');
const PROFILES = resolve(REPO, 'profiles/gpu_profiles.yaml');
const PATH = '/recipes/workloads/t.yaml';

function load(text: string, env: Record<string, string> = {}) {
  return loadWorkloadText(text, PATH, { profilesPath: PROFILES, env });
}

function resolved(text: string, env: Record<string, string> = {}): ResolvedWorkload {
  const result = load(text, env);
  expect(result.errors).toEqual([]);
  if (!result.workload) throw new Error('did not resolve');
  return result.workload;
}

function messages(text: string, env: Record<string, string> = {}): string[] {
  return load(text, env).errors.map((d) => `${d.line}:${d.col}: ${d.message}`);
}

const BENCH = `vllm_bench:
  configs:
    - {name: s, input_len: 8, output_len: 8, num_prompts: 4, max_concurrency: 2}
`;

/** A B200 (native) recipe with `vllm:` body lines (indented by 2) and extra top-level text. */
function recipe(vllmBody: string, extra = '', head = 'gpu: B200\nnum_gpus: 8\n'): string {
  return `${head}vllm:\n  model: org/Model-FP8\n${vllmBody}${BENCH}${extra}`;
}

const DISAGG = `  serve_args: --max-model-len 8192
  prefill:
    serve_args: --tensor-parallel-size 2
  decode:
    serve_args: --tensor-parallel-size 4
`;

describe('disaggregated prefill/decode', () => {
  it('roles get shared + own args, a kv-transfer-config JSON token, half the GPUs each, and NIXL side-channel ports', () => {
    const w = resolved(recipe(DISAGG));
    expect(w.topology).toBe('disaggregated');
    const d = w.disaggregated;
    if (!d) throw new Error('no roles');
    expect(d.prefill.serveArgs).toEqual([
      '--max-model-len',
      '8192',
      '--tensor-parallel-size',
      '2',
      '--kv-transfer-config',
      '{"kv_connector":"NixlConnector","kv_role":"kv_producer"}',
    ]);
    expect(d.decode.serveArgs).toEqual([
      '--max-model-len',
      '8192',
      '--tensor-parallel-size',
      '4',
      '--kv-transfer-config',
      '{"kv_connector":"NixlConnector","kv_role":"kv_consumer"}',
    ]);
    expect([d.prefill.gpuIds, d.decode.gpuIds, d.prefill.gpuSource]).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      'num_gpus',
    ]);
    expect(d.prefill.env).toMatchObject({
      CUDA_VISIBLE_DEVICES: '0,1,2,3',
      VLLM_NIXL_SIDE_CHANNEL_PORT: '5600',
    });
    expect(d.decode.env).toMatchObject({
      CUDA_VISIBLE_DEVICES: '4,5,6,7',
      VLLM_NIXL_SIDE_CHANNEL_PORT: '5604',
    });
    expect(Object.keys(d.decode.env).slice(0, 3)).toEqual([
      'VLLM_DEEP_GEMM_WARMUP',
      'NCCL_CUMEM_HOST_ENABLE',
      'HF_HOME',
    ]);
    // The shared server keeps the shared args; TP for perf comes from the decode role.
    expect(w.server.serveArgs).toEqual(['--max-model-len', '8192']);
    expect(w.perf.tp).toBe(4);
    expect(d.proxy).toEqual({
      python: 'python3',
      script: 'tests/v1/kv_connector/nixl_integration/toy_proxy_server.py',
      healthPath: '/healthcheck',
    });
    expect(d.kvConnector).toBe('NixlConnector');
  });

  it('kv_transfer connector/num_threads, proxy options, role env/port and VLLM_SOURCE_DIR', () => {
    const w = resolved(
      recipe(`${DISAGG}  kv_transfer:
    connector: LMCacheConnectorV1
    num_threads: 8
  proxy:
    script: tools/proxy.py
    python: /usr/bin/python3.12
    port: 9100
    health_path: /health
`),
      { VLLM_SOURCE_DIR: '/opt/vllm' },
    );
    const d = w.disaggregated;
    if (!d) throw new Error('no roles');
    expect(d.prefill.kvTransferConfig).toBe(
      '{"kv_connector":"LMCacheConnectorV1","kv_role":"kv_producer","kv_connector_extra_config":{"num_threads":8}}',
    );
    expect(d.decode.serveArgs.at(-1)).toBe(
      '{"kv_connector":"LMCacheConnectorV1","kv_role":"kv_consumer","kv_connector_extra_config":{"num_threads":8}}',
    );
    // Only the NIXL connector gets side-channel ports.
    expect(d.prefill.env['VLLM_NIXL_SIDE_CHANNEL_PORT']).toBeUndefined();
    expect(d.proxy).toEqual({
      python: '/usr/bin/python3.12',
      script: '/opt/vllm/tools/proxy.py',
      port: 9100,
      healthPath: '/health',
    });
    expect(renderProxyArgv(d.proxy, { proxy: 9100, prefill: 8001, decode: 8002 })).toEqual([
      '/usr/bin/python3.12',
      '/opt/vllm/tools/proxy.py',
      '--port',
      '9100',
      '--prefiller-hosts',
      'localhost',
      '--prefiller-ports',
      '8001',
      '--decoder-hosts',
      'localhost',
      '--decoder-ports',
      '8002',
    ]);
  });

  it('an absolute proxy script ignores VLLM_SOURCE_DIR; a --kv-transfer-config in the serve args wins', () => {
    const w = resolved(
      recipe(`  prefill:
    serve_args: --kv-transfer-config {"kv_connector":"X","kv_role":"kv_both"}
  decode: {}
  proxy: {script: /srv/proxy.py}
`),
      { VLLM_SOURCE_DIR: '/opt/vllm' },
    );
    expect(w.disaggregated?.proxy.script).toBe('/srv/proxy.py');
    expect(w.disaggregated?.prefill.serveArgs).toEqual([
      '--kv-transfer-config',
      '{"kv_connector":"X","kv_role":"kv_both"}',
    ]);
    expect(w.disaggregated?.prefill.kvTransferConfig).toBe('{"kv_connector":"X","kv_role":"kv_both"}');
  });

  it('GPU split: explicit gpu_ids win over CUDA_VISIBLE_DEVICES; CUDA_VISIBLE_DEVICES wins over num_gpus', () => {
    const explicit = resolved(
      recipe(`  prefill: {gpu_ids: [6, 7]}
  decode: {gpu_ids: [0, 1, 2, 3]}
`),
      { CUDA_VISIBLE_DEVICES: '0,1' },
    );
    expect([
      explicit.disaggregated?.prefill.gpuIds,
      explicit.disaggregated?.decode.gpuIds,
      explicit.disaggregated?.decode.gpuSource,
    ]).toEqual([[6, 7], [0, 1, 2, 3], 'gpu_ids']);
    expect(explicit.disaggregated?.decode.env['VLLM_NIXL_SIDE_CHANNEL_PORT']).toBe('5602');
    const visible = resolved(recipe(DISAGG), { CUDA_VISIBLE_DEVICES: '2,3,5,7,8,9' });
    expect([
      visible.disaggregated?.prefill.gpuIds,
      visible.disaggregated?.decode.gpuIds,
      visible.disaggregated?.prefill.gpuSource,
    ]).toEqual([[2, 3, 5], [7, 8, 9], 'CUDA_VISIBLE_DEVICES']);
    expect(visible.disaggregated?.decode.env['CUDA_VISIBLE_DEVICES']).toBe('7,8,9');
    const two = resolved(recipe(DISAGG, '', 'gpu: B200\nnum_gpus: 2\n'));
    expect([two.disaggregated?.prefill.gpuIds, two.disaggregated?.decode.gpuIds]).toEqual([[0], [1]]);
  });

  it('splitGpus errors: only one role with ids, overlap, odd counts, non-index CUDA_VISIBLE_DEVICES', () => {
    expect(splitGpus({ prefillIds: [0], numGpus: 8 })).toEqual({
      error: 'vllm.prefill.gpu_ids is set but vllm.decode.gpu_ids is not; set both or neither',
    });
    expect(splitGpus({ prefillIds: [0, 1, 2], decodeIds: [2, 1], numGpus: 8 })).toEqual({
      error: 'vllm.prefill.gpu_ids and vllm.decode.gpu_ids overlap on GPU(s) 1, 2',
    });
    expect(splitGpus({ numGpus: 3 })).toEqual({
      error:
        'cannot split 3 GPU(s) (num_gpus: 3) evenly between prefill and decode; set vllm.prefill.gpu_ids and vllm.decode.gpu_ids',
    });
    expect(splitGpus({ numGpus: 8, cudaVisibleDevices: '0,1,2' })).toEqual({
      error:
        'cannot split 3 GPU(s) (CUDA_VISIBLE_DEVICES=0,1,2) evenly between prefill and decode; set vllm.prefill.gpu_ids and vllm.decode.gpu_ids',
    });
    expect(splitGpus({ numGpus: 8, cudaVisibleDevices: 'GPU-1a2b' })).toEqual({
      error:
        "CUDA_VISIBLE_DEVICES='GPU-1a2b' is not a list of GPU indices; set vllm.prefill.gpu_ids and vllm.decode.gpu_ids",
    });
    expect(splitGpus({ numGpus: 2, cudaVisibleDevices: ' ' })).toEqual({
      prefill: [0],
      decode: [1],
      source: 'num_gpus',
    });
  });

  it('the env-dependent split error is reported by the loader at vllm.prefill', () => {
    expect(messages(recipe(DISAGG), { CUDA_VISIBLE_DEVICES: '0,1,2' })).toEqual([
      '6:3: cannot split 3 GPU(s) (CUDA_VISIBLE_DEVICES=0,1,2) evenly between prefill and decode; set vllm.prefill.gpu_ids and vllm.decode.gpu_ids',
    ]);
  });
});

describe('multi-node (Ray)', () => {
  it('vllm.num_nodes > 1 adds --distributed-executor-backend ray to the aggregated server', () => {
    const w = resolved(
      recipe('  serve_args: --tensor-parallel-size 8 --pipeline-parallel-size 2\n  num_nodes: 2\n'),
    );
    expect(w.server.numNodes).toBe(2);
    expect(w.server.distributedExecutorBackend).toBe('ray');
    expect(w.server.serveArgs).toEqual([
      '--tensor-parallel-size',
      '8',
      '--pipeline-parallel-size',
      '2',
      '--distributed-executor-backend',
      'ray',
    ]);
    expect(w.server.serveArgsText).toBe('--tensor-parallel-size 8 --pipeline-parallel-size 2');
  });

  it('a backend already in the serve args is kept (either form); num_nodes 1 adds nothing', () => {
    const given = resolved(recipe('  serve_args: --distributed-executor-backend=mp\n  num_nodes: 2\n'));
    expect(given.server.serveArgs).toEqual(['--distributed-executor-backend=mp']);
    expect(given.server.distributedExecutorBackend).toBe('mp');
    const single = resolved(recipe('  serve_args: --tensor-parallel-size 8\n  num_nodes: 1\n'));
    expect(single.server.serveArgs).toEqual(['--tensor-parallel-size', '8']);
    expect(single.server.distributedExecutorBackend).toBeUndefined();
  });

  it('a role with num_nodes > 1 gets the Ray backend; the other role does not', () => {
    const w = resolved(
      recipe(`  prefill: {num_nodes: 2, serve_args: --distributed-executor-backend ray}
  decode: {num_nodes: 3}
`),
    );
    expect(
      w.disaggregated?.prefill.serveArgs.filter((t) => t === '--distributed-executor-backend'),
    ).toHaveLength(1);
    expect(w.disaggregated?.decode.serveArgs.slice(-2)).toEqual(['--distributed-executor-backend', 'ray']);
    expect([w.disaggregated?.prefill.numNodes, w.disaggregated?.decode.distributedExecutorBackend]).toEqual([
      2,
      'ray',
    ]);
    const plain = resolved(recipe(DISAGG));
    expect(plain.disaggregated?.prefill.distributedExecutorBackend).toBeUndefined();
    expect(plain.disaggregated?.prefill.serveArgs).not.toContain('--distributed-executor-backend');
  });
});

describe('ports', () => {
  const disagg = resolved(recipe(DISAGG));
  it('aggregated keeps the port; disaggregated: proxy = port, prefill = port + 1, decode = port + 2', () => {
    expect(topologyPorts(resolved(recipe('')), 8000)).toEqual({ client: 8000 });
    expect(topologyPorts(disagg, 23456)).toEqual({
      client: 23456,
      proxy: 23456,
      prefill: 23457,
      decode: 23458,
    });
  });

  it('explicit ports win; the client port is the proxy port', () => {
    const w = resolved(
      recipe(`  prefill: {port: 9001}
  decode: {port: 9002}
  proxy: {port: 9000}
`),
    );
    expect(topologyPorts(w, 8000)).toEqual({ client: 9000, proxy: 9000, prefill: 9001, decode: 9002 });
  });

  it('a derived port colliding with an explicit one, or past 65535, is a TopologyPortError', () => {
    const w = resolved(
      recipe(`  prefill: {port: 8002}
  decode: {}
`),
    );
    expect(() => topologyPorts(w, 8000)).toThrow(
      new TopologyPortError(
        'prefill and decode would both listen on port 8002; set distinct vllm.prefill.port / vllm.decode.port',
        { proxy: 8000, prefill: 8002, decode: 8002 },
      ),
    );
    expect(() => topologyPorts(disagg, 65534)).toThrow(
      'decode port 65536 is above 65535 (resolved port 65534)',
    );
    try {
      topologyPorts(disagg, 65534);
    } catch (error) {
      expect((error as TopologyPortError).code).toBe('E_RECIPE_PORTS');
    }
  });
});

describe('semantic eval', () => {
  const values = {
    model: 'served',
    host: 'localhost',
    port: 8123,
    url: 'http://localhost:8123',
    resultDir: 'results/x',
  };

  it('the default command is gsm8k_eval.py under VLLM_SOURCE_DIR with its real flags', () => {
    const w = resolved(recipe('', 'semantic_eval: {}\n'), { VLLM_SOURCE_DIR: '/opt/vllm' });
    expect(w.semanticEval).toEqual({
      command: [
        'python3',
        '/opt/vllm/tests/evals/gsm8k/gsm8k_eval.py',
        '--host',
        'http://{host}',
        '--port',
        '{port}',
        '--num-questions',
        '200',
        '--save-results',
        '{output_path}',
      ],
      outputPath: '{result_dir}/semantic_eval.json',
      timeoutMinutes: 30,
      defaultCommand: true,
    });
    expect(renderSemanticEval(w.semanticEval as NonNullable<typeof w.semanticEval>, values)).toEqual([
      'python3',
      '/opt/vllm/tests/evals/gsm8k/gsm8k_eval.py',
      '--host',
      'http://localhost',
      '--port',
      '8123',
      '--num-questions',
      '200',
      '--save-results',
      'results/x/semantic_eval.json',
    ]);
  });

  it('python, num_questions, timeout_minutes; without VLLM_SOURCE_DIR the script path stays relative', () => {
    const w = resolved(
      recipe('', 'semantic_eval:\n  python: python3.12\n  num_questions: 50\n  timeout_minutes: 10\n'),
    );
    expect(w.semanticEval?.command.slice(0, 2)).toEqual(['python3.12', 'tests/evals/gsm8k/gsm8k_eval.py']);
    expect(w.semanticEval?.command[7]).toBe('50');
    expect(w.semanticEval?.timeoutMinutes).toBe(10);
  });

  it('a string command is split on whitespace (no shell; JSON quotes kept); every placeholder expands', () => {
    const w = resolved(
      recipe(
        '',
        `semantic_eval:
  command: >-
    /venv/bin/python eval.py --url {url}/v1 --model={model} --host {host}:{port}
    --out {output_path} --dir {result_dir} --kw {"a":1}
  output_path: gsm.json
`,
      ),
    );
    expect(w.semanticEval?.defaultCommand).toBe(false);
    expect(renderSemanticEval(w.semanticEval as NonNullable<typeof w.semanticEval>, values)).toEqual([
      '/venv/bin/python',
      'eval.py',
      '--url',
      'http://localhost:8123/v1',
      '--model=served',
      '--host',
      'localhost:8123',
      '--out',
      'results/x/gsm.json',
      '--dir',
      'results/x',
      '--kw',
      '{"a":1}',
    ]);
  });

  it('a list command keeps tokens verbatim (spaces included); an explicit outputPath value wins', () => {
    const w = resolved(recipe('', "semantic_eval:\n  command: ['my eval', '--save', '{output_path}']\n"));
    expect(
      renderSemanticEval(w.semanticEval as NonNullable<typeof w.semanticEval>, {
        ...values,
        outputPath: '/tmp/o.json',
      }),
    ).toEqual(['my eval', '--save', '/tmp/o.json']);
  });

  it('output paths: {result_dir} substituted, absolute kept, relative under the results dir', () => {
    expect(semanticEvalOutputPath({ outputPath: '{result_dir}/a.json' }, 'r/w')).toBe('r/w/a.json');
    expect(semanticEvalOutputPath({ outputPath: '/abs/a.json' }, 'r/w')).toBe('/abs/a.json');
    expect(semanticEvalOutputPath({ outputPath: 'sub/a.json' }, 'r/w')).toBe('r/w/sub/a.json');
  });

  it('rendering a hand-built template with an unknown placeholder throws', () => {
    expect(() => renderSemanticEval({ command: ['x', '{constructor}'], outputPath: 'o' }, values)).toThrow(
      SemanticEvalTemplateError,
    );
    expect(() => renderSemanticEval({ command: ['x', '--h={hots}'], outputPath: 'o' }, values)).toThrow(
      "semantic_eval token '--h={hots}' has unknown placeholder '{hots}' (known: {model}, {host}, {port}, {url}, {output_path}, {result_dir})",
    );
  });
});

describe('sweeps', () => {
  const SWEEP = `sweep:
  serve_args:
    --max-num-seqs: [128, 256]
    --gpu-memory-utilization: [0.9, 0.95]
`;

  it('expands the Cartesian product in key order, first key slowest, with stable readable names', () => {
    const w = resolved(
      recipe(
        '  serve_args: --max-num-seqs 64 --gpu-memory-utilization=0.8 --tensor-parallel-size 8\n',
        SWEEP,
        'name: qwen3_5-h200\ngpu: B200\n',
      ),
    );
    expect(w.sweep).toEqual({
      serveArgs: [
        { flag: '--max-num-seqs', values: ['128', '256'] },
        { flag: '--gpu-memory-utilization', values: ['0.9', '0.95'] },
      ],
    });
    const variants = expandVariants(w);
    expect(variants.map((v) => v.name)).toEqual([
      'qwen3_5-h200--max-num-seqs-128--gpu-memory-utilization-0.9',
      'qwen3_5-h200--max-num-seqs-128--gpu-memory-utilization-0.95',
      'qwen3_5-h200--max-num-seqs-256--gpu-memory-utilization-0.9',
      'qwen3_5-h200--max-num-seqs-256--gpu-memory-utilization-0.95',
    ]);
    expect(variants[1]?.server.serveArgs).toEqual([
      '--max-num-seqs',
      '128',
      '--gpu-memory-utilization=0.95',
      '--tensor-parallel-size',
      '8',
    ]);
    expect(variants[1]?.variant).toEqual({
      name: 'qwen3_5-h200--max-num-seqs-128--gpu-memory-utilization-0.95',
      baseName: 'qwen3_5-h200',
      settings: { '--max-num-seqs': '128', '--gpu-memory-utilization': '0.95' },
    });
    expect(variants.every((v) => v.sweep === undefined)).toBe(true);
    expect(expandVariants(variants[0] as ResolvedWorkload)).toEqual([variants[0]]);
    // The base workload is untouched.
    expect(w.server.serveArgs).toEqual([
      '--max-num-seqs',
      '64',
      '--gpu-memory-utilization=0.8',
      '--tensor-parallel-size',
      '8',
    ]);
  });

  it('a recipe without sweep expands to itself', () => {
    const w = resolved(recipe(''));
    expect(expandVariants(w)).toEqual([w]);
    expect(w.variant).toBeUndefined();
  });

  it('absent flags are appended; swept TP updates perf tp and served name is re-derived', () => {
    const w = resolved(
      recipe(
        '  serve_args: --served-model-name a\n',
        'sweep:\n  serve_args:\n    --tensor-parallel-size: [2, 4]\n    --served-model-name: [b]\n',
      ),
    );
    const [first, second] = expandVariants(w);
    expect(first?.server.serveArgs).toEqual(['--served-model-name', 'b', '--tensor-parallel-size', '2']);
    expect([first?.perf.tp, second?.perf.tp, first?.server.servedModelName]).toEqual([2, 4, 'b']);
    expect(first?.name).toBe('t--tensor-parallel-size-2--served-model-name-b');
  });

  it('disaggregated: the sweep applies to both roles', () => {
    const w = resolved(recipe(DISAGG, 'sweep:\n  serve_args:\n    --max-model-len: [4096]\n'));
    const [only] = expandVariants(w);
    expect(only?.disaggregated?.prefill.serveArgs.slice(0, 2)).toEqual(['--max-model-len', '4096']);
    expect(only?.disaggregated?.decode.serveArgs.slice(0, 2)).toEqual(['--max-model-len', '4096']);
    expect(only?.server.serveArgs).toEqual(['--max-model-len', '4096']);
  });

  it('setFlag: space and = forms, underscore spellings, bare flags followed by an option, every occurrence', () => {
    expect(setFlag(['--a', '1', '--b=2'], '--b', '3')).toEqual(['--a', '1', '--b=3']);
    expect(setFlag(['--max_num_seqs', '8'], '--max-num-seqs', '16')).toEqual(['--max_num_seqs', '16']);
    expect(setFlag(['--x', '--y', '1'], '--x', 'v')).toEqual(['--x', 'v', '--y', '1']);
    expect(setFlag(['--x', '1', '--x=2'], '--x', '3')).toEqual(['--x', '3', '--x=3']);
    expect(setFlag(['--x'], '--x', '3')).toEqual(['--x', '3']);
    expect(setFlag([], '--x', '-1')).toEqual(['--x', '-1']);
  });

  it('variant names make values path-safe', () => {
    expect(variantName('m', { '--compilation-config': '{"mode":0}', '--kv-cache-dtype': 'fp8/e4m3' })).toBe(
      'm--compilation-config-__mode__0_--kv-cache-dtype-fp8_e4m3',
    );
  });

  it('the bound is 64 variants', () => {
    const ok = resolved(
      recipe(
        '',
        `sweep:\n  serve_args:\n    --a: [${Array.from({ length: 8 }, (_, i) => i + 1).join(', ')}]\n    --b: [${Array.from({ length: 8 }, (_, i) => i + 1).join(', ')}]\n`,
      ),
    );
    expect(expandVariants(ok)).toHaveLength(64);
    expect(
      messages(
        recipe(
          '',
          `sweep:\n  serve_args:\n    --a: [1, 2, 3, 4, 5]\n    --b: [1, 2, 3]\n    --c: [1, 2, 3, 4, 5]\n`,
        ),
      ),
    ).toEqual(['8:1: sweep expands to 75 variants (5 × 3 × 5); at most 64 are allowed']);
  });
});

describe('backwards compatibility', () => {
  it('every vendored recipe and the demo stay aggregated, single-node, without sweep or semantic eval', () => {
    const dir = resolve(REPO, 'workloads');
    const stems = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(stems).toHaveLength(14);
    for (const file of stems) {
      const result = loadWorkloadFile(resolve(dir, file), { profilesPath: PROFILES, env: {} });
      const w = result.workload as ResolvedWorkload;
      expect([
        file,
        w.topology,
        w.server.numNodes,
        w.disaggregated,
        w.sweep,
        w.semanticEval,
        w.server.distributedExecutorBackend,
      ]).toEqual([file, 'aggregated', 1, undefined, undefined, undefined, undefined]);
      expect(expandVariants(w)).toEqual([w]);
      expect(topologyPorts(w, 8000)).toEqual({ client: 8000 });
    }
  });

  it('the JSON Schema describes the new blocks', () => {
    const schema = recipeJsonSchema() as {
      properties: Record<string, { properties?: Record<string, unknown> }>;
    };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['semantic_eval', 'sweep']));
    expect(Object.keys(schema.properties['vllm']?.properties ?? {})).toEqual(
      expect.arrayContaining(['num_nodes', 'prefill', 'decode', 'kv_transfer', 'proxy']),
    );
  });
});
