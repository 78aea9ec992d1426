/**
 * Sweep variants for plan and run. Each variant needs its own server, so `run` takes exactly one
 * (`--variant NAME`); a pipeline fans the variants out as separate steps.
 */
import { expandVariants, type ResolvedWorkload } from '@perf-eval/workload-schema';
import { UsageError } from './args.js';

/** The variant named `name` of `workload`; a usage error (exit 2) listing the names otherwise. */
export function selectVariant(
  workload: ResolvedWorkload,
  name: string,
  file: string,
  command: 'plan' | 'run',
): ResolvedWorkload {
  if (!workload.sweep)
    throw new UsageError(
      `perf-eval ${command}: --variant '${name}' given but ${file} has no sweep: block`,
      command,
    );
  const variants = expandVariants(workload);
  const chosen = variants.find((variant) => variant.name === name);
  if (!chosen)
    throw new UsageError(
      `perf-eval ${command}: unknown variant '${name}'; ${file} has ${variants.length}: ${variants.map((v) => v.name).join(', ')}`,
      command,
    );
  return chosen;
}

/** `run` on a sweep recipe without `--variant`: which variants exist and how to run them. */
export function variantRequiredError(workload: ResolvedWorkload, file: string): UsageError {
  const names = expandVariants(workload).map((variant) => variant.name);
  return new UsageError(
    `perf-eval run: ${file} sweeps ${names.length} variants and each needs its own server, so each is its own run ` +
      `(one pipeline step per variant); pick one with --variant NAME:\n${names.map((n) => `  ${n}`).join('\n')}`,
    'run',
  );
}
