/** Which recipes a build runs (recipe-compat.md §13.2, with the D9 de-duplication). */
import { readdirSync } from 'node:fs';
import { basename, extname, join, normalize, relative, resolve } from 'node:path';
import { closestMatches } from '@perf-eval/workload-schema';
import { PipelineSelectionError } from './errors.js';

export const WORKLOADS_DIR = 'workloads';

/** `workloads/*.yaml` relative to `root`, in sorted path order (upstream `sorted(glob(...))`). */
export function listWorkloadFiles(root: string, dir = WORKLOADS_DIR): string[] {
  let names: string[];
  try {
    names = readdirSync(resolve(root, dir));
  } catch {
    names = [];
  }
  const files = names
    .filter((name) => name.endsWith('.yaml'))
    .map((name) => join(dir, name))
    .sort();
  if (files.length === 0)
    throw new PipelineSelectionError('E_PIPELINE_SELECTION_NO_FILES', `no recipe files found in ${dir}/`);
  return files;
}

/** `WORKLOADS` split on `,` and newlines, trimmed, empties dropped. */
export function parseWorkloadsEnv(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .replace(/,/g, '\n')
    .split('\n')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

export function stemOf(file: string): string {
  return basename(file, extname(file));
}

export interface Selection {
  /** Selected recipe paths (relative to the root, `workloads/x.yaml`), in build order. */
  files: string[];
  /** Human-readable warnings (duplicates). */
  warnings: string[];
}

/**
 * Resolve `WORKLOADS` entries, in order, each as the first match of: an exact path, a file stem,
 * `workloads/<entry>.yaml`. Duplicates (by resolved path) are dropped with a warning (D9); an entry
 * that matches nothing is an error listing the closest stems.
 */
export function selectFromEntries(
  entries: readonly string[],
  files: readonly string[],
  root: string,
  dir = WORKLOADS_DIR,
): Selection {
  const byPath = new Map(files.map((file) => [normalize(file), file]));
  const byStem = new Map<string, string>();
  for (const file of files) if (!byStem.has(stemOf(file))) byStem.set(stemOf(file), file);
  const chosen = new Map<string, string>();
  const warnings: string[] = [];
  for (const entry of entries) {
    const asPath = normalize(entry.startsWith('/') ? relative(root, entry) : entry);
    const file = byPath.get(asPath) ?? byStem.get(entry) ?? byPath.get(normalize(join(dir, `${entry}.yaml`)));
    if (file === undefined) {
      const close = closestMatches(stemOf(entry), byStem.keys(), 3);
      throw new PipelineSelectionError(
        'E_PIPELINE_SELECTION_UNKNOWN',
        `WORKLOADS entry '${entry}' did not match any file in ${dir}/${close.length > 0 ? ` (closest: ${close.join(', ')})` : ''}`,
        entry,
        close,
      );
    }
    const first = chosen.get(file);
    if (first !== undefined) {
      warnings.push(`WORKLOADS entry '${entry}' duplicates '${first}' (${file}); running it once`);
      continue;
    }
    chosen.set(file, entry);
  }
  return { files: [...chosen.keys()], warnings };
}
