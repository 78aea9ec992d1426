import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describeExit, formatCommand, runTool, secretValuesOf, writeFileAtomic, type EnvVars, type RunToolResult as ToolRunResult } from '@perf-eval/util';
import { aggregateMedian, formatSortedJson } from './aggregate.js';
import { buildBenchArgv, renderExtraArgs } from './argv.js';
import type { BenchRunSpec, BenchTarget } from './argv.js';
import {
  BenchCancelledError,
  BenchDatasetError,
  BenchDockerError,
  BenchFailedError,
  BenchResultMissingError,
  BenchSpecError,
  BenchTimeoutError,
} from './errors.js';
import { parseBenchResult, sanitizeBenchJson, validateBenchResult } from './result.js';
import type { BenchCounts, BenchResult } from './result.js';
import { prepareSpeedBench } from './speed-bench.js';

export type BenchExecutor =
  | {
      kind: 'native';
      /** Tokens that run vLLM on the host, default `['vllm']`. */
      command?: readonly string[] | undefined;
    }
  | {
      kind: 'docker';
      /** The running server container; the bench runs inside it via `docker exec`. */
      container: string;
      /** docker CLI, default `docker`. */
      docker?: string | undefined;
      /** Tokens that run vLLM inside the container, default `['vllm']`. */
      command?: readonly string[] | undefined;
    };

export interface RunBenchOptions {
  /** `results/<name>`; created if missing. */
  resultsDir: string;
  target: BenchTarget;
  executor: BenchExecutor;
  /**
   * Extra env for the bench (e.g. `OPENAI_API_KEY`). In docker mode it is set on the docker CLI and
   * forwarded by name (`docker exec -e NAME`), so values never appear in argv.
   */
  env?: EnvVars | undefined;
  signal?: AbortSignal | undefined;
  /** Per repetition; default 6 h (the bench's own HTTP timeout). */
  timeoutMs?: number | undefined;
  /** Console lines of recipe-compat §12.7; default: stdout. */
  print?: ((line: string) => void) | undefined;
  /** Every output line of the bench process (secrets scrubbed). */
  onOutput?: ((line: string) => void) | undefined;
  /** SPEED-Bench data options (only for `dataset: speed_bench`). */
  speedBench?:
    | {
        /** Use this directory instead of `resolveSpeedBenchDir(...)`. */
        dir?: string | undefined;
        root?: string | undefined;
        python?: readonly string[] | undefined;
        timeoutMs?: number | undefined;
      }
    | undefined;
  /** Grace period between SIGTERM and SIGKILL on timeout/abort; default 5000 ms. */
  forceKillAfterMs?: number | undefined;
}

export interface BenchRunOutcome {
  runName: string;
  /** `<resultsDir>/bench-<run>.json`: the single result or the median aggregate. */
  resultFile: string;
  /** `bench-<run>-run-<r>.json` per repetition when repetitions > 1; else `[resultFile]`. */
  repetitionFiles: string[];
  /** The parsed single result, or the aggregate. */
  result: BenchResult;
  /** Counts of every repetition, in order. */
  counts: BenchCounts[];
  /** `<file>: <key>` entries whose non-finite value was rewritten as null. */
  nonFiniteKeys: string[];
  durationMs: number;
}

export const DEFAULT_BENCH_TIMEOUT_MS = 6 * 60 * 60 * 1000;

function checkPositiveInt(runName: string, field: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new BenchSpecError(runName, field, `must be a positive integer (got ${String(value)})`);
}

