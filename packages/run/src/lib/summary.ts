/**
 * `results/<name>/summary.json` and `summary.md`: per task status, timings, key metrics and error.
 * Rewritten atomically after every task, so a crash or cancel leaves an accurate partial summary.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { ValidityFlag } from '@perf-eval/bench-runner';
import type { ServerView } from '@perf-eval/server-lifecycle';
import { writeFileAtomic, writeJsonAtomic } from '@perf-eval/util';
import { describeGpuTime, type GpuAccounting, type TimelinePhase } from './timeline.js';
import { renderVerdictMarkdown, type Comparison, type GateResult } from '@perf-eval/verdicts';

export type TaskKind = 'bench' | 'lm_eval' | 'bfcl' | 'semantic_eval';
export type TaskStatus = 'pending' | 'running' | 'ok' | 'failed' | 'skipped' | 'cancelled';

export interface TaskError {
  code: string;
  message: string;
  /** Last lines of the tool's output, when the tool failed. */
  tail?: string[];
}

export interface TaskRecord {
  id: string;
  kind: TaskKind;
  name: string;
  status: TaskStatus;
  startedAt?: string;
  finishedAt?: string;
  durationS?: number;
  /** Headline numbers: throughput/latency for bench, metric values for lm_eval, accuracy for BFCL. */
  metrics: Record<string, number | null>;
  /** Result files this task produced (absolute paths). */
  files: string[];
  error?: TaskError;
  /** Why a task did not run. */
  reason?: string;
  /** Bench: each repetition's cache reset, the server's view of it (`/metrics`) and its validity flags. */
  repetitions?: BenchRepetitionRecord[];
  /** Bench: the validity flags of every repetition (an `invalid` one keeps the result out of verdicts). */
  validity?: ValidityFlag[];
}

export interface BenchRepetitionRecord {
  repetition: number;
  /** The result file of this repetition. */
  file: string;
  /** Whether the server's caches were reset right before it, and why not. */
  cacheReset: { reset: boolean; reason?: string };
  /** Aggregates of `/metrics` sampled while it ran; null when nothing could be sampled. */
  server: ServerView | null;
  validity: ValidityFlag[];
}

export interface RoleStatus {
  status: 'starting' | 'ready' | 'failed' | 'stopped';
  port: number;
  url?: string;
  pid?: number;
  logFile: string;
}

export interface IngestSummary {
  enabled: boolean;
  reason?: string;
  posted: number;
  failed: number;
  failures: string[];
}

/** Run identity beyond the recipe fields, read back by @perf-eval/results to decide comparability. */
export interface RunIdentityExtra {
  /** sha256 of the recipe file. */
  recipeHash?: string;
  gpuCount?: number;
  /** `vllm serve` arguments of the recipe (no port). */
  serveArgs?: string[];
  buildNumber?: string;
  buildUrl?: string;
  nightly?: boolean;
}

export interface RunSummary {
  version: 1;
  workload: string;
  recipe: string;
  gpu: string;
  model: string;
  image: string;
  vllmCommit: string;
  runtime: string;
  status: 'running' | 'ok' | 'failed' | 'cancelled';
  startedAt: string;
  finishedAt?: string;
  durationS?: number;
  server: {
    status: 'not-started' | 'starting' | 'ready' | 'failed' | 'stopped';
    url?: string;
    readyAfterS?: number;
    version?: string;
    error?: TaskError;
    diagnosis?: string;
    /** Disaggregated runs: every launched process (prefill, decode, proxy) by role. */
    roles?: Record<string, RoleStatus>;
  };
  /** Which binary played which role (server, bench client, lm_eval, BFCL Python, docker) and where it came from. */
  tools?: ToolRolesRecord;
  /** Sweep variant of this run (`--variant`). */
  variant?: { name: string; baseName: string; settings: Record<string, string> };
  tasks: TaskRecord[];
  ingest: IngestSummary;
  /** Tool provisioning or preflight that ran during the server launch and failed (no task ran). */
  prepareError?: TaskError;
  /** What the GPUs were doing, phase by phase (start order). */
  timeline?: TimelinePhase[];
  /** The step's GPU time: held, measuring, and the idle rest by cause (parts add up to `heldS`). */
  gpuTime?: GpuAccounting;
  /** Files the run could not write (e.g. `could not write the run summary: no space left on <dir> (ENOSPC)`). */
  writeErrors?: string[];
  exitCode?: number;
  /** Identity beyond the fields above, as `@perf-eval/results` reads it (comparability, the report). */
  identity?: RunIdentityExtra;
  /** The comparison with `--baseline` (its description first). */
  verdicts?: Comparison & { baseline: string };
  /** The recipe's `gates:`, evaluated. */
  gates?: GateResult[];
}

