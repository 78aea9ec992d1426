/**
 * The run's single ingestion call site. Every produced result becomes an ingest-plan item
 * (`results/<name>/.ingest/plan.json`, for `perf-eval ingest` later) and, when a token is present,
 * is delivered right away through the outbox. Ingestion never fails the run unless `strict`.
 */
import { join, relative, resolve } from 'node:path';
import { isLmEvalOutputFile } from '@perf-eval/util';
import {
  createTransport,
  formatPerfDate,
  ingestEvalDir,
  ingestUrlProblems,
  ingestPerfRun,
  outboxDirOf,
  pickPayloadEnv,
  writeIngestPlan,
  type IngestContext,
  type IngestPlanItem,
  type IngestReport,
  type IngestTransport,
} from '@perf-eval/ingest';
import type { PlannedBench, RunContext } from './compose.js';
import type { IngestSummary } from './summary.js';

export interface IngestBridgeOptions {
  context: RunContext;
  /** Fail the run when ingestion fails (or the token is missing). */
  strict: boolean;
  /** Skip delivery entirely (`--no-ingest`); the plan is still written. */
  disabled: boolean;
  print: (line: string) => void;
  signal: AbortSignal;
}

export class IngestBridge {
  private readonly items: IngestPlanItem[] = [];
  private readonly state: IngestSummary;
  private readonly transport: IngestTransport | undefined;
  private readonly ingestContext: IngestContext;
  private readonly outboxDir: string;
  private queue: Promise<void> = Promise.resolve();
  /** The run's start, recorded in the plan so a later re-ingest posts it, not the re-ingest time. */
  private readonly runDate = new Date();

  constructor(private readonly options: IngestBridgeOptions) {
    const { context } = options;
    const token = context.env['INGEST_BEARER_TOKEN']?.trim();
    const enabled = !options.disabled && Boolean(token);
    this.state = { enabled, posted: 0, failed: 0, failures: [] };
    if (options.disabled) this.state.reason = '--no-ingest';
    else if (!token) this.state.reason = 'INGEST_BEARER_TOKEN is not set (results kept; deliver later with perf-eval ingest)';
    this.ingestContext = {
      workload: context.workload.name,
      image: context.workload.server.image,
      vllmCommit: context.workload.server.vllmCommit,
      env: context.env,
    };
    this.outboxDir = outboxDirOf(context.resultsDir);
    if (enabled) this.transport = createTransport({ env: context.env, signal: options.signal });
  }

  /** An INGEST_URL / PERF_INGEST_URL that is not an http(s) URL: refuse before any GPU time is spent. */
  get endpointProblems(): string[] {
    return this.options.disabled ? [] : ingestUrlProblems(this.options.context.env);
  }

  /** Missing token with `strict`: refuse before any GPU time is spent. */
  get preflightProblem(): string | undefined {
    return this.options.strict && !this.state.enabled && !this.options.disabled ? this.state.reason : undefined;
  }

  summary(): IngestSummary {
    return { ...this.state, failures: [...this.state.failures] };
  }

  private record(report: IngestReport): void {
    this.state.posted += report.posted;
    this.state.failed += report.failed;
    for (const failure of report.failures) this.state.failures.push(`${failure.item}: ${failure.message}`);
  }

  /** Deliveries run one at a time in the background so tasks never wait for the network. */
  private deliver(job: (transport: IngestTransport) => Promise<IngestReport>): Promise<void> {
    const transport = this.transport;
    if (!transport) return Promise.resolve();
    this.queue = this.queue.then(async () => {
      try {
        this.record(await job(transport));
      } catch (error) {
        this.state.failed++;
        this.state.failures.push((error as Error).message);
      }
    });
    return Promise.resolve();
  }

  private rel(path: string): string {
    return relative(resolve(this.options.context.resultsDir), resolve(path));
  }

  async perf(plan: PlannedBench, file: string): Promise<void> {
    const { workload } = this.options.context;
    const meta = {
      device: workload.perf.device,
      tp: workload.perf.tp,
      precision: workload.perf.precision,
      model: workload.server.model,
      isl: plan.spec.inputLen,
      osl: plan.spec.outputLen,
      conc: plan.spec.maxConcurrency,
      // The time the bench finished (upstream posts at that moment); kept for re-ingests.
      date: formatPerfDate(new Date()),
    };
    this.items.push({ kind: 'perf', runName: plan.spec.runName, file: this.rel(file), meta });
    await this.deliver((transport) =>
      ingestPerfRun({ context: this.ingestContext, file, meta, outboxDir: this.outboxDir, transport, print: this.options.print }),
    );
  }

  async lmEval(task: string, dir: string, files: readonly string[]): Promise<void> {
    const samples = !this.options.context.env['INGEST_NO_SAMPLES'];
    const relFiles = files.map((f) => relative(resolve(dir), resolve(f))).filter(isLmEvalOutputFile);
    this.items.push({ kind: 'eval', task, dir: this.rel(dir), files: relFiles, samples });
    await this.deliver((transport) =>
      ingestEvalDir({ context: this.ingestContext, task, dir, files: relFiles, samples, outboxDir: this.outboxDir, transport, print: this.options.print }),
    );
  }

  /** BFCL: one eval item per written category (group first), always without samples (upstream). */
  async bfcl(categories: readonly string[], writtenFiles: readonly string[]): Promise<void> {
    for (const category of categories) {
      const dir = join(this.options.context.resultsDir, `bfcl-${category}`);
      const files = writtenFiles.filter((f) => resolve(f).startsWith(`${resolve(dir)}/`)).map((f) => relative(resolve(dir), resolve(f)));
      this.items.push({ kind: 'eval', task: `bfcl_${category}`, dir: this.rel(dir), files, samples: false });
      await this.deliver((transport) =>
        ingestEvalDir({ context: this.ingestContext, task: `bfcl_${category}`, dir, files, samples: false, outboxDir: this.outboxDir, transport, print: this.options.print }),
      );
    }
  }

  /** Wait for deliveries in flight and write the ingest plan. */
  async finish(): Promise<void> {
    await this.queue;
    await writeIngestPlan(this.options.context.resultsDir, {
      version: 1,
      context: {
        workload: this.ingestContext.workload,
        image: this.ingestContext.image,
        vllmCommit: this.ingestContext.vllmCommit,
        env: pickPayloadEnv(this.options.context.env),
        date: this.runDate.toISOString(),
      },
      items: this.items,
    });
  }
}
