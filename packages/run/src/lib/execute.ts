/**
 * `executeRun`: executes a RunPlan. Server up → bench runs alone on the server → semantic eval →
 * accuracy tasks (lm_eval, BFCL), optionally concurrent → teardown → ingest plan → post-run steps →
 * final summary. A task failure does not discard other tasks; a dead server stops everything at once
 * with its diagnosis; a failed write (e.g. a full disk) is reported and the rest of the run goes on.
 * The adapters are injected, so the whole flow runs in-process against fakes in tests.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runBench, validityFlags, type ValidityFlag } from '@perf-eval/bench-runner';
import { runBfcl } from '@perf-eval/bfcl-runner';
import { metricsOf, runLmEval } from '@perf-eval/lmeval-runner';
import {
  resetServerCaches,
  startMetricsSampler,
  startServer,
  startTopology,
  type MetricsSampler,
  type ServerSpec,
  type TopologyHandle,
} from '@perf-eval/server-lifecycle';
import {
  isPerfEvalError,
  PerfEvalError,
  scrubValues,
  secretList,
  secretValuesOf,
  ToolError,
} from '@perf-eval/util';
import { toolEnvValues, type ServerEnvironments } from './environment.js';
import { realIngestAdapter, RunIngest, type IngestAdapter } from './ingest.js';
import type { PlannedServer, RunPlan } from './plan.js';
import { runPool } from './pool.js';
import { accountGpuTime, Timeline, type PhaseKind } from './timeline.js';
import { runSemanticEval, SEMANTIC_EVAL_METRICS, SemanticEvalResultError } from './semantic-eval.js';
import {
  overwriteSummaryInPlace,
  writeSummary,
  type BenchRepetitionRecord,
  type RunIdentityExtra,
  type RunSummary,
  type TaskError,
  type TaskKind,
  type TaskRecord,
  type ToolRolesRecord,
} from './summary.js';

/** Everything the run starts, injectable (tests pass fakes that record what they were given). */
export interface RunAdapters {
  startServer: typeof startServer;
  startTopology: typeof startTopology;
  runBench: typeof runBench;
  runLmEval: typeof runLmEval;
  runBfcl: typeof runBfcl;
  runSemanticEval: typeof runSemanticEval;
  ingest: IngestAdapter;
  /** Writes summary.json and summary.md (atomically). */
  writeSummary: (resultsDir: string, summary: RunSummary) => Promise<void>;
  resetServerCaches: typeof resetServerCaches;
  startMetricsSampler: typeof startMetricsSampler;
}

export const realAdapters: RunAdapters = {
  startServer,
  startTopology,
  runBench,
  runLmEval,
  runBfcl,
  runSemanticEval,
  ingest: realIngestAdapter,
  writeSummary,
  resetServerCaches,
  startMetricsSampler,
};

/** Console output of a run (the CLI's reporter draws a status line on a TTY, timestamps in CI). */
export interface RunReporter {
  line(text: string): void;
  /** A Buildkite group header (`--- `, `+++ `, `^^^ +++`), verbatim. */
  group(header: string): void;
  error(text: string): void;
  taskStarted(id: string): void;
  taskFinished(id: string, ok: boolean, detail?: string): void;
  close(): void;
}

/** A step after the run (history, verdicts, reports): gets the final summary before it is saved last. */
export interface PostRunStep {
  name: string;
  run(input: { plan: RunPlan; summary: RunSummary; signal: AbortSignal }): Promise<void>;
}

