/** Turns a validated recipe into the fully resolved values every other component consumes. */
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import { PyFloat, pyStr, type PyValue } from '@perf-eval/util';
import type { Diagnostic } from './diagnostics.js';
import { resolveImage, type ResolvedImage } from './image.js';
import { hasTrustRemoteCode, parallelismOf, precisionOfModel, servedModelNameOf, splitServeArgs } from './perf.js';
import type { GpuProfile, ServerRuntime } from './profiles.js';
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
  sources: { device: 'metadata' | 'gpu'; tp: 'metadata' | 'serve_args'; precision: 'metadata' | 'model' | 'default' };
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

function pick<T>(task: PyMap, block: PyMap, key: string, accept: (v: PyValue) => v is T & PyValue): T | undefined {
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

export function resolveWorkload({ path, stem, data, profile, env, warnings }: ResolveInputs): ResolvedWorkload {
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
  if (image.warning) warnings.push({ severity: 'warning', file: path, line: 1, col: 1, path: 'vllm.image', message: image.warning });

  // §7: profile env, recipe env over it (existing keys keep their place), then HF_HOME from the profile.
  const serverEnv: Record<string, string> = { ...profile.env };
  if (isMap(vllm['env'])) for (const [key, value] of Object.entries(vllm['env'])) serverEnv[key] = pyStr(value);
  if (!('HF_HOME' in serverEnv) && profile.hfHome) serverEnv['HF_HOME'] = profile.hfHome;

  const server: ResolvedServer = {
    runtime: profile.serverRuntime,
    image: image.image,
    vllmCommit: image.commit,
    imageRule: image.rule,
    model,
    servedModelName: servedModelNameOf(serveArgs) ?? model,
    serveArgsText,
    serveArgs,
    env: serverEnv,
    startupTimeoutS: (vllm['startup_timeout_s'] as number | undefined) ?? DEFAULT_STARTUP_TIMEOUT_S,
    trustRemoteCode: hasTrustRemoteCode(serveArgs),
  };

  const bench: ResolvedBenchRun[] = [];
  const benchBlock = isMap(data['vllm_bench']) ? data['vllm_bench'] : {};
  const configs = Array.isArray(benchBlock['configs']) ? benchBlock['configs'] : [];
  configs.forEach((raw, configIndex) => {
    const config = raw as PyMap;
    const name = config['name'] as string;
    const concurrency = Array.isArray(config['max_concurrency']) ? (config['max_concurrency'] as number[]) : [config['max_concurrency'] as number];
    const prompts = config['num_prompts'];
    const extraArgs: Record<string, PyValue> = {};
    if (isMap(config['args'])) for (const [key, value] of Object.entries(config['args'])) extraArgs[normalizeBenchArgKey(key)] = value;
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
    const limit = pick<number | PyFloat>(task, lmBlock, 'limit', (v): v is number => typeof v === 'number' || v instanceof PyFloat);
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
  const categories = Array.isArray(bfclBlock['test_categories']) ? (bfclBlock['test_categories'] as string[]) : [];
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
    else if (isMap(maxCases) && typeof maxCases[category] === 'number') row.maxTestCases = maxCases[category] as number;
    bfcl.push(row);
  }

  const metadata = isMap(benchBlock['metadata']) ? benchBlock['metadata'] : {};
  const gpu = data['gpu'] as string;
  const metaPrecision = optionalString(metadata['precision'] as PyValue);
  const perf: PerfMetadata = {
    device: optionalString(metadata['device'] as PyValue) ?? gpu.toLowerCase(),
    tp: typeof metadata['tp'] === 'number' ? metadata['tp'] : parallelismOf(serveArgs).product,
    precision: metaPrecision ?? precisionOfModel(model),
    sources: {
      device: optionalString(metadata['device'] as PyValue) ? 'metadata' : 'gpu',
      tp: typeof metadata['tp'] === 'number' ? 'metadata' : 'serve_args',
      precision: metaPrecision ? 'metadata' : /fp4|fp8|int4|int8|bf16|fp16/.test(model.toLowerCase()) ? 'model' : 'default',
    },
  };

  return {
    path,
    stem,
    name: optionalString(data['name'] as PyValue) ?? stem,
    gpu,
    numGpus: (data['num_gpus'] as number | null | undefined) ?? 1,
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
  };
}

function key(task: PyMap, block: PyMap, name: string): PyValue {
  return name in task && task[name] !== null ? task[name] : block[name];
}
