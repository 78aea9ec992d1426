/**
 * zod schemas for recipes and GPU profiles. They describe the accepted structure (strict objects,
 * types, ranges) and produce the published JSON Schema. Upstream-worded messages and cross-field
 * rules live in validate.ts; zod runs after it as the structural backstop.
 */
import { BFCL_RECIPE_GROUP_CATEGORIES, BFCL_RECIPE_LEAF_CATEGORIES } from '@perf-eval/util';
import { z } from 'zod';

/**
 * BFCL categories a recipe may name: bfcl-eval's, minus the ones upstream never accepted (see
 * `BFCL_CATEGORIES_NOT_IN_RECIPES` in @perf-eval/util for why). Both lists live in util.
 */
export const BFCL_LEAF_CATEGORIES = BFCL_RECIPE_LEAF_CATEGORIES;
export const BFCL_GROUP_CATEGORIES = BFCL_RECIPE_GROUP_CATEGORIES;

export const BFCL_CATEGORIES: readonly string[] = [...BFCL_LEAF_CATEGORIES, ...BFCL_GROUP_CATEGORIES];

export { BENCH_RESERVED_OPTIONS } from '@perf-eval/util';

export const BENCH_DATASETS = ['random', 'speed_bench'] as const;

/**
 * Node.js timers hold at most 2^31-1 ms (about 24.8 days); a longer timeout fires at once (with a
 * TimeoutOverflowWarning), so every task would "time out" immediately. Timer fields stay below it.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
export const MAX_TIMEOUT_MINUTES = Math.floor(MAX_TIMER_MS / 60_000);
export const MAX_TIMEOUT_SECONDS = Math.floor(MAX_TIMER_MS / 1000);

const positiveInt = z.int().min(1);
/** A name that stays inside the results directory and prints safely: no `.`/`..`, separators, whitespace or control bytes. */
// eslint-disable-next-line no-control-regex -- matching control bytes is the point
export const WORKLOAD_NAME_PATTERN = /^(?!\.\.?$)[^\s/\\\u0000-\u001f\u007f-\u009f]+$/;
const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const envMap = z
  .record(z.string(), scalar)
  .describe('Environment variables, merged in order over the GPU profile env.');
const freeMap = z.record(z.string(), z.unknown());

const lmEvalOptions = {
  chat: z
    .boolean()
    .nullish()
    .describe('perf-eval extension: use local-chat-completions with --apply_chat_template (default false).'),
  include_path: z
    .string()
    .min(1)
    .nullish()
    .describe(
      'perf-eval extension: extra lm-eval task directory (--include_path), relative to the recipe file.',
    ),
  limit: z
    .number()
    .positive()
    .nullish()
    .describe('perf-eval extension: --limit (an int, or a fraction < 1).'),
  seed: z.int().nullish().describe('perf-eval extension: --seed.'),
  gen_kwargs: z
    .union([z.string().min(1), z.record(z.string(), scalar)])
    .nullish()
    .describe('perf-eval extension: --gen_kwargs, as a k=v,… string or a map.'),
};

export const LmEvalTaskSchema = z.strictObject({
  name: z.string().min(1).describe('An lm-eval task name.'),
  num_fewshot: z.int().min(0).nullish().describe('Default 0.'),
  model_args: freeMap.nullish().describe('Per-task model_args, merged over the block model_args.'),
  ...lmEvalOptions,
});

export const LmEvalBlockSchema = z.strictObject({
  model_args: freeMap.nullish().describe('Recipe-wide lm-eval model_args defaults.'),
  tasks: z.array(LmEvalTaskSchema).nullish(),
  ...lmEvalOptions,
});

const intOrIntList = z.union([positiveInt, z.array(positiveInt).min(1)]);

export const BenchConfigSchema = z.strictObject({
  name: z.string().min(1).describe('Shape name without the concurrency, e.g. 8k-in-1k-out.'),
  backend: z
    .string()
    .nullish()
    .describe('vllm bench serve --backend (e.g. openai, openai-chat); unset uses --host/--port.'),
  dataset: z.enum(BENCH_DATASETS).nullish().describe('Default random.'),
  input_len: positiveInt,
  output_len: positiveInt,
  num_prompts: intOrIntList.describe('An int, or a list matching a max_concurrency list.'),
  max_concurrency: intOrIntList.describe(
    'An int or a non-empty list; one run per value, named <name>-conc-<c>.',
  ),
  repetitions: positiveInt
    .refine((n) => n % 2 === 1, 'repetitions must be odd')
    .nullish()
    .describe('Positive odd integer (default 1); >1 writes a median aggregate.'),
  args: freeMap
    .nullish()
    .describe('Extra vllm bench serve flags: true → flag, false/null → omitted, list → repeated.'),
  speed_bench_dataset_subset: z.string().nullish(),
  speed_bench_category: z.string().nullish(),
});

