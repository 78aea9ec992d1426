/** Turns a validated recipe into the fully resolved values every other component consumes. */
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import { PyFloat, pyStr, type PyValue } from '@perf-eval/util';
import type { Diagnostic } from './diagnostics.js';
import { resolveImage, type ResolvedImage } from './image.js';
import {
  hasTrustRemoteCode,
  parallelismOf,
  precisionOfModel,
  servedModelNameOf,
  splitServeArgs,
} from './perf.js';
import type { GpuProfile, ServerRuntime } from './profiles.js';
import {
  defaultSemanticEvalCommand,
  DEFAULT_SEMANTIC_EVAL_OUTPUT,
  DEFAULT_SEMANTIC_EVAL_TIMEOUT_MINUTES,
  semanticEvalTokens,
  type ResolvedSemanticEval,
} from './semantic-eval.js';
import type { ResolvedSweep, Variant } from './sweep.js';
import { DEFAULT_GATE_RTOL } from './schema.js';
import {
  DEFAULT_KV_CONNECTOR,
  DEFAULT_NIXL_SIDE_CHANNEL_PORT,
  DEFAULT_PROXY_HEALTH_PATH,
  DEFAULT_PROXY_SCRIPT,
  ensureFlag,
  flagValue,
  kvTransferConfigJson,
  RAY_FLAG,
  splitGpus,
  vllmSourcePath,
  type ResolvedDisaggregation,
  type ResolvedRole,
  type RoleName,
} from './topology.js';
import { benchRunName, isMap, isTruthyFlag, normalizeBenchArgKey, type PyMap } from './validate.js';

export const DEFAULT_STARTUP_TIMEOUT_S = 3600;
export const DEFAULT_TIMEOUT_IN_MINUTES = 120;

export interface ResolvedServer {
  runtime: ServerRuntime;
  image: string;
  vllmCommit: string;
  imageRule: ResolvedImage['rule'];
  model: string;
  /** The id `/v1/models` must list: `--served-model-name` from serve_args, else the model. */
  servedModelName: string;
  /** serve_args as written (after YAML folding). */
  serveArgsText: string;
  /** serve_args split on whitespace, verbatim tokens (no shell, no globbing). */
  serveArgs: string[];
  /** Server env in upstream merge order, values rendered the Python way. */
  env: Record<string, string>;
  startupTimeoutS: number;
  trustRemoteCode: boolean;
  /** vllm.num_nodes (default 1); always 1 when disaggregated (roles have their own). */
  numNodes: number;
  /** `ray` when num_nodes > 1 (the serve args then carry `--distributed-executor-backend ray` unless they set one). */
  distributedExecutorBackend?: string;
}

export interface ResolvedBenchRun {
  runName: string;
  configName: string;
  configIndex: number;
  backend?: string;
  dataset: string;
  inputLen: number;
  outputLen: number;
  numPrompts: number;
  maxConcurrency: number;
  repetitions: number;
  /** Extra flags: normalised keys (kebab-case) in recipe order, values as written (PyFloat for floats). */
  extraArgs: Record<string, PyValue>;
  speedBenchSubset?: string;
  speedBenchCategory?: string;
}

export interface ResolvedLmEvalTask {
  task: string;
  numFewshot: number;
  /** Merged model_args (block, then task) in upstream order. */
  modelArgs: Record<string, PyValue>;
  /** `k=v,…` rendering of `modelArgs` (empty when none); `model=` and `base_url=` are prepended at run time. */
  extraModelArgs: string;
  chat: boolean;
  includePath?: string;
  limit?: number;
  seed?: number;
  genKwargs?: string;
}

export interface ResolvedBfclRun {
  category: string;
  numThreads: number;
  /** Python rendering of the temperature (`0.001`, `0.0`). */
  temperature: string;
  maximumStepLimit?: number;
  maxTestCases?: number;
}

export interface PerfMetadata {
  device: string;
  tp: number;
  precision: string;
  /** Which rule produced each value (logged for transparency). */
  sources: {
    device: 'metadata' | 'gpu';
    tp: 'metadata' | 'serve_args';
    precision: 'metadata' | 'model' | 'default';
  };
}

