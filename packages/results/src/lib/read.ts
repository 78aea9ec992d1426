/**
 * `readResultsDir`: a `results/<name>/` directory (this project's layout, which is upstream perf-eval's
 * plus summary.json) → a long-format `RunResults`.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { ResultsDirError, ResultsFileError } from './errors.js';
import { parsePythonJson } from '@perf-eval/util';
import { finiteOrNull, isRecord, readJsonObject } from './json.js';
import { forEachLine } from './lines.js';
import {
  benchMetricDirection,
  canonicalJson,
  type MetricRecord,
  type RunIdentity,
  type RunResults,
  type SampleOutcomes,
  type TaskInfo,
} from './model.js';

export interface ReadResultsOptions {
  /** Read per-sample correctness (lm-eval samples files, BFCL per-entry scores). Default true. */
  samples?: boolean;
}

const BENCH_FILE = /^bench-(.+?)(?:-run-(\d+))?\.json$/;
const LMEVAL_RESULTS = /^results_(.+)\.json$/;
/** Keys of an lm-eval results entry that are not metrics. */
const LMEVAL_NON_METRIC = new Set(['alias', 'name', 'sample_len', 'samples']);
/** model_args keys that name the endpoint, not the model: they differ between runs of the same config. */
const ENDPOINT_ARG = /(url|host|port|timeout|retries|concurrent|batch_size)/i;

interface Collector {
  dir: string;
  tasks: Map<string, TaskInfo>;
  records: MetricRecord[];
  samples: SampleOutcomes[];
  warnings: string[];
  summary: Record<string, unknown> | undefined;
  models: string[];
}

function rel(c: Collector, file: string): string {
  return relative(c.dir, file);
}

function task(c: Collector, id: string, kind: TaskInfo['kind'], config: unknown, file: string): TaskInfo {
  let info = c.tasks.get(id);
  if (!info) {
    info = { task: id, kind, configKey: canonicalJson(config), flags: [], files: [] };
    c.tasks.set(id, info);
  }
  if (!info.files.includes(rel(c, file))) info.files.push(rel(c, file));
  return info;
}

/** The task record `run` wrote in summary.json (`tasks[]`, matched by `<kind>:<name>`), when present. */
function summaryTask(c: Collector, id: string): Record<string, unknown> | undefined {
  const tasks = c.summary?.['tasks'];
  if (!Array.isArray(tasks)) return undefined;
  const found = tasks.find((t) => isRecord(t) && `${t['kind']}:${t['name']}` === id);
  return isRecord(found) ? found : undefined;
}

/** The task config `run` recorded in summary.json (`tasks[].config`), when present. */
function summaryConfig(c: Collector, id: string): unknown {
  return summaryTask(c, id)?.['config'];
}

/** The `invalid` validity flag codes `run` recorded for a task in summary.json (`tasks[].validity`). */
function summaryValidity(c: Collector, id: string): string[] {
  const flags = summaryTask(c, id)?.['validity'];
  if (!Array.isArray(flags)) return [];
  return flags
    .filter((flag) => isRecord(flag) && flag['severity'] === 'invalid' && typeof flag['code'] === 'string')
    .map((flag) => (flag as Record<string, unknown>)['code'] as string);
}

async function listDir(dir: string): Promise<import('node:fs').Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------- bench