/** Defence in depth: the schema validates recipes, but a hand-built spec must not reach vLLM. */
function validateSpec(spec: BenchRunSpec): void {
  if (!spec.runName || /[/\\\s]/.test(spec.runName) || spec.runName === '.' || spec.runName === '..') {
    throw new BenchSpecError(String(spec.runName), 'runName', 'must be a non-empty path-safe name');
  }
  if (!spec.model) throw new BenchSpecError(spec.runName, 'model', 'must be non-empty');
  if (!Number.isInteger(spec.repetitions) || spec.repetitions < 1 || spec.repetitions % 2 === 0) {
    throw new BenchSpecError(spec.runName, 'repetitions', 'must be a positive odd integer');
  }
  checkPositiveInt(spec.runName, 'numPrompts', spec.numPrompts);
  checkPositiveInt(spec.runName, 'maxConcurrency', spec.maxConcurrency);
  checkPositiveInt(spec.runName, 'inputLen', spec.inputLen);
  checkPositiveInt(spec.runName, 'outputLen', spec.outputLen);
  if (spec.dataset !== 'random' && spec.dataset !== 'speed_bench') throw new BenchDatasetError(spec.runName, spec.dataset);
  renderExtraArgs(spec.runName, spec.extraArgs);
}

function benchFailure(runName: string, run: ToolRunResult, timeoutMs: number): Error {
  const shown = formatCommand(run.command);
  const options = { cause: run.error };
  if (run.canceled) return new BenchCancelledError(runName, `vllm bench serve ${runName} was cancelled: ${shown}`, run, options);
  if (run.timedOut) {
    return new BenchTimeoutError(runName, timeoutMs, `vllm bench serve ${runName} timed out after ${timeoutMs} ms: ${shown}`, run, options);
  }
  if (run.spawnErrorCode) {
    return new BenchFailedError(runName, `vllm bench serve ${runName} could not be started (${run.spawnErrorCode}): ${shown}`, run, options);
  }
  return new BenchFailedError(runName, `vllm bench serve ${runName} ${describeExit(run)}: ${shown}`, run, options);
}

/**
 * Run one expanded bench config: `repetitions` × `vllm bench serve`, each result validated
 * (`completed == num_prompts && failed == 0`), then the median aggregate when repetitions > 1
 * (recipe-compat §9.5–§9.6, console lines of §12.7).
 */
