import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { BFCL_LEAF_CATEGORIES, BFCL_TEST_COLLECTION_MAPPING } from '@perf-eval/util';
import {
  bfclGroupDir,
  bfclModelDir,
  bfclResultFile,
  bfclScoreFile,
  isBfclCategory,
  isBfclGroup,
  scoredSubcategories,
} from './categories.js';
import { checkBfcl, diffCollectionMapping } from './check.js';
import { packagedDriverPath } from './driver.js';

const FAKE_PYTHON = resolve(import.meta.dirname, '../../test/fixtures/bin/fake-bfcl-python');
const REAL_PYTHON =
  process.env['PERF_EVAL_BFCL_PYTHON'] ?? '/root/.cache/perf-eval-probe/venvs/bfcl/bin/python';

// recipe-compat §10.2
const ACCEPTED_LEAVES = [
  'simple_python',
  'simple_java',
  'simple_javascript',
  'multiple',
  'parallel',
  'parallel_multiple',
  'irrelevance',
  'live_simple',
  'live_multiple',
  'live_parallel',
  'live_parallel_multiple',
  'live_irrelevance',
  'live_relevance',
  'multi_turn_base',
  'multi_turn_miss_func',
  'multi_turn_miss_param',
  'multi_turn_long_context',
  'memory_kv',
  'memory_vector',
  'memory_rec_sum',
];
const ACCEPTED_GROUPS = [
  'all',
  'all_scoring',
  'single_turn',
  'multi_turn',
  'live',
  'non_live',
  'non_python',
  'python',
  'memory',
  'agentic',
];

describe('category table', () => {
  it('knows every category the recipe validator accepts', () => {
    for (const leaf of ACCEPTED_LEAVES)
      expect([leaf, isBfclCategory(leaf), isBfclGroup(leaf)]).toEqual([leaf, true, false]);
    for (const group of ACCEPTED_GROUPS) expect([group, isBfclGroup(group)]).toEqual([group, true]);
    expect(isBfclCategory('simple')).toBe(false);
  });

  it('expands groups in mapping order', () => {
    expect(scoredSubcategories('multi_turn')).toEqual([
      'multi_turn_base',
      'multi_turn_miss_func',
      'multi_turn_miss_param',
      'multi_turn_long_context',
    ]);
    expect(scoredSubcategories('python').slice(0, 3)).toEqual(['simple_python', 'irrelevance', 'parallel']);
    expect(scoredSubcategories('simple_python')).toEqual(['simple_python']);
    expect(scoredSubcategories('all')).not.toContain('format_sensitivity');
    expect(scoredSubcategories('all')).toHaveLength(22);
    expect(() => scoredSubcategories('web_search_x')).toThrow("unknown bfcl test category 'web_search_x'");
  });

  it('maps leaves to BFCL group dirs', () => {
    expect(bfclGroupDir('simple_python')).toBe('non_live');
    expect(bfclGroupDir('irrelevance')).toBe('non_live');
    expect(bfclGroupDir('live_relevance')).toBe('live');
    expect(bfclGroupDir('multi_turn_long_context')).toBe('multi_turn');
    expect(bfclGroupDir('web_search_base')).toBe('agentic');
    expect(bfclGroupDir('memory_rec_sum')).toBe('agentic/memory/rec_sum');
    expect(bfclGroupDir('format_sensitivity')).toBe('format_sensitivity');
    expect(() => bfclGroupDir('live')).toThrow(/expected a leaf category/);
    for (const leaf of BFCL_LEAF_CATEGORIES) expect(typeof bfclGroupDir(leaf)).toBe('string');
  });

  it('builds exact score and result paths', () => {
    expect(bfclModelDir('openai/gpt-oss-120b')).toBe('openai_gpt-oss-120b');
    expect(bfclScoreFile('/w', 'openai/gpt-oss-120b', 'multiple')).toBe(
      '/w/score/openai_gpt-oss-120b/non_live/BFCL_v4_multiple_score.json',
    );
    expect(bfclResultFile('/w', 'Qwen/Qwen3-8B', 'memory_kv')).toBe(
      '/w/result/Qwen_Qwen3-8B/agentic/memory/kv/BFCL_v4_memory_kv_result.json',
    );
  });

  it('diffCollectionMapping reports changed groups', () => {
    expect(diffCollectionMapping(BFCL_TEST_COLLECTION_MAPPING)).toEqual([]);
    const changed = { ...BFCL_TEST_COLLECTION_MAPPING, multi_turn: ['multi_turn_base'], extra: ['x'] };
    expect(diffCollectionMapping(changed)).toEqual([
      'group multi_turn: installed ["multi_turn_base"] vs table ["multi_turn_base","multi_turn_miss_func","multi_turn_miss_param","multi_turn_long_context"]',
      'group extra: installed ["x"] vs table null',
    ]);
  });

  it('checkBfcl parses --check output (fake venv python)', async () => {
    const report = await checkBfcl({ python: FAKE_PYTHON, driverPath: packagedDriverPath() });
    expect(report.bfclEvalVersion).toBe('2026.3.23');
    expect(diffCollectionMapping(report.testCollectionMapping)).toEqual([]);
  });

  it('checkBfcl fails clearly when the python cannot import bfcl_eval', async () => {
    // node is not the venv python: the driver source does not even parse, so --check exits non-zero.
    await expect(
      checkBfcl({ python: process.execPath, driverPath: packagedDriverPath() }),
    ).rejects.toMatchObject({
      code: 'E_BFCL_CHECK',
      exitCode: 1,
    });
  });

  // The only conditional test: it needs the real BFCL virtualenv.
  const realVenv = existsSync(REAL_PYTHON);
  if (!realVenv)
    console.log(
      `skipping the installed-mapping comparison: no BFCL venv python at ${REAL_PYTHON} (set PERF_EVAL_BFCL_PYTHON)`,
    );
  it.skipIf(!realVenv)(
    'matches TEST_COLLECTION_MAPPING of the installed bfcl-eval (driver --check)',
    async () => {
      const report = await checkBfcl({ python: REAL_PYTHON, driverPath: packagedDriverPath() });
      expect(report.versionPrefix).toBe('BFCL_v4');
      expect(diffCollectionMapping(report.testCollectionMapping)).toEqual([]);
    },
  );
});