async function readBench(c: Collector, entries: readonly import('node:fs').Dirent[]): Promise<void> {
  const files = entries
    .filter((e) => e.isFile() && BENCH_FILE.test(e.name))
    .map((e) => e.name)
    .sort();
  const names = new Set(files.map((f) => (BENCH_FILE.exec(f) as RegExpExecArray)[1] as string));
  for (const name of files) {
    const match = BENCH_FILE.exec(name) as RegExpExecArray;
    let run = match[1] as string;
    let repetition: number | null = match[2] ? Number(match[2]) : null;
    // `bench-x-run-2.json` with no `bench-x…` sibling is a run literally named `x-run-2`.
    if (
      repetition !== null &&
      !names.has(run) &&
      !files.some((f) => f !== name && f.startsWith(`bench-${run}-run-`))
    ) {
      run = `${run}-run-${repetition}`;
      repetition = null;
    }
    const file = join(c.dir, name);
    const doc = await readJsonObject(file);
    const id = `bench:${run}`;
    const config = summaryConfig(c, id) ?? {
      backend: doc['backend'] ?? null,
      num_prompts: doc['num_prompts'] ?? null,
      max_concurrency: doc['max_concurrency'] ?? null,
      request_rate: doc['request_rate'] ?? null,
      burstiness: doc['burstiness'] ?? null,
    };
    const info = task(c, id, 'bench', config, file);
    if (typeof doc['model_id'] === 'string') c.models.push(doc['model_id']);
    for (const key of ['validity', 'flags']) {
      const flags = doc[key];
      if (flags === undefined || flags === null) continue;
      if (!Array.isArray(flags))
        throw new ResultsFileError(file, key, `must be an array of strings, got ${JSON.stringify(flags)}`);
      for (const flag of flags) {
        // bench-runner's validityFlags are objects ({ code, severity, message }); only `invalid` ones count.
        if (isRecord(flag) && flag['severity'] === 'warning') continue;
        const code = isRecord(flag) ? flag['code'] : flag;
        if (typeof code !== 'string' || code === '')
          throw new ResultsFileError(
            file,
            key,
            `entries must be strings or { code, severity } objects, got ${JSON.stringify(flag)}`,
          );
        if (!info.flags.includes(code)) info.flags.push(code);
      }
    }
    // run records each repetition's validity flags (server view, failed requests) in summary.json.
    for (const flag of summaryValidity(c, id)) if (!info.flags.includes(flag)) info.flags.push(flag);
    const failed = finiteOrNull(doc['failed']);
    if (failed !== null && failed > 0 && !info.flags.includes(`failed-requests`))
      info.flags.push('failed-requests');
    for (const [key, value] of Object.entries(doc)) {
      const better = benchMetricDirection(key);
      if (!better) continue;
      if (value !== null && typeof value !== 'number') continue;
      c.records.push({ task: id, metric: key, repetition, value: finiteOrNull(value), better });
    }
  }
}

// ---------------------------------------------------------------- lm-eval

