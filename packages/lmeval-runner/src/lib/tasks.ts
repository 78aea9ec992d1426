import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { execa } from 'execa';
import { scrubText, secretValuesOf, writeJsonAtomic, type EnvVars } from '@perf-eval/util';
import { LmEvalTasksUnavailableError, LmEvalUnknownTaskError } from './errors.js';

export interface ListLmEvalTasksOptions {
  /** Python of the lm-eval venv (fast path), default `python3`. */
  python?: string;
  /** lm_eval command for the `lm_eval ls tasks` fallback, default `['lm_eval']`. */
  lmEval?: readonly string[];
  /** Extra task directory (`--include_path`), listed together with the built-in tasks. */
  includePath?: string;
  /** Cache directory; without it nothing is cached. */
  cacheDir?: string;
  /** Environment of the subprocesses (complete; nothing else inherited). Default: inherit. */
  env?: EnvVars;
  signal?: AbortSignal;
  /** Per-subprocess timeout, default 300 000 ms (indexing ~15k tasks takes 10–30 s). */
  timeoutMs?: number;
}

export interface UnknownTask {
  name: string;
  /** Closest known names, best first (at most 3; empty when nothing is close). */
  suggestions: string[];
}

/** Printed before the JSON list so that stray output of lm_eval's import cannot confuse the parser. */
const TASKS_MARKER = 'PERF_EVAL_LM_EVAL_TASKS=';
export const LMEVAL_VERSION_CODE = "import importlib.metadata as m; print(m.version('lm_eval'))";
export const LMEVAL_TASKS_CODE =
  'import json, sys; from lm_eval.tasks import TaskManager; ' +
  'p = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None; ' +
  `print(${JSON.stringify(TASKS_MARKER)} + json.dumps(TaskManager(include_path=p).all_tasks))`;

interface Captured {
  ok: boolean;
  stdout: string;
  /** One line describing the failure. */
  detail: string;
}

