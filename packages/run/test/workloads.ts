/**
 * Test set-up shared by the run package's specs: temp dirs, recipes loaded with the repository's GPU
 * profiles, a tools dir with fake tools.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { onTestFinished } from 'vitest';
import { loadProfiles, loadWorkload, type ResolvedWorkload } from '@perf-eval/workload-schema';

const PROFILES = resolve(import.meta.dirname, '../../../profiles/gpu_profiles.yaml');

/** A simulator recipe with one bench config, one lm_eval task and one BFCL category. */
export function simRecipe(name: string): string {
  return `name: ${name}
gpu: SIM
vllm:
  model: org/tiny
lm_eval:
  tasks:
    - name: gsm8k
bfcl:
  test_categories:
    - multiple
vllm_bench:
  configs:
    - {name: short, input_len: 8, output_len: 8, num_prompts: 4, max_concurrency: 2}
`;
}

/** A temp directory removed when the test finishes. */
export function tempDir(prefix = 'perf-eval-run-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

/** `text` written to `<dir>/recipe.yaml` and loaded as `perf-eval` loads it. */
export function workloadOf(dir: string, text: string, env: Record<string, string> = {}): ResolvedWorkload {
  const file = join(dir, 'recipe.yaml');
  writeFileSync(file, text);
  return loadWorkload(file, { profiles: loadProfiles(PROFILES), env });
}

/** An executable shell script that exits 0. */
export function executable(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, '#!/bin/sh\nexit 0\n');
  chmodSync(path, 0o755);
}

/** A tools dir with the simulator and its tokenizer (what `setup` leaves for `sim`), nothing else. */
export function simOnly(dir: string): Record<string, string> {
  const tools = join(dir, 'tools');
  executable(join(tools, 'bin/llm-d-inference-sim'));
  mkdirSync(join(tools, 'tokenizers/sim-bpe'), { recursive: true });
  writeFileSync(join(tools, 'tokenizers/sim-bpe/tokenizer.json'), '{}');
  return { PERF_EVAL_TOOLS_DIR: tools, PATH: join(dir, 'empty-path'), HOME: dir };
}