function modelArgsOf(value: unknown): Record<string, unknown> {
  if (isRecord(value)) return value;
  if (typeof value !== 'string') return {};
  const out: Record<string, unknown> = {};
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

async function findLmEvalResults(dir: string, depth: number, out: string[]): Promise<void> {
  const entries = await listDir(dir);
  const results = entries
    .filter((e) => e.isFile() && LMEVAL_RESULTS.test(e.name))
    .map((e) => e.name)
    .sort();
  // Several results files in one directory are re-runs: the newest (date_id sorts lexically) wins.
  if (results.length > 0) out.push(join(dir, results.at(-1) as string));
  if (depth === 0) return;
  for (const e of entries) {
    if (e.isDirectory() && !e.name.startsWith('.') && !e.name.startsWith('bfcl-'))
      await findLmEvalResults(join(dir, e.name), depth - 1, out);
  }
}

function proportionStderr(p: number, n: number): number {
  return Math.sqrt((p * (1 - p)) / n);
}

async function readLmEval(c: Collector, withSamples: boolean): Promise<void> {
  const files: string[] = [];
  const entries = await listDir(c.dir);
  for (const e of entries) {
    if (e.isDirectory() && !e.name.startsWith('.') && !e.name.startsWith('bfcl-'))
      await findLmEvalResults(join(c.dir, e.name), 3, files);
  }
  for (const file of files) {
    const doc = await readJsonObject(file);
    const results = doc['results'];
    if (!isRecord(results))
      throw new ResultsFileError(
        file,
        'results',
        'is missing or not an object: not an lm-eval results file; re-run lm_eval or delete the file',
      );
    const higher = isRecord(doc['higher_is_better']) ? doc['higher_is_better'] : {};
    const nShot = isRecord(doc['n-shot']) ? doc['n-shot'] : {};
    const versions = isRecord(doc['versions']) ? doc['versions'] : {};
    const nSamples = isRecord(doc['n-samples']) ? doc['n-samples'] : {};
    const config = isRecord(doc['config']) ? doc['config'] : {};
    const modelArgs = Object.fromEntries(
      Object.entries(modelArgsOf(config['model_args'])).filter(([k]) => !ENDPOINT_ARG.test(k)),
    );
    if (typeof modelArgs['model'] === 'string') c.models.push(modelArgs['model']);
    for (const [taskName, entry] of Object.entries(results)) {
      if (!isRecord(entry)) continue;
      const id = `lm_eval:${taskName}`;
      const key = {
        task: taskName,
        version: versions[taskName] ?? null,
        num_fewshot: nShot[taskName] ?? null,
        limit: config['limit'] ?? null,
        model: config['model'] ?? null,
        model_args: modelArgs,
        gen_kwargs: config['gen_kwargs'] ?? null,
      };
      const info = task(c, id, 'lm_eval', summaryConfig(c, id) ?? key, file);
      const taskHigher = isRecord(higher[taskName]) ? higher[taskName] : {};
      const counts = nSamples[taskName];
      const n = isRecord(counts) ? finiteOrNull(counts['effective']) : null;
      for (const [metric, value] of Object.entries(entry)) {
        if (LMEVAL_NON_METRIC.has(metric) || metric.includes('_stderr,')) continue;
        if (typeof value !== 'number' && value !== null) continue;
        const comma = metric.indexOf(',');
        const base = comma >= 0 ? metric.slice(0, comma) : metric;
        const filter = comma >= 0 ? metric.slice(comma) : '';
        const stderr = finiteOrNull(entry[`${base}_stderr${filter}`]);
        const record: MetricRecord = {
          task: id,
          metric,
          repetition: null,
          value: finiteOrNull(value),
          better: taskHigher[base] === false ? 'lower' : 'higher',
        };
        // BFCL's lm-eval-shaped files and bootstrap-less runs write 0.0: no information, not zero noise.
        if (stderr !== null && stderr > 0) record.stderr = stderr;
        if (n !== null) record.n = n;
        c.records.push(record);
      }
      void info;
    }
    if (withSamples) await readSamplesNextTo(c, file);
  }
}

async function readSamplesNextTo(c: Collector, resultsFile: string): Promise<void> {
  const dateId = (LMEVAL_RESULTS.exec(basename(resultsFile)) as RegExpExecArray)[1] as string;
  const dir = join(resultsFile, '..');
  const suffix = `_${dateId}.jsonl`;
  for (const e of await listDir(dir)) {
    if (!e.isFile() || !e.name.startsWith('samples_') || !e.name.endsWith(suffix)) continue;
    const taskName = e.name.slice('samples_'.length, -suffix.length);
    const file = join(dir, e.name);
    const byMetric = new Map<string, Map<string, boolean>>();
    let bad = 0;
    const { tooLong } = await forEachLine(file, (line) => {
      let sample: unknown;
      try {
        sample = JSON.parse(line);
      } catch {
        try {
          sample = parsePythonJson(line).value;
        } catch {
          bad++;
          return;
        }
      }
      if (
        !isRecord(sample) ||
        (typeof sample['doc_id'] !== 'number' && typeof sample['doc_id'] !== 'string')
      ) {
        bad++;
        return;
      }
      const docId = String(sample['doc_id']);
      const filter = typeof sample['filter'] === 'string' ? sample['filter'] : 'none';
      const metrics = Array.isArray(sample['metrics']) ? sample['metrics'] : [];
      for (const name of metrics) {
        if (typeof name !== 'string') continue;
        const value = sample[name];
        // Only right/wrong outcomes pair up for McNemar; graded scores (bleu, f1) do not.
        const correct =
          value === true || value === 1 ? true : value === false || value === 0 ? false : undefined;
        if (correct === undefined) continue;
        const metric = `${name},${filter}`;
        let outcomes = byMetric.get(metric);
        if (!outcomes) byMetric.set(metric, (outcomes = new Map()));
        outcomes.set(docId, correct);
      }
    });
    if (bad + tooLong > 0)
      c.warnings.push(
        `${rel(c, file)}: ${bad + tooLong} sample line(s) skipped (not a JSON object with doc_id)`,
      );
    for (const [metric, outcomes] of byMetric)
      c.samples.push({ task: `lm_eval:${taskName}`, metric, outcomes, file: rel(c, file) });
  }
}

// ---------------------------------------------------------------- BFCL

interface BfclEntries {
  summary?: { correct: number; total: number };
  score?: string;
  result?: string;
}

/** `.bfcl_work/<category>/{score,result}/<model>/<group>/BFCL_v4_<leaf>_{score,result}.json`, by leaf. */
async function findBfclEntryFiles(dir: string): Promise<Map<string, BfclEntries>> {
  const out = new Map<string, BfclEntries>();
  const work = join(dir, '.bfcl_work');
  for (const category of await listDir(work)) {
    if (!category.isDirectory()) continue;
    for (const kind of ['score', 'result'] as const) {
      const root = join(work, category.name, kind);
      for (const model of await listDir(root)) {
        if (!model.isDirectory()) continue;
        for (const group of await listDir(join(root, model.name))) {
          if (!group.isDirectory()) continue;
          for (const file of await listDir(join(root, model.name, group.name))) {
            const match = new RegExp(`^BFCL_v\\d+_(.+)_${kind}\\.json$`).exec(file.name);
            if (!match) continue;
            const leaf = match[1] as string;
            const entry = out.get(leaf) ?? {};
            entry[kind] = join(root, model.name, group.name, file.name);
            out.set(leaf, entry);
          }
        }
      }
    }
  }
  return out;
}

async function readBfclEntries(
  c: Collector,
  category: string,
  entries: BfclEntries,
  withSamples: boolean,
): Promise<{ n?: number; outcomes?: SampleOutcomes }> {
  if (!entries.score) return {};
  const failed = new Set<string>();
  let header: Record<string, unknown> | undefined;
  await forEachLine(entries.score, (line, lineNo) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return;
    }
    if (!isRecord(parsed)) return;
    if (lineNo === 1) header = parsed;
    else if (typeof parsed['id'] === 'string') failed.add(parsed['id']);
  });
  const total = header ? finiteOrNull(header['total_count']) : null;
  const out: { n?: number; outcomes?: SampleOutcomes } = {};
  if (total !== null) out.n = total;
  if (!withSamples || !entries.result) return out;
  const outcomes = new Map<string, boolean>();
  await forEachLine(entries.result, (line) => {
    // Result lines carry the whole model output; only the id is needed.
    const match = /"id"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(line);
    if (match) outcomes.set(match[1] as string, !failed.has(match[1] as string));
  });
  // Per-entry correctness is only trusted when it reproduces BFCL's own count.
  const correct = [...outcomes.values()].filter(Boolean).length;
  if (
    total !== null &&
    outcomes.size === total &&
    header &&
    finiteOrNull(header['correct_count']) === correct
  ) {
    out.outcomes = { task: `bfcl:${category}`, metric: 'acc,none', outcomes, file: rel(c, entries.score) };
  } else {
    c.warnings.push(
      `${rel(c, entries.score)}: per-entry results do not match the score summary; paired test skipped`,
    );
  }
  return out;
}

