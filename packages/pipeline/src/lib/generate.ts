/** Recipes + environment → the Buildkite pipeline document (recipe-compat.md §13, buildkite.md §2). */
import { resolve } from 'node:path';
import { secretValuesOf } from '@perf-eval/util';
import {
  expandVariants,
  formatDiagnostic,
  loadProfiles,
  loadWorkloadText,
  PROFILES_RELATIVE_PATH,
  readRecipeFile,
  type Diagnostic,
  type GpuProfiles,
  type ResolvedWorkload,
} from '@perf-eval/workload-schema';
import { PipelineRecipeError, PipelineSelectionError } from './errors.js';
import { escapeDeep, type InterpolationMode } from './interpolation.js';
import type { ExpectedStep, LintContext } from './lint.js';
import { listWorkloadFiles, parseWorkloadsEnv, selectFromEntries, WORKLOADS_DIR } from './selection.js';
import { nodeCount } from './multinode.js';
import { splitPipeline } from './split.js';
import {
  buildStep,
  hashedStepKey,
  queueFor,
  queueOverrideVariable,
  stepIdentity,
  stepKeyFor,
  type Env,
} from './steps.js';
import type { Pipeline } from './types.js';
import { emitYaml } from './yaml-emit.js';

export interface GenerateOptions {
  /** Repository root: `workloads/` and `profiles/` are found here, and recipe paths are relative to it. */
  root: string;
  /** The generator environment (`WORKLOADS`, `VLLM_IMAGE`, `VLLM_COMMIT`, `BENCH_ONLY`, `NIGHTLY`, `<GPU>_QUEUE`, `<GPU>_HF_CACHE_VOLUME`). */
  env: Env;
  /** GPU profiles file; default env `PERF_EVAL_PROFILES`, else `<root>/profiles/gpu_profiles.yaml`. */
  profilesPath?: string;
  /** Recipe directory relative to the root; default `workloads`. */
  workloadsDir?: string;
  /** `verbatim` (default; upload with `--no-interpolation`) or `escaped` (every `$` doubled). */
  mode?: InterpolationMode;
}

export interface GeneratedPipeline {
  /** The document as emitted (escaped when `mode` is `escaped`). */
  pipeline: Pipeline;
  /** `pipeline` as block YAML; uploadable as one file only when `uploads` has one entry. */
  yaml: string;
  /** `pipeline` cut into uploads of at most 450 jobs each (`splitPipeline`), in upload order. */
  uploads: Pipeline[];
  /** `uploads` as block YAML, one file each. */
  uploadYaml: string[];
  /** Selected recipe paths, in step order. */
  files: string[];
  /** The selected recipes, one per file. */
  workloads: ResolvedWorkload[];
  /** One per step, in step order: the recipe itself, or each of its sweep variants (`expandVariants`). */
  variants: ResolvedWorkload[];
  /** Selection warnings (duplicates) and recipe warnings, formatted. */
  warnings: string[];
  /** What `lintPipeline` needs to check queues, GPU limits and HF_HOME agreement. */
  lintContext: LintContext;
}

const NO_NIGHTLY = 'no workloads to run: WORKLOADS env var not set and no workload has `nightly: true`';

export function resolveProfilesPath(root: string, env: Env, explicit?: string): string {
  if (explicit) return resolve(root, explicit);
  const fromEnv = env['PERF_EVAL_PROFILES']?.trim();
  if (fromEnv) return resolve(root, fromEnv);
  return resolve(root, PROFILES_RELATIVE_PATH);
}

interface Loaded {
  workloads: Map<string, ResolvedWorkload>;
  warnings: string[];
}

/** Load and fully validate `files`; every invalid recipe is reported together. */
function loadAll(files: readonly string[], root: string, profiles: GpuProfiles, env: Env): Loaded {
  const workloads = new Map<string, ResolvedWorkload>();
  const warnings: string[] = [];
  const problems: Array<{ file: string; diagnostics: Diagnostic[] }> = [];
  for (const file of files) {
    const text = readRecipeFile(resolve(root, file), file);
    const result = loadWorkloadText(text, file, { profiles, env });
    warnings.push(...result.warnings.map(formatDiagnostic));
    if (result.workload) workloads.set(file, result.workload);
    else problems.push({ file, diagnostics: result.errors });
  }
  if (problems.length > 0) throw new PipelineRecipeError(problems);
  return { workloads, warnings };
}