export async function runBench(spec: BenchRunSpec, options: RunBenchOptions): Promise<BenchRunOutcome> {
  validateSpec(spec);
  const started = performance.now();
  const print = options.print ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const timeoutMs = options.timeoutMs ?? DEFAULT_BENCH_TIMEOUT_MS;
  const env = options.env ?? {};
  const secrets = secretValuesOf({ ...process.env, ...env });
  const { runName, repetitions } = spec;
  const executor = options.executor;

  print(
    `--- :stopwatch: vllm bench serve ${runName} (dataset=${spec.dataset} isl=${spec.inputLen} osl=${spec.outputLen} ` +
      `conc=${spec.maxConcurrency} n=${spec.numPrompts} repetitions=${repetitions})`,
  );
  await mkdir(options.resultsDir, { recursive: true });

  let speedBenchDir: string | undefined;
  if (spec.dataset === 'speed_bench') {
    const data = await prepareSpeedBench({
      subset: spec.speedBenchSubset,
      category: spec.speedBenchCategory,
      dir: options.speedBench?.dir,
      root: options.speedBench?.root,
      env: { ...process.env, ...env },
      python: options.speedBench?.python,
      processEnv: env,
      signal: options.signal,
      timeoutMs: options.speedBench?.timeoutMs,
      print,
      onOutput: options.onOutput,
      docker: executor.kind === 'docker' ? { container: executor.container, docker: executor.docker } : undefined,
    });
    speedBenchDir = data.dir;
  }

  const runOnce = async (name: string): Promise<{ file: string; result: BenchResult; counts: BenchCounts; nonFinite: string[] }> => {
    const hostFile = join(options.resultsDir, name);
    let argv: string[];
    if (executor.kind === 'native') {
      // A stale file from an earlier attempt must never pass for this run's output.
      await rm(hostFile, { force: true });
      argv = buildBenchArgv(spec, options.target, { resultFile: resolve(hostFile), speedBenchDir, command: executor.command });
    } else {
      const inner = buildBenchArgv(spec, options.target, { resultFile: `/tmp/${name}`, speedBenchDir, command: executor.command });
      const forward = Object.keys(env).filter((key) => env[key] !== undefined).flatMap((key) => ['-e', key]);
      argv = [executor.docker ?? 'docker', 'exec', ...forward, executor.container, ...inner];
    }
    const run = await runTool(argv, {
      extendEnv: true,
      env,
      signal: options.signal,
      timeoutMs,
      onLine: options.onOutput,
      secrets,
      forceKillAfterMs: options.forceKillAfterMs,
    });
    if (!run.ok) throw benchFailure(runName, run, timeoutMs);

    if (executor.kind === 'docker') {
      const docker = executor.docker ?? 'docker';
      const temp = join(options.resultsDir, `.${name}.cp-${process.pid}-${randomBytes(4).toString('hex')}`);
      const copy = await runTool([docker, 'cp', `${executor.container}:/tmp/${name}`, temp], { extendEnv: true, env, signal: options.signal, timeoutMs, secrets });
      if (!copy.ok) {
        await rm(temp, { force: true, recursive: true });
        if (copy.canceled) throw benchFailure(runName, copy, timeoutMs);
        throw new BenchDockerError(
          `copying the result of ${runName} out of container ${executor.container} failed: ${formatCommand(copy.command)}`,
          copy,
          { cause: copy.error },
        );
      }
      await rename(temp, hostFile);
    }

    let text: string;
    try {
      text = await readFile(hostFile, 'utf8');
    } catch (error) {
      throw new BenchResultMissingError(hostFile, { cause: error });
    }
    const parsed = parseBenchResult(text, hostFile);
    if (parsed.nonFiniteKeys.length > 0) {
      // D29: never leave non-finite numbers in the results tree.
      await writeFileAtomic(hostFile, sanitizeBenchJson(text).text);
      print(`  warning: ${hostFile} had non-finite values, written as null: ${parsed.nonFiniteKeys.join(', ')}`);
    }
    const counts = validateBenchResult(parsed.result, spec.numPrompts, hostFile);
    return { file: hostFile, result: parsed.result, counts, nonFinite: parsed.nonFiniteKeys.map((key) => `${hostFile}: ${key}`) };
  };

  const resultFile = join(options.resultsDir, `bench-${runName}.json`);
  const nonFiniteKeys: string[] = [];
  let outcome: Omit<BenchRunOutcome, 'durationMs' | 'nonFiniteKeys'>;
  if (repetitions === 1) {
    const single = await runOnce(`bench-${runName}.json`);
    nonFiniteKeys.push(...single.nonFinite);
    outcome = { runName, resultFile, repetitionFiles: [resultFile], result: single.result, counts: [single.counts] };
  } else {
    const runs: Awaited<ReturnType<typeof runOnce>>[] = [];
    for (let r = 1; r <= repetitions; r++) {
      print(`  repetition ${r}/${repetitions}`);
      const one = await runOnce(`bench-${runName}-run-${r}.json`);
      nonFiniteKeys.push(...one.nonFinite);
      runs.push(one);
    }
    const files = runs.map((one) => one.file);
    const aggregate = aggregateMedian(
      runs.map((one) => one.result),
      files,
    );
    const { text, nonFiniteKeys: dropped } = formatSortedJson(aggregate);
    await writeFileAtomic(resultFile, text);
    print(`  median aggregate: ${repetitions} repetitions -> ${resultFile}`);
    if (dropped.length > 0) print(`  warning: ${resultFile} had non-finite values, written as null: ${dropped.join(', ')}`);
    outcome = { runName, resultFile, repetitionFiles: files, result: aggregate, counts: runs.map((one) => one.counts) };
  }
  print(`  saved ${resultFile}`);
  return { ...outcome, nonFiniteKeys, durationMs: performance.now() - started };
}