async function readBfcl(
  c: Collector,
  entries: readonly import('node:fs').Dirent[],
  withSamples: boolean,
): Promise<void> {
  const dirs = entries.filter((e) => e.isDirectory() && e.name.startsWith('bfcl-'));
  if (dirs.length === 0) return;
  const entryFiles = await findBfclEntryFiles(c.dir);
  for (const dir of dirs) {
    const category = dir.name.slice('bfcl-'.length);
    const results = (await listDir(join(c.dir, dir.name)))
      .filter((e) => e.isFile() && LMEVAL_RESULTS.test(e.name))
      .map((e) => e.name)
      .sort();
    if (results.length === 0) continue;
    const file = join(c.dir, dir.name, results.at(-1) as string);
    const doc = await readJsonObject(file);
    const results0 = doc['results'];
    const entry = isRecord(results0) ? results0[`bfcl_${category}`] : undefined;
    if (!isRecord(entry))
      throw new ResultsFileError(
        file,
        `results.bfcl_${category}`,
        'is missing: not a BFCL lm-eval-shaped results file; re-run the BFCL task or delete the file',
      );
    const id = `bfcl:${category}`;
    task(c, id, 'bfcl', summaryConfig(c, id) ?? { category }, file);
    const value = finiteOrNull(entry['acc,none']);
    const record: MetricRecord = { task: id, metric: 'acc,none', repetition: null, value, better: 'higher' };
    const extra = await readBfclEntries(c, category, entryFiles.get(category) ?? {}, withSamples);
    if (extra.n !== undefined && extra.n > 0) {
      record.n = extra.n;
      if (value !== null) record.stderr = proportionStderr(value, extra.n);
    }
    c.records.push(record);
    if (extra.outcomes) c.samples.push(extra.outcomes);
  }
}

// ---------------------------------------------------------------- semantic eval

const SEMANTIC_METRICS: Record<string, 'higher' | 'lower'> = {
  accuracy: 'higher',
  invalid_rate: 'lower',
  questions_per_second: 'higher',
  tokens_per_second: 'higher',
  latency: 'lower',
};

