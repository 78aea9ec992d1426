/**
 * Assembles a report's `ReportData` from a results directory (`results/<name>/`) and, optionally, a
 * baseline results directory: summary.json for the run, its tasks and the server; the bench JSON of
 * every bench task; lm-eval results files; BFCL scores; the semantic eval. It reads only what
 * `perf-eval run` wrote there, so a failed or partial run gives a partial report.
 *
 * Interim: this is a minimal reader of the results directory until `@perf-eval/results` (the records
 * of a results directory) and `@perf-eval/verdicts` land; then the report is built from their
 * records and verdict rows instead.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { validityFlags } from '@perf-eval/bench-runner';
import { bfclWorkDir, collectBfclScores } from '@perf-eval/bfcl-runner';
import { parseLmEvalResults, type LmEvalResults } from '@perf-eval/lmeval-runner';
import type {
  ReportAccuracyResult,
  ReportBenchResult,
  ReportData,
  ReportPhase,
  ReportRunInfo,
  ReportTask,
  ReportValidityFlag,
} from '@perf-eval/report';
import { PerfEvalError } from '@perf-eval/util';
import type { RunSummary, TaskRecord } from './summary.js';

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

/** Result files larger than this are not read (bounded memory); the report says so. */
export const MAX_RESULT_FILE_BYTES = 256 * 1024 * 1024;

const TASK_STATUSES = new Set(['pending', 'running', 'ok', 'failed', 'skipped', 'cancelled']);

/** Reads and checks summary.json: the fields the report needs, each named in the error with the fix. */
export async function readRunSummary(resultsDir: string): Promise<RunSummary> {
  const file = join(resultsDir, 'summary.json');
  if (!existsSync(resultsDir)) {
    throw new ReportInputError(
      resultsDir,
      undefined,
      `${resultsDir}: no such directory; give a results/<name>/ directory written by 'perf-eval run'`,
    );
  }
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
  return data as RunSummary;
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

function numericFields(json: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof json !== 'object' || json === null) return out;
  for (const [key, value] of Object.entries(json))
    if (typeof value === 'number' && Number.isFinite(value)) out[key] = value;
  return out;
}

/** Runs named `<config>-conc-<N>` (the recipe's concurrency list) share the group `<config>`. */
export function benchGroupOf(runName: string): { group: string; concurrency: number | undefined } {
  const match = /^(.*)-conc-(\d+)$/.exec(runName);
  return match
    ? { group: match[1] as string, concurrency: Number(match[2]) }
    : { group: runName, concurrency: undefined };
}

interface Collected {
  bench: ReportBenchResult[];
  accuracy: ReportAccuracyResult[];
  validity: ReportValidityFlag[];
}

async function collectBench(resultsDir: string, tasks: readonly TaskRecord[], out: Collected): Promise<void> {
  for (const task of tasks.filter((t) => t.kind === 'bench')) {
    // The aggregate (or only) result; present even when validation failed (e.g. every request failed).
    const file = task.files?.[0] ?? join(resultsDir, `bench-${task.name}.json`);
    if (!existsSync(file)) continue;
    const { value, problem } = await readJsonFile(file);
    if (problem !== undefined) {
      out.validity.push({
        subject: `bench ${task.name}`,
        flag: 'unreadable-result',
        severity: 'invalid',
        message: problem,
      });
      continue;
    }
    const metrics = numericFields(value);
    const { group, concurrency: fromName } = benchGroupOf(task.name);
    const concurrency = metrics['max_concurrency'] ?? fromName;
    out.bench.push({ name: task.name, group, concurrency, metrics });
    const raw = value as Record<string, unknown>;
    for (const flag of validityFlags({
      result: {
        failed: metrics['failed'] ?? null,
        completed: metrics['completed'] ?? null,
        ...(metrics['num_prompts'] !== undefined ? { num_prompts: metrics['num_prompts'] } : {}),
        max_concurrency: typeof raw['max_concurrency'] === 'number' ? raw['max_concurrency'] : null,
      },
      datasetName: undefined,
    })) {
      out.validity.push({
        subject: `bench ${task.name}`,
        flag: flag.code,
        severity: flag.severity,
        message: flag.message,
      });
    }
  }
}

function lmEvalAccuracy(task: string, results: LmEvalResults): ReportAccuracyResult[] {
  const entry = results.results[task] ?? results.groups?.[task];
  if (!entry) return [];
  const n = results['n-samples'][task]?.effective;
  const out: ReportAccuracyResult[] = [];
  for (const [key, value] of Object.entries(entry)) {
    const comma = key.indexOf(',');
    if (comma < 0 || typeof value !== 'number' || !Number.isFinite(value)) continue;
    const metric = key.slice(0, comma);
    if (metric.endsWith('_stderr')) continue;
    const stderr = entry[`${metric}_stderr${key.slice(comma)}`];
    out.push({
      source: 'lm_eval',
      task,
      metric: key,
      value,
      ...(typeof stderr === 'number' && Number.isFinite(stderr) ? { stderr } : {}),
      ...(n !== undefined ? { n } : {}),
    });
  }
  return out;
}

