import { BENCH_RESERVED_OPTIONS, PyFloat, pyJsonCompact, pyStr } from '@perf-eval/util';
import type { PyValue } from '@perf-eval/util';
import { BenchDatasetError, BenchReservedOptionError, BenchSpecError } from './errors.js';

/** What the CLI derives from one expanded `vllm_bench` run (recipe-compat §9). */
export interface BenchRunSpec {
  /** Suffixed run name, e.g. `8k-in-1k-out-conc-128`. */
  runName: string;
  model: string;
  /** Unset or `''` → `--host/--port` form. */
  backend?: string | undefined;
  /** `random` or `speed_bench`. */
  dataset: string;
  inputLen: number;
  outputLen: number;
  numPrompts: number;
  maxConcurrency: number;
  /** Odd, ≥ 1. */
  repetitions: number;
  /** Extra `vllm bench serve` flags; keys normalised (kebab-case, no leading dashes), insertion order kept. */
  extraArgs: Record<string, PyValue>;
  /** Result of the serve_args scan (recipe-compat §4.1). */
  trustRemoteCode: boolean;
  speedBenchSubset?: string | undefined;
  speedBenchCategory?: string | undefined;
}

export interface BenchTarget {
  host: string;
  port: number;
}

export interface BuildBenchArgvOptions {
  /** Passed verbatim as `--result-filename`. */
  resultFile: string;
  /** Required when `dataset` is `speed_bench`: the directory holding `<subset>.jsonl`. */
  speedBenchDir?: string | undefined;
  /** Tokens that run vLLM, default `['vllm']` (e.g. `['/opt/venv/bin/vllm']`). `bench serve` follows. */
  command?: readonly string[] | undefined;
}

export { BENCH_RESERVED_OPTIONS };

const RESERVED: ReadonlySet<string> = new Set(BENCH_RESERVED_OPTIONS);

export const DEFAULT_SPEED_BENCH_SUBSET = 'qualitative';

function isMap(value: PyValue): value is { [key: string]: PyValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof PyFloat);
}

/** `http://host:port`, bracketing IPv6 literals. */
export function benchBaseUrl(target: BenchTarget): string {
  const host = target.host.includes(':') && !target.host.startsWith('[') ? `[${target.host}]` : target.host;
  return `http://${host}:${target.port}`;
}

/**
 * Render the extra args (recipe-compat §9.4): `true` → flag, `false`/`null` → omitted, list → the flag
 * repeated per item (maps/lists as compact JSON, others pyStr), map → compact JSON, else pyStr.
 * Rejects keys that are not normalised and keys that collide with wrapper-owned options.
 */
export function renderExtraArgs(runName: string, extraArgs: Readonly<Record<string, PyValue>>): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(extraArgs)) {
    if (key === '' || /^[-_]/.test(key) || /[_\s=]/.test(key)) {
      throw new BenchSpecError(
        runName,
        'extraArgs',
        `key '${key}' is not a normalised option name (kebab-case, no leading dashes)`,
      );
    }
    if (RESERVED.has(key)) throw new BenchReservedOptionError(runName, key);
    const flag = `--${key}`;
    if (value === true) out.push(flag);
    else if (value === false || value === null || value === undefined) continue;
    else if (Array.isArray(value)) {
      for (const item of value)
        out.push(flag, isMap(item) || Array.isArray(item) ? pyJsonCompact(item) : pyStr(item));
    } else if (isMap(value)) out.push(flag, pyJsonCompact(value));
    else out.push(flag, pyStr(value));
  }
  return out;
}

/**
 * The exact `vllm bench serve` argv of recipe-compat §9.5 (without the `docker exec <c>` prefix, which
 * the runner adds for the docker executor).
 */
export function buildBenchArgv(
  spec: BenchRunSpec,
  target: BenchTarget,
  options: BuildBenchArgvOptions,
): string[] {
  const argv: string[] = [...(options.command ?? ['vllm']), 'bench', 'serve'];
  if (spec.backend) {
    argv.push('--backend', spec.backend, '--base-url', benchBaseUrl(target));
    if (spec.backend === 'openai-chat') argv.push('--endpoint', '/v1/chat/completions');
  } else {
    argv.push('--host', target.host, '--port', String(target.port));
  }
  argv.push(
    '--model',
    spec.model,
    '--dataset-name',
    spec.dataset,
    '--num-prompts',
    pyStr(spec.numPrompts),
    '--max-concurrency',
    pyStr(spec.maxConcurrency),
  );
  if (spec.trustRemoteCode) argv.push('--trust-remote-code');
  if (spec.dataset === 'random') {
    argv.push(
      '--random-input-len',
      pyStr(spec.inputLen),
      '--random-output-len',
      pyStr(spec.outputLen),
      '--ignore-eos',
    );
  } else if (spec.dataset === 'speed_bench') {
    if (!options.speedBenchDir) {
      throw new BenchSpecError(
        spec.runName,
        'speedBenchDir',
        'is required for dataset speed_bench (see resolveSpeedBenchDir)',
      );
    }
    argv.push(
      '--dataset-path',
      options.speedBenchDir,
      '--speed-bench-output-len',
      pyStr(spec.outputLen),
      '--speed-bench-dataset-subset',
      spec.speedBenchSubset || DEFAULT_SPEED_BENCH_SUBSET,
      '--skip-tokenizer-init',
    );
    if (spec.speedBenchCategory) argv.push('--speed-bench-category', spec.speedBenchCategory);
  } else {
    throw new BenchDatasetError(spec.runName, spec.dataset);
  }
  argv.push(...renderExtraArgs(spec.runName, spec.extraArgs));
  argv.push('--save-result', '--result-filename', options.resultFile);
  return argv;
}
