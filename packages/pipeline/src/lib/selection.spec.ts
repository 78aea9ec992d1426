import { makeRoot, recipe, REPO_ROOT } from '../../test/helpers.js';
import { PipelineSelectionError } from './errors.js';
import { generatePipeline } from './generate.js';
import { listWorkloadFiles, parseWorkloadsEnv, selectFromEntries } from './selection.js';

const FILES = ['workloads/alpha_h200.yaml', 'workloads/beta_b200.yaml', 'workloads/gamma_h200.yaml'];

function thrown(fn: () => unknown): PipelineSelectionError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PipelineSelectionError);
    return error as PipelineSelectionError;
  }
  throw new Error('expected a PipelineSelectionError');
}

describe('parseWorkloadsEnv', () => {
  it('splits on commas and newlines, trims and drops empty entries', () => {
    expect(parseWorkloadsEnv(' a ,b\n\n c,,\r\nd ')).toEqual(['a', 'b', 'c', 'd']);
    expect(parseWorkloadsEnv(undefined)).toEqual([]);
    expect(parseWorkloadsEnv(' , \n')).toEqual([]);
  });
});

describe('selectFromEntries', () => {
  it('accepts exact paths, stems and workloads/<entry>.yaml, keeping the given order', () => {
    const selection = selectFromEntries(
      ['gamma_h200', 'workloads/alpha_h200.yaml', './workloads/beta_b200.yaml'],
      FILES,
      '/repo',
    );
    expect(selection).toEqual({
      files: ['workloads/gamma_h200.yaml', 'workloads/alpha_h200.yaml', 'workloads/beta_b200.yaml'],
      warnings: [],
    });
  });

  it('accepts an absolute path inside the root', () => {
    expect(selectFromEntries(['/repo/workloads/beta_b200.yaml'], FILES, '/repo').files).toEqual([
      'workloads/beta_b200.yaml',
    ]);
  });

  it('drops duplicates by resolved path with a warning naming them (D9)', () => {
    const selection = selectFromEntries(
      ['alpha_h200', 'beta_b200', 'workloads/alpha_h200.yaml', 'alpha_h200'],
      FILES,
      '/repo',
    );
    expect(selection.files).toEqual(['workloads/alpha_h200.yaml', 'workloads/beta_b200.yaml']);
    expect(selection.warnings).toEqual([
      "WORKLOADS entry 'workloads/alpha_h200.yaml' duplicates 'alpha_h200' (workloads/alpha_h200.yaml); running it once",
      "WORKLOADS entry 'alpha_h200' duplicates 'alpha_h200' (workloads/alpha_h200.yaml); running it once",
    ]);
  });

  it('rejects an unknown entry, listing close matches', () => {
    const error = thrown(() => selectFromEntries(['alpha_h200', 'gama_h200'], FILES, '/repo'));
    expect(error.code).toBe('E_PIPELINE_SELECTION_UNKNOWN');
    expect(error.message).toBe(
      "WORKLOADS entry 'gama_h200' did not match any file in workloads/ (closest: gamma_h200)",
    );
    expect(error.entry).toBe('gama_h200');
    expect(error.closeMatches).toEqual(['gamma_h200']);
  });

  it('rejects an entry with no close match with the upstream message', () => {
    expect(thrown(() => selectFromEntries(['zzzzzzzzzzzzzzzz'], FILES, '/repo')).message).toBe(
      "WORKLOADS entry 'zzzzzzzzzzzzzzzz' did not match any file in workloads/",
    );
  });

  it('does not match a path outside workloads/', () => {
    expect(thrown(() => selectFromEntries(['profiles/gpu_profiles.yaml'], FILES, '/repo')).code).toBe(
      'E_PIPELINE_SELECTION_UNKNOWN',
    );
  });
});

describe('selection through generatePipeline', () => {
  it('selects every nightly: true recipe in sorted path order when WORKLOADS is unset or blank', () => {
    const root = makeRoot({
      recipes: {
        'b.yaml': recipe({ nightly: true }),
        'a.yaml': recipe({ nightly: true }),
        'c.yaml': recipe({ nightly: false }),
        'd.yaml': recipe(),
      },
    });
    expect(generatePipeline({ root, env: {} }).files).toEqual(['workloads/a.yaml', 'workloads/b.yaml']);
    expect(generatePipeline({ root, env: { WORKLOADS: ' \n ' } }).files).toEqual([
      'workloads/a.yaml',
      'workloads/b.yaml',
    ]);
  });

  it('runs non-nightly recipes named in WORKLOADS and reports duplicates as warnings', () => {
    const root = makeRoot({ recipes: { 'a.yaml': recipe({ nightly: true }), 'c.yaml': recipe() } });
    const generated = generatePipeline({ root, env: { WORKLOADS: 'c\nworkloads/c.yaml,a' } });
    expect(generated.files).toEqual(['workloads/c.yaml', 'workloads/a.yaml']);
    expect(generated.warnings).toEqual([
      "WORKLOADS entry 'workloads/c.yaml' duplicates 'c' (workloads/c.yaml); running it once",
    ]);
  });

  it('fails with the upstream message when nothing is nightly', () => {
    const root = makeRoot({ recipes: { 'a.yaml': recipe() } });
    const error = thrown(() => generatePipeline({ root, env: {} }));
    expect(error.code).toBe('E_PIPELINE_SELECTION_EMPTY');
    expect(error.message).toBe(
      'no workloads to run: WORKLOADS env var not set and no workload has `nightly: true`',
    );
  });

  it('fails when workloads/ has no recipe', () => {
    const root = makeRoot();
    expect(thrown(() => generatePipeline({ root, env: {} })).message).toBe(
      'no recipe files found in workloads/',
    );
  });

  it('lists the repository recipes in sorted order, ignoring non-YAML files', () => {
    const files = listWorkloadFiles(REPO_ROOT);
    // The 13 upstream recipes plus the simulator demo; workload.schema.json and tasks/ are not recipes.
    expect(files).toHaveLength(14);
    expect(files).toContain('workloads/demo_sim.yaml');
    expect(files).toEqual([...files].sort());
    expect(files.every((file) => file.startsWith('workloads/') && file.endsWith('.yaml'))).toBe(true);
  });
});