async function readSemanticEval(c: Collector, entries: readonly import('node:fs').Dirent[]): Promise<void> {
  const candidates: { name: string; file: string }[] = [];
  const tasks = c.summary?.['tasks'];
  let fromSummary = false;
  if (Array.isArray(tasks)) {
    for (const t of tasks) {
      if (!isRecord(t) || t['kind'] !== 'semantic_eval' || !Array.isArray(t['files'])) continue;
      const file = t['files'].find((f): f is string => typeof f === 'string' && f.endsWith('.json'));
      if (file)
        candidates.push({ name: String(t['name']), file: file.startsWith('/') ? file : join(c.dir, file) });
    }
    fromSummary = candidates.length > 0;
  }
  if (candidates.length === 0) {
    for (const e of entries) {
      if (
        !e.isFile() ||
        !e.name.endsWith('.json') ||
        e.name.startsWith('bench-') ||
        e.name === 'summary.json' ||
        e.name.startsWith('.')
      )
        continue;
      candidates.push({ name: e.name.replace(/\.json$/, ''), file: join(c.dir, e.name) });
    }
  }
  for (const { name, file } of candidates) {
    let doc: Record<string, unknown>;
    try {
      doc = await readJsonObject(file);
    } catch (error) {
      // A summary-listed file must be readable; an unlisted top-level JSON may be anything.
      if (fromSummary) throw error;
      continue;
    }
    if (typeof doc['accuracy'] !== 'number' || typeof doc['questions_per_second'] !== 'number') continue;
    const id = `semantic_eval:${name}`;
    const n = finiteOrNull(doc['num_questions']);
    task(c, id, 'semantic_eval', summaryConfig(c, id) ?? { name, num_questions: n }, file);
    for (const [metric, better] of Object.entries(SEMANTIC_METRICS)) {
      if (!(metric in doc)) continue;
      const value = finiteOrNull(doc[metric]);
      const record: MetricRecord = { task: id, metric, repetition: null, value, better };
      if (metric === 'accuracy' && n !== null && n > 0 && value !== null) {
        record.n = n;
        record.stderr = proportionStderr(value, n);
      }
      c.records.push(record);
    }
  }
}

// ---------------------------------------------------------------- identity

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function identityOf(c: Collector): RunIdentity {
  const s = c.summary ?? {};
  const extra = isRecord(s['identity']) ? s['identity'] : {};
  const identity: RunIdentity = { runId: '', recipe: str(s['workload']) ?? basename(c.dir) };
  const set = <K extends keyof RunIdentity>(key: K, value: RunIdentity[K] | undefined): void => {
    if (value !== undefined) identity[key] = value;
  };
  set('recipeHash', str(extra['recipeHash']));
  set('model', str(s['model']) ?? c.models[0]);
  set('gpuKind', str(s['gpu']));
  set('gpuCount', finiteOrNull(extra['gpuCount']) ?? undefined);
  set('image', str(s['image']));
  set('imageDigest', str(extra['imageDigest']));
  set('vllmCommit', str(s['vllmCommit']));
  if (Array.isArray(extra['serveArgs'])) identity.serveArgs = extra['serveArgs'].map(String);
  set('buildNumber', str(extra['buildNumber']));
  set('buildUrl', str(extra['buildUrl']));
  set('date', str(s['startedAt']));
  if (typeof extra['nightly'] === 'boolean') identity.nightly = extra['nightly'];
  identity.runId = identity.buildNumber
    ? `build-${identity.buildNumber}`
    : (identity.date ?? basename(c.dir));
  return identity;
}

/**
 * Reads every result a run left in `dir`. Throws `ResultsDirError` (usage) when `dir` is missing or
 * holds no results, `ResultsFileError` (validation) naming the first corrupt file.
 */
export async function readResultsDir(dir: string, options: ReadResultsOptions = {}): Promise<RunResults> {
  let info;
  try {
    info = await stat(dir);
  } catch (error) {
    throw new ResultsDirError(
      dir,
      'does not exist; pass the results/<name>/ directory a run wrote (or a history file)',
      { cause: error },
    );
  }
  if (!info.isDirectory())
    throw new ResultsDirError(
      dir,
      'is not a directory; pass the results/<name>/ directory a run wrote (or a history file)',
    );
  const entries = await listDir(dir);
  const c: Collector = {
    dir,
    tasks: new Map(),
    records: [],
    samples: [],
    warnings: [],
    summary: undefined,
    models: [],
  };
  if (entries.some((e) => e.isFile() && e.name === 'summary.json')) {
    c.summary = await readJsonObject(join(dir, 'summary.json'));
    if (!Array.isArray(c.summary['tasks']))
      throw new ResultsFileError(
        join(dir, 'summary.json'),
        'tasks',
        'is missing or not an array: not a perf-eval summary; delete it or re-run',
      );
  }
  const withSamples = options.samples ?? true;
  await readBench(c, entries);
  await readLmEval(c, withSamples);
  await readBfcl(c, entries, withSamples);
  await readSemanticEval(c, entries);
  if (c.tasks.size === 0 && !c.summary) {
    throw new ResultsDirError(
      dir,
      'holds no bench-*.json, lm-eval results_*.json, bfcl-*/ results, semantic eval JSON or summary.json; pass the results/<name>/ directory a run wrote',
    );
  }
  return {
    source: dir,
    identity: identityOf(c),
    tasks: [...c.tasks.values()],
    records: c.records,
    samples: c.samples,
    warnings: c.warnings,
  };
}