export const BenchMetadataSchema = z.strictObject({
  device: z.string().nullish(),
  tp: positiveInt.nullish(),
  precision: z.string().nullish(),
});

export const VllmBenchBlockSchema = z.strictObject({
  metadata: BenchMetadataSchema.nullish().describe('Perf ingest overrides for device, tp and precision.'),
  configs: z.array(BenchConfigSchema).nullish(),
});

const bfclCategory = z.enum(BFCL_CATEGORIES as [string, ...string[]]);

export const BfclBlockSchema = z.union([
  z.strictObject({}).describe('An empty bfcl block counts as absent.'),
  z.strictObject({
    test_categories: z.array(bfclCategory).min(1),
    num_threads: positiveInt.nullish().describe('Default 8.'),
    temperature: z.number().min(0).nullish().describe('Default 0.001.'),
    maximum_step_limit: positiveInt.nullish().describe('Default 10 (BFCL_MAXIMUM_STEP_LIMIT overrides).'),
    max_test_cases: z
      .union([positiveInt, z.partialRecord(bfclCategory, positiveInt)])
      .nullish()
      .describe('Cap per category: an int for all, or a map keyed by category name.'),
  }),
]);

const port = z.int().min(1).max(65535);

export const VllmRoleSchema = z
  .strictObject({
    serve_args: z
      .string()
      .nullish()
      .describe("This role's vllm serve arguments, appended after the shared vllm.serve_args."),
    gpu_ids: z
      .array(z.int().min(0))
      .min(1)
      .nullish()
      .describe(
        'GPU indices for this role (CUDA_VISIBLE_DEVICES). Set on both roles or neither; default: halves of the available GPUs.',
      ),
    num_nodes: positiveInt
      .nullish()
      .describe('Nodes for this role (default 1); > 1 adds --distributed-executor-backend ray.'),
    port: port
      .nullish()
      .describe("Port of this role's server (default: the resolved port + 1 for prefill, + 2 for decode)."),
    env: envMap.nullish().describe('Extra server env for this role, merged over vllm.env.'),
  })
  .describe('One role of a disaggregated prefill/decode deployment.');

export const KvTransferSchema = z
  .strictObject({
    connector: z
      .string()
      .min(1)
      .nullish()
      .describe('kv_connector of --kv-transfer-config (default NixlConnector).'),
    num_threads: positiveInt
      .nullish()
      .describe('kv_connector_extra_config.num_threads (NIXL connector threads).'),
  })
  .describe('KV transfer between the prefill and decode servers (disaggregated only).');