export interface ExecuteRunOptions {
  /** Default: the real adapters. */
  adapters?: Partial<RunAdapters>;
  /** The caller's environment: values of the tool variables the plan names, and the ingest settings. */
  env: Readonly<Record<string, string | undefined>>;
  /** Server and role env values (see `serverEnvironments`); their names must be the plan's. */
  serverEnv: ServerEnvironments;
  /** Aborting cancels the run: every tool stops, the server is torn down, the summary ends `cancelled`. */
  signal: AbortSignal;
  /**
   * Aborted on a second signal: teardown stops waiting for a graceful shutdown and kills at once
   * (SIGKILL / `docker kill`). Teardown always completes either way.
   */
  forceSignal?: AbortSignal;
  reporter: RunReporter;
  /** Print every tool output line (default: only the server log and the upstream console lines). */
  verbose?: boolean;
  /** Clock (ms since epoch); default `Date.now`. */
  now?: () => number;
  /** Called with the summary after every change. */
  onSummary?: (summary: RunSummary) => void;
  /** Which binary plays which role (the toolchain's `roles`), recorded as summary.json `tools`. */
  toolRoles?: ToolRolesRecord;
  postRun?: readonly PostRunStep[];
  /**
   * Values masked in every summary snapshot and in the returned summary (error messages and tails may
   * quote what a tool printed); `planSecrets(workload, env)`. Secret-named variables of `env` always are.
   */
  secrets?: readonly string[];
  /** Identity beyond the plan (recipe hash, serve args, nightly …), merged into `summary.identity`. */
  identity?: RunIdentityExtra;
  /**
   * When the step started (ms since epoch; default: when `executeRun` was called). The time before
   * `executeRun` is accounted as setup in `summary.gpu`: the GPUs are held from the step's start.
   */
  stepStartedAtMs?: number;
  /**
   * Work that does not need the server (tool provisioning, tool preflight), started together with the
   * server launch so the two overlap; the first task waits for it. A rejection fails the run before any
   * task (the tasks are skipped, the server is torn down) and is recorded as `summary.prepareError`.
   */
  prepare?: (signal: AbortSignal) => Promise<void>;
  /** `/metrics` sampling interval during bench repetitions; default 1000 ms. */
  metricsIntervalMs?: number;
}

/** What the run needs of a started server or topology. */
interface LiveServer {
  readonly url: string;
  rejectOnExit(): Promise<never>;
  stop(): Promise<void>;
}

/** The plan's server env names and the given values disagree: the plan was made for another recipe. */
export class PlanEnvMismatchError extends PerfEvalError {
  constructor(
    readonly what: string,
    readonly planned: readonly string[],
    readonly given: readonly string[],
  ) {
    super(
      'E_RUN_PLAN_ENV',
      `the run plan's ${what} env (${planned.join(', ') || 'none'}) differs from the env given to executeRun (${given.join(', ') || 'none'}); plan and execute the same recipe`,
      {
        category: 'internal',
      },
    );
  }
}

