import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describeExit, redactArgv, runTool, scrubText, secretValuesOf } from '@perf-eval/util';
import type { EnvVars, ToolRunContext } from '@perf-eval/util';
import { bfclWorkDir, buildBfclArgv } from './argv.js';
import type { BfclRunSpec } from './argv.js';
import { scoredSubcategories } from './categories.js';
import { defaultDriverCacheDir, materializeDriver } from './driver.js';
import { BfclCancelledError, BfclFailedError, BfclInferenceFailedError, BfclTimeoutError } from './errors.js';
import { countInferenceErrors } from './inference.js';
import type { BfclInferenceErrors } from './inference.js';
import { writeBfclResults } from './output.js';
import { collectBfclScores } from './scores.js';
import type { BfclScoreRow } from './scores.js';

/** Default limit of one BFCL category run: 2 h. */
export const DEFAULT_BFCL_TIMEOUT_MS = 2 * 60 * 60 * 1000;

export interface RunBfclOptions {
  /** The BFCL virtualenv's python (the driver is run with it). */
  python: string;
  /**
   * Base environment of the driver (`PATH`, `HOME`, `HF_HOME`, `OPENAI_API_KEY`,
   * `BFCL_MAXIMUM_STEP_LIMIT`, `BFCL_MAX_TEST_CASES`, …). When given, nothing else is inherited, so
   * the server env never leaks in (D18); default: the current process env. The BFCL variables
   * (`BFCL_PROJECT_ROOT`, `OPENAI_BASE_URL`, `OPENAI_API_KEY` (kept if set, else `dummy`),
   * `LOCAL_SERVER_ENDPOINT`, `LOCAL_SERVER_PORT`, `PYTHONUNBUFFERED=1`, `PYTHONIOENCODING=utf-8`)
   * are added on top.
   */
  env?: EnvVars;
  signal?: AbortSignal;
  /**
   * Kill the driver after this long (SIGTERM, then SIGKILL after `killGraceMs`). Default 2 h: with
   * `--skip-server-setup` BFCL polls a dead server forever. Must be > 0.
   */
  timeoutMs?: number;
  /** Delay between SIGTERM and SIGKILL on cancel/timeout, default 10 000 ms. */
  killGraceMs?: number;
  /** Console lines (`--- :phone: bfcl <c>`, `[bfcl] …`); default stdout. */
  print?: (line: string) => void;
  /** Every driver output line as it arrives (secrets scrubbed). */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Use this driver file instead of materialising the packaged one. */
  driverPath?: string;
  /** Where the packaged driver is materialised; default `defaultDriverCacheDir()`. */
  cacheDir?: string;
  /** Working directory of the driver; a relative `resultsDir` resolves against it. Default `process.cwd()`. */
  cwd?: string;
  /** How many trailing output lines an error carries, default 80. */
  tailLines?: number;
  /** Timestamp of the results files; default: when the scores were read. */
  now?: () => Date;
  /**
   * Publish scores even when every generated entry failed during inference (default false: such a
   * run throws `BfclInferenceFailedError` instead of reporting 0.0).
   */
  allowAllInferenceErrors?: boolean;
}

export interface BfclOutcome {
  category: string;
  /** Group total first, then subcategories in mapping order; a leaf has one row. */
  scores: BfclScoreRow[];
  /** The lm-eval-shaped results files, in `scores` order. */
  writtenFiles: string[];
  /** `<resultsDir>/.bfcl_ingest/<category>.txt`. */
  manifest: string;
  /** Wall time of the driver. */
  durationMs: number;
  /** The BFCL project root of this run: `<resultsDir>/.bfcl_work/<category>` (absolute). */
  workDir: string;
  /** Failed inferences per scored leaf (BFCL counts them as wrong answers). */
  inferenceErrors: BfclInferenceErrors[];
}

/** The variables the driver (and BFCL) read, derived from the spec. */
export function bfclEnv(
  spec: BfclRunSpec,
  base: Readonly<Record<string, string | undefined>>,
  cwd: string = process.cwd(),
): Record<string, string> {
  const url = new URL(spec.baseUrl);
  const port = url.port !== '' ? url.port : url.protocol === 'https:' ? '443' : '80';
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) if (value !== undefined) env[key] = value;
  return {
    ...env,
    BFCL_PROJECT_ROOT: bfclWorkDir(spec.resultsDir, spec.category, cwd),
    OPENAI_BASE_URL: `${spec.baseUrl.replace(/\/+$/, '')}/v1`,
    OPENAI_API_KEY: env['OPENAI_API_KEY'] || 'dummy',
    // A bare hostname (D32); URL.hostname keeps IPv6 brackets, BFCL wants the host part only.
    LOCAL_SERVER_ENDPOINT: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    LOCAL_SERVER_PORT: port,
    PYTHONUNBUFFERED: '1',
    PYTHONIOENCODING: 'utf-8',
  };
}

