/**
 * BFCL v4 categories as in bfcl-eval 2026.3.23 (`bfcl_eval/constants/category_mapping.py`). The
 * group table is a copy of `TEST_COLLECTION_MAPPING` in its original order; a test compares it with
 * the installed package through `bfcl_driver.py --check`.
 */
import { join } from 'node:path';
import { BfclUnknownCategoryError } from './errors.js';

export const BFCL_VERSION_PREFIX = 'BFCL_v4';
/** The bfcl-eval release the table below was copied from. */
export const BFCL_EVAL_VERSION = '2026.3.23';

const NON_LIVE = ['simple_python', 'simple_java', 'simple_javascript', 'multiple', 'parallel', 'parallel_multiple', 'irrelevance'];
const LIVE = ['live_simple', 'live_multiple', 'live_parallel', 'live_parallel_multiple', 'live_irrelevance', 'live_relevance'];
const MULTI_TURN = ['multi_turn_base', 'multi_turn_miss_func', 'multi_turn_miss_param', 'multi_turn_long_context'];
const WEB_SEARCH = ['web_search_base', 'web_search_no_snippet'];
const MEMORY = ['memory_kv', 'memory_vector', 'memory_rec_sum'];
const NON_SCORING = ['format_sensitivity'];
const SINGLE_TURN = [...NON_LIVE, ...LIVE];
const AGENTIC = [...MEMORY, ...WEB_SEARCH];
const ALL_SCORING = [...SINGLE_TURN, ...MULTI_TURN, ...AGENTIC];

/** `TEST_COLLECTION_MAPPING` of bfcl-eval 2026.3.23, keys and members in BFCL's order. */
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

export function isBfclGroup(category: string): boolean {
  return Object.hasOwn(BFCL_TEST_COLLECTION_MAPPING, category);
}

export function isBfclCategory(category: string): boolean {
  return isBfclGroup(category) || BFCL_LEAF_CATEGORIES.includes(category);
}

function assertKnown(category: string): void {
  if (!isBfclCategory(category)) throw new BfclUnknownCategoryError(category);
}

/**
 * The leaves whose scores make up `category`, in mapping order: the category itself for a leaf,
 * the group's scoring members for a group (`format_sensitivity` excluded, see above).
 */
export function scoredSubcategories(category: string): string[] {
  assertKnown(category);
  const members = BFCL_TEST_COLLECTION_MAPPING[category];
  if (members === undefined) return [category];
  return members.filter((leaf) => !BFCL_NON_SCORING_CATEGORIES.includes(leaf));
}

/**
 * BFCL's directory for a leaf below `result/<model_dir>/` and `score/<model_dir>/`
 * (`get_directory_structure_by_category`): `non_live`, `live`, `multi_turn`, `agentic`,
 * `agentic/memory/<kv|vector|rec_sum>` or `format_sensitivity`.
 */
export function bfclGroupDir(leaf: string): string {
  if (isBfclGroup(leaf) || !BFCL_LEAF_CATEGORIES.includes(leaf)) throw new BfclUnknownCategoryError(leaf, 'a leaf category');
  if (leaf === 'format_sensitivity') return 'format_sensitivity';
  if (NON_LIVE.includes(leaf)) return 'non_live';
  if (LIVE.includes(leaf)) return 'live';
  if (MULTI_TURN.includes(leaf)) return 'multi_turn';
  if (MEMORY.includes(leaf)) return join('agentic', 'memory', leaf.slice('memory_'.length));
  return 'agentic';
}

/** BFCL's directory name for a model: the registry name with `/` replaced by `_`. */
export function bfclModelDir(model: string): string {
  return model.replaceAll('/', '_');
}

/** `<workDir>/score/<model_dir>/<group_dir>/BFCL_v4_<leaf>_score.json`: the only place a leaf score is read from (D3). */
export function bfclScoreFile(workDir: string, model: string, leaf: string): string {
  return join(workDir, 'score', bfclModelDir(model), bfclGroupDir(leaf), `${BFCL_VERSION_PREFIX}_${leaf}_score.json`);
}

/** `<workDir>/result/<model_dir>/<group_dir>/BFCL_v4_<leaf>_result.json`. */
export function bfclResultFile(workDir: string, model: string, leaf: string): string {
  return join(workDir, 'result', bfclModelDir(model), bfclGroupDir(leaf), `${BFCL_VERSION_PREFIX}_${leaf}_result.json`);
}