export interface ResolvedWorkload {
  /** The recipe path as given. */
  path: string;
  stem: string;
  name: string;
  gpu: string;
  numGpus: number;
  nightly: boolean;
  timeoutInMinutes: number;
  /** The recipe's own bench_only flag (env BENCH_ONLY is applied by the caller). */
  benchOnly: boolean;
  profile: GpuProfile;
  server: ResolvedServer;
  bench: ResolvedBenchRun[];
  lmEval: ResolvedLmEvalTask[];
  bfcl: ResolvedBfclRun[];
  perf: PerfMetadata;
  warnings: Diagnostic[];
  /** `disaggregated` when vllm.prefill/vllm.decode are set (then `disaggregated` holds the roles and the proxy). */
  topology: 'aggregated' | 'disaggregated';
  disaggregated?: ResolvedDisaggregation;
  semanticEval?: ResolvedSemanticEval;
  /** The recipe's sweep; `expandVariants` turns it into workloads. */
  sweep?: ResolvedSweep;
  /** Set on the workloads `expandVariants` returns. */
  variant?: Variant;
  /** `gates:` — expected accuracies and failing on verdicts. */
  gates?: ResolvedGates;
}

export interface ResolvedAccuracyGate {
  /** Full task id: `lm_eval:<task>` when the recipe gave a bare lm_eval task name. */
  task: string;
  metric: string;
  expected: number;
  rtol: number;
  wilson: boolean;
}

export interface ResolvedGates {
  accuracy: ResolvedAccuracyGate[];
  failOn?: 'regression';
}

function numeric(value: PyValue | undefined): number | undefined {
  return value instanceof PyFloat ? value.value : typeof value === 'number' ? value : undefined;
}

function resolveGates(block: Record<string, PyValue>): ResolvedGates {
  const gates: ResolvedGates = { accuracy: [] };
  if (block['fail_on'] === 'regression') gates.failOn = 'regression';
  const list = Array.isArray(block['accuracy']) ? block['accuracy'] : [];
  for (const gate of list) {
    if (!isMap(gate)) continue;
    const task = String(gate['task']);
    gates.accuracy.push({
      task: task.includes(':') ? task : `lm_eval:${task}`,
      metric: String(gate['metric']),
      expected: numeric(gate['expected']) ?? 0,
      rtol: numeric(gate['rtol']) ?? DEFAULT_GATE_RTOL,
      wilson: gate['wilson'] === true,
    });
  }
  return gates;
}

function mergeInOrder(...maps: PyValue[]): Record<string, PyValue> {
  const out: Record<string, PyValue> = {};
  for (const map of maps) if (isMap(map)) for (const [key, value] of Object.entries(map)) out[key] = value;
  return out;
}

export function renderKeyValues(map: Record<string, PyValue>): string {
  return Object.entries(map)
    .map(([key, value]) => `${key}=${pyStr(value)}`)
    .join(',');
}

function optionalString(value: PyValue): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function pick<T>(
  task: PyMap,
  block: PyMap,
  key: string,
  accept: (v: PyValue) => v is T & PyValue,
): T | undefined {
  const value = key in task && task[key] !== null ? task[key] : block[key];
  return value !== undefined && value !== null && accept(value) ? (value as T) : undefined;
}

export interface ResolveInputs {
  path: string;
  stem: string;
  data: PyMap;
  profile: GpuProfile;
  env: Readonly<Record<string, string | undefined>>;
  warnings: Diagnostic[];
}