async function collectAccuracy(resultsDir: string, summary: RunSummary, out: Collected): Promise<void> {
  for (const task of summary.tasks) {
    if (task.status !== 'ok') continue;
    if (task.kind === 'lm_eval') {
      const resultFiles = (task.files ?? []).filter((f) => /^results_.*\.json$/.test(basename(f)));
      for (const file of resultFiles) {
        try {
          const info = await stat(file);
          if (info.size > MAX_RESULT_FILE_BYTES)
            throw new Error(`over ${MAX_RESULT_FILE_BYTES / 1024 / 1024} MiB`);
          out.accuracy.push(
            ...lmEvalAccuracy(task.name, parseLmEvalResults(await readFile(file, 'utf8'), file)),
          );
        } catch (error) {
          out.validity.push({
            subject: `lm_eval ${task.name}`,
            flag: 'unreadable-result',
            severity: 'invalid',
            message: `${file}: ${(error as Error).message.split('\n')[0]}`,
          });
        }
      }
    } else if (task.kind === 'bfcl') {
      // Totals from the score files give Wilson intervals; the summary's accuracies are the fallback.
      let totals = new Map<string, number>();
      try {
        const rows = await collectBfclScores(bfclWorkDir(resultsDir, task.name), summary.model, task.name);
        totals = new Map(
          rows.filter((r) => r.totalCount !== undefined).map((r) => [r.category, r.totalCount as number]),
        );
      } catch {
        // No score files (e.g. cleaned up): intervals are left out.
      }
      for (const [key, value] of Object.entries(task.metrics ?? {})) {
        if (!key.startsWith('accuracy:') || typeof value !== 'number') continue;
        const category = key.slice('accuracy:'.length);
        const n = totals.get(category);
        out.accuracy.push({
          source: 'bfcl',
          task: category,
          metric: 'accuracy',
          value,
          ...(n !== undefined ? { n } : {}),
        });
      }
    } else if (task.kind === 'semantic_eval') {
      const value = task.metrics?.['accuracy'];
      if (typeof value === 'number')
        out.accuracy.push({ source: 'semantic_eval', task: task.name, metric: 'accuracy', value });
    }
  }
}

/**
 * The step's phases: `summary.timeline` when the run recorded one (`{name, kind, start, end}`), else
 * what summary.json already has — server start-up (start → ready) and every task's start → finish.
 */
export function timelineOf(summary: RunSummary): ReportPhase[] {
  const recorded = (summary as { timeline?: unknown }).timeline;
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
  const started = Date.parse(summary.startedAt);
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

function runInfoOf(summary: RunSummary, planEnv: Record<string, string>): ReportRunInfo {
  return {
    name: summary.workload,
    recipe: summary.recipe,
    model: summary.model,
    gpu: summary.gpu,
    numGpus: summary.numGpus,
    image: summary.image,
    vllmCommit: summary.vllmCommit,
    buildUrl: summary.buildUrl ?? planEnv['BUILDKITE_BUILD_URL'],
    runtime: summary.runtime,
    variant: summary.variant?.name,
    status: summary.status,
    startedAt: summary.startedAt,
    finishedAt: summary.finishedAt,
    durationS: summary.durationS,
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
  summary: RunSummary;
  run: ReportRunInfo;
  collected: Collected;
}

async function readOneRun(resultsDir: string): Promise<OneRun> {
  const summary = await readRunSummary(resultsDir);
  const collected: Collected = { bench: [], accuracy: [], validity: [] };
  await collectBench(resultsDir, summary.tasks, collected);
  await collectAccuracy(resultsDir, summary, collected);
  return { summary, run: runInfoOf(summary, await planEnvOf(resultsDir)), collected };
}

export interface AssembleOptions {
  baselineDir?: string | undefined;
  /** Overrides of the run's identity (e.g. the build URL known at run time). */
  run?: Partial<ReportRunInfo> | undefined;
}

/** The report of `resultsDir`, compared with `baselineDir` when given. */
export async function assembleReportData(
  resultsDir: string,
  options: AssembleOptions = {},
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
  const tasks: ReportTask[] = summary.tasks.map((t) => ({
    id: t.id,
    kind: t.kind,
    name: t.name,
    status: t.status,
    ...(t.durationS !== undefined ? { durationS: t.durationS } : {}),
    ...(t.error ? { error: t.error } : {}),
    ...(t.reason ? { reason: t.reason } : {}),
  }));
  const server = summary.server
    ? {
        status: summary.server.status,
        ...(summary.server.readyAfterS !== undefined ? { readyAfterS: summary.server.readyAfterS } : {}),
        ...(summary.server.error ? { error: summary.server.error } : {}),
        ...(summary.server.diagnosis ? { diagnosis: summary.server.diagnosis } : {}),
      }
    : undefined;
  return {
    run: { ...current.run, ...options.run },
    ...(baseline ? { baseline: baseline.run } : {}),
    ...(server ? { server } : {}),
    tasks,
    bench,
    accuracy,
    timeline: timelineOf(summary),
    validity: current.collected.validity,
  };
}