function cell(value: unknown): string {
  return String(value ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ');
}

/** At most this many metrics per task in summary.md (summary.json has them all). */
const MARKDOWN_METRICS = 8;

function formatMetrics(metrics: Record<string, number | null>): string {
  const entries = Object.entries(metrics);
  const shown = entries
    .slice(0, MARKDOWN_METRICS)
    .map(
      ([key, value]) =>
        `${key}=${value === null ? 'n/a' : Number.isInteger(value) ? value : value.toFixed(4)}`,
    )
    .join(', ');
  return entries.length > MARKDOWN_METRICS
    ? `${shown}, … (${entries.length - MARKDOWN_METRICS} more in summary.json)`
    : shown;
}

const ICON: Record<TaskStatus, string> = {
  pending: '⏸',
  running: '⏳',
  ok: '✅',
  failed: '❌',
  skipped: '⏭',
  cancelled: '🛑',
};

export function renderSummaryMarkdown(summary: RunSummary): string {
  const lines = [
    `### ${summary.status === 'ok' ? '✅' : summary.status === 'cancelled' ? '🛑' : summary.status === 'running' ? '⏳' : '❌'} perf-eval \`${summary.workload}\``,
    '',
    `model \`${summary.model}\` · gpu ${summary.gpu} · image \`${summary.image}\`${summary.vllmCommit ? ` · vLLM ${summary.vllmCommit.slice(0, 12)}` : ''} · server ${summary.server.status}${summary.server.readyAfterS !== undefined ? ` (ready after ${summary.server.readyAfterS.toFixed(1)}s)` : ''}`,
    '',
    '| task | status | time | metrics | note |',
    '|---|---|---|---|---|',
  ];
  for (const task of summary.tasks) {
    const note = task.error ? `${task.error.code}: ${task.error.message}` : (task.reason ?? '');
    lines.push(
      `| ${cell(task.id)} | ${ICON[task.status]} ${task.status} | ${task.durationS !== undefined ? `${task.durationS.toFixed(1)}s` : ''} | ${cell(formatMetrics(task.metrics))} | ${cell(note)} |`,
    );
  }
  if (summary.server.roles) {
    lines.push(
      '',
      `roles: ${Object.entries(summary.server.roles)
        .map(([role, r]) => `${role} ${r.status} (port ${r.port})`)
        .join(' · ')}`,
    );
  }
  if (summary.server.error) {
    lines.push(
      '',
      `**server:** ${cell(summary.server.error.message)}${summary.server.diagnosis ? ` (${summary.server.diagnosis})` : ''}`,
    );
    if (summary.server.error.tail?.length)
      lines.push('', '```', ...summary.server.error.tail.slice(-30), '```');
  }
  for (const error of summary.writeErrors ?? []) lines.push('', `**write error:** ${cell(error)}`);
  const flagged = summary.tasks.filter((task) => task.validity?.length);
  if (flagged.length > 0) {
    lines.push('', '#### Validity', '');
    for (const task of flagged)
      for (const flag of task.validity ?? [])
        lines.push(
          `- ${flag.severity === 'invalid' ? '⛔' : '⚠️'} ${cell(task.id)} \`${flag.code}\`: ${cell(flag.message)}`,
        );
  }
  const resets = summary.tasks.flatMap((task) => task.repetitions ?? []);
  const notReset = resets.filter((rep) => !rep.cacheReset.reset);
  if (notReset.length > 0)
    lines.push(
      '',
      `caches not reset before ${notReset.length} of ${resets.length} bench repetition(s): ${cell(notReset[0]?.cacheReset.reason ?? '')}`,
    );
  if (summary.gpuTime) lines.push('', describeGpuTime(summary.gpuTime));
  if (summary.gates?.length) {
    lines.push('', '#### Gates', '');
    for (const gate of summary.gates)
      lines.push(`- ${gate.passed ? '✅' : '❌'} ${cell(gate.gate)}: ${cell(gate.reason)}`);
  }
  if (summary.verdicts) {
    const results = `results/${summary.workload}`;
    lines.push(
      '',
      renderVerdictMarkdown(summary.verdicts, { link: (file) => `artifact://${results}/${file}` }).trimEnd(),
    );
  }
  const ingest = summary.ingest;
  lines.push(
    '',
    `ingest: ${ingest.enabled ? `${ingest.posted} posted, ${ingest.failed} failed` : `skipped (${ingest.reason ?? 'disabled'})`}`,
  );
  for (const failure of ingest.failures.slice(0, 20)) lines.push(`- ${cell(failure)}`);
  return `${lines.join('\n')}\n`;
}

export async function writeSummary(resultsDir: string, summary: RunSummary): Promise<void> {
  await writeJsonAtomic(join(resultsDir, 'summary.json'), summary);
  await writeFileAtomic(join(resultsDir, 'summary.md'), renderSummaryMarkdown(summary));
}

/** The same summary, smaller: without tool output tails, then without metrics (the statuses stay). */
function compacted(summary: RunSummary): RunSummary[] {
  const noTails = structuredClone(summary);
  for (const task of noTails.tasks) if (task.error) delete task.error.tail;
  if (noTails.server.error) delete noTails.server.error.tail;
  const noMetrics = structuredClone(noTails);
  for (const task of noMetrics.tasks) task.metrics = {};
  return [summary, noTails, noMetrics];
}

/**
 * Last resort for the final summary on a full disk (an atomic write needs room for a second copy):
 * rewrite each file in place, but only when the new text fits in the bytes the file already has, so
 * no new blocks are needed and the file is never left half-written; a smaller form (no output tails,
 * then no metrics) is used when the full one does not fit. Returns the files rewritten.
 */
export async function overwriteSummaryInPlace(resultsDir: string, summary: RunSummary): Promise<string[]> {
  const written: string[] = [];
  const forms = compacted(summary);
  const files: Array<[string, (form: RunSummary) => string]> = [
    ['summary.json', (form) => `${JSON.stringify(form)}\n`],
    ['summary.md', renderSummaryMarkdown],
  ];
  for (const [name, render] of files) {
    const path = join(resultsDir, name);
    let handle;
    try {
      handle = await open(path, 'r+');
      const size = (await handle.stat()).size;
      const data = forms
        .map((form) => Buffer.from(render(form), 'utf8'))
        .find((candidate) => candidate.length <= size);
      if (!data) continue;
      await handle.write(data, 0, data.length, 0);
      await handle.truncate(data.length);
      await handle.sync();
      written.push(path);
    } catch {
      // Nothing more can be done; the previous (valid) file stays.
    } finally {
      await handle?.close();
    }
  }
  return written;
}

/** @perf-eval/toolchain's `ToolRoles`, structurally (the run package does not depend on the toolchain). */
export type ToolRolesRecord = Readonly<Record<string, { binary: string | undefined; source: string }>>;
