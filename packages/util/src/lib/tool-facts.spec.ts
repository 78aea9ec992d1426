import { describe, expect, it } from 'vitest';
import {
  BFCL_CATEGORIES_NOT_IN_RECIPES,
  BFCL_LEAF_CATEGORIES,
  BFCL_RECIPE_GROUP_CATEGORIES,
  BFCL_RECIPE_LEAF_CATEGORIES,
  BFCL_TEST_COLLECTION_MAPPING,
  isLmEvalOutputFile,
  LMEVAL_RESULTS_FILE,
} from './tool-facts.js';

describe('BFCL categories', () => {
  it('recipe categories are BFCL categories minus the documented exclusions, in BFCL order', () => {
    const known = [...BFCL_LEAF_CATEGORIES, ...Object.keys(BFCL_TEST_COLLECTION_MAPPING)];
    for (const category of [...BFCL_RECIPE_LEAF_CATEGORIES, ...BFCL_RECIPE_GROUP_CATEGORIES])
      expect(known).toContain(category);
    for (const excluded of BFCL_CATEGORIES_NOT_IN_RECIPES) expect(known).toContain(excluded);
    expect([...BFCL_RECIPE_LEAF_CATEGORIES]).toEqual(
      BFCL_LEAF_CATEGORIES.filter((c) => !BFCL_CATEGORIES_NOT_IN_RECIPES.includes(c)),
    );
    expect(BFCL_RECIPE_LEAF_CATEGORIES).not.toContain('web_search_base');
    expect(BFCL_RECIPE_LEAF_CATEGORIES).not.toContain('format_sensitivity');
    expect(BFCL_RECIPE_GROUP_CATEGORIES).not.toContain('web_search');
    expect(BFCL_RECIPE_GROUP_CATEGORIES).toContain('agentic');
    expect(BFCL_RECIPE_LEAF_CATEGORIES).toHaveLength(20);
    expect(BFCL_RECIPE_GROUP_CATEGORIES).toHaveLength(10);
  });

  it('every group member is a leaf category', () => {
    for (const members of Object.values(BFCL_TEST_COLLECTION_MAPPING))
      for (const leaf of members) expect(BFCL_LEAF_CATEGORIES).toContain(leaf);
  });
});

describe('lm-eval output files', () => {
  it('matches results_*.json and samples_*.jsonl by their last path segment', () => {
    expect(LMEVAL_RESULTS_FILE.exec('results_2026-01-02T03-04-05.123456.json')?.[1]).toBe(
      '2026-01-02T03-04-05.123456',
    );
    expect(isLmEvalOutputFile('gsm8k/model/results_x.json')).toBe(true);
    expect(isLmEvalOutputFile('gsm8k/model/samples_gsm8k_x.jsonl')).toBe(true);
    expect(isLmEvalOutputFile('results_x.json/other.txt')).toBe(false);
    expect(isLmEvalOutputFile('gsm8k/results.json')).toBe(false);
    expect(isLmEvalOutputFile('gsm8k/samples_x.json')).toBe(false);
  });
});
