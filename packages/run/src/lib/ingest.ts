/**
 * The run's single ingestion call site. Every produced result becomes an ingest-plan item
 * (`results/<name>/.ingest/plan.json`, for `perf-eval ingest` later) and, when a token is present,
 * is delivered right away through the outbox. Ingestion never fails the run unless `strict`.
 * Items come from the RunPlan (perf rows) and from the adapters' own file lists (lm_eval, BFCL).
 */
import { join, relative, resolve } from 'node:path';
import {
  createTransport,
  formatPerfDate,
  ingestEvalDir,
  ingestPerfRun,
  outboxDirOf,
  pickPayloadEnv,
  writeIngestPlan,
  type IngestContext,
  type IngestPlanItem,
  type IngestReport,
  type IngestTransport,
} from '@perf-eval/ingest';
import type { PlannedPerfIngest, RunPlan } from './plan.js';
import type { IngestSummary } from './summary.js';

/** The ingest functions a run calls (injectable: tests use the real ones against 127.0.0.1 or fakes). */
export interface IngestAdapter {
  createTransport: typeof createTransport;
  ingestPerfRun: typeof ingestPerfRun;
  ingestEvalDir: typeof ingestEvalDir;
  writeIngestPlan: typeof writeIngestPlan;
}

export const realIngestAdapter: IngestAdapter = {
  createTransport,
  ingestPerfRun,
  ingestEvalDir,
  writeIngestPlan,
};

export interface RunIngestOptions {
  plan: RunPlan;
  adapter: IngestAdapter;
  env: Readonly<Record<string, string | undefined>>;
  print: (line: string) => void;
  signal: AbortSignal;
  /** Clock (ms since epoch) for the dates in the plan; default `Date.now`. */
  now?: () => number;
}

export class RunIngest {
  private readonly items: IngestPlanItem[] = [];
  private readonly state: IngestSummary;
  private readonly transport: IngestTransport | undefined;
  private readonly ingestContext: IngestContext;
  private readonly outboxDir: string;
  private queue: Promise<void> = Promise.resolve();
  /** The run's start, recorded in the plan so a later re-ingest posts it, not the re-ingest time. */
  private readonly runDate: Date;

  constructor(private readonly options: RunIngestOptions) {
    const { ingest } = options.plan;
    this.runDate = new Date((options.now ?? Date.now)());
    this.state = { enabled: ingest.enabled, posted: 0, failed: 0, failures: [] };
    if (ingest.reason) this.state.reason = ingest.reason;
    this.ingestContext = { ...ingest.context, env: options.env };
    this.outboxDir = outboxDirOf(options.plan.resultsDir);
    if (ingest.enabled)
      this.transport = options.adapter.createTransport({ env: options.env, signal: options.signal });
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
  private deliver(job: (transport: IngestTransport) => Promise<IngestReport>): void {
    const transport = this.transport;
    if (!transport) return;
    this.queue = this.queue.then(async () => {
      try {
        this.record(await job(transport));
      } catch (error) {
        this.state.failed++;
        this.state.failures.push((error as Error).message);
      }
    });
  }

  private rel(path: string): string {
    return relative(resolve(this.options.plan.resultsDir), resolve(path));
  }

  /** A finished bench run: its planned perf row, from the result file bench-runner wrote. */
  perf(item: PlannedPerfIngest): void {
    const file = join(this.options.plan.resultsDir, item.file);
    // The time the bench finished (upstream posts at that moment); kept in the plan for re-ingests.
    const meta = { ...item.meta, date: formatPerfDate(new Date((this.options.now ?? Date.now)())) };
    this.items.push({ kind: 'perf', runName: item.runName, file: item.file, meta });
    const { adapter, print } = this.options;
    this.deliver((transport) =>
      adapter.ingestPerfRun({
        context: this.ingestContext,
        file,
        meta,
        outboxDir: this.outboxDir,
        transport,
        print,
      }),
    );
  }

  /**
   * A finished eval task: `files` are the adapter's own result files (lm_eval's results and
   * samples files; BFCL's written files under `dir`), relative to `dir` in the plan.
   */
  eval(task: string, dir: string, files: readonly string[], samples: boolean): void {
    const relFiles = files.map((file) => relative(resolve(dir), resolve(file)));
    this.items.push({ kind: 'eval', task, dir: this.rel(dir), files: relFiles, samples });
    const { adapter, print } = this.options;
    this.deliver((transport) =>
      adapter.ingestEvalDir({
        context: this.ingestContext,
        task,
        dir,
        files: relFiles,
        samples,
        outboxDir: this.outboxDir,
        transport,
        print,
      }),
    );
  }

  /** Wait for deliveries in flight and write the ingest plan (throws when it cannot be written). */
  async finish(): Promise<void> {
    await this.queue;
    await this.options.adapter.writeIngestPlan(this.options.plan.resultsDir, {
      version: 1,
      context: {
        ...this.options.plan.ingest.context,
        env: pickPayloadEnv(this.options.env),
        date: this.runDate.toISOString(),
      },
      items: this.items,
    });
  }
}