function lastBfclLine(lines: readonly string[]): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) if ((lines[i] as string).startsWith('[bfcl] ')) return lines[i];
  return undefined;
}

/**
 * Run one BFCL category (`recipe-compat.md` §10.4–§10.6): print `--- :phone: bfcl <category>`,
 * start from a fresh `<resultsDir>/.bfcl_work/<category>/`, run the driver (argv, no shell), then
 * read the scores and write the lm-eval-shaped results and the ingest manifest. Throws
 * `BfclFailedError`, `BfclTimeoutError`, `BfclCancelledError`, `BfclNoScoreError`,
 * `BfclParseError`, `BfclUnknownCategoryError` or `BfclDriverUnavailableError`.
 */
export async function runBfcl(spec: BfclRunSpec, options: RunBfclOptions): Promise<BfclOutcome> {
  const print = options.print ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const timeoutMs = options.timeoutMs ?? DEFAULT_BFCL_TIMEOUT_MS;
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs))
    throw new RangeError(`runBfcl: timeoutMs must be a positive finite number, got ${timeoutMs}`);
  scoredSubcategories(spec.category); // unknown category → BfclUnknownCategoryError before anything runs
  const cwd = options.cwd ?? process.cwd();

  print(`--- :phone: bfcl ${spec.category}`);

  const workDir = bfclWorkDir(spec.resultsDir, spec.category, cwd);
  // A fresh project root per category (D4): no stale result/score/CSV files, no resumed ids, no .env.
  await rm(workDir, { recursive: true, force: true });

  const driverPath =
    options.driverPath ?? (await materializeDriver(options.cacheDir ?? defaultDriverCacheDir()));
  const argv = buildBfclArgv(spec, { python: options.python, driverPath });
  const env = bfclEnv(spec, options.env ?? process.env, cwd);
  const secrets = secretValuesOf(env);
  const display = redactArgv(argv, secrets);

  const result = await runTool(argv, {
    cwd,
    env,
    extendEnv: false,
    signal: options.signal,
    timeoutMs,
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
  if (result.canceled) throw new BfclCancelledError(spec.category, context, { cause: result.error });
  if (result.timedOut) throw new BfclTimeoutError(spec.category, timeoutMs, context, { cause: result.error });
  if (!result.ok) {
    let how = describeExit(context);
    if (result.exitCode === undefined && !result.signal) {
      how += `: ${result.error?.message ?? 'could not start'}`;
    }
    const reason = lastBfclLine(context.outputTail ?? []);
    throw new BfclFailedError(
      spec.category,
      `bfcl ${spec.category} ${how}${reason === undefined ? '' : `: ${reason}`}`,
      context,
      {
        cause: result.error,
      },
    );
  }

  const scores = await collectBfclScores(workDir, spec.model, spec.category, context);
  const leaves = scoredSubcategories(spec.category);
  const inferenceErrors = await countInferenceErrors(workDir, spec.model, leaves);
  for (const row of inferenceErrors) {
    if (row.errors > 0)
      print(
        `[bfcl] warning: ${row.category}: ${row.errors}/${row.total} entries failed during inference (first: ${scrubText(row.firstError ?? '', secrets)})`,
      );
  }
  const generated = inferenceErrors.reduce((n, row) => n + row.total, 0);
  const failedEntries = inferenceErrors.reduce((n, row) => n + row.errors, 0);
  if (generated > 0 && failedEntries === generated && options.allowAllInferenceErrors !== true) {
    const first = scrubText(
      inferenceErrors.find((row) => row.firstError !== undefined)?.firstError ?? '',
      secrets,
    );
    throw new BfclInferenceFailedError(spec.category, generated, first, context);
  }
  const now = options.now?.() ?? new Date();
  const { writtenFiles, manifest } = await writeBfclResults(
    resolve(cwd, spec.resultsDir),
    spec.model,
    spec.category,
    scores,
    { now, print },
  );
  return { category: spec.category, scores, writtenFiles, manifest, durationMs, workDir, inferenceErrors };
}