export function resolveWorkload({
  path,
  stem,
  data,
  profile,
  env,
  warnings,
}: ResolveInputs): ResolvedWorkload {
  const vllm = data['vllm'] as PyMap;
  const model = vllm['model'] as string;
  const serveArgsText = typeof vllm['serve_args'] === 'string' ? vllm['serve_args'] : '';
  const serveArgs = splitServeArgs(serveArgsText);

  const image = resolveImage({
    vllmImage: env['VLLM_IMAGE'],
    vllmCommit: env['VLLM_COMMIT'],
    imageRepo: profile.imageRepo,
    recipeImage: optionalString(vllm['image'] as PyValue),
  });
  if (image.warning)
    warnings.push({
      severity: 'warning',
      file: path,
      line: 1,
      col: 1,
      path: 'vllm.image',
      message: image.warning,
    });

  // §7: profile env, recipe env over it (existing keys keep their place), then HF_HOME from the profile.
  const serverEnv: Record<string, string> = { ...profile.env };
  if (isMap(vllm['env']))
    for (const [key, value] of Object.entries(vllm['env'])) serverEnv[key] = pyStr(value);
  if (!('HF_HOME' in serverEnv) && profile.hfHome) serverEnv['HF_HOME'] = profile.hfHome;

  const numGpus = (data['num_gpus'] as number | null | undefined) ?? 1;
  const disaggregated =
    isMap(vllm['prefill']) && isMap(vllm['decode'])
      ? resolveDisaggregation(vllm, serveArgs, serverEnv, model, numGpus, env)
      : undefined;
  const numNodes = disaggregated ? 1 : ((vllm['num_nodes'] as number | null | undefined) ?? 1);
  const serverArgs = numNodes > 1 ? ensureFlag(serveArgs, RAY_FLAG, 'ray') : serveArgs;
  // Disaggregated: the tools talk to the proxy, which serves what the decode role serves.
  const mainArgs = disaggregated ? disaggregated.decode.serveArgs : serverArgs;
  const server: ResolvedServer = {
    runtime: profile.serverRuntime,
    image: image.image,
    vllmCommit: image.commit,
    imageRule: image.rule,
    model,
    servedModelName: servedModelNameOf(mainArgs) ?? model,
    serveArgsText,
    serveArgs: serverArgs,
    env: serverEnv,
    startupTimeoutS: (vllm['startup_timeout_s'] as number | undefined) ?? DEFAULT_STARTUP_TIMEOUT_S,
    trustRemoteCode: hasTrustRemoteCode(mainArgs),
    numNodes,
  };
  if (numNodes > 1) server.distributedExecutorBackend = flagValue(serverArgs, RAY_FLAG) || 'ray';

  const bench: ResolvedBenchRun[] = [];
  const benchBlock = isMap(data['vllm_bench']) ? data['vllm_bench'] : {};
  const configs = Array.isArray(benchBlock['configs']) ? benchBlock['configs'] : [];
  configs.forEach((raw, configIndex) => {
    const config = raw as PyMap;
    const name = config['name'] as string;
    const concurrency = Array.isArray(config['max_concurrency'])
      ? (config['max_concurrency'] as number[])
      : [config['max_concurrency'] as number];
    const prompts = config['num_prompts'];
    const extraArgs: Record<string, PyValue> = {};
    if (isMap(config['args']))
      for (const [key, value] of Object.entries(config['args'])) extraArgs[normalizeBenchArgKey(key)] = value;
    concurrency.forEach((conc, j) => {
      const run: ResolvedBenchRun = {
        runName: benchRunName(name, conc),
        configName: name,
        configIndex,
        dataset: optionalString(config['dataset'] as PyValue) ?? 'random',
        inputLen: config['input_len'] as number,
        outputLen: config['output_len'] as number,
        numPrompts: Array.isArray(prompts) ? (prompts[j] as number) : (prompts as number),
        maxConcurrency: conc,
        repetitions: (config['repetitions'] as number | null | undefined) ?? 1,
        extraArgs,
      };
      const backend = optionalString(config['backend'] as PyValue);
      if (backend) run.backend = backend;
      const subset = optionalString(config['speed_bench_dataset_subset'] as PyValue);
      const category = optionalString(config['speed_bench_category'] as PyValue);
      if (subset) run.speedBenchSubset = subset;
      if (category) run.speedBenchCategory = category;
      bench.push(run);
    });
  });

  const lmEval: ResolvedLmEvalTask[] = [];
  const lmBlock = isMap(data['lm_eval']) ? data['lm_eval'] : {};
  const tasks = Array.isArray(lmBlock['tasks']) ? lmBlock['tasks'] : [];
  for (const raw of tasks) {
    const task = raw as PyMap;
    const modelArgs = mergeInOrder(lmBlock['model_args'] as PyValue, task['model_args'] as PyValue);
    const resolved: ResolvedLmEvalTask = {
      task: task['name'] as string,
      numFewshot: (task['num_fewshot'] as number | null | undefined) ?? 0,
      modelArgs,
      extraModelArgs: renderKeyValues(modelArgs),
      chat: pick<boolean>(task, lmBlock, 'chat', (v): v is boolean => typeof v === 'boolean') ?? false,
    };
    const include = pick<string>(task, lmBlock, 'include_path', (v): v is string => typeof v === 'string');
    if (include) resolved.includePath = isAbsolute(include) ? include : resolvePath(dirname(path), include);
    const limit = pick<number | PyFloat>(
      task,
      lmBlock,
      'limit',
      (v): v is number => typeof v === 'number' || v instanceof PyFloat,
    );
    if (limit !== undefined) resolved.limit = Number(limit);
    const seed = pick<number>(task, lmBlock, 'seed', (v): v is number => typeof v === 'number');
    if (seed !== undefined) resolved.seed = seed;
    const gen = key(task, lmBlock, 'gen_kwargs');
    if (typeof gen === 'string') resolved.genKwargs = gen;
    else if (isMap(gen)) resolved.genKwargs = renderKeyValues(gen);
    lmEval.push(resolved);
  }

  const bfcl: ResolvedBfclRun[] = [];
  const bfclBlock = isMap(data['bfcl']) ? data['bfcl'] : {};
  const categories = Array.isArray(bfclBlock['test_categories'])
    ? (bfclBlock['test_categories'] as string[])
    : [];
  const maxCases = bfclBlock['max_test_cases'];
  for (const category of categories) {
    const row: ResolvedBfclRun = {
      category,
      numThreads: (bfclBlock['num_threads'] as number | null | undefined) ?? 8,
      temperature: pyStr((bfclBlock['temperature'] ?? new PyFloat(0.001)) as PyValue),
    };
    const steps = bfclBlock['maximum_step_limit'];
    if (typeof steps === 'number') row.maximumStepLimit = steps;
    if (typeof maxCases === 'number') row.maxTestCases = maxCases;
    else if (isMap(maxCases) && typeof maxCases[category] === 'number')
      row.maxTestCases = maxCases[category] as number;
    bfcl.push(row);
  }

  const metadata = isMap(benchBlock['metadata']) ? benchBlock['metadata'] : {};
  const gpu = data['gpu'] as string;
  const metaPrecision = optionalString(metadata['precision'] as PyValue);
  const perf: PerfMetadata = {
    device: optionalString(metadata['device'] as PyValue) ?? gpu.toLowerCase(),
    tp: typeof metadata['tp'] === 'number' ? metadata['tp'] : parallelismOf(mainArgs).product,
    precision: metaPrecision ?? precisionOfModel(model),
    sources: {
      device: optionalString(metadata['device'] as PyValue) ? 'metadata' : 'gpu',
      tp: typeof metadata['tp'] === 'number' ? 'metadata' : 'serve_args',
      precision: metaPrecision
        ? 'metadata'
        : /fp4|fp8|int4|int8|bf16|fp16/.test(model.toLowerCase())
          ? 'model'
          : 'default',
    },
  };

  const workload: ResolvedWorkload = {
    path,
    stem,
    name: optionalString(data['name'] as PyValue) ?? stem,
    gpu,
    numGpus,
    nightly: data['nightly'] === true,
    timeoutInMinutes: (data['timeout_in_minutes'] as number | null | undefined) ?? DEFAULT_TIMEOUT_IN_MINUTES,
    benchOnly: isTruthyFlag(data['bench_only']),
    profile,
    server,
    bench,
    lmEval,
    bfcl,
    perf,
    warnings,
    topology: disaggregated ? 'disaggregated' : 'aggregated',
  };
  if (disaggregated) workload.disaggregated = disaggregated;
  if (isMap(data['semantic_eval'])) workload.semanticEval = resolveSemanticEval(data['semantic_eval'], env);
  if (isMap(data['gates'])) workload.gates = resolveGates(data['gates']);
  if (isMap(data['sweep']) && isMap(data['sweep']['serve_args'])) {
    workload.sweep = {
      serveArgs: Object.entries(data['sweep']['serve_args']).map(([flag, values]) => ({
        flag,
        values: (values as PyValue[]).map((v) => pyStr(v)),
      })),
    };
  }
  return workload;
}

