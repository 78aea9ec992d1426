/**
 * `sweep:`: server-config variants. `sweep.serve_args` maps serve flags to value lists; the
 * Cartesian product (key order as written, first key varying slowest) gives one variant per
 * combination, each a complete ResolvedWorkload with its own name and results dir.
 */
import { PerfEvalError } from '@perf-eval/util';
import { hasTrustRemoteCode, parallelismOf, servedModelNameOf } from './perf.js';
import type { ResolvedWorkload } from './resolve.js';
import type { ResolvedRole } from './topology.js';

export interface SweepDimension {
  /** The flag as written, e.g. `--max-num-seqs`. */
  flag: string;
  /** Values rendered the Python way (`128`, `0.9`), in recipe order. */
  values: string[];
}

export interface ResolvedSweep {
  serveArgs: SweepDimension[];
}

export interface Variant {
  /** `<name>--<flag>-<value>…`, also the results dir name. */
  name: string;
  /** The workload name without the variant suffix. */
  baseName: string;
  /** flag (as written) → value, in sweep key order. */
  settings: Record<string, string>;
}

/** A value as a name part: every character outside `[A-Za-z0-9._-]` becomes `_`. */
export function pathSafe(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]/g, '_');
}

/**
 * Variant name: the base name, then `--<flag without leading dashes>-<path-safe value>` per swept
 * flag in sweep key order, e.g. `qwen3_5-h200--max-num-seqs-128--gpu-memory-utilization-0.9`.
 */
export function variantName(baseName: string, settings: Readonly<Record<string, string>>): string {
  return [
    baseName,
    ...Object.entries(settings).map(([flag, value]) => `${flag.replace(/^-+/, '')}-${pathSafe(value)}`),
  ].join('--');
}

/** Number of variants of a sweep (the product of the list lengths). */
export function variantCount(sweep: ResolvedSweep): number {
  return sweep.serveArgs.reduce((product, dimension) => product * dimension.values.length, 1);
}

const flagName = (token: string): string => token.replace(/_/g, '-');

/**
 * `tokens` with `flag` set to `value`: every `--flag v` and `--flag=v` (underscore spellings
 * included) gets the new value; a bare `--flag` followed by another `--option` gets the value
 * inserted; a flag not present is appended as `--flag value`.
 */
export function setFlag(tokens: readonly string[], flag: string, value: string): string[] {
  const wanted = flagName(flag);
  const out: string[] = [];
  let found = false;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    const eq = token.indexOf('=');
    if (token.startsWith('--') && eq > 0 && flagName(token.slice(0, eq)) === wanted) {
      out.push(`${token.slice(0, eq)}=${value}`);
      found = true;
    } else if (token.startsWith('--') && flagName(token) === wanted) {
      out.push(token, value);
      const next = tokens[i + 1];
      if (next !== undefined && !next.startsWith('--')) i++;
      found = true;
    } else {
      out.push(token);
    }
  }
  if (!found) out.push(flag, value);
  return out;
}

function combinations(dimensions: readonly SweepDimension[]): Record<string, string>[] {
  let out: Record<string, string>[] = [{}];
  for (const { flag, values } of dimensions)
    out = out.flatMap((partial) => values.map((value) => ({ ...partial, [flag]: value })));
  return out;
}

function applyToTokens(tokens: readonly string[], settings: Readonly<Record<string, string>>): string[] {
  return Object.entries(settings).reduce<string[]>(
    (acc, [flag, value]) => setFlag(acc, flag, value),
    [...tokens],
  );
}

function applyToRole(
  role: ResolvedRole,
  settings: Readonly<Record<string, string>>,
  model: string,
): ResolvedRole {
  const serveArgs = applyToTokens(role.serveArgs, settings);
  return {
    ...role,
    serveArgs,
    servedModelName: servedModelNameOf(serveArgs) ?? model,
    trustRemoteCode: hasTrustRemoteCode(serveArgs),
  };
}

/**
 * One ResolvedWorkload per sweep combination (a workload without `sweep` → `[workload]`). Each
 * variant's serve args (the aggregated server's, or the shared args and both roles' when
 * disaggregated) have the swept flags set; name, served model name, trust-remote-code and perf TP
 * are derived again; `variant` records the settings and `sweep` is dropped.
 */