export const ProxySchema = z
  .strictObject({
    script: z
      .string()
      .min(1)
      .nullish()
      .describe(
        'Proxy script; relative paths are taken under env VLLM_SOURCE_DIR (default tests/v1/kv_connector/nixl_integration/toy_proxy_server.py).',
      ),
    python: z.string().min(1).nullish().describe('Interpreter for the proxy script (default python3).'),
    port: port.nullish().describe('Proxy port (default: the resolved port, so clients talk to the proxy).'),
    health_path: z.string().regex(/^\//).nullish().describe('Proxy health endpoint (default /healthcheck).'),
  })
  .describe('The request proxy in front of the prefill and decode servers (disaggregated only).');

export const VllmBlockSchema = z.strictObject({
  model: z.string().min(1).describe('HF model id or path passed to vllm serve.'),
  image: z.string().min(1).nullish().describe('Fallback image when VLLM_IMAGE/VLLM_COMMIT are not set.'),
  env: envMap.nullish(),
  serve_args: z
    .string()
    .nullish()
    .describe(
      'vllm serve arguments, split on whitespace (no shell quoting). With prefill/decode: shared args prepended to both roles.',
    ),
  startup_timeout_s: positiveInt
    .max(MAX_TIMEOUT_SECONDS)
    .nullish()
    .describe(
      `Readiness timeout in seconds (default 3600; at most ${MAX_TIMEOUT_SECONDS}, the longest Node.js timer).`,
    ),
  num_nodes: positiveInt
    .nullish()
    .describe('Nodes of the aggregated server (default 1); > 1 adds --distributed-executor-backend ray.'),
  prefill: VllmRoleSchema.nullish(),
  decode: VllmRoleSchema.nullish(),
  kv_transfer: KvTransferSchema.nullish(),
  proxy: ProxySchema.nullish(),
});

export const SEMANTIC_EVAL_PLACEHOLDERS = [
  'model',
  'host',
  'port',
  'url',
  'output_path',
  'result_dir',
] as const;

export const SemanticEvalSchema = z
  .strictObject({
    command: z
      .union([z.array(z.string().min(1)).min(1), z.string().regex(/\S/)])
      .nullish()
      .describe(
        'Full argv (a list, or a string split on whitespace; no shell). Placeholders: {model} {host} {port} {url} {output_path} {result_dir}. Default: python3 $VLLM_SOURCE_DIR/tests/evals/gsm8k/gsm8k_eval.py --host http://{host} --port {port} --num-questions 200 --save-results {output_path}.',
      ),
    python: z.string().min(1).nullish().describe('Interpreter of the default command (default python3).'),
    num_questions: positiveInt.nullish().describe('--num-questions of the default command (default 200).'),
    timeout_minutes: positiveInt
      .max(MAX_TIMEOUT_MINUTES)
      .nullish()
      .describe(`Time limit of the command (default 30; at most ${MAX_TIMEOUT_MINUTES}).`),
    output_path: z
      .string()
      .min(1)
      .nullish()
      .describe(
        'Result file; may use {result_dir}; relative paths are under the results dir (default {result_dir}/semantic_eval.json).',
      ),
  })
  .describe("A semantic check (vLLM's GSM8K eval by default) run after the benchmark on the same server.");

export const DEFAULT_GATE_RTOL = 0.08;

export const AccuracyGateSchema = z
  .strictObject({
    task: z
      .string()
      .min(1)
      .describe(
        'lm_eval task name (e.g. gsm8k), or a full task id: lm_eval:<task>, bfcl:<category>, semantic_eval:<name>.',
      ),
    metric: z
      .string()
      .min(1)
      .describe(
        'Metric as the tool writes it, e.g. exact_match,strict-match (BFCL: acc,none; semantic eval: accuracy).',
      ),
    expected: z
      .number()
      .min(0)
      .describe('Expected value; the gate passes when measured >= expected * (1 - rtol).'),
    rtol: z
      .number()
      .min(0)
      .max(1)
      .nullish()
      .describe(`Relative tolerance (default ${DEFAULT_GATE_RTOL}, as vLLM's accuracy_gate).`),
    wilson: z
      .boolean()
      .nullish()
      .describe(
        "Also require the one-sided 95 % Wilson lower bound at the task's sample count to clear expected * (1 - rtol).",
      ),
  })
  .describe("An expected accuracy (vLLM's accuracy_gate semantics).");

export const GatesSchema = z
  .strictObject({
    accuracy: z
      .array(AccuracyGateSchema)
      .nullish()
      .describe('Expected accuracies; a miss fails the run (exit 1) after results are saved and ingested.'),
    fail_on: z
      .enum(['regression'])
      .nullish()
      .describe('Fail the run (exit 1) when the comparison with --baseline finds a regression.'),
  })
  .describe('Run gates: expected accuracies and failing on verdicts.');

export const MAX_SWEEP_VARIANTS = 64;

export const SweepSchema = z
  .strictObject({
    serve_args: z
      .record(
        z.string().regex(/^--[A-Za-z0-9][A-Za-z0-9._-]*$/),
        z.array(z.union([z.string().min(1), z.number()])).min(1),
      )
      .describe(
        'Flag → list of values; the Cartesian product (key order as written) gives one variant each.',
      ),
  })
  .describe(
    `Server-config sweep: at most ${MAX_SWEEP_VARIANTS} variants, each with its own results dir <name>--<flag>-<value>….`,
  );

/**
 * Options for every parse with these schemas. `jitless`: zod 4 otherwise compiles a fast path for each
 * object schema (`new Function`) on its first parse, which pays off after thousands of parses; a
 * process here parses a few recipes and one profiles file, so compiling was pure start-up cost (~15 ms
 * of `perf-eval pipeline` for the 21-recipe nightly set; scripts/bench/pipeline.mjs).
 */
export const PARSE_OPTIONS = { jitless: true } as const;

export const RecipeSchema = z
  .strictObject({
    name: z
      .string()
      .regex(WORKLOAD_NAME_PATTERN)
      .nullish()
      .describe(
        "Workload name: results/<name>/, labels, ingest workload. Default: the file stem. Not '.' or '..', no '/', '\\', whitespace or control characters.",
      ),
    gpu: z.string().min(1).describe('Key into the GPU profiles (H200, B200, MI300X, MI355X, …).'),
    num_gpus: positiveInt.nullish().describe('GPU limit for Kubernetes steps (default 1).'),
    nightly: z.boolean().nullish().describe('Selected by the nightly pipeline when true.'),
    timeout_in_minutes: positiveInt
      .max(MAX_TIMEOUT_MINUTES)
      .nullish()
      .describe(
        `Buildkite step timeout (default 120; at most ${MAX_TIMEOUT_MINUTES}, the longest Node.js timer).`,
      ),
    bench_only: z.boolean().nullish().describe('Run only the bench phase.'),
    vllm: VllmBlockSchema,
    lm_eval: LmEvalBlockSchema.nullish(),
    vllm_bench: VllmBenchBlockSchema.nullish(),
    bfcl: BfclBlockSchema.nullish(),
    semantic_eval: SemanticEvalSchema.nullish(),
    sweep: SweepSchema.nullish(),
    gates: GatesSchema.nullish(),
  })
  .describe('perf-eval workload recipe (one model × one GPU kind × a set of tasks).');

export type RecipeInput = z.infer<typeof RecipeSchema>;

const volumeSource = z
  .record(z.string(), z.unknown())
  .refine(
    (value) => Object.keys(value).length === 1 && !('name' in value),
    'a single-key volume source without name',
  );

export const GpuProfileSchema = z.strictObject({
  queue: z.string().min(1),
  hf_home: z.string().min(1).nullish(),
  env: envMap.nullish(),
  server_runtime: z.enum(['docker', 'native', 'sim']).nullish(),
  k8s_plugin: z.enum(['nvidia', 'amd']).nullish(),
  image_repo: z.string().min(1).nullish(),
  hf_cache_volume: volumeSource.nullish(),
  ecr_pull_through_cache: z.boolean().nullish(),
});

export const GpuProfilesSchema = z.record(z.string(), GpuProfileSchema);
export type GpuProfileInput = z.infer<typeof GpuProfileSchema>;

/** The recipe JSON Schema (draft 2020-12), for editors and `perf-eval schema`. */
export function recipeJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(RecipeSchema, { target: 'draft-2020-12', io: 'input' }) as Record<
    string,
    unknown
  >;
  return {
    $id: 'https://github.com/vllm-project/perf-eval/workload.schema.json',
    title: 'perf-eval workload',
    ...schema,
  };
}

/** Allowed keys of each strict object, derived from the schemas (one source of truth). */
export const KNOWN_KEYS = {
  recipe: Object.keys(RecipeSchema.shape),
  vllm: Object.keys(VllmBlockSchema.shape),
  vllm_role: Object.keys(VllmRoleSchema.shape),
  kv_transfer: Object.keys(KvTransferSchema.shape),
  proxy: Object.keys(ProxySchema.shape),
  semantic_eval: Object.keys(SemanticEvalSchema.shape),
  sweep: Object.keys(SweepSchema.shape),
  gates: Object.keys(GatesSchema.shape),
  accuracy_gate: Object.keys(AccuracyGateSchema.shape),
  lm_eval: Object.keys(LmEvalBlockSchema.shape),
  lm_eval_task: Object.keys(LmEvalTaskSchema.shape),
  vllm_bench: Object.keys(VllmBenchBlockSchema.shape),
  bench_config: Object.keys(BenchConfigSchema.shape),
  bench_metadata: Object.keys(BenchMetadataSchema.shape),
  bfcl: ['test_categories', 'num_threads', 'temperature', 'maximum_step_limit', 'max_test_cases'] as string[],
  profile: Object.keys(GpuProfileSchema.shape),
} as const;
