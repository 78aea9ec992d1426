/**
 * Assembles a report's `ReportData` from a results directory (`results/<name>/`) and, optionally, a
 * baseline results directory. The numbers come from `@perf-eval/results` (the record set of a results
 * directory: bench metrics, lm-eval / BFCL / semantic-eval accuracies with stderr and n, validity flags,
 * identity); summary.json adds what only the run knows — each task's status and error, the server, the
 * timeline — so a failed or partial run still gives a page showing what exists and what failed.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readResultsDir, seriesOf, type MetricSeries, type RunResults } from '@perf-eval/results';
import { PerfEvalError } from '@perf-eval/util';
import { compareRuns, type VerdictRow } from '@perf-eval/verdicts';
import type {
  ReportAccuracyResult,
  ReportBenchResult,
  ReportData,
  ReportError,
  ReportPhase,
  ReportRunInfo,
  ReportTask,
  ReportValidityFlag,
} from './types.js';

/** A results directory the report cannot read (exit 2: nothing to report on). */
export class ReportInputError extends PerfEvalError {
  constructor(
    readonly path: string,
    readonly field: string | undefined,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super('E_REPORT_INPUT', message, { ...options, category: 'validation' });
  }
}

/** Result files larger than this are not read (bounded memory). */
export const MAX_RESULT_FILE_BYTES = 256 * 1024 * 1024;

/**
 * The fields of summary.json the report reads (`perf-eval run` writes more). Only `workload`, `tasks`
 * (`id`, `kind`, `name`, `status`) and the shape of `server` are checked on reading; the rest is shown
 * as found.
 */
export interface RunSummaryFields {
  workload: string;
  recipe?: string;
  model?: string;
  gpu?: string;
  image?: string;
  vllmCommit?: string;
  runtime?: string;
  status?: string;
  startedAt?: string;
  finishedAt?: string;
  durationS?: number;
  variant?: { name: string };
  identity?: { gpuCount?: number; buildUrl?: string };
  server?: { status: string; readyAfterS?: number; error?: ReportError; diagnosis?: string };
  tasks: {
    id: string;
    kind: string;
    name: string;
    status: string;
    startedAt?: string;
    finishedAt?: string;
    durationS?: number;
    error?: ReportError;
    reason?: string;
  }[];
  /** Phases `{name, kind, start, end}`; unreadable ones are left out. */
  timeline?: unknown;
  /** The comparison `run --baseline` made. */
  verdicts?: { rows: readonly VerdictRow[] };
}

const TASK_STATUSES = new Set(['pending', 'running', 'ok', 'failed', 'skipped', 'cancelled']);

/** Reads and checks summary.json: the fields the report needs, each named in the error with the fix. */
export async function readRunSummary(resultsDir: string): Promise<RunSummaryFields> {
  const file = join(resultsDir, 'summary.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ReportInputError(
      file,
      undefined,
      `${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); give a results/<name>/ directory written by 'perf-eval run'`,
      { cause: error },
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ReportInputError(
      file,
      undefined,
      `${file}: not valid JSON (${(error as Error).message}); re-run 'perf-eval run' to rewrite it`,
      { cause: error },
    );
  }
  const fail = (field: string, expected: string): never => {
    throw new ReportInputError(
      file,
      field,
      `${file}: field '${field}' must be ${expected}; the file was not written by 'perf-eval run' (or by a newer version)`,
    );
  };
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    return fail('(top level)', 'an object');
  const summary = data as Record<string, unknown>;
  if (typeof summary['workload'] !== 'string' || summary['workload'] === '')
    fail('workload', 'a non-empty string');
  if (!Array.isArray(summary['tasks'])) fail('tasks', 'an array');
  (summary['tasks'] as unknown[]).forEach((task, i) => {
    if (typeof task !== 'object' || task === null) fail(`tasks[${i}]`, 'an object');
    const t = task as Record<string, unknown>;
    for (const key of ['id', 'kind', 'name'] as const)
      if (typeof t[key] !== 'string') fail(`tasks[${i}].${key}`, 'a string');
    if (typeof t['status'] !== 'string' || !TASK_STATUSES.has(t['status']))
      fail(`tasks[${i}].status`, `one of ${[...TASK_STATUSES].join(', ')}`);
    if (
      t['files'] !== undefined &&
      (!Array.isArray(t['files']) || t['files'].some((f) => typeof f !== 'string'))
    )
      fail(`tasks[${i}].files`, 'an array of paths');
    if (t['metrics'] !== undefined && (typeof t['metrics'] !== 'object' || t['metrics'] === null))
      fail(`tasks[${i}].metrics`, 'an object');
  });
  if (
    summary['server'] !== undefined &&
    (typeof summary['server'] !== 'object' || summary['server'] === null)
  )
    fail('server', 'an object');
  return data as RunSummaryFields;
}