export function expandVariants(workload: ResolvedWorkload): ResolvedWorkload[] {
  const sweep = workload.sweep;
  if (!sweep || sweep.serveArgs.length === 0) return [workload];
  const model = workload.server.model;
  return combinations(sweep.serveArgs).map((settings) => {
    const serveArgs = applyToTokens(workload.server.serveArgs, settings);
    const variant: ResolvedWorkload = {
      ...workload,
      name: variantName(workload.name, settings),
      server: {
        ...workload.server,
        serveArgs,
        serveArgsText: serveArgs.join(' '),
        servedModelName: servedModelNameOf(serveArgs) ?? model,
        trustRemoteCode: hasTrustRemoteCode(serveArgs),
      },
      variant: { name: variantName(workload.name, settings), baseName: workload.name, settings },
    };
    delete variant.sweep;
    if (workload.disaggregated) {
      const prefill = applyToRole(workload.disaggregated.prefill, settings, model);
      const decode = applyToRole(workload.disaggregated.decode, settings, model);
      variant.disaggregated = { ...workload.disaggregated, prefill, decode };
      variant.server.servedModelName = decode.servedModelName;
      variant.server.trustRemoteCode = decode.trustRemoteCode;
    }
    if (workload.perf.sources.tp === 'serve_args') {
      const tokens = variant.disaggregated
        ? variant.disaggregated.decode.serveArgs
        : variant.server.serveArgs;
      variant.perf = { ...workload.perf, tp: parallelismOf(tokens).product };
    }
    return variant;
  });
}

/** Why no variant could be picked: `--variant` on a recipe without a sweep, a name it does not have, or none named. */
export type VariantProblem = 'no-sweep' | 'unknown' | 'required';

const VARIANT_CODES: Record<VariantProblem, string> = {
  'no-sweep': 'E_VARIANT_NO_SWEEP',
  unknown: 'E_VARIANT_UNKNOWN',
  required: 'E_VARIANT_REQUIRED',
};

/** A sweep variant that cannot be picked (exit 2); `variants` names the recipe's variants. */
export class VariantSelectionError extends PerfEvalError {
  constructor(
    readonly file: string,
    readonly problem: VariantProblem,
    readonly variants: readonly string[],
    message: string,
  ) {
    super(VARIANT_CODES[problem], message, { category: 'usage' });
  }
}

export interface SelectVariantOptions {
  /** The recipe as the user named it, for the messages. */
  file: string;
  /** Starts every message, e.g. `perf-eval run: `. */
  prefix?: string;
  /** No name on a sweep recipe is an error: one run serves one variant (`perf-eval run`). */
  required?: boolean;
}

/**
 * The variant `name` of `workload` (`--variant NAME`); without a name the workload itself, unless
 * `required` and it sweeps. Each variant needs its own server, so a run takes exactly one and a
 * pipeline fans them out as separate steps. Throws `VariantSelectionError` listing the names.
 */
export function selectVariant(
  workload: ResolvedWorkload,
  name: string | undefined,
  options: SelectVariantOptions,
): ResolvedWorkload {
  const { file, prefix = '' } = options;
  if (name === undefined) {
    if (!workload.sweep || !options.required) return workload;
    const names = expandVariants(workload).map((variant) => variant.name);
    throw new VariantSelectionError(
      file,
      'required',
      names,
      `${prefix}${file} sweeps ${names.length} variants and each needs its own server, so each is its own run ` +
        `(one pipeline step per variant); pick one with --variant NAME:\n${names.map((n) => `  ${n}`).join('\n')}`,
    );
  }
  if (!workload.sweep)
    throw new VariantSelectionError(
      file,
      'no-sweep',
      [],
      `${prefix}--variant '${name}' given but ${file} has no sweep: block`,
    );
  const variants = expandVariants(workload);
  const chosen = variants.find((variant) => variant.name === name);
  if (chosen) return chosen;
  const names = variants.map((variant) => variant.name);
  throw new VariantSelectionError(
    file,
    'unknown',
    names,
    `${prefix}unknown variant '${name}'; ${file} has ${names.length}: ${names.join(', ')}`,
  );
}