function taskError(error: unknown): TaskError {
  if (error instanceof ToolError)
    return { code: error.code, message: error.message, tail: [...error.outputTail].slice(-40) };
  if (error instanceof SemanticEvalResultError && error.outputTail.length > 0)
    return { code: error.code, message: error.message, tail: [...error.outputTail].slice(-40) };
  if (isPerfEvalError(error)) return { code: error.code, message: error.message };
  return { code: 'E_INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

/** One line naming the cause of a failed write: `no space left on <dir>` for ENOSPC. */
export function describeWriteError(error: unknown, path: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  const dir = dirname(path);
  if (code === 'ENOSPC') return `no space left on ${dir} (ENOSPC)`;
  if (code === 'EDQUOT') return `disk quota exceeded on ${dir} (EDQUOT)`;
  if (code === 'EROFS') return `${dir} is on a read-only file system (EROFS)`;
  if (code === 'EACCES' || code === 'EPERM') return `permission denied writing in ${dir} (${code})`;
  return `${(error as Error).message ?? String(error)}${code ? ` (${code})` : ''}`;
}

function serverSpecOf(
  planned: PlannedServer,
  values: Readonly<Record<string, string>>,
  what: string,
): ServerSpec & { role?: string } {
  const given = Object.keys(values);
  if (given.length !== planned.envNames.length || given.some((name, i) => name !== planned.envNames[i]))
    throw new PlanEnvMismatchError(what, planned.envNames, given);
  const spec: Partial<PlannedServer> = { ...planned };
  delete spec.envNames;
  delete spec.argv;
  return { ...(spec as Omit<PlannedServer, 'envNames' | 'argv'>), env: { ...values } };
}

/**
 * Bytes set aside in the results dir at the start and released before the final writes, so a disk
 * that fills up mid-run still takes the ingest plan and the final summary.
 */
const FINAL_WRITES_RESERVE_BYTES = 256 * 1024;
const RESERVE_FILE = '.perf-eval-space-reserve';

class Execution {
  readonly summary: RunSummary;
  private readonly adapters: RunAdapters;
  private readonly ingest: RunIngest;
  private readonly toolEnv: Record<string, string>;
  private readonly now: () => number;
  private readonly deadline: number;
  private server: LiveServer | undefined;
  /** Aborted when the user cancels or the server dies; every tool watches it. */
  private readonly stopAll = new AbortController();
  private serverFailure: TaskError | undefined;
  /** Summary writes are queued so a slower, older snapshot can never land after a newer one. */
  private saving: Promise<void> = Promise.resolve();
  private readonly writeFailures = new Set<string>();
  private readonly secrets: string[];
  private readonly timeline: Timeline;
  private readonly stepStartedAt: number;
  get secretValues(): readonly string[] {
    return this.secrets;
  }

  constructor(
    private readonly plan: RunPlan,
    private readonly options: ExecuteRunOptions,
  ) {
    this.adapters = { ...realAdapters, ...options.adapters };
    this.now = options.now ?? Date.now;
    this.timeline = new Timeline(() => new Date(this.now()));
    this.stepStartedAt = options.stepStartedAtMs ?? this.now();
    this.deadline = this.now() + plan.timeouts.runBudgetMs;
    this.toolEnv = toolEnvValues(plan.toolEnv, options.env);
    this.ingest = new RunIngest({
      plan,
      adapter: this.adapters.ingest,
      env: options.env,
      print: this.print,
      signal: this.stopAll.signal,
      now: this.now,
    });
    this.summary = {
      version: 1,
      workload: plan.workload.name,
      recipe: plan.workload.path,
      gpu: plan.workload.gpu,
      model: plan.server.model,
      image: plan.server.image,
      vllmCommit: plan.server.vllmCommit,
      runtime: plan.server.runtime,
      status: 'running',
      startedAt: this.iso(),
      server: { status: 'not-started' },
      tasks: [],
      ingest: this.ingest.summary(),
    };
    const { BUILDKITE_BUILD_URL: buildUrl, BUILDKITE_BUILD_NUMBER: buildNumber } = options.env;
    this.summary.identity = {
      ...options.identity,
      gpuCount: plan.workload.numGpus,
      ...(buildUrl ? { buildUrl } : {}),
      ...(buildNumber ? { buildNumber } : {}),
    };
    if (options.toolRoles) this.summary.tools = options.toolRoles;
    if (plan.variant) this.summary.variant = plan.variant;
    this.secrets = secretList([...secretValuesOf(options.env), ...(options.secrets ?? [])]);
    const onAbort = (): void => this.stopAll.abort(options.signal.reason);
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener('abort', onAbort, { once: true });
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  private get cancelled(): boolean {
    return this.options.signal.aborted;
  }

  /** A failed write is reported once per cause and recorded; the run goes on (the exit code becomes 1). */
  private writeFailed(what: string, path: string, error: unknown): void {
    const message = `could not write ${what}: ${describeWriteError(error, path)}`;
    if (this.writeFailures.has(message)) return;
    this.writeFailures.add(message);
    (this.summary.writeErrors ??= []).push(message);
    this.options.reporter.error(`+++ :rotating_light: ${message}`);
  }

  /** Queues a summary write; a failure is reported, never thrown (later saves and tasks still run). */
  private save(final = false): Promise<void> {
    this.summary.ingest = this.ingest.summary();
    const snapshot = scrubValues(structuredClone(this.summary), this.secrets);
    this.saving = this.saving.then(() =>
      this.adapters.writeSummary(this.plan.resultsDir, snapshot).catch(async (error: unknown) => {
        this.writeFailed('the run summary', this.plan.files.summaryJson, error);
        if (!final) return;
        // The final word must reach the disk if at all possible: it records the write failure too.
        const finalSnapshot = scrubValues(
          structuredClone({ ...this.summary, status: this.finalStatus() }),
          this.secrets,
        );
        const written = await overwriteSummaryInPlace(this.plan.resultsDir, finalSnapshot);
        if (written.length > 0)
          this.options.reporter.error(`wrote the final summary in place: ${written.join(', ')}`);
      }),
    );
    this.options.onSummary?.(snapshot);
    return this.saving;
  }

  private addTask(kind: TaskKind, name: string): TaskRecord {
    const record: TaskRecord = {
      id: `${kind}:${name}`,
      kind,
      name,
      status: 'pending',
      metrics: {},
      files: [],
    };
    this.summary.tasks.push(record);
    return record;
  }

  private remainingMs(): number {
    return Math.max(1000, this.deadline - this.now());
  }

  private readonly print = (line: string): void => this.options.reporter.line(line);

  private toolOutput(prefix: string): ((line: string) => void) | undefined {
    return this.options.verbose
      ? (line: string) => this.options.reporter.line(`[${prefix}] ${line}`)
      : undefined;
  }

  /** Runs one task with bookkeeping; failures are recorded, never thrown. */
  private async runTask(record: TaskRecord, body: () => Promise<void>): Promise<void> {
    if (this.stopAll.signal.aborted) {
      record.status = this.cancelled ? 'cancelled' : 'skipped';
      record.reason = this.serverFailure ? 'server died before this task started' : 'run cancelled';
      return;
    }
    const started = this.now();
    const endPhase = this.timeline.begin(record.id, record.kind as PhaseKind);
    record.status = 'running';
    record.startedAt = this.iso();
    this.options.reporter.taskStarted(record.id);
    await this.save();
    try {
      await body();
      record.status = 'ok';
    } catch (error) {
      if (this.cancelled) {
        record.status = 'cancelled';
        record.reason = 'run cancelled';
      } else {
        record.status = 'failed';
        record.error =
          this.serverFailure && this.stopAll.signal.aborted
            ? { ...this.serverFailure, message: `server died: ${this.serverFailure.message}` }
            : taskError(error);
      }
    } finally {
      endPhase(record.status);
      record.finishedAt = this.iso();
      record.durationS = (this.now() - started) / 1000;
      this.options.reporter.taskFinished(
        record.id,
        record.status === 'ok',
        record.error ? `— ${record.error.message}` : '',
      );
      if (record.status === 'failed' && record.error?.tail?.length) {
        this.options.reporter.group('^^^ +++');
        this.options.reporter.error(
          `+++ :rotating_light: ${record.id} failed\n${record.error.message}\n${record.error.tail.map((l) => `  | ${l}`).join('\n')}`,
        );
      }
      await this.save();
    }
  }

  private watchServer(handle: LiveServer): void {
    handle.rejectOnExit().catch((error: unknown) => {
      this.serverFailure = taskError(error);
      this.markRoleFailed(error);
      this.recordServerError(error);
      this.options.reporter.error(`vLLM server died during the run: ${this.serverFailure.message}`);
      this.stopAll.abort(error);
    });
  }

  private recordServerError(error: unknown): void {
    this.summary.server.status = 'failed';
    this.summary.server.error = taskError(error);
    const diagnosis = (error as { diagnosis?: { summary?: string; kind?: string } }).diagnosis;
    if (diagnosis) this.summary.server.diagnosis = diagnosis.summary ?? diagnosis.kind;
    if ((error as ToolError).outputTail === undefined) {
      const tail = (error as { tail?: string[] }).tail;
      if (tail) this.summary.server.error.tail = tail.slice(-40);
    }
  }

  /** Disaggregated: the role whose process died (`ServerExitedError.role`, or the proxy). */
  private markRoleFailed(error: unknown): void {
    const roles = this.summary.server.roles;
    if (!roles) return;
    const role = (error as { code?: string }).code?.startsWith('E_SERVER_PROXY')
      ? 'proxy'
      : (error as { role?: string }).role;
    const entry = role ? roles[role] : undefined;
    if (entry) entry.status = 'failed';
  }

  private launchOptions(prefix: string) {
    return {
      signal: this.stopAll.signal,
      ...(this.options.forceSignal ? { forceSignal: this.options.forceSignal } : {}),
      print: this.print,
      printError: (line: string) => this.options.reporter.error(line),
      onLine: (line: string) => this.options.reporter.line(`${prefix}${line}`),
    };
  }

  private async startServer(): Promise<void> {
    const { launch } = this.plan;
    if (launch.kind === 'external') {
      this.summary.server.status = 'ready';
      this.summary.server.url = launch.url;
      this.server = {
        url: launch.url,
        rejectOnExit: () => new Promise<never>(() => undefined),
        stop: async () => undefined,
      };
      await this.save();
      return;
    }
    const roles: NonNullable<RunSummary['server']['roles']> = {};
    if (launch.kind === 'topology') {
      for (const server of launch.servers)
        roles[server.role as string] = { status: 'starting', port: server.port, logFile: server.logFile };
      roles['proxy'] = { status: 'starting', port: launch.proxy.port, logFile: launch.proxy.logFile };
      this.summary.server.roles = roles;
    }
    this.summary.server.status = 'starting';
    await this.save();
    const started = this.now();
    let topology: TopologyHandle | undefined;
    try {
      if (launch.kind === 'topology') {
        const servers = launch.servers.map((server) => {
          const role = server.role as string;
          return { ...serverSpecOf(server, this.options.serverEnv.roles[role] ?? {}, `${role} role`), role };
        });
        topology = await this.adapters.startTopology(
          { servers, proxy: launch.proxy },
          this.launchOptions(''),
        );
        this.server = topology;
      } else {
        this.server = await this.adapters.startServer(
          serverSpecOf(launch.server, this.options.serverEnv.server, 'server'),
          this.launchOptions('[vllm] '),
        );
      }
    } catch (error) {
      this.recordServerError(error);
      this.markRoleFailed(error);
      // The launchers have stopped everything they started.
      for (const entry of Object.values(roles)) if (entry.status === 'starting') entry.status = 'stopped';
      throw error;
    }
    if (topology) {
      for (const member of topology.members) {
        const entry = roles[member.role];
        if (entry)
          Object.assign(entry, {
            status: 'ready',
            url: member.handle.url,
            ...(member.handle.pid !== undefined ? { pid: member.handle.pid } : {}),
          });
      }
      if (roles['proxy'])
        Object.assign(roles['proxy'], {
          status: 'ready',
          url: topology.url,
          ...(topology.proxyPid !== undefined ? { pid: topology.proxyPid } : {}),
        });
    }
    this.summary.server.status = 'ready';
    this.summary.server.url = this.server.url;
    this.summary.server.readyAfterS = (this.now() - started) / 1000;
    this.watchServer(this.server);
    await this.save();
  }

  private pick(names: readonly string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of names) if (this.toolEnv[name] !== undefined) out[name] = this.toolEnv[name] as string;
    return out;
  }

  private async benchPhase(): Promise<void> {
    for (const [index, bench] of this.plan.bench.entries()) {
      const record = this.addTask('bench', bench.runName);
      await this.runTask(record, async () => {
        const outcome = await this.adapters.runBench(bench.spec, {
          resultsDir: this.plan.resultsDir,
          target: bench.target,
          executor: bench.executor,
          env: this.pick(bench.envNames),
          signal: this.stopAll.signal,
          timeoutMs: this.remainingMs(),
          print: this.print,
          onOutput: this.toolOutput(`bench:${bench.runName}`),
          beforeRepetition: (repetition) => this.beforeRepetition(record, repetition),
          afterRepetition: (repetition, outcome) =>
            this.afterRepetition(record, bench.spec.dataset, repetition, outcome),
        });
        record.files = [
          outcome.resultFile,
          ...outcome.repetitionFiles.filter((f) => f !== outcome.resultFile),
        ];
        // Every finite number of the result bench-runner parsed (the aggregate when repeated).
        for (const [key, value] of Object.entries(outcome.result))
          if (typeof value === 'number' && Number.isFinite(value)) record.metrics[key] = value;
        const perf = this.plan.ingest.perf[index];
        if (perf) this.ingest.perf(perf);
      });
    }
  }

  private sampler: MetricsSampler | undefined;
  private pendingReset: BenchRepetitionRecord['cacheReset'] = { reset: false };

  /** The servers whose caches and metrics count: the server, or each role behind the proxy. */
  private serverUrls(): string[] {
    const roles = this.summary.server.roles;
    if (roles) {
      const urls = Object.entries(roles)
        .filter(([role, entry]) => role !== 'proxy' && entry.url)
        .map(([, entry]) => entry.url as string);
      if (urls.length > 0) return urls;
    }
    return this.server ? [this.server.url] : [];
  }

  /** Right before a repetition: reset the caches (or say why not), then watch the server's metrics. */
  private async beforeRepetition(record: TaskRecord, repetition: number): Promise<void> {
    const policy = this.plan.cacheReset;
    if (!policy.enabled) {
      this.pendingReset = { reset: false, reason: policy.reason ?? 'disabled' };
    } else {
      const end = this.timeline.begin(`${record.id} cache reset ${repetition}`, 'cache-reset');
      const outcomes = await Promise.all(
        this.serverUrls().map((url) => this.adapters.resetServerCaches({ url, signal: this.stopAll.signal })),
      );
      end();
      const failed = outcomes.find((outcome) => !outcome.reset);
      const partial = outcomes.find((outcome) => outcome.reason);
      this.pendingReset = failed
        ? { reset: false, reason: failed.reason ?? 'not reset' }
        : partial?.reason
          ? { reset: true, reason: partial.reason }
          : { reset: true };
      if (failed && repetition === 1)
        this.options.reporter.line(`  warning: caches not reset before ${record.id}: ${failed.reason}`);
    }
    // The decode role holds the running requests behind a proxy; a single server is its own URL.
    const urls = this.serverUrls();
    const url = urls[urls.length - 1];
    this.sampler = url
      ? this.adapters.startMetricsSampler({
          url,
          intervalMs: this.options.metricsIntervalMs ?? 1000,
          signal: this.stopAll.signal,
        })
      : undefined;
  }

  /** After a repetition: the server's view of it and its validity flags, into the task record. */
  private async afterRepetition(
    record: TaskRecord,
    datasetName: string,
    repetition: number,
    outcome: { file: string; result?: Record<string, unknown> },
  ): Promise<void> {
    const view = this.sampler ? await this.sampler.stop() : null;
    this.sampler = undefined;
    const server = view && view.samples > 0 ? view : null;
    const validity = outcome.result
      ? validityFlags({
          result: outcome.result as Parameters<typeof validityFlags>[0]['result'],
          datasetName,
          // Judged over the active window only (the client's start-up is not load the server missed).
          server: server ? { ...server, samples: server.activeSamples } : undefined,
        })
      : [];
    (record.repetitions ??= []).push({
      repetition,
      file: outcome.file,
      cacheReset: this.pendingReset,
      server,
      validity,
    });
    const seen = new Set((record.validity ??= []).map((flag) => flag.code));
    for (const flag of validity) {
      if (seen.has(flag.code)) continue;
      seen.add(flag.code);
      (record.validity as ValidityFlag[]).push(flag);
      this.options.reporter.line(
        `  ${flag.severity === 'invalid' ? 'invalid' : 'warning'}: ${record.id}: ${flag.message}`,
      );
    }
  }

  /** After the bench, on the same server (CloudAI's order): the semantic eval command, then its result. */
  private async semanticEvalPhase(): Promise<void> {
    const semantic = this.plan.semanticEval;
    if (!semantic) return;
    const record = this.addTask('semantic_eval', semantic.name);
    await this.runTask(record, async () => {
      const env = this.pick(semantic.envNames);
      const result = await this.adapters.runSemanticEval(semantic, {
        env,
        signal: this.stopAll.signal,
        remainingMs: this.remainingMs(),
        secrets: secretValuesOf(env),
        onLine: this.toolOutput(`semantic_eval:${semantic.name}`),
      });
      record.files = [semantic.outputPath];
      for (const key of SEMANTIC_EVAL_METRICS) record.metrics[key] = result[key];
    });
  }

  private accuracyTasks(): Array<{ record: TaskRecord; body: () => Promise<void> }> {
    const tasks: Array<{ record: TaskRecord; body: () => Promise<void> }> = [];
    for (const task of this.plan.lmEval) {
      const record = this.addTask('lm_eval', task.task);
      tasks.push({
        record,
        body: async () => {
          const outcome = await this.adapters.runLmEval(task.spec, {
            command: task.command,
            env: this.pick(task.envNames),
            signal: this.stopAll.signal,
            timeoutMs: this.remainingMs(),
            print: this.print,
            ...(this.options.verbose
              ? { onOutput: (line: string) => this.options.reporter.line(`[lm_eval:${task.task}] ${line}`) }
              : {}),
          });
          record.files = outcome.createdFiles;
          for (const metric of metricsOf(outcome.results, task.task))
            record.metrics[`${metric.metric},${metric.filter}`] = metric.value;
          // lm-eval's own result files: the results file and its samples files.
          const files = [outcome.resultsFile, ...(this.plan.ingest.samples ? outcome.samplesFiles : [])];
          this.ingest.eval(task.task, task.outputPath, files, this.plan.ingest.samples);
        },
      });
    }
    for (const bfcl of this.plan.bfcl) {
      const record = this.addTask('bfcl', bfcl.category);
      tasks.push({
        record,
        body: async () => {
          const outcome = await this.adapters.runBfcl(bfcl.spec, {
            python: bfcl.python,
            cacheDir: bfcl.driverCacheDir,
            env: this.pick(bfcl.envNames),
            signal: this.stopAll.signal,
            timeoutMs: this.remainingMs(),
            print: this.print,
            ...(this.options.verbose
              ? { onOutput: (line: string) => this.options.reporter.line(`[bfcl:${bfcl.category}] ${line}`) }
              : {}),
          });
          record.files = outcome.writtenFiles;
          for (const score of outcome.scores) record.metrics[`accuracy:${score.category}`] = score.accuracy;
          // One eval item per written category (group first), always without samples (upstream).
          outcome.scores.forEach((score, i) => {
            const file = outcome.writtenFiles[i];
            if (file) this.ingest.eval(`bfcl_${score.category}`, dirname(file), [file], false);
          });
        },
      });
    }
    return tasks;
  }

  /** One teardown step; its failure is reported, never thrown, so the next step and the final save still run. */
  private async step(what: string, body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (error) {
      this.options.reporter.error(`${what}: ${(error as Error).message ?? String(error)}`);
    }
  }

  async run(): Promise<RunSummary> {
    const started = this.now();
    if (started > this.stepStartedAt)
      this.timeline.phases.push({
        name: 'start-up and preflight',
        kind: 'setup',
        start: new Date(this.stepStartedAt).toISOString(),
        end: new Date(started).toISOString(),
      });
    try {
      await mkdir(this.plan.resultsDir, { recursive: true });
      await writeFile(
        join(this.plan.resultsDir, RESERVE_FILE),
        Buffer.alloc(FINAL_WRITES_RESERVE_BYTES),
      ).catch(() => undefined);
      // Tool provisioning and preflight run while the server loads; the first task waits for both.
      const endPrepare = this.options.prepare
        ? this.timeline.begin('tool provisioning and preflight', 'setup')
        : undefined;
      const prepared = this.options.prepare
        ? this.options.prepare(this.stopAll.signal).then(
            () => void endPrepare?.('ok'),
            (error: unknown) => {
              endPrepare?.('failed');
              throw error;
            },
          )
        : Promise.resolve();
      // Handled below; an early rejection must not be reported as unhandled while the server loads.
      prepared.catch(() => undefined);
      const endLaunch = this.timeline.begin('server launch', 'server-launch');
      try {
        await this.startServer();
        endLaunch('ok');
      } catch (error) {
        endLaunch('failed');
        await prepared.catch(() => undefined);
        throw error;
      }
      try {
        await prepared;
      } catch (error) {
        this.summary.prepareError = taskError(error);
        this.prepareFailure = error;
        // The tool's own last words (pip's resolver error, a compiler message) are the reason.
        const tail = (this.summary.prepareError.tail ?? []).slice(-15).map((line) => `    ${line}`);
        this.options.reporter.error(
          [
            `+++ :rotating_light: preparing the tools failed: ${this.summary.prepareError.message}`,
            ...tail,
          ].join('\n'),
        );
        this.stopAll.abort(error);
        this.skipAllTasks('tool preparation failed');
        return this.summary;
      }
      if (this.plan.phases.includes('bench')) await this.benchPhase();
      if (this.plan.workload.benchOnly) {
        this.options.reporter.group('--- :stopwatch: BENCH_ONLY set; skipping lm_eval and bfcl tasks');
      } else {
        await this.semanticEvalPhase();
        const tasks = this.accuracyTasks();
        await runPool(tasks, this.plan.jobs, ({ record, body }) => this.runTask(record, body));
      }
    } catch (error) {
      if (!this.summary.server.error && !this.cancelled) this.summary.server.error = taskError(error);
    } finally {
      await this.finish(started);
    }
    return this.summary;
  }

  /** Teardown, ingest plan, post-run steps, final summary: each step runs whatever the previous did. */
  private async finish(started: number): Promise<void> {
    await rm(join(this.plan.resultsDir, RESERVE_FILE), { force: true }).catch(() => undefined);
    const server = this.server;
    if (server) {
      await this.timeline.time('teardown', 'teardown', () => this.step('teardown', () => server.stop()));
      // An external (--server-url) server was not ours to stop: it stays 'ready'.
      if (this.summary.server.status === 'ready' && this.plan.launch.kind !== 'external')
        this.summary.server.status = 'stopped';
      for (const entry of Object.values(this.summary.server.roles ?? {}))
        if (entry.status === 'ready') entry.status = 'stopped';
    }
    for (const record of this.summary.tasks) {
      if (record.status === 'pending' || record.status === 'running') {
        record.status = this.cancelled ? 'cancelled' : 'skipped';
        record.reason ??= this.cancelled ? 'run cancelled' : 'server not available';
      }
    }
    const endIngest = this.timeline.begin('ingest', 'ingest');
    try {
      await this.ingest.finish();
      endIngest('ok');
    } catch (error) {
      endIngest('failed');
      this.writeFailed('the ingest plan', this.plan.files.ingestPlan, error);
    }
    this.summary.status = this.finalStatus();
    this.summary.finishedAt = this.iso();
    this.summary.durationS = (this.now() - started) / 1000;
    for (const step of this.options.postRun ?? []) {
      await this.timeline.time(step.name, 'report', () =>
        this.step(`post-run step ${step.name}`, () =>
          step.run({ plan: this.plan, summary: this.summary, signal: this.options.signal }),
        ),
      );
    }
    // Where the step's GPU time went, up to this final save (parts add up to the held time).
    this.summary.timeline = this.timeline.sorted();
    this.summary.gpuTime = accountGpuTime(
      this.summary.timeline,
      new Date(this.stepStartedAt).toISOString(),
      this.iso(),
    );
    await this.save(true);
    // A write failure in the final save itself must still show in the returned summary and the exit code.
    this.summary.status = this.finalStatus();
    this.options.reporter.close();
  }

  private prepareFailure: unknown;

  private skipAllTasks(reason: string): void {
    for (const record of this.summary.tasks)
      if (record.status === 'pending') Object.assign(record, { status: 'skipped', reason });
  }

  private finalStatus(): RunSummary['status'] {
    if (this.cancelled) return 'cancelled';
    if (this.prepareFailure !== undefined) return 'failed';
    const failed =
      this.summary.server.status === 'failed' ||
      this.summary.tasks.some((t) => t.status === 'failed' || t.status === 'skipped') ||
      (this.summary.writeErrors?.length ?? 0) > 0;
    return failed ? 'failed' : 'ok';
  }
}

/**
 * Executes `plan`: always tears the server down, always ends with a final summary on disk (when the
 * disk allows) and returns it. Never throws for a task, server or write failure; those are in the
 * summary (`status: 'failed'`), cancellation is `status: 'cancelled'`.
 */
export async function executeRun(plan: RunPlan, options: ExecuteRunOptions): Promise<RunSummary> {
  const execution = new Execution(plan, options);
  return scrubValues(await execution.run(), execution.secretValues);
}
