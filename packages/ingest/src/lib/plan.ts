import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { writeJsonAtomic } from '@perf-eval/util';
import { Delivery } from './delivery.js';
import type { IngestReport } from './delivery.js';
import { IngestPlanInvalidError, IngestPlanMissingError } from './errors.js';
import { runItems } from './ingest.js';
import type { IngestEvalDirOptions, IngestPerfRunOptions } from './ingest.js';
import { PAYLOAD_ENV_VARS } from './metadata.js';
import type { IngestContext, IngestEnv } from './metadata.js';
import { formatPerfDate } from './perf-row.js';
import type { PerfMeta } from './perf-row.js';
import type { IngestTransport } from './transport.js';

/** `.ingest/plan.json` of a results dir: everything needed to post its payloads again. */
export interface IngestPlan {
  version: 1;
  context: {
    workload: string;
    image?: string | undefined;
    vllmCommit?: string | undefined;
    /** The payload-affecting variables at run time (BUILDKITE_*, NIGHTLY); never secrets. */
    env?: Record<string, string> | undefined;
    /**
     * When the run started (ISO 8601). A re-ingest posts perf rows without their own `meta.date`
     * with this date, not the re-ingest time. Plans written before it existed have none.
     */
    date?: string | undefined;
  };
  items: IngestPlanItem[];
}

export interface IngestPlanEvalItem {
  kind: 'eval';
  task: string;
  /** Relative to the results dir, e.g. `gsm8k` or `bfcl-simple_python`. */
  dir: string;
  /** Relative to `dir`: only these files (D33). */
  files?: string[] | undefined;
  samples: boolean;
}

export interface IngestPlanPerfItem {
  kind: 'perf';
  runName: string;
  /** Relative to the results dir, e.g. `bench-8k-in-1k-out-conc-128.json`. */
  file: string;
  meta: PerfMeta;
}

export type IngestPlanItem = IngestPlanEvalItem | IngestPlanPerfItem;

export const PLAN_FILE = join('.ingest', 'plan.json');
export const OUTBOX_DIR = join('.ingest', 'outbox');

/** `<resultsDir>/.ingest/plan.json` */
export function planPathOf(resultsDir: string): string {
  return join(resultsDir, PLAN_FILE);
}

/** `<resultsDir>/.ingest/outbox` */
export function outboxDirOf(resultsDir: string): string {
  return join(resultsDir, OUTBOX_DIR);
}

/** The payload-affecting variables of an environment, for `plan.context.env`. */
export function pickPayloadEnv(env: IngestEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PAYLOAD_ENV_VARS) {
    const value = env[name];
    if (value) out[name] = value;
  }
  return out;
}

type Json = Record<string, unknown>;

class PlanValidator {
  constructor(private readonly file: string) {}

  fail(field: string, detail: string): never {
    throw new IngestPlanInvalidError(this.file, field, detail);
  }

  object(value: unknown, field: string, allowed: readonly string[]): Json {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      this.fail(field, 'must be an object');
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) this.fail(field ? `${field}.${key}` : key, 'is not a known field');
    }
    return value as Json;
  }

  string(
    value: unknown,
    field: string,
    options: { optional?: boolean; nonEmpty?: boolean } = {},
  ): string | undefined {
    if (value === undefined && options.optional) return undefined;
    if (typeof value !== 'string') this.fail(field, value === undefined ? 'is required' : 'must be a string');
    if (options.nonEmpty && value.trim() === '') this.fail(field, 'must not be empty');
    return value;
  }

  relativePath(value: unknown, field: string): string {
    const path = this.string(value, field, { nonEmpty: true }) as string;
    if (isAbsolute(path) || path.split(/[\\/]/).includes('..'))
      this.fail(field, `must be a relative path inside the results dir, got ${JSON.stringify(path)}`);
    return path;
  }

  int(value: unknown, field: string, min: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value))
      this.fail(field, value === undefined ? 'is required' : 'must be an integer');
    if (value < min) this.fail(field, `must be >= ${min}`);
    return value;
  }

  boolean(value: unknown, field: string): boolean {
    if (typeof value !== 'boolean')
      this.fail(field, value === undefined ? 'is required' : 'must be a boolean');
    return value;
  }
}

