import { resolve } from 'node:path';

/** One BFCL category run (`recipe-compat.md` §10.1 per-category parameters). */
export interface BfclRunSpec {
  /** A leaf category or a group (`multi_turn`, `live`, …). */
  category: string;
  /** The served model id; becomes BFCL's registry key. */
  model: string;
  /** Server root without `/v1`, e.g. `http://localhost:8000`. */
  baseUrl: string;
  numThreads: number;
  /** Already Python-rendered (`pyStr(temperature)`), e.g. `'0.001'`, `'0.0'`. */
  temperature: string;
  /** Workload `maximum_step_limit`; env `BFCL_MAXIMUM_STEP_LIMIT` overrides it inside the driver. */
  maximumStepLimit?: number;
  /** Workload `max_test_cases` for exactly this category; env `BFCL_MAX_TEST_CASES` overrides it. */
  maxTestCases?: number;
  /** `results/<name>`. */
  resultsDir: string;
}

export interface BfclArgvOptions {
  /** The BFCL virtualenv's python. */
  python: string;
  /** Path of the materialised `bfcl_driver.py`. */
  driverPath: string;
}

/** `<python> <driver> --model … --base-url … --category … --num-threads … --temperature … --results-dir … [--maximum-step-limit n] [--max-test-cases n]`. */
export function buildBfclArgv(spec: BfclRunSpec, options: BfclArgvOptions): string[] {
  const argv = [
    options.python,
    options.driverPath,
    '--model',
    spec.model,
    '--base-url',
    spec.baseUrl,
    '--category',
    spec.category,
    '--num-threads',
    String(spec.numThreads),
    '--temperature',
    spec.temperature,
    '--results-dir',
    spec.resultsDir,
  ];
  if (spec.maximumStepLimit !== undefined) argv.push('--maximum-step-limit', String(spec.maximumStepLimit));
  if (spec.maxTestCases !== undefined) argv.push('--max-test-cases', String(spec.maxTestCases));
  return argv;
}

/** The BFCL project root of one category: `<resultsDir>/.bfcl_work/<category>`, absolute (D4). */
export function bfclWorkDir(resultsDir: string, category: string, cwd: string = process.cwd()): string {
  return resolve(cwd, resultsDir, '.bfcl_work', category);
}
