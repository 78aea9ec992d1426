import { mkdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  formatCommand,
  runTool,
  secretValuesOf,
  type EnvVars,
  type RunToolResult as ToolRunResult,
} from '@perf-eval/util';
import { DEFAULT_SPEED_BENCH_SUBSET } from './argv.js';
import {
  BenchCancelledError,
  BenchDockerError,
  BenchSpecError,
  SpeedBenchOfflineError,
  SpeedBenchPrepError,
} from './errors.js';

export interface SpeedBenchLocation {
  /** Default `qualitative`. */
  subset?: string | undefined;
  category?: string | undefined;
  /** Default: `VLLM_SPEED_BENCH_DIR`, else `<os.tmpdir()>/vllm-speed-bench`. */
  root?: string | undefined;
  /** Where `VLLM_SPEED_BENCH_DIR` is read from; default `process.env`. */
  env?: EnvVars | undefined;
}

export interface PrepareSpeedBenchOptions extends SpeedBenchLocation {
  /** Use this directory instead of resolving one. */
  dir?: string | undefined;
  /** Python interpreter argv, default `['python3']`. */
  python?: readonly string[] | undefined;
  /** Extra env for the python / docker subprocesses (secrets such as HF_TOKEN are redacted in errors). */
  processEnv?: EnvVars | undefined;
  signal?: AbortSignal | undefined;
  /** Per subprocess; default 30 minutes. */
  timeoutMs?: number | undefined;
  print?: ((line: string) => void) | undefined;
  onOutput?: ((line: string) => void) | undefined;
  /** Docker executor: copy the directory to the same path inside this container. */
  docker?: { container: string; docker?: string | undefined } | undefined;
}

export interface SpeedBenchData {
  dir: string;
  /** `<dir>/<subset>.jsonl` */
  file: string;
  /** True when the JSONL had to be generated (it was missing or empty). */
  prepared: boolean;
  /** True when the directory was copied into a container. */
  copiedToContainer: boolean;
}

export const DEFAULT_SPEED_BENCH_PREP_TIMEOUT_MS = 30 * 60 * 1000;

function checkPathPart(field: string, value: string): void {
  if (value === '.' || value === '..' || /[/\\\0]/.test(value)) {
    throw new BenchSpecError('speed_bench', field, `'${value}' cannot be used in a directory name`);
  }
}

/** `<root>/<subset>[-<category>]` (recipe-compat §9.5). */
export function resolveSpeedBenchDir(location: SpeedBenchLocation = {}): string {
  const subset = location.subset || DEFAULT_SPEED_BENCH_SUBSET;
  checkPathPart('speedBenchSubset', subset);
  if (location.category) checkPathPart('speedBenchCategory', location.category);
  const env = location.env ?? process.env;
  const root = location.root || env['VLLM_SPEED_BENCH_DIR'] || join(tmpdir(), 'vllm-speed-bench');
  return join(root, location.category ? `${subset}-${location.category}` : subset);
}

/**
 * Python run as `python3 -c <script> <subset> <category> <out>`: load `nvidia/SPEED-Bench` (split
 * `test`), keep rows of the category, map `turns` to user `messages`, write JSONL via a temp file.
 * Exit 3: `datasets` missing; 4: the dataset cannot be loaded (offline …); 5: no rows.
 */
export const SPEED_BENCH_PREPARE_SCRIPT = String.raw`
import json, os, sys
subset, category, out = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    from datasets import load_dataset
except Exception as exc:
    print(f"perf-eval: python module 'datasets' is not available: {type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(3)
try:
    dataset = load_dataset("nvidia/SPEED-Bench", subset, split="test")
except Exception as exc:
    print(f"perf-eval: cannot load nvidia/SPEED-Bench {subset!r}: {type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(4)
tmp = f"{out}.tmp-{os.getpid()}"
rows = 0
with open(tmp, "w", encoding="utf-8") as handle:
    for example in dataset:
        row = dict(example)
        if category and row.get("category") != category:
            continue
        turns = row.pop("turns", None) or []
        if isinstance(turns, str):
            turns = [turns]
        row["messages"] = [{"role": "user", "content": turn} for turn in turns]
        handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        rows += 1
if rows == 0:
    os.remove(tmp)
    print(f"perf-eval: SPEED-Bench {subset!r} has no rows for category {category!r}", file=sys.stderr)
    sys.exit(5)
os.replace(tmp, out)
print(f"perf-eval: wrote {rows} rows to {out}")
`;

/** Output of a python run that failed the way an offline host or a missing `datasets` does. */
const OFFLINE_PATTERNS: readonly [RegExp, string][] = [
  [
    /No module named '?datasets'?|python module 'datasets' is not available/,
    "python module 'datasets' is not installed",
  ],
  [
    /OfflineModeIsEnabled|LocalEntryNotFoundError|Couldn't reach|ConnectionError|NameResolutionError|Temporary failure in name resolution|Network is unreachable|Max retries exceeded/,
    'the Hugging Face Hub is unreachable',
  ],
];