/** Validate an untyped plan; errors name `file` and the field (`items[1].meta.tp`). */
export function validateIngestPlan(value: unknown, file = '<plan>'): IngestPlan {
  const v = new PlanValidator(file);
  const root = v.object(value, '', ['version', 'context', 'items']);
  if (root['version'] !== 1) v.fail('version', `must be 1, got ${JSON.stringify(root['version'])}`);
  const ctx = v.object(root['context'], 'context', ['workload', 'image', 'vllmCommit', 'env', 'date']);
  const context: IngestPlan['context'] = {
    workload: v.string(ctx['workload'], 'context.workload', { nonEmpty: true }) as string,
  };
  const image = v.string(ctx['image'], 'context.image', { optional: true });
  if (image !== undefined) context.image = image;
  const vllmCommit = v.string(ctx['vllmCommit'], 'context.vllmCommit', { optional: true });
  if (vllmCommit !== undefined) context.vllmCommit = vllmCommit;
  const date = v.string(ctx['date'], 'context.date', { optional: true });
  if (date !== undefined) {
    if (!/^\d{4}-\d{2}-\d{2}T/.test(date) || Number.isNaN(Date.parse(date)))
      v.fail(
        'context.date',
        `must be an ISO 8601 time like '2026-08-20T01:02:03.000Z', got ${JSON.stringify(date)}`,
      );
    context.date = date;
  }
  if (ctx['env'] !== undefined) {
    const env = v.object(ctx['env'], 'context.env', PAYLOAD_ENV_VARS);
    const out: Record<string, string> = {};
    for (const [key, val] of Object.entries(env)) out[key] = v.string(val, `context.env.${key}`) as string;
    context.env = out;
  }
  if (!Array.isArray(root['items']))
    v.fail('items', root['items'] === undefined ? 'is required' : 'must be an array');
  const items: IngestPlanItem[] = (root['items'] as unknown[]).map((raw, index) => {
    const at = `items[${index}]`;
    const kind = (raw as Json | null)?.['kind'];
    if (kind === 'eval') {
      const item = v.object(raw, at, ['kind', 'task', 'dir', 'files', 'samples']);
      const evalItem: IngestPlanEvalItem = {
        kind: 'eval',
        task: v.string(item['task'], `${at}.task`, { nonEmpty: true }) as string,
        dir: v.relativePath(item['dir'], `${at}.dir`),
        samples: v.boolean(item['samples'], `${at}.samples`),
      };
      if (item['files'] !== undefined) {
        if (!Array.isArray(item['files'])) v.fail(`${at}.files`, 'must be an array of paths');
        evalItem.files = (item['files'] as unknown[]).map((f, i) => v.relativePath(f, `${at}.files[${i}]`));
      }
      return evalItem;
    }
    if (kind === 'perf') {
      const item = v.object(raw, at, ['kind', 'runName', 'file', 'meta']);
      const m = v.object(item['meta'], `${at}.meta`, [
        'device',
        'tp',
        'precision',
        'model',
        'isl',
        'osl',
        'conc',
        'date',
      ]);
      const meta: PerfMeta = {
        device: v.string(m['device'], `${at}.meta.device`, { nonEmpty: true }) as string,
        tp: v.int(m['tp'], `${at}.meta.tp`, 0),
        precision: v.string(m['precision'], `${at}.meta.precision`, { nonEmpty: true }) as string,
        model: v.string(m['model'], `${at}.meta.model`, { nonEmpty: true }) as string,
        isl: v.int(m['isl'], `${at}.meta.isl`, 1),
        osl: v.int(m['osl'], `${at}.meta.osl`, 1),
        conc: v.int(m['conc'], `${at}.meta.conc`, 1),
      };
      const date = v.string(m['date'], `${at}.meta.date`, { optional: true });
      if (date !== undefined) {
        if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(date))
          v.fail(`${at}.meta.date`, `must be 'YYYY-MM-DD HH:MM:SS', got ${JSON.stringify(date)}`);
        meta.date = date;
      }
      return {
        kind: 'perf',
        runName: v.string(item['runName'], `${at}.runName`, { nonEmpty: true }) as string,
        file: v.relativePath(item['file'], `${at}.file`),
        meta,
      };
    }
    return v.fail(`${at}.kind`, `must be 'eval' or 'perf', got ${JSON.stringify(kind)}`);
  });
  return { version: 1, context, items };
}