async function capture(
  file: string,
  args: readonly string[],
  options: ListLmEvalTasksOptions,
): Promise<Captured> {
  const env = options.env;
  const result = await execa(file, args, {
    ...(env === undefined ? {} : { env: { ...env }, extendEnv: false }),
    reject: false,
    stdin: 'ignore',
    ...(options.signal === undefined ? {} : { cancelSignal: options.signal }),
    timeout: options.timeoutMs ?? 300_000,
    forceKillAfterDelay: 5_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (options.signal?.aborted) throw options.signal.reason;
  if (!result.failed) return { ok: true, stdout: String(result.stdout), detail: '' };
  const stderrLines = String(result.stderr ?? '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  let detail: string;
  if (result.timedOut) detail = `${file} timed out after ${(options.timeoutMs ?? 300_000) / 1000}s`;
  else if (result.exitCode === undefined)
    detail = (result.originalMessage ?? result.shortMessage ?? 'could not start').split('\n')[0] as string;
  else detail = stderrLines.at(-1) ?? `${file} exited with code ${result.exitCode}`;
  return {
    ok: false,
    stdout: String(result.stdout ?? ''),
    detail: scrubText(detail, secretValuesOf(env ?? process.env)),
  };
}

/**
 * Task names from `lm_eval ls tasks`: markdown tables (Group, Tag, Task) whose first column is the
 * name. Header rows are the ones directly above a `|---|` separator.
 */
export function parseLsTasksOutput(text: string): string[] {
  const lines = text.split(/\r?\n/);
  const names: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (!line.startsWith('|') || /^\|[-|:\s]+\|?$/.test(line)) continue;
    const next = (lines[i + 1] ?? '').trim();
    if (/^\|[-|:\s]+\|?$/.test(next) && next.includes('-')) continue;
    const name = (line.split('|')[1] ?? '').trim();
    if (name !== '') names.push(name);
  }
  return names;
}

function parseTaskManagerOutput(stdout: string): string[] | undefined {
  const line = stdout
    .split(/\r?\n/)
    .reverse()
    .find((l) => l.startsWith(TASKS_MARKER));
  if (line === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(line.slice(TASKS_MARKER.length));
    return Array.isArray(parsed) && parsed.every((name) => typeof name === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Hash of the include path and the names, sizes and mtimes of the task files under it. */
async function includeFingerprint(includePath: string | undefined): Promise<string> {
  const hash = createHash('sha256');
  if (includePath === undefined) return 'none';
  const root = resolve(includePath);
  hash.update(root);
  try {
    const entries = await readdir(root, { recursive: true, withFileTypes: true });
    const files = entries
      .filter((e) => e.isFile() && /\.(ya?ml|py)$/.test(e.name))
      .map((e) => join((e as { parentPath?: string }).parentPath ?? e.path, e.name))
      .sort();
    for (const file of files) {
      const info = await stat(file);
      hash.update(`\n${relative(root, file)}:${info.size}:${info.mtimeMs}`);
    }
  } catch {
    hash.update('\n<unreadable>');
  }
  return hash.digest('hex').slice(0, 16);
}

function cacheFileName(version: string, fingerprint: string): string {
  return `lm_eval-tasks-${version.replace(/[^A-Za-z0-9._+-]/g, '_')}-${fingerprint}.json`;
}

async function readCache(file: string, version: string): Promise<string[] | undefined> {
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as { lm_eval_version?: unknown; tasks?: unknown };
    if (data.lm_eval_version !== version || !Array.isArray(data.tasks)) return undefined;
    return data.tasks.every((name) => typeof name === 'string') && data.tasks.length > 0
      ? (data.tasks as string[])
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The task, group and tag names the installed lm_eval knows (plus `includePath` tasks). Fast path:
 * `TaskManager(include_path=…).all_tasks` in the venv's Python; fallback: parse `lm_eval ls tasks`.
 * Cached in `cacheDir` per lm_eval version and include-path fingerprint. Throws
 * `LmEvalTasksUnavailableError` (`E_LMEVAL_TASKS_UNAVAILABLE`) when neither works.
 */
export async function listLmEvalTasks(options: ListLmEvalTasksOptions = {}): Promise<Set<string>> {
  const python = options.python ?? 'python3';
  const version = await capture(python, ['-c', LMEVAL_VERSION_CODE], options);
  const versionText = version.ok ? version.stdout.trim().split(/\r?\n/).at(-1)?.trim() : undefined;

  let cacheFile: string | undefined;
  if (versionText && options.cacheDir !== undefined) {
    cacheFile = join(
      options.cacheDir,
      cacheFileName(versionText, await includeFingerprint(options.includePath)),
    );
    const cached = await readCache(cacheFile, versionText);
    if (cached) return new Set(cached);
  }

  let tasks: string[] | undefined;
  let failure = version.ok ? '' : version.detail;
  if (version.ok) {
    const listed = await capture(python, ['-c', LMEVAL_TASKS_CODE, options.includePath ?? ''], options);
    tasks = listed.ok ? parseTaskManagerOutput(listed.stdout) : undefined;
    if (tasks === undefined) failure = listed.ok ? 'TaskManager printed no task list' : listed.detail;
  }
  if (tasks === undefined) {
    const [file, ...prefix] = options.lmEval ?? ['lm_eval'];
    const args = [
      ...prefix,
      'ls',
      'tasks',
      ...(options.includePath === undefined ? [] : ['--include_path', options.includePath]),
    ];
    const listed = await capture(file as string, args, options);
    const names = listed.ok ? parseLsTasksOutput(listed.stdout) : [];
    if (names.length === 0)
      throw new LmEvalTasksUnavailableError(failure || listed.detail || '`lm_eval ls tasks` listed no tasks');
    tasks = names;
  }
  if (cacheFile !== undefined && versionText) {
    await writeJsonAtomic(cacheFile, {
      lm_eval_version: versionText,
      include_path: options.includePath ?? null,
      tasks,
    });
  }
  return new Set(tasks);
}

/** Levenshtein distance, giving up (returning `limit + 1`) once it must exceed `limit`. */
function boundedDistance(a: string, b: string, limit: number, rows: [Int32Array, Int32Array]): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let [previous, current] = rows;
  for (let j = 0; j <= b.length; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    let rowMin = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (ca === b.charCodeAt(j - 1) ? 0 : 1);
      const deletion = (previous[j] as number) + 1;
      const insertion = (current[j - 1] as number) + 1;
      const value =
        substitution < deletion
          ? substitution < insertion
            ? substitution
            : insertion
          : deletion < insertion
            ? deletion
            : insertion;
      current[j] = value;
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > limit) return limit + 1;
    [previous, current] = [current, previous];
  }
  return previous[b.length] as number;
}

/** Up to `max` known names close to `name` (case-insensitive edit distance), best first. */
export function suggestTaskNames(name: string, known: Iterable<string>, max = 3): string[] {
  const needle = name.toLowerCase();
  const limit = Math.max(2, Math.floor(needle.length / 3));
  const scored: { candidate: string; distance: number }[] = [];
  const width = needle.length + limit + 2;
  const rows: [Int32Array, Int32Array] = [new Int32Array(width), new Int32Array(width)];
  for (const candidate of known) {
    const distance = boundedDistance(needle, candidate.toLowerCase(), limit, rows);
    if (distance <= limit) scored.push({ candidate, distance });
  }
  scored.sort(
    (x, y) => x.distance - y.distance || (x.candidate < y.candidate ? -1 : x.candidate > y.candidate ? 1 : 0),
  );
  return scored.slice(0, max).map((s) => s.candidate);
}

/** The names that `known` does not contain (each once, in input order), with suggestions. */
export function checkTaskNames(names: Iterable<string>, known: ReadonlySet<string>): UnknownTask[] {
  const unknown: UnknownTask[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    if (known.has(name) || seen.has(name)) continue;
    seen.add(name);
    unknown.push({ name, suggestions: suggestTaskNames(name, known) });
  }
  return unknown;
}

/** Throw `LmEvalUnknownTaskError` for the first unknown name; `path` prefixes the message. */
export function assertTaskNames(names: Iterable<string>, known: ReadonlySet<string>, path?: string): void {
  const first = checkTaskNames(names, known)[0];
  if (first !== undefined) throw new LmEvalUnknownTaskError(first.name, first.suggestions, path);
}
