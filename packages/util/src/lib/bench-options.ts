/**
 * `vllm bench serve` options perf-eval's wrapper owns (recipe-compat §9.4): a recipe's extra `args` may
 * not set them. Shared by the recipe validator (load-time error with upstream's message) and the bench
 * adapter (defence in depth), which may not import each other.
 */
export const BENCH_RESERVED_OPTIONS = [
  'backend',
  'base-url',
  'host',
  'port',
  'model',
  'dataset-name',
  'num-prompts',
  'max-concurrency',
  'trust-remote-code',
  'random-input-len',
  'random-output-len',
  'ignore-eos',
  'dataset-path',
  'speed-bench-output-len',
  'speed-bench-dataset-subset',
  'speed-bench-category',
  'skip-tokenizer-init',
  'save-result',
  'result-filename',
] as const;
