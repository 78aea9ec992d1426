/**
 * `perf-eval run`: server up → bench runs alone on the server → accuracy tasks (lm_eval, BFCL),
 * optionally concurrent → summary → teardown. A task failure does not discard other tasks; a dead
 * server stops everything at once with its diagnosis; every result is on disk before the next step.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runBench } from '@perf-eval/bench-runner';
import { runBfcl } from '@perf-eval/bfcl-runner';
import { metricsOf, runLmEval } from '@perf-eval/lmeval-runner';
import { startServer, startTopology, type TopologyHandle } from '@perf-eval/server-lifecycle';
import { isPerfEvalError, scrubValues, secretValuesOf, ToolError } from '@perf-eval/util';
import {
  benchOnly,
  benchPlans,
  benchTarget,
  isDisaggregated,
  lmEvalPlans,
  runSecrets,
  semanticEvalPlan,
  serverBaseUrl,
  serverSpec,
  topologySpec,
  type RunContext,
} from './compose.js';
import type { IngestBridge } from './ingest-bridge.js';
import type { Reporter } from './reporter.js';
import { interruptionOf } from './signals.js';
import { runSemanticEval, SEMANTIC_EVAL_METRICS, SemanticEvalResultError } from './semantic-eval.js';
import { writeSummary, type RunSummary, type TaskError, type TaskKind, type TaskRecord } from './summary.js';

export type Phase = 'bench' | 'semantic_eval' | 'lm_eval' | 'bfcl';

/** What the run needs of a started server or topology. */
interface LiveServer {
  readonly url: string;
  rejectOnExit(): Promise<never>;
  stop(): Promise<void>;
}

export interface OrchestrateOptions {
  context: RunContext;
  reporter: Reporter;
  signal: AbortSignal;
  /** Phases to run (`--only`). */
  phases: ReadonlySet<Phase>;
  /** Concurrent accuracy tasks. */
  jobs: number;
  /** Explicit env for lm_eval and BFCL (never the server env, D18). */
  toolEnv: Record<string, string>;
  ingest: IngestBridge;
  /** Absolute deadline (ms since epoch) for every tool, so internal timeouts fire before Buildkite's. */
  deadline: number;
  /** Print every tool output line (default: only the server log and the upstream console lines). */
  verbose: boolean;
  /** Called with the summary after every change (annotations, tests). */
  onSummary?: (summary: RunSummary) => void;
}