async function nonEmptyFile(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    return info.isFile() && info.size > 0;
  } catch {
    return false;
  }
}

function classifyPythonFailure(
  run: ToolRunResult,
  dir: string,
  file: string,
  subset: string,
  category: string,
): Error {
  const text = run.outputTail.join('\n');
  if (run.canceled)
    return new BenchCancelledError('speed_bench', `SPEED-Bench preparation was cancelled`, run, {
      cause: run.error,
    });
  if (run.spawnErrorCode) {
    return new SpeedBenchOfflineError(
      dir,
      file,
      `${run.command[0] ?? 'python3'} could not be started (${run.spawnErrorCode})`,
      run,
      {
        cause: run.error,
      },
    );
  }
  if (run.timedOut) {
    return new SpeedBenchPrepError(dir, `SPEED-Bench preparation timed out; pre-populate ${file}`, run, {
      cause: run.error,
    });
  }
  if (run.exitCode === 3)
    return new SpeedBenchOfflineError(dir, file, "python module 'datasets' is not installed", run, {
      cause: run.error,
    });
  for (const [pattern, reason] of OFFLINE_PATTERNS) {
    if (pattern.test(text)) return new SpeedBenchOfflineError(dir, file, reason, run, { cause: run.error });
  }
  if (run.exitCode === 4) {
    return new SpeedBenchOfflineError(dir, file, `nvidia/SPEED-Bench '${subset}' could not be loaded`, run, {
      cause: run.error,
    });
  }
  if (run.exitCode === 5) {
    return new SpeedBenchPrepError(
      dir,
      `SPEED-Bench '${subset}' has no rows for category '${category}'`,
      run,
      { cause: run.error },
    );
  }
  return new SpeedBenchPrepError(
    dir,
    `SPEED-Bench preparation failed (exit ${run.exitCode ?? run.signal}); pre-populate ${file}`,
    run,
    {
      cause: run.error,
    },
  );
}

/**
 * Make sure `<dir>/<subset>.jsonl` exists and is non-empty, generating it with Python `datasets` when it
 * is not (upstream behaviour, without the pip installs), then copy the directory into the container in
 * docker mode (`docker exec <c> mkdir -p <dir>`, `docker cp <dir>/. <c>:<dir>/`).
 */
export async function prepareSpeedBench(options: PrepareSpeedBenchOptions = {}): Promise<SpeedBenchData> {
  const subset = options.subset || DEFAULT_SPEED_BENCH_SUBSET;
  const category = options.category ?? '';
  const dir = options.dir ?? resolveSpeedBenchDir(options);
  const file = join(dir, `${subset}.jsonl`);
  const print = options.print ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const secrets = secretValuesOf({ ...process.env, ...options.processEnv });
  const timeoutMs = options.timeoutMs ?? DEFAULT_SPEED_BENCH_PREP_TIMEOUT_MS;
  let prepared = false;
  if (!(await nonEmptyFile(file))) {
    await mkdir(dir, { recursive: true });
    print(`--- :arrow_down: preparing SPEED-Bench ${subset} dataset in ${dir}`);
    const run = await runTool(
      [...(options.python ?? ['python3']), '-c', SPEED_BENCH_PREPARE_SCRIPT, subset, category, file],
      {
        extendEnv: true,
        env: options.processEnv,
        signal: options.signal,
        timeoutMs,
        onLine: options.onOutput,
        secrets,
      },
    );
    if (!run.ok) throw classifyPythonFailure(run, dir, file, subset, category);
    if (!(await nonEmptyFile(file))) {
      throw new SpeedBenchPrepError(
        dir,
        `SPEED-Bench preparation exited 0 but ${file} is missing or empty`,
        run,
      );
    }
    prepared = true;
  }
  let copiedToContainer = false;
  if (options.docker) {
    const docker = options.docker.docker ?? 'docker';
    const steps = [
      [docker, 'exec', options.docker.container, 'mkdir', '-p', dir],
      [docker, 'cp', `${dir}/.`, `${options.docker.container}:${dir}/`],
    ];
    for (const argv of steps) {
      const run = await runTool(argv, {
        extendEnv: true,
        env: options.processEnv,
        signal: options.signal,
        timeoutMs,
        secrets,
      });
      if (run.canceled)
        throw new BenchCancelledError(
          'speed_bench',
          'SPEED-Bench copy into the container was cancelled',
          run,
          { cause: run.error },
        );
      if (!run.ok) {
        throw new BenchDockerError(
          `copying SPEED-Bench data into container ${options.docker.container} failed: ${formatCommand(run.command)}`,
          run,
          {
            cause: run.error,
          },
        );
      }
    }
    copiedToContainer = true;
  }
  return { dir, file, prepared, copiedToContainer };
}
