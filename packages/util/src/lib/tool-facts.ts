/**
 * Facts about the external tools perf-eval drives, in one place: every package that needs one imports
 * it from here (adapters may depend only on util, so this is the one home they all can reach).
 */

// ---------------------------------------------------------------------------------------------------
// vllm bench serve

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

// ---------------------------------------------------------------------------------------------------
// lm-eval

/** An lm-eval results file, `results_<date_id>.json` (group 1: the date id). Also BFCL's lm-eval-shaped output. */
export const LMEVAL_RESULTS_FILE = /^results_(.+)\.json$/s;
/** An lm-eval samples file, `samples_<task>_<date_id>.jsonl`. */
export const LMEVAL_SAMPLES_FILE = /^samples_(.+)\.jsonl$/s;

/** Whether the last segment of a `/`-separated path names an lm-eval results or samples file. */
export function isLmEvalOutputFile(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return LMEVAL_RESULTS_FILE.test(name) || LMEVAL_SAMPLES_FILE.test(name);
}

// ---------------------------------------------------------------------------------------------------
// BFCL

/** The bfcl-eval release perf-eval provisions, checks and whose category table is copied below. */
export const BFCL_EVAL_VERSION = '2026.3.23';
/** Prefix of BFCL's data and result file names in that release. */
export const BFCL_VERSION_PREFIX = 'BFCL_v4';

const NON_LIVE = [
  'simple_python',
  'simple_java',
  'simple_javascript',
  'multiple',
  'parallel',
  'parallel_multiple',
  'irrelevance',
];
const LIVE = [
  'live_simple',
  'live_multiple',
  'live_parallel',
  'live_parallel_multiple',
  'live_irrelevance',
  'live_relevance',
];
const MULTI_TURN = [
  'multi_turn_base',
  'multi_turn_miss_func',
  'multi_turn_miss_param',
  'multi_turn_long_context',
];
const WEB_SEARCH = ['web_search_base', 'web_search_no_snippet'];
const MEMORY = ['memory_kv', 'memory_vector', 'memory_rec_sum'];
const NON_SCORING = ['format_sensitivity'];
const SINGLE_TURN = [...NON_LIVE, ...LIVE];
const AGENTIC = [...MEMORY, ...WEB_SEARCH];
const ALL_SCORING = [...SINGLE_TURN, ...MULTI_TURN, ...AGENTIC];

/**
 * `TEST_COLLECTION_MAPPING` of bfcl-eval {@link BFCL_EVAL_VERSION}
 * (`bfcl_eval/constants/category_mapping.py`), keys and members in BFCL's order. bfcl-runner compares
 * it with the installed package (`bfcl_driver.py --check`).
 */
export const BFCL_TEST_COLLECTION_MAPPING: Readonly<Record<string, readonly string[]>> = Object.freeze({
  all: [...ALL_SCORING, ...NON_SCORING],
  all_scoring: ALL_SCORING,
  multi_turn: MULTI_TURN,
  single_turn: SINGLE_TURN,
  live: LIVE,
  non_live: NON_LIVE,
  non_python: ['simple_java', 'simple_javascript'],
  python: [
    'simple_python',
    'irrelevance',
    'parallel',
    'multiple',
    'parallel_multiple',
    'live_simple',
    'live_multiple',
    'live_parallel',
    'live_parallel_multiple',
    'live_irrelevance',
    'live_relevance',
  ],
  memory: MEMORY,
  web_search: WEB_SEARCH,
  agentic: AGENTIC,
});

/** Every leaf category bfcl-eval knows (`ALL_CATEGORIES`). */
export const BFCL_LEAF_CATEGORIES: readonly string[] = Object.freeze([...ALL_SCORING, ...NON_SCORING]);

/**
 * Categories BFCL never scores for a function-calling model: `format_sensitivity` is prompt-mode
 * only and `generate` skips it for FC models, so it is not expected in a group's scores.
 */
export const BFCL_NON_SCORING_CATEGORIES: readonly string[] = Object.freeze([...NON_SCORING]);

/**
 * Categories bfcl-eval knows but a recipe may not name — why the recipe list is shorter than BFCL's:
 * upstream's validator rejects them (recipe-compat §10.2, D13), `web_search*` need a SerpAPI key and
 * the internet (nightly GPU hosts have neither), and `format_sensitivity` is prompt-mode only (perf-eval
 * always evaluates in function-calling mode). The runner still knows them all, so a group such as
 * `agentic` expands exactly as BFCL expands it.
 */
export const BFCL_CATEGORIES_NOT_IN_RECIPES: readonly string[] = Object.freeze([
  'web_search',
  ...WEB_SEARCH,
  ...NON_SCORING,
]);

const inRecipes = (category: string): boolean => !BFCL_CATEGORIES_NOT_IN_RECIPES.includes(category);

/** Leaf categories a recipe's `bfcl.test_categories` / `max_test_cases` may name, in BFCL's order. */
export const BFCL_RECIPE_LEAF_CATEGORIES: readonly string[] = Object.freeze(
  BFCL_LEAF_CATEGORIES.filter(inRecipes),
);
/** Group categories a recipe may name, in BFCL's order. */
export const BFCL_RECIPE_GROUP_CATEGORIES: readonly string[] = Object.freeze(
  Object.keys(BFCL_TEST_COLLECTION_MAPPING).filter(inRecipes),
);