function resolveRole(
  role: RoleName,
  spec: PyMap,
  shared: readonly string[],
  serverEnv: Readonly<Record<string, string>>,
  gpuIds: number[],
  gpuSource: ResolvedRole['gpuSource'],
  model: string,
  kv: { connector: string; threads?: number | undefined },
): ResolvedRole {
  const text = typeof spec['serve_args'] === 'string' ? spec['serve_args'] : '';
  let tokens = [...shared, ...splitServeArgs(text)];
  const numNodes = (spec['num_nodes'] as number | null | undefined) ?? 1;
  // A --kv-transfer-config already in the serve args wins over the kv_transfer block.
  const kvTransferConfig =
    flagValue(tokens, '--kv-transfer-config') || kvTransferConfigJson(role, kv.connector, kv.threads);
  tokens = ensureFlag(tokens, '--kv-transfer-config', kvTransferConfig);
  if (numNodes > 1) tokens = ensureFlag(tokens, RAY_FLAG, 'ray');
  const env: Record<string, string> = { ...serverEnv };
  if (isMap(spec['env'])) for (const [key, value] of Object.entries(spec['env'])) env[key] = pyStr(value);
  env['CUDA_VISIBLE_DEVICES'] = gpuIds.join(',');
  const resolved: ResolvedRole = {
    role,
    serveArgsText: text,
    serveArgs: tokens,
    env,
    gpuIds,
    gpuSource,
    numNodes,
    kvTransferConfig,
    servedModelName: servedModelNameOf(tokens) ?? model,
    trustRemoteCode: hasTrustRemoteCode(tokens),
  };
  if (typeof spec['port'] === 'number') resolved.port = spec['port'];
  if (numNodes > 1) resolved.distributedExecutorBackend = flagValue(tokens, RAY_FLAG) || 'ray';
  return resolved;
}