async function readJsonFile(file: string): Promise<{ value?: unknown; problem?: string }> {
  try {
    const info = await stat(file);
    if (info.size > MAX_RESULT_FILE_BYTES)
      return {
        problem: `${file} is ${(info.size / 1024 / 1024).toFixed(0)} MiB, over the ${MAX_RESULT_FILE_BYTES / 1024 / 1024} MiB the report reads`,
      };
    return { value: JSON.parse(await readFile(file, 'utf8')) };
  } catch (error) {
    return {
      problem: `${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (error as Error).message.split('\n')[0]}`,
    };
  }
}

/** Runs named `<config>-conc-<N>` (the recipe's concurrency list) share the group `<config>`. */
export function benchGroupOf(runName: string): { group: string; concurrency: number | undefined } {
  const match = /^(.*)-conc-(\d+)$/.exec(runName);
  return match
    ? { group: match[1] as string, concurrency: Number(match[2]) }
    : { group: runName, concurrency: undefined };
}

/** What the results package's flags mean, for the validity table. */
const FLAG_MEANING: Record<string, string> = {
  failed_requests: 'some requests failed: latency and throughput describe fewer requests than asked for',
  'failed-requests': 'some requests failed: latency and throughput describe fewer requests than asked for',
  'warm-prefix-cache': "prefix-cache hits on a random dataset: an earlier run's cache inflated the numbers",
  'client-bound': 'the client, not the server, limited the load',
  preemptions: 'the server preempted requests (KV-cache pressure)',
};

interface Collected {
  bench: ReportBenchResult[];
  accuracy: ReportAccuracyResult[];
  validity: ReportValidityFlag[];
}

function seriesByTask(results: RunResults): Map<string, MetricSeries[]> {
  const byTask = new Map<string, MetricSeries[]>();
  for (const series of seriesOf(results.records).values())
    byTask.set(series.task, [...(byTask.get(series.task) ?? []), series]);
  return byTask;
}

