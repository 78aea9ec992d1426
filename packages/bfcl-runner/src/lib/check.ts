import { execa } from 'execa';
import type { EnvVars } from '@perf-eval/util';
import { BFCL_TEST_COLLECTION_MAPPING } from '@perf-eval/util';
import { defaultDriverCacheDir, materializeDriver } from './driver.js';
import { BfclCheckError } from './errors.js';

/** What `bfcl_driver.py --check` reports about the BFCL virtualenv. */
export interface BfclCheckReport {
  bfclEvalVersion: string;
  /** Python version of the venv, e.g. `3.11.7`. */
  python: string;
  /** `BFCL_v4`. */
  versionPrefix: string;
  /** The installed `TEST_COLLECTION_MAPPING`. */
  testCollectionMapping: Record<string, string[]>;
}

export interface CheckBfclOptions {
  python: string;
  driverPath?: string;
  cacheDir?: string;
  env?: EnvVars;
  /** Default 60 s. */
  timeoutMs?: number;
}

/** Parse the one JSON line `--check` prints. */
export function parseBfclCheckOutput(stdout: string): BfclCheckReport {
  const line = stdout.trim().split('\n').pop() ?? '';
  const value = JSON.parse(line) as Record<string, unknown>;
  const mapping = value['test_collection_mapping'];
  if (
    typeof value['bfcl_eval_version'] !== 'string' ||
    typeof value['python'] !== 'string' ||
    typeof value['version_prefix'] !== 'string' ||
    typeof mapping !== 'object' ||
    mapping === null ||
    !Object.values(mapping).every(
      (members) => Array.isArray(members) && members.every((m) => typeof m === 'string'),
    )
  ) {
    throw new Error('unexpected --check output shape');
  }
  return {
    bfclEvalVersion: value['bfcl_eval_version'],
    python: value['python'],
    versionPrefix: value['version_prefix'],
    testCollectionMapping: mapping as Record<string, string[]>,
  };
}

/** Run `<python> bfcl_driver.py --check`: proves the venv imports bfcl_eval and reports its mapping. */
export async function checkBfcl(options: CheckBfclOptions): Promise<BfclCheckReport> {
  const driverPath =
    options.driverPath ?? (await materializeDriver(options.cacheDir ?? defaultDriverCacheDir()));
  const command = [options.python, driverPath, '--check'];
  const result = await execa(options.python, [driverPath, '--check'], {
    reject: false,
    stdin: 'ignore',
    timeout: options.timeoutMs ?? 60_000,
    ...(options.env === undefined ? {} : { env: options.env, extendEnv: false }),
  });
  const context = {
    command,
    exitCode: result.exitCode,
    signal: result.signal,
    durationMs: result.durationMs,
    timedOut: result.timedOut,
    outputTail: String(result.stderr ?? '')
      .split('\n')
      .filter(Boolean)
      .slice(-20),
  };
  if (result.failed) {
    const reason =
      context.outputTail.filter((line) => line.startsWith('[bfcl] ')).pop() ?? result.shortMessage;
    throw new BfclCheckError(`bfcl driver --check failed with ${options.python}: ${reason}`, context, {
      cause: result,
    });
  }
  try {
    return parseBfclCheckOutput(String(result.stdout));
  } catch (error) {
    throw new BfclCheckError(
      `bfcl driver --check printed unexpected output: ${(error as Error).message}`,
      context,
      { cause: error },
    );
  }
}

/**
 * Differences between the static table (`BFCL_TEST_COLLECTION_MAPPING`) and an installed mapping,
 * one line each (`group multi_turn: installed [...] vs table [...]`); empty when they agree.
 */
export function diffCollectionMapping(installed: Readonly<Record<string, readonly string[]>>): string[] {
  const diffs: string[] = [];
  const keys = new Set([...Object.keys(BFCL_TEST_COLLECTION_MAPPING), ...Object.keys(installed)]);
  for (const key of keys) {
    const table = BFCL_TEST_COLLECTION_MAPPING[key];
    const actual = installed[key];
    if (JSON.stringify(table) !== JSON.stringify(actual)) {
      diffs.push(
        `group ${key}: installed ${JSON.stringify(actual ?? null)} vs table ${JSON.stringify(table ?? null)}`,
      );
    }
  }
  return diffs;
}

/**
 * `checkBfcl` in the shape of the toolchain's `verifyBfcl` hook (a new BFCL venv must import
 * bfcl_eval and list its categories before it is used): one line for the provisioning log.
 */
export async function verifyBfclInstall(
  python: string,
  options: { cacheDir: string; env: Record<string, string>; timeoutMs: number },
): Promise<string> {
  const report = await checkBfcl({ python, ...options });
  return `bfcl_eval ${report.bfclEvalVersion} imports (python ${report.python}, ${Object.keys(report.testCollectionMapping).length} category groups)`;
}