/** Validate and write `<dir>/.ingest/plan.json` atomically. */
export async function writeIngestPlan(dir: string, plan: IngestPlan): Promise<string> {
  const file = planPathOf(dir);
  const valid = validateIngestPlan(plan, file);
  await writeJsonAtomic(file, valid);
  return file;
}

/** Read and validate `<dir>/.ingest/plan.json`. */
export async function readIngestPlan(dir: string): Promise<IngestPlan> {
  const file = planPathOf(dir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new IngestPlanMissingError(file, { cause: error });
    throw new IngestPlanInvalidError(file, '', `cannot be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new IngestPlanInvalidError(file, '', `is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return validateIngestPlan(value, file);
}

export interface IngestPlanOptions {
  /** `results/<name>`: item paths are relative to it; `source_file` values start with it. */
  resultsDir: string;
  transport: IngestTransport;
  dryRun?: boolean | undefined;
  strict?: boolean | undefined;
  print?: ((line: string) => void) | undefined;
  writeOut?: ((line: Uint8Array) => void | Promise<void>) | undefined;
  /** Payload env (BUILDKITE_*, NIGHTLY); default: the plan's recorded `context.env`. */
  env?: IngestEnv | undefined;
  /** Sample batch limit in bytes (default 4 MiB). */
  samplesLimitBytes?: number | undefined;
  now?: (() => Date) | undefined;
  /**
   * The run's date for perf rows without their own `meta.date`; default: the plan's `context.date`,
   * else the ingest time (`now`). Callers that know better for old plans (a summary's start time)
   * pass it here.
   */
  date?: Date | undefined;
}

/** Re-post every item of a plan: one token check, one outbox (`<resultsDir>/.ingest/outbox`), one aggregated report. */
export async function ingestPlan(plan: IngestPlan, options: IngestPlanOptions): Promise<IngestReport> {
  const outboxDir = outboxDirOf(options.resultsDir);
  const shared = {
    outboxDir,
    transport: options.transport,
    dryRun: options.dryRun,
    strict: options.strict,
    print: options.print,
    writeOut: options.writeOut,
    now: options.now,
  };
  const delivery = new Delivery(shared);
  delivery.checkToken();
  const context: IngestContext = {
    workload: plan.context.workload,
    image: plan.context.image,
    vllmCommit: plan.context.vllmCommit,
    env: options.env ?? plan.context.env ?? {},
  };
  const runDate = options.date ?? (plan.context.date === undefined ? undefined : new Date(plan.context.date));
  const items = plan.items.map((item) =>
    item.kind === 'eval'
      ? {
          kind: 'eval' as const,
          options: {
            ...shared,
            context,
            task: item.task,
            dir: join(options.resultsDir, item.dir),
            files: item.files,
            samples: item.samples,
            samplesLimitBytes: options.samplesLimitBytes,
          } satisfies IngestEvalDirOptions,
        }
      : {
          kind: 'perf' as const,
          options: {
            ...shared,
            context,
            file: join(options.resultsDir, item.file),
            meta:
              item.meta.date === undefined && runDate !== undefined
                ? { ...item.meta, date: formatPerfDate(runDate) }
                : item.meta,
          } satisfies IngestPerfRunOptions,
        },
  );
  await runItems(delivery, items);
  // Leftovers of an earlier failed delivery that this run has now delivered leave the outbox, so a
  // later --replay posts nothing again.
  const pruned = await delivery.pruneDelivered();
  if (pruned > 0) delivery.print(`  ingest: removed ${pruned} delivered payload(s) from ${outboxDir}`);
  return delivery.finish();
}