function finite(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Bench metrics, accuracies (0–1 values only: the accuracy axis) and validity flags of one record set. */
export function collect(results: RunResults): Collected {
  const out: Collected = { bench: [], accuracy: [], validity: [] };
  const byTask = seriesByTask(results);
  for (const task of results.tasks) {
    const series = byTask.get(task.task) ?? [];
    const name = task.task.slice(task.task.indexOf(':') + 1);
    for (const flag of task.flags)
      out.validity.push({
        subject: task.task,
        flag,
        severity: 'invalid',
        message: FLAG_MEANING[flag] ?? `flagged by the run (${flag})`,
      });
    if (task.kind === 'bench') {
      const metrics: Record<string, number> = {};
      for (const s of series) if (finite(s.value)) metrics[s.metric] = s.value;
      let config: Record<string, unknown> = {};
      try {
        config = JSON.parse(task.configKey) as Record<string, unknown>;
      } catch {
        // An unreadable key only loses the concurrency from the file; the run name still has it.
      }
      const { group, concurrency: fromName } = benchGroupOf(name);
      const concurrency =
        typeof config['max_concurrency'] === 'number' ? config['max_concurrency'] : fromName;
      out.bench.push({ name, group, concurrency, metrics });
      continue;
    }
    for (const s of series) {
      if (!finite(s.value) || s.value < 0 || s.value > 1) continue;
      const base = {
        value: s.value,
        ...(finite(s.stderr) ? { stderr: s.stderr } : {}),
        ...(finite(s.n) ? { n: s.n } : {}),
      };
      if (task.kind === 'lm_eval')
        out.accuracy.push({ source: 'lm_eval', task: name, metric: s.metric, ...base });
      else if (task.kind === 'bfcl' && s.metric === 'acc,none')
        out.accuracy.push({ source: 'bfcl', task: name, metric: 'accuracy', ...base });
      else if (task.kind === 'semantic_eval' && s.metric === 'accuracy')
        out.accuracy.push({ source: 'semantic_eval', task: name, metric: 'accuracy', ...base });
    }
  }
  return out;
}

/**
 * The step's phases: `summary.timeline` when the run recorded one (`{name, kind, start, end}`), else
 * what summary.json already has — server start-up (start → ready) and every task's start → finish.
 */
export function timelineOf(summary: RunSummaryFields): ReportPhase[] {
  const recorded = summary.timeline;
  if (Array.isArray(recorded)) {
    return recorded.filter(
      (p): p is ReportPhase =>
        typeof p === 'object' &&
        p !== null &&
        typeof p.name === 'string' &&
        typeof p.kind === 'string' &&
        (typeof p.start === 'string' || typeof p.start === 'number') &&
        (typeof p.end === 'string' || typeof p.end === 'number'),
    );
  }
  const phases: ReportPhase[] = [];
  const started = Date.parse(summary.startedAt ?? '');
  if (Number.isFinite(started) && summary.server?.readyAfterS !== undefined) {
    phases.push({
      name: 'server start-up',
      kind: 'server',
      start: started,
      end: started + summary.server.readyAfterS * 1000,
    });
  }
  for (const task of summary.tasks) {
    if (task.startedAt && task.finishedAt)
      phases.push({ name: task.id, kind: task.kind, start: task.startedAt, end: task.finishedAt });
  }
  return phases;
}

function runInfoOf(
  results: RunResults | undefined,
  summary: RunSummaryFields | undefined,
  planEnv: Record<string, string>,
  dir: string,
): ReportRunInfo {
  const id = results?.identity;
  return {
    name: summary?.workload ?? id?.recipe ?? basename(dir),
    recipe: summary?.recipe,
    model: summary?.model ?? id?.model,
    gpu: summary?.gpu ?? id?.gpuKind,
    numGpus: id?.gpuCount ?? summary?.identity?.gpuCount,
    image: summary?.image ?? id?.image,
    vllmCommit: summary?.vllmCommit ?? id?.vllmCommit,
    buildUrl: id?.buildUrl ?? summary?.identity?.buildUrl ?? planEnv['BUILDKITE_BUILD_URL'],
    runtime: summary?.runtime,
    variant: summary?.variant?.name,
    status: summary?.status,
    startedAt: summary?.startedAt ?? id?.date,
    finishedAt: summary?.finishedAt,
    durationS: summary?.durationS,
  };
}

/** BUILDKITE_* values the run recorded in its ingest plan (no secrets: the plan keeps only payload variables). */
async function planEnvOf(resultsDir: string): Promise<Record<string, string>> {
  const { value } = await readJsonFile(join(resultsDir, '.ingest', 'plan.json'));
  const env = (value as { context?: { env?: unknown } } | undefined)?.context?.env;
  if (typeof env !== 'object' || env === null) return {};
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

interface OneRun {
  summary: RunSummaryFields | undefined;
  /** The record set; undefined when the result files could not be read (the summary still shows). */
  results: RunResults | undefined;
  run: ReportRunInfo;
  collected: Collected;
  tasks: ReportTask[];
}

/**
 * One results directory: the record set plus summary.json. Without summary.json (an upstream-layout
 * directory) the tasks are the ones with results; a record set that cannot be read (a corrupt result
 * file) does not hide what summary.json says: the page shows the error as a validity flag.
 */
async function readOneRun(dir: string): Promise<OneRun> {
  if (!existsSync(dir))
    throw new ReportInputError(
      dir,
      undefined,
      `${dir}: no such directory; give a results/<name>/ directory written by 'perf-eval run'`,
    );
  const summary = existsSync(join(dir, 'summary.json')) ? await readRunSummary(dir) : undefined;
  let results: RunResults | undefined;
  let collected: Collected = { bench: [], accuracy: [], validity: [] };
  try {
    results = await readResultsDir(dir, { samples: false });
    collected = collect(results);
  } catch (error) {
    if (!summary) throw error;
    collected.validity.push({
      subject: 'results',
      flag: 'unreadable-results',
      severity: 'invalid',
      message: (error as Error).message.split('\n')[0] ?? String(error),
    });
  }
  const tasks: ReportTask[] = summary
    ? summary.tasks.map((t) => ({
        id: t.id,
        kind: t.kind,
        name: t.name,
        status: t.status,
        ...(t.durationS !== undefined ? { durationS: t.durationS } : {}),
        ...(t.error ? { error: t.error } : {}),
        ...(t.reason ? { reason: t.reason } : {}),
      }))
    : (results?.tasks ?? []).map((t) => ({
        id: t.task,
        kind: t.kind,
        name: t.task.slice(t.task.indexOf(':') + 1),
        status: 'ok',
      }));
  return { summary, results, run: runInfoOf(results, summary, await planEnvOf(dir), dir), collected, tasks };
}

export interface AssembleReportOptions {
  /** A results directory of an earlier run to compare against. */
  baselineDir?: string | undefined;
}

/** The report of `resultsDir`, compared with `baselineDir` when given. */
export async function assembleReportData(
  resultsDir: string,
  options: AssembleReportOptions = {},
): Promise<ReportData> {
  const current = await readOneRun(resultsDir);
  const baseline = options.baselineDir !== undefined ? await readOneRun(options.baselineDir) : undefined;
  const bench = current.collected.bench.map((b) => {
    const base = baseline?.collected.bench.find((x) => x.name === b.name);
    return base ? { ...b, baseline: base.metrics } : b;
  });
  const accuracy = current.collected.accuracy.map((a) => {
    const base = baseline?.collected.accuracy.find(
      (x) => x.source === a.source && x.task === a.task && x.metric === a.metric,
    );
    return base
      ? {
          ...a,
          baseline: {
            value: base.value,
            ...(base.stderr !== undefined ? { stderr: base.stderr } : {}),
            ...(base.n !== undefined ? { n: base.n } : {}),
          },
        }
      : a;
  });
  const { summary } = current;
  const server = summary?.server
    ? {
        status: summary.server.status,
        ...(summary.server.readyAfterS !== undefined ? { readyAfterS: summary.server.readyAfterS } : {}),
        ...(summary.server.error ? { error: summary.server.error } : {}),
        ...(summary.server.diagnosis ? { diagnosis: summary.server.diagnosis } : {}),
      }
    : undefined;
  // Verdicts: computed against --baseline here, else the ones `run --baseline` put into summary.json.
  const rows: readonly VerdictRow[] | undefined =
    baseline?.results && current.results
      ? compareRuns(baseline.results, current.results).rows
      : summary?.verdicts?.rows;
  const verdicts = rows?.map((row) => ({
    subject: row.task,
    metric: row.metric,
    verdict: row.suspected ? `suspected ${row.suspected}` : row.verdict,
    ...(row.base !== null ? { baseline: row.base } : {}),
    ...(row.new !== null ? { current: row.new } : {}),
    ...(row.deltaPct !== null ? { changePct: row.deltaPct } : {}),
    detail: row.reason,
  }));
  return {
    run: current.run,
    ...(verdicts ? { verdicts } : {}),
    ...(baseline ? { baseline: baseline.run } : {}),
    ...(server ? { server } : {}),
    tasks: current.tasks,
    bench,
    accuracy,
    timeline: summary ? timelineOf(summary) : [],
    validity: current.collected.validity,
  };
}
