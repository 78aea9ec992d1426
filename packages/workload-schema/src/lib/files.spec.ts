import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SIM_PROFILES, TINY_SIM_RECIPE } from '../../test/tiny-sim.js';
import { ProfileInvalidError, RecipeNotFoundError, RecipeReadError } from './errors.js';
import { checkRecipeFile, listRecipeFiles, loadRecipeFile, RecipeListError } from './files.js';

/** A repository root: profiles/gpu_profiles.yaml and workloads/ with `recipes` (name → text). */
function repo(recipes: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'ws-files-'));
  onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'profiles'));
  mkdirSync(join(root, 'workloads'));
  writeFileSync(join(root, 'profiles', 'gpu_profiles.yaml'), SIM_PROFILES);
  for (const [name, text] of Object.entries(recipes)) writeFileSync(join(root, 'workloads', name), text);
  return root;
}

function listError(paths: string[], cwd: string): RecipeListError {
  try {
    listRecipeFiles(paths, cwd);
  } catch (error) {
    expect(error).toBeInstanceOf(RecipeListError);
    return error as RecipeListError;
  }
  throw new Error('did not throw');
}

describe('listRecipeFiles', () => {
  it('no paths: workloads/*.yaml, sorted', () => {
    const root = repo({ 'b.yaml': TINY_SIM_RECIPE, 'a.yaml': TINY_SIM_RECIPE, 'notes.txt': '' });
    expect(listRecipeFiles([], root)).toEqual({ files: ['workloads/a.yaml', 'workloads/b.yaml'], empty: [] });
  });

  it('no paths and no workloads/ directory is a usage error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ws-files-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    expect(listError([], dir)).toMatchObject({
      code: 'E_RECIPE_LIST',
      category: 'usage',
      message: `no workloads/ directory in ${dir}`,
    });
  });

  it('a directory stands for its *.yaml files; other paths stay as given, in order', () => {
    const root = repo({ 'b.yaml': TINY_SIM_RECIPE, 'a.yaml': TINY_SIM_RECIPE });
    mkdirSync(join(root, 'none'));
    expect(listRecipeFiles(['missing.yaml', 'workloads', 'none', 'workloads/b.yaml'], root)).toEqual({
      files: ['missing.yaml', 'workloads/a.yaml', 'workloads/b.yaml', 'workloads/b.yaml'],
      empty: ['none'],
    });
  });

  it.skipIf(process.getuid?.() === 0)('a directory that cannot be listed names it', () => {
    const root = repo();
    mkdirSync(join(root, 'locked'));
    chmodSync(join(root, 'locked'), 0o300);
    onTestFinished(() => chmodSync(join(root, 'locked'), 0o700));
    expect(listError(['locked'], root).message).toBe('cannot list directory locked (permission denied)');
  });
});

describe('checkRecipeFile', () => {
  it('a valid recipe: no diagnostics; profiles found beside workloads/', () => {
    const root = repo({ 'a.yaml': TINY_SIM_RECIPE });
    expect(checkRecipeFile('workloads/a.yaml', { cwd: root, env: {} })).toEqual({
      file: 'workloads/a.yaml',
      valid: true,
      diagnostics: [],
      warnings: 0,
    });
  });

  it('an invalid recipe: every problem, attributed to the file as given', () => {
    const root = repo({
      'bad.yaml': TINY_SIM_RECIPE.replace('gpu: SIM', 'gpu: H200').replace('num_gpus: 1', 'nigthly: true'),
    });
    const check = checkRecipeFile('workloads/bad.yaml', { cwd: root, env: {} });
    expect(check.valid).toBe(false);
    expect(check.diagnostics.length).toBeGreaterThanOrEqual(2);
    expect(check.diagnostics.every((d) => d.file === 'workloads/bad.yaml')).toBe(true);
    expect(check.diagnostics.map((d) => d.message).join('\n')).toMatch(/unknown gpu 'H200'/);
  });

  it('a missing or unreadable recipe is reported with its name as given, not thrown', () => {
    const root = repo();
    const missing = checkRecipeFile('workloads/nope.yaml', { cwd: root, env: {} });
    expect(missing).toMatchObject({ valid: false, diagnostics: [], warnings: 0 });
    expect(missing.error).toBeInstanceOf(RecipeNotFoundError);
    expect(missing.error?.message).toBe('not found: workloads/nope.yaml');
    const directory = checkRecipeFile('workloads', { cwd: root, env: {} });
    expect(directory.error).toBeInstanceOf(RecipeReadError);
    expect(directory.error?.message).toMatch(/^cannot read recipe workloads: is a directory; /);
  });

  it('profiles: an explicit path relative to cwd; an unreadable file is the error, invalid ones are diagnostics', () => {
    const root = repo({ 'a.yaml': TINY_SIM_RECIPE });
    writeFileSync(join(root, 'broken.yaml'), 'SIM: [\n');
    const unreadable = checkRecipeFile('workloads/a.yaml', { cwd: root, env: {}, profilesPath: 'nope.yaml' });
    expect(unreadable.error).toBeInstanceOf(ProfileInvalidError);
    expect(unreadable.error?.message).toMatch(
      `cannot read GPU profiles file ${join(root, 'nope.yaml')}: not found`,
    );
    const invalid = checkRecipeFile('workloads/a.yaml', { cwd: root, env: {}, profilesPath: 'broken.yaml' });
    expect(invalid).toMatchObject({ valid: false, warnings: 0 });
    expect(invalid.error).toBeUndefined();
    expect(invalid.diagnostics[0]?.file).toBe(join(root, 'broken.yaml'));
  });
});

describe('loadRecipeFile', () => {
  it('resolves the recipe with its profiles; path is the file as given', () => {
    const root = repo({ 'a.yaml': TINY_SIM_RECIPE });
    const workload = loadRecipeFile('workloads/a.yaml', { cwd: root, env: {} });
    expect(workload).toMatchObject({ name: 'tiny-sim', path: 'workloads/a.yaml', gpu: 'SIM' });
  });

  it('loads the profiles before reading the recipe, so a missing profiles file is what it reports', () => {
    const root = repo();
    expect(() =>
      loadRecipeFile('workloads/nope.yaml', { cwd: root, env: {}, profilesPath: 'nope.yaml' }),
    ).toThrow(ProfileInvalidError);
    expect(() => loadRecipeFile('workloads/nope.yaml', { cwd: root, env: {} })).toThrow(RecipeNotFoundError);
  });
});
