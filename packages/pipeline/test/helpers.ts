import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
export const SHARED = resolve(REPO_ROOT, '../shared');
export const SCHEMA_PATH = join(SHARED, 'reference/buildkite/pipeline-schema.json');
export const GOLDEN_DIR = join(SHARED, 'reference/upstream-pipeline');
export const FIXTURE_BIN = resolve(import.meta.dirname, 'fixtures/bin');
export const SHA = '0123456789abcdef0123456789abcdef01234567';

/** A temp directory removed when the current test finishes. */
export function tempDir(prefix = 'perf-eval-pipeline-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

/**
 * A throw-away repository root: the real profiles (plus `extraProfiles` YAML appended), the real
 * recipes when `withRepoRecipes`, and `recipes` (file name → YAML text) in workloads/.
 */
export function makeRoot(
  options: { withRepoRecipes?: boolean; recipes?: Record<string, string>; extraProfiles?: string } = {},
): string {
  const root = tempDir();
  mkdirSync(join(root, 'workloads'));
  mkdirSync(join(root, 'profiles'));
  cpSync(join(REPO_ROOT, 'profiles/gpu_profiles.yaml'), join(root, 'profiles/gpu_profiles.yaml'));
  if (options.extraProfiles)
    writeFileSync(join(root, 'profiles/gpu_profiles.yaml'), options.extraProfiles, { flag: 'a' });
  if (options.withRepoRecipes)
    cpSync(join(REPO_ROOT, 'workloads'), join(root, 'workloads'), { recursive: true });
  for (const [name, text] of Object.entries(options.recipes ?? {}))
    writeFileSync(join(root, 'workloads', name), text);
  return root;
}

/** A minimal valid recipe. */
export function recipe(
  fields: { name?: string; gpu?: string; numGpus?: number; nightly?: boolean; extra?: string } = {},
): string {
  const lines = [];
  if (fields.name !== undefined) lines.push(`name: ${JSON.stringify(fields.name)}`);
  lines.push(`gpu: ${fields.gpu ?? 'H200'}`);
  if (fields.numGpus !== undefined) lines.push(`num_gpus: ${fields.numGpus}`);
  if (fields.nightly !== undefined) lines.push(`nightly: ${fields.nightly}`);
  lines.push('vllm:', '  model: org/model');
  lines.push(
    'vllm_bench:',
    '  configs:',
    '    - name: short',
    '      input_len: 128',
    '      output_len: 16',
    '      num_prompts: 8',
    '      max_concurrency: 4',
  );
  if (fields.extra) lines.push(fields.extra);
  return `${lines.join('\n')}\n`;
}