/**
 * One key per step (`stepKeyFor`); a variant whose key is taken by another step gets the stable
 * hashed form instead, so keys stay unique however the sanitised suffixes collide.
 */
export function assignStepKeys(variants: readonly ResolvedWorkload[]): string[] {
  const keys = variants.map(stepKeyFor);
  const count = new Map<string, number>();
  for (const key of keys) count.set(key, (count.get(key) ?? 0) + 1);
  return keys.map((key, i) => {
    const variant = variants[i] as ResolvedWorkload;
    return variant.variant && (count.get(key) ?? 0) > 1 ? hashedStepKey(key, stepIdentity(variant)) : key;
  });
}

export function toYaml(pipeline: Pipeline): string {
  return emitYaml(pipeline as unknown as Record<string, unknown>);
}

/**
 * Select, validate and turn recipes into steps. Throws `PipelineSelectionError` (bad `WORKLOADS`,
 * nothing selected), `PipelineRecipeError` (an invalid recipe) or `PipelineOverrideError`.
 */
export function generatePipeline(options: GenerateOptions): GeneratedPipeline {
  const { root, env } = options;
  const dir = options.workloadsDir ?? WORKLOADS_DIR;
  const profiles = loadProfiles(resolveProfilesPath(root, env, options.profilesPath));
  const all = listWorkloadFiles(root, dir);
  const warnings: string[] = [];
  let files: string[];
  let loaded: Loaded;
  const workloadsValue = env['WORKLOADS'];
  if (workloadsValue !== undefined && workloadsValue.trim() !== '') {
    // D10: with WORKLOADS set, only the selected recipes are loaded.
    const selection = selectFromEntries(parseWorkloadsEnv(workloadsValue), all, root, dir);
    warnings.push(...selection.warnings);
    loaded = loadAll(selection.files, root, profiles, env);
    files = selection.files;
  } else {
    loaded = loadAll(all, root, profiles, env);
    files = all.filter((file) => loaded.workloads.get(file)?.nightly === true);
  }
  warnings.push(...loaded.warnings);
  if (files.length === 0) throw new PipelineSelectionError('E_PIPELINE_SELECTION_EMPTY', NO_NIGHTLY);

  const workloads = files.map((file) => loaded.workloads.get(file) as ResolvedWorkload);
  // Sweeps: one step per variant, in expansion order, right where the recipe's step would be.
  const variants = workloads.flatMap(expandVariants);
  const keys = assignStepKeys(variants);
  const steps = variants.map((variant, i) => buildStep(variant, env, keys[i]));
  const mode = options.mode ?? 'verbatim';
  const pipeline: Pipeline = mode === 'escaped' ? escapeDeep({ steps }) : { steps };

  const allowedQueues = new Set<string>();
  for (const profile of profiles.byName.values()) {
    allowedQueues.add(profile.queue);
    allowedQueues.add(queueFor(profile, env));
    const override = env[queueOverrideVariable(profile.name)]?.trim();
    if (override) allowedQueues.add(override);
  }
  const expected = new Map<string, ExpectedStep>();
  variants.forEach((workload, i) => {
    const entry: ExpectedStep = { numGpus: workload.numGpus, numNodes: nodeCount(workload) };
    const serverHfHome = workload.server.env['HF_HOME'];
    if (serverHfHome !== undefined) entry.serverHfHome = serverHfHome;
    expected.set((steps[i] as { key: string }).key, entry);
  });
  const lintContext: LintContext = { allowedQueues, expected, mode, secretValues: secretValuesOf(env) };
  const yaml = toYaml(pipeline);
  const uploads = splitPipeline(pipeline);
  const uploadYaml = uploads.length === 1 ? [yaml] : uploads.map(toYaml);
  return { pipeline, yaml, uploads, uploadYaml, files, workloads, variants, warnings, lintContext };
}
