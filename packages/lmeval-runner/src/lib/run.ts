import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { LMEVAL_RESULTS_FILE, describeExit, redactArgv, runTool, secretValuesOf } from '@perf-eval/util';
import type { EnvVars, ToolRunContext } from '@perf-eval/util';
import { buildLmEvalArgv, redactModelArgs, secretModelArgValues } from './argv.js';
import type { LmEvalTaskSpec } from './argv.js';
import { LmEvalCancelledError, LmEvalFailedError, LmEvalNoResultsError } from './errors.js';
import { parseLmEvalResults } from './results.js';
import type { LmEvalResults } from './results.js';
import { sanitizeModelName } from './sanitize.js';

export interface RunLmEvalOptions {
  /** lm_eval command prefix, default `['lm_eval']`. */
  command?: readonly string[];
  /**
   * The complete environment of the lm_eval process (HF offline vars, `OPENAI_API_KEY`, `PATH`, …).
   * When given, nothing else is inherited: the server env never leaks in (D18). When omitted, the
   * current process env is inherited.
   */
  env?: EnvVars;
  signal?: AbortSignal;
  /** Kill lm_eval after this long (SIGTERM, then SIGKILL after `killGraceMs`). */
  timeoutMs?: number;
  /** Delay between SIGTERM and SIGKILL on cancel/timeout, default 10 000 ms. */
  killGraceMs?: number;
  /** Receives the group header line; default writes to stdout. */
  print?: (line: string) => void;
  /** Every output line of lm_eval as it arrives (forward it with `--verbose`). */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** How many trailing output lines an error carries, default 80. */
  tailLines?: number;
  /** Working directory of lm_eval; relative `outputPath`s resolve against it. Default: `process.cwd()`. */
  cwd?: string;
}

export interface LmEvalOutcome {
  task: string;
  /** Absolute path of the newest `results_*.json` this invocation created under `<outputPath>/<sanitized model>/`. */
  resultsFile: string;
  /** `samples_<task>_<date_id>.jsonl` files with the results file's date_id (one per leaf task). */
  samplesFiles: string[];
  results: LmEvalResults;
  durationMs: number;
  /** Every file under `outputPath` that did not exist before the run (D33: ingest only these). */
  createdFiles: string[];
}

/** Files under `dir` (recursive), as full paths; a missing directory is empty. */
async function listFiles(dir: string): Promise<Set<string>> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    // `parentPath` is Node ≥ 20.12; `path` is its deprecated alias on older 20.x.
    return new Set(
      entries
        .filter((e) => e.isFile())
        .map((e) => join((e as { parentPath?: string }).parentPath ?? e.path, e.name)),
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw error;
  }
}

async function newest(files: readonly string[]): Promise<string> {
  const stamped = await Promise.all(files.map(async (file) => ({ file, mtime: (await stat(file)).mtimeMs })));
  stamped.sort((a, b) => b.mtime - a.mtime || (basename(b.file) > basename(a.file) ? 1 : -1));
  return (stamped[0] as { file: string }).file;
}

/**
 * Run one lm_eval invocation and return what it produced. Prints
 * `--- :microscope: lm_eval <task> (<n>-shot)`, runs lm_eval (argv, no shell) and finds the
 * results and samples files it created. Throws `LmEvalFailedError`, `LmEvalCancelledError`,
 * `LmEvalNoResultsError` or `LmEvalParseError`.
 */
export async function runLmEval(
  spec: LmEvalTaskSpec,
  options: RunLmEvalOptions = {},
): Promise<LmEvalOutcome> {
  const print = options.print ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const argv = buildLmEvalArgv(spec, options.command === undefined ? {} : { command: options.command });
  const env = options.env;
  const cwd = options.cwd ?? process.cwd();
  const secrets = [...secretValuesOf(env ?? process.env), ...secretModelArgValues(spec.modelArgs)];
  const display = redactArgv(
    argv.map((arg) => (arg === spec.modelArgs ? redactModelArgs(arg) : arg)),
    secrets,
  );

  print(`--- :microscope: lm_eval ${spec.task} (${spec.numFewshot}-shot)`);

  const outputPath = resolve(cwd, spec.outputPath);
  const modelDir = join(outputPath, sanitizeModelName(spec.modelName));
  const before = await listFiles(outputPath);

  const result = await runTool(argv, {
    cwd,
    ...(env === undefined ? {} : { env, extendEnv: false }),
    signal: options.signal,
    timeoutMs: options.timeoutMs,
    forceKillAfterMs: options.killGraceMs ?? 10_000,
    secrets,
    tailLines: options.tailLines ?? 80,
    onLine: options.onOutput,
  });
  const durationMs = result.durationMs;

  const context: ToolRunContext = {
    command: display,
    exitCode: result.exitCode,
    signal: result.signal,
    durationMs,
    timedOut: result.timedOut,
    outputTail: result.outputTail,
  };
  if (result.canceled) throw new LmEvalCancelledError(spec.task, context, { cause: result.error });
  if (!result.ok) {
    let how = describeExit(context);
    if (result.timedOut && options.timeoutMs !== undefined) how += ` after ${options.timeoutMs / 1000}s`;
    if (result.exitCode === undefined && !result.signal && !result.timedOut) {
      how += `: ${result.error?.message ?? 'could not start'}`;
    }
    throw new LmEvalFailedError(spec.task, `lm_eval ${spec.task} ${how}`, context, { cause: result.error });
  }

  const after = await listFiles(outputPath);
  const createdFiles = [...after].filter((file) => !before.has(file)).sort();
  const resultsCandidates = createdFiles.filter(
    (file) => dirname(file) === modelDir && LMEVAL_RESULTS_FILE.test(basename(file)),
  );
  if (resultsCandidates.length === 0) {
    const stray = createdFiles.filter((file) => LMEVAL_RESULTS_FILE.test(basename(file)));
    throw new LmEvalNoResultsError(spec.task, modelDir, stray, context);
  }
  const resultsFile = await newest(resultsCandidates);
  const dateId = (LMEVAL_RESULTS_FILE.exec(basename(resultsFile)) as RegExpExecArray)[1] as string;
  const samplesFiles = createdFiles.filter((file) => {
    const name = basename(file);
    return dirname(file) === modelDir && name.startsWith('samples_') && name.endsWith(`_${dateId}.jsonl`);
  });
  const results = parseLmEvalResults(await readFile(resultsFile, 'utf8'), resultsFile);
  return { task: spec.task, resultsFile, samplesFiles, results, durationMs, createdFiles };
}
