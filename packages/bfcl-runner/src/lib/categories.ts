/**
 * BFCL v4 category logic. The category table itself (`BFCL_TEST_COLLECTION_MAPPING` of the pinned
 * bfcl-eval) is a tool fact in @perf-eval/util; a test compares it with the installed package through
 * `bfcl_driver.py --check`.
 */
import { join } from 'node:path';
import {
  BFCL_LEAF_CATEGORIES,
  BFCL_NON_SCORING_CATEGORIES,
  BFCL_TEST_COLLECTION_MAPPING,
  BFCL_VERSION_PREFIX,
} from '@perf-eval/util';
import { BfclUnknownCategoryError } from './errors.js';

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
  if (isBfclGroup(leaf) || !BFCL_LEAF_CATEGORIES.includes(leaf))
    throw new BfclUnknownCategoryError(leaf, 'a leaf category');
  if (leaf === 'format_sensitivity') return 'format_sensitivity';
  const inGroup = (group: string): boolean =>
    (BFCL_TEST_COLLECTION_MAPPING[group] as readonly string[]).includes(leaf);
  if (inGroup('non_live')) return 'non_live';
  if (inGroup('live')) return 'live';
  if (inGroup('multi_turn')) return 'multi_turn';
  if (inGroup('memory')) return join('agentic', 'memory', leaf.slice('memory_'.length));
  return 'agentic';
}

/** BFCL's directory name for a model: the registry name with `/` replaced by `_`. */
export function bfclModelDir(model: string): string {
  return model.replaceAll('/', '_');
}

/** `<workDir>/score/<model_dir>/<group_dir>/BFCL_v4_<leaf>_score.json`: the only place a leaf score is read from (D3). */
export function bfclScoreFile(workDir: string, model: string, leaf: string): string {
  return join(
    workDir,
    'score',
    bfclModelDir(model),
    bfclGroupDir(leaf),
    `${BFCL_VERSION_PREFIX}_${leaf}_score.json`,
  );
}

/** `<workDir>/result/<model_dir>/<group_dir>/BFCL_v4_<leaf>_result.json`. */
export function bfclResultFile(workDir: string, model: string, leaf: string): string {
  return join(
    workDir,
    'result',
    bfclModelDir(model),
    bfclGroupDir(leaf),
    `${BFCL_VERSION_PREFIX}_${leaf}_result.json`,
  );
}