function resolveDisaggregation(
  vllm: PyMap,
  shared: readonly string[],
  serverEnv: Readonly<Record<string, string>>,
  model: string,
  numGpus: number,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedDisaggregation {
  const prefillSpec = vllm['prefill'] as PyMap;
  const decodeSpec = vllm['decode'] as PyMap;
  const ids = (spec: PyMap): number[] | undefined =>
    Array.isArray(spec['gpu_ids']) ? (spec['gpu_ids'] as number[]) : undefined;
  const split = splitGpus({
    prefillIds: ids(prefillSpec),
    decodeIds: ids(decodeSpec),
    cudaVisibleDevices: env['CUDA_VISIBLE_DEVICES'],
    numGpus,
  });
  // Validation reports every impossible split with its position; reaching this is a loader bug.
  if ('error' in split) throw new Error(`unvalidated GPU split: ${split.error}`);
  const kvBlock = isMap(vllm['kv_transfer']) ? vllm['kv_transfer'] : {};
  const kv = {
    connector: optionalString(kvBlock['connector'] as PyValue) ?? DEFAULT_KV_CONNECTOR,
    threads: typeof kvBlock['num_threads'] === 'number' ? kvBlock['num_threads'] : undefined,
  };
  const prefill = resolveRole(
    'prefill',
    prefillSpec,
    shared,
    serverEnv,
    split.prefill,
    split.source,
    model,
    kv,
  );
  const decode = resolveRole('decode', decodeSpec, shared, serverEnv, split.decode, split.source, model, kv);
  if (kv.connector === DEFAULT_KV_CONNECTOR) {
    // Both roles on one host need distinct NIXL side-channel ports (vLLM adds the rank to the base).
    const base =
      Number(serverEnv['VLLM_NIXL_SIDE_CHANNEL_PORT'] ?? DEFAULT_NIXL_SIDE_CHANNEL_PORT) ||
      DEFAULT_NIXL_SIDE_CHANNEL_PORT;
    if (!isMap(prefillSpec['env']) || !('VLLM_NIXL_SIDE_CHANNEL_PORT' in prefillSpec['env']))
      prefill.env['VLLM_NIXL_SIDE_CHANNEL_PORT'] = String(base);
    if (!isMap(decodeSpec['env']) || !('VLLM_NIXL_SIDE_CHANNEL_PORT' in decodeSpec['env'])) {
      decode.env['VLLM_NIXL_SIDE_CHANNEL_PORT'] = String(base + prefill.gpuIds.length);
    }
  }
  const proxyBlock = isMap(vllm['proxy']) ? vllm['proxy'] : {};
  const proxy: ResolvedDisaggregation['proxy'] = {
    python: optionalString(proxyBlock['python'] as PyValue) ?? 'python3',
    script: vllmSourcePath(optionalString(proxyBlock['script'] as PyValue) ?? DEFAULT_PROXY_SCRIPT, env),
    healthPath: optionalString(proxyBlock['health_path'] as PyValue) ?? DEFAULT_PROXY_HEALTH_PATH,
  };
  if (typeof proxyBlock['port'] === 'number') proxy.port = proxyBlock['port'];
  const out: ResolvedDisaggregation = { prefill, decode, proxy, kvConnector: kv.connector };
  if (kv.threads !== undefined) out.kvThreads = kv.threads;
  return out;
}

function resolveSemanticEval(
  block: PyMap,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedSemanticEval {
  const command = block['command'];
  const custom = typeof command === 'string' || Array.isArray(command);
  return {
    command: custom
      ? semanticEvalTokens(command as string | string[])
      : defaultSemanticEvalCommand({
          python: optionalString(block['python'] as PyValue),
          numQuestions: typeof block['num_questions'] === 'number' ? block['num_questions'] : undefined,
          env,
        }),
    outputPath: optionalString(block['output_path'] as PyValue) ?? DEFAULT_SEMANTIC_EVAL_OUTPUT,
    timeoutMinutes:
      typeof block['timeout_minutes'] === 'number'
        ? block['timeout_minutes']
        : DEFAULT_SEMANTIC_EVAL_TIMEOUT_MINUTES,
    defaultCommand: !custom,
  };
}

function key(task: PyMap, block: PyMap, name: string): PyValue {
  return name in task && task[name] !== null ? task[name] : block[name];
}