function taskError(error: unknown): TaskError {
  if (error instanceof ToolError) return { code: error.code, message: error.message, tail: [...error.outputTail].slice(-40) };
  if (error instanceof SemanticEvalResultError && error.outputTail.length > 0) return { code: error.code, message: error.message, tail: [...error.outputTail].slice(-40) };
  if (isPerfEvalError(error)) return { code: error.code, message: error.message };
  return { code: 'E_INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

const now = (): string => new Date().toISOString();

function pickDefined(env: Readonly<Record<string, string>>, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) if (env[name] !== undefined) out[name] = env[name] as string;
  return out;
}

export class Orchestrator {
  readonly summary: RunSummary;
  private server: LiveServer | undefined;
  private topology: TopologyHandle | undefined;
  /** Aborted when the user cancels or the server dies; every tool watches it. */
  private readonly stopAll = new AbortController();
  private serverFailure: TaskError | undefined;
  /** Summary writes are queued so a slower, older snapshot can never land after a newer one. */
  private saving: Promise<void> = Promise.resolve();
  /** Masked in every summary snapshot: error messages and tails may quote what a tool printed. */
  private readonly secrets: string[];

  constructor(private readonly options: OrchestrateOptions) {
    const { workload } = options.context;
    this.summary = {
      version: 1,
      workload: workload.name,
      recipe: workload.path,
      gpu: workload.gpu,
      model: workload.server.model,
      image: workload.server.image,
      vllmCommit: workload.server.vllmCommit,
      runtime: options.context.serverUrl ? 'external' : workload.server.runtime,
      status: 'running',
      startedAt: now(),
      server: { status: 'not-started' },
      tasks: [],
      ingest: options.ingest.summary(),
    };
    const { BUILDKITE_BUILD_URL: buildUrl, BUILDKITE_BUILD_NUMBER: buildNumber } = options.context.env;
    this.summary.identity = { gpuCount: workload.numGpus, ...(buildUrl ? { buildUrl } : {}), ...(buildNumber ? { buildNumber } : {}) };
    if (workload.variant) this.summary.variant = workload.variant;
    this.secrets = runSecrets(options.context);
    const onAbort = (): void => this.stopAll.abort(options.signal.reason);
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener('abort', onAbort, { once: true });
  }

  private get resultsDir(): string {
    return this.options.context.resultsDir;
  }

  private save(): Promise<void> {
    this.summary.ingest = this.options.ingest.summary();
    const snapshot = scrubValues(structuredClone(this.summary), this.secrets);
    this.saving = this.saving.then(() => writeSummary(this.resultsDir, snapshot));
    this.options.onSummary?.(snapshot);
    return this.saving;
  }

  private addTask(kind: TaskKind, name: string): TaskRecord {
    const record: TaskRecord = { id: `${kind}:${name}`, kind, name, status: 'pending', metrics: {}, files: [] };
    this.summary.tasks.push(record);
    return record;
  }

  private remainingMs(): number {
    return Math.max(1000, this.options.deadline - Date.now());
  }

  private print = (line: string): void => this.options.reporter.line(line);

  private toolOutput(prefix: string): ((line: string) => void) | undefined {
    return this.options.verbose ? (line: string) => this.options.reporter.line(`[${prefix}] ${line}`) : undefined;
  }

  /** Runs one task with bookkeeping; failures are recorded, never thrown (except cancellation). */
  private async runTask(record: TaskRecord, body: () => Promise<void>): Promise<void> {
    if (this.stopAll.signal.aborted) {
      record.status = interruptionOf(this.stopAll.signal) ? 'cancelled' : 'skipped';
      record.reason = this.serverFailure ? 'server died before this task started' : 'run cancelled';
      return;
    }
    const started = Date.now();
    record.status = 'running';
    record.startedAt = now();
    this.options.reporter.taskStarted(record.id);
    await this.save();
    try {
      await body();
      record.status = 'ok';
    } catch (error) {
      if (interruptionOf(this.stopAll.signal)) {
        record.status = 'cancelled';
        record.reason = 'run cancelled';
      } else {
        record.status = 'failed';
        record.error = this.serverFailure && this.stopAll.signal.aborted ? { ...this.serverFailure, message: `server died: ${this.serverFailure.message}` } : taskError(error);
      }
    } finally {
      record.finishedAt = now();
      record.durationS = (Date.now() - started) / 1000;
      this.options.reporter.taskFinished(record.id, record.status === 'ok', record.error ? `— ${record.error.message}` : '');
      if (record.status === 'failed' && record.error?.tail?.length) {
        this.options.reporter.group('^^^ +++');
        this.options.reporter.error(`+++ :rotating_light: ${record.id} failed\n${record.error.message}\n${record.error.tail.map((l) => `  | ${l}`).join('\n')}`);
      }
      await this.save();
    }
  }

  private watchServer(handle: LiveServer): void {
    handle.rejectOnExit().catch((error: unknown) => {
      this.serverFailure = taskError(error);
      this.markRoleFailed(error);
      const diagnosis = (error as { diagnosis?: { summary?: string; kind?: string } }).diagnosis;
      this.summary.server.status = 'failed';
      this.summary.server.error = this.serverFailure;
      if (diagnosis) this.summary.server.diagnosis = diagnosis.summary ?? diagnosis.kind;
      this.options.reporter.error(`vLLM server died during the run: ${this.serverFailure.message}`);
      this.stopAll.abort(error);
    });
  }

  /** Disaggregated: the role whose process died (`ServerExitedError.role`, or the proxy). */
  private markRoleFailed(error: unknown): void {
    const roles = this.summary.server.roles;
    if (!roles) return;
    const role = (error as { code?: string }).code?.startsWith('E_SERVER_PROXY') ? 'proxy' : (error as { role?: string }).role;
    const entry = role ? roles[role] : undefined;
    if (entry) entry.status = 'failed';
  }

  private async startTopology(): Promise<void> {
    const { context } = this.options;
    const spec = topologySpec(context);
    const roles: NonNullable<RunSummary['server']['roles']> = {};
    for (const server of spec.servers) roles[server.role] = { status: 'starting', port: server.port, logFile: server.logFile };
    if (spec.proxy) roles['proxy'] = { status: 'starting', port: spec.proxy.port, logFile: spec.proxy.logFile };
    this.summary.server.roles = roles;
    this.summary.server.status = 'starting';
    await this.save();
    const started = Date.now();
    try {
      this.topology = await startTopology(spec, {
        signal: this.stopAll.signal,
        print: this.print,
        printError: (line) => this.options.reporter.error(line),
        onLine: (line) => this.options.reporter.line(line),
      });
    } catch (error) {
      this.summary.server.status = 'failed';
      this.summary.server.error = taskError(error);
      const diagnosis = (error as { diagnosis?: { summary?: string; kind?: string } }).diagnosis;
      if (diagnosis) this.summary.server.diagnosis = diagnosis.summary ?? diagnosis.kind;
      this.markRoleFailed(error);
      // startTopology has stopped everything it launched.
      for (const entry of Object.values(roles)) if (entry.status === 'starting') entry.status = 'stopped';
      throw error;
    }
    this.server = this.topology;
    for (const member of this.topology.members) {
      const entry = roles[member.role];
      if (entry) Object.assign(entry, { status: 'ready', url: member.handle.url, ...(member.handle.pid !== undefined ? { pid: member.handle.pid } : {}) });
    }
    if (roles['proxy']) Object.assign(roles['proxy'], { status: 'ready', url: this.topology.url, ...(this.topology.proxyPid !== undefined ? { pid: this.topology.proxyPid } : {}) });
    this.summary.server.status = 'ready';
    this.summary.server.url = this.topology.url;
    this.summary.server.readyAfterS = (Date.now() - started) / 1000;
    this.watchServer(this.topology);
    await this.save();
  }

  private async startServer(): Promise<void> {
    const { context } = this.options;
    if (isDisaggregated(context)) return this.startTopology();
    const spec = serverSpec(context);
    this.summary.server.status = 'starting';
    await this.save();
    const started = Date.now();
    try {
      this.server = await startServer(spec, {
        signal: this.stopAll.signal,
        print: this.print,
        printError: (line) => this.options.reporter.error(line),
        onLine: (line) => this.options.reporter.line(`[vllm] ${line}`),
      });
    } catch (error) {
      this.summary.server.status = 'failed';
      this.summary.server.error = taskError(error);
      const diagnosis = (error as { diagnosis?: { summary?: string; kind?: string } }).diagnosis;
      if (diagnosis) this.summary.server.diagnosis = diagnosis.summary ?? diagnosis.kind;
      if ((error as ToolError).outputTail === undefined) {
        const tail = (error as { tail?: string[] }).tail;
        if (tail) this.summary.server.error.tail = tail.slice(-40);
      }
      throw error;
    }
    this.summary.server.status = 'ready';
    this.summary.server.url = this.server.url;
    this.summary.server.readyAfterS = (Date.now() - started) / 1000;
    this.watchServer(this.server);
    await this.save();
  }

  private async benchPhase(): Promise<void> {
    const { context } = this.options;
    const inContainer = context.workload.server.runtime === 'docker' && !context.serverUrl;
    for (const plan of benchPlans(context)) {
      const record = this.addTask('bench', plan.spec.runName);
      await this.runTask(record, async () => {
        const outcome = await runBench(plan.spec, {
          resultsDir: this.resultsDir,
          target: benchTarget(context),
          executor: inContainer
            ? { kind: 'docker', container: serverSpec(context).containerName, docker: context.tools.docker }
            : { kind: 'native', command: context.tools.vllm },
          // Inside the server container the bench keeps the image's own environment (upstream);
          // only credentials cross over, by name.
          env: inContainer ? pickDefined(this.options.toolEnv, ['HF_TOKEN', 'OPENAI_API_KEY']) : this.options.toolEnv,
          signal: this.stopAll.signal,
          timeoutMs: this.remainingMs(),
          print: this.print,
          onOutput: this.toolOutput(`bench:${plan.spec.runName}`),
        });
        record.files = [outcome.resultFile, ...outcome.repetitionFiles.filter((f) => f !== outcome.resultFile)];
        const r = outcome.result as Record<string, unknown>;
        for (const key of ['output_throughput', 'total_token_throughput', 'mean_ttft_ms', 'mean_tpot_ms', 'completed', 'failed']) {
          if (typeof r[key] === 'number') record.metrics[key] = r[key] as number;
        }
        await this.options.ingest.perf(plan, outcome.resultFile);
      });
    }
  }

  /** After the bench, on the same server (CloudAI's order): the semantic eval command, then its result. */
  private async semanticEvalPhase(): Promise<void> {
    const { context } = this.options;
    const plan = semanticEvalPlan(context);
    if (!plan) return;
    const record = this.addTask('semantic_eval', plan.name);
    await this.runTask(record, async () => {
      const result = await runSemanticEval(plan, {
        env: this.options.toolEnv,
        signal: this.stopAll.signal,
        remainingMs: this.remainingMs(),
        secrets: secretValuesOf(this.options.toolEnv),
        onLine: this.toolOutput(`semantic_eval:${plan.name}`),
      });
      record.files = [plan.outputPath];
      for (const key of SEMANTIC_EVAL_METRICS) record.metrics[key] = result[key];
    });
  }

  private accuracyTasks(): Array<{ record: TaskRecord; body: () => Promise<void> }> {
    const { context } = this.options;
    const tasks: Array<{ record: TaskRecord; body: () => Promise<void> }> = [];
    if (this.options.phases.has('lm_eval')) {
      for (const plan of lmEvalPlans(context)) {
        const record = this.addTask('lm_eval', plan.spec.task);
        tasks.push({
          record,
          body: async () => {
            const outcome = await runLmEval(plan.spec, {
              command: context.tools.lmEval,
              env: this.options.toolEnv,
              signal: this.stopAll.signal,
              timeoutMs: this.remainingMs(),
              print: this.print,
              ...(this.options.verbose ? { onOutput: (line: string) => this.options.reporter.line(`[lm_eval:${plan.spec.task}] ${line}`) } : {}),
            });
            record.files = outcome.createdFiles;
            for (const metric of metricsOf(outcome.results, plan.spec.task)) {
              record.metrics[`${metric.metric},${metric.filter}`] = metric.value;
            }
            await this.options.ingest.lmEval(plan.spec.task, plan.spec.outputPath, outcome.createdFiles);
          },
        });
      }
    }
    if (this.options.phases.has('bfcl')) {
      for (const row of context.workload.bfcl) {
        const record = this.addTask('bfcl', row.category);
        tasks.push({
          record,
          body: async () => {
            const spec = {
              category: row.category,
              model: context.workload.server.model,
              baseUrl: serverBaseUrl(context),
              numThreads: row.numThreads,
              temperature: row.temperature,
              resultsDir: this.resultsDir,
              ...(row.maximumStepLimit !== undefined ? { maximumStepLimit: row.maximumStepLimit } : {}),
              ...(row.maxTestCases !== undefined ? { maxTestCases: row.maxTestCases } : {}),
            };
            const outcome = await runBfcl(spec, {
              python: context.tools.bfclPython,
              env: this.options.toolEnv,
              signal: this.stopAll.signal,
              timeoutMs: this.remainingMs(),
              print: this.print,
              ...(this.options.verbose ? { onOutput: (line: string) => this.options.reporter.line(`[bfcl:${row.category}] ${line}`) } : {}),
            });
            record.files = outcome.writtenFiles;
            for (const score of outcome.scores) record.metrics[`accuracy:${score.category}`] = score.accuracy;
            await this.options.ingest.bfcl(
              outcome.scores.map((s) => s.category),
              outcome.writtenFiles,
            );
          },
        });
      }
    }
    return tasks;
  }

  /** Runs the whole workload. Always tears the server down. Returns the final summary. */
  async run(): Promise<RunSummary> {
    const started = Date.now();
    await mkdir(this.resultsDir, { recursive: true });
    const { phases, context } = this.options;
    try {
      await this.startServer();
      if (phases.has('bench')) await this.benchPhase();
      if (benchOnly(context)) {
        this.options.reporter.group('--- :stopwatch: BENCH_ONLY set; skipping lm_eval and bfcl tasks');
        if (context.workload.semanticEval) this.options.reporter.line('BENCH_ONLY: the semantic eval (an accuracy check) is skipped too');
      } else {
        if (phases.has('semantic_eval')) await this.semanticEvalPhase();
        const tasks = this.accuracyTasks();
        const { runPool } = await import('./pool.js');
        await runPool(tasks, this.options.jobs, ({ record, body }) => this.runTask(record, body));
      }
    } catch (error) {
      if (!this.summary.server.error && !interruptionOf(this.stopAll.signal)) this.summary.server.error = taskError(error);
    } finally {
      if (this.server) {
        await this.server.stop().catch((error: unknown) => this.options.reporter.error(`teardown: ${(error as Error).message}`));
        if (this.summary.server.status === 'ready') this.summary.server.status = 'stopped';
        for (const entry of Object.values(this.summary.server.roles ?? {})) if (entry.status === 'ready') entry.status = 'stopped';
      }
      const cancelled = interruptionOf(this.stopAll.signal) !== undefined;
      for (const record of this.summary.tasks) {
        if (record.status === 'pending' || record.status === 'running') {
          record.status = cancelled ? 'cancelled' : 'skipped';
          record.reason ??= cancelled ? 'run cancelled' : 'server not available';
        }
      }
      const failed = this.summary.server.status === 'failed' || this.summary.tasks.some((t) => t.status === 'failed' || t.status === 'skipped');
      this.summary.status = cancelled ? 'cancelled' : failed ? 'failed' : 'ok';
      this.summary.finishedAt = now();
      this.summary.durationS = (Date.now() - started) / 1000;
      await this.options.ingest.finish();
      await this.save();
      this.options.reporter.close();
    }
    return scrubValues(this.summary, this.secrets);
  }
}

export function resultsDirFor(root: string, name: string): string {
  return join(root, name);
}
