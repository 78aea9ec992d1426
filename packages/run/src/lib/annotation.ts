/**
 * The Buildkite annotation of a run: `summary.md` (plus a link to the HTML report artifact) on the
 * build page, styled by the run's status, one context per recipe so reruns replace it.
 */
import { relative, sep } from 'node:path';
import { execa } from 'execa';
import { findOnPath } from '@perf-eval/toolchain';
import type { EnvVars } from '@perf-eval/util';
import { renderSummaryMarkdown, type RunSummary } from './summary.js';

/** The annotation links the report as a build artifact (uploaded with the `results/` artifacts), relative to the job's checkout. */
export function reportLinkMarkdown(reportPath: string, cwd: string): string {
  const artifact = relative(cwd, reportPath).split(sep).join('/');
  return `\n📊 [HTML report](artifact://${artifact}) (charts, tables, timeline)\n`;
}

export interface AnnotateOptions {
  env: EnvVars;
  cwd: string;
  /** The recipe's stem: the annotation context is `wl-<stem>` (characters Buildkite rejects become `-`). */
  stem: string;
  reportPath?: string | undefined;
  warn: (line: string) => void;
}

/**
 * `buildkite-agent annotate` with the run's summary, inside a Buildkite job only (`BUILDKITE=true` and
 * the agent on PATH). A failed annotation is a warning: the results are already saved.
 */
export async function annotateBuild(summary: RunSummary, options: AnnotateOptions): Promise<void> {
  if (options.env['BUILDKITE'] !== 'true') return;
  const agent = findOnPath('buildkite-agent', options.env);
  if (!agent) return;
  const style = summary.status === 'ok' ? 'success' : summary.status === 'cancelled' ? 'warning' : 'error';
  const markdown =
    renderSummaryMarkdown(summary) +
    (options.reportPath ? reportLinkMarkdown(options.reportPath, options.cwd) : '');
  const context = `wl-${options.stem.replace(/[^A-Za-z0-9_-]/g, '-')}`;
  try {
    await execa(agent, ['annotate', '--style', style, '--context', context], {
      input: markdown,
      timeout: 15_000,
      reject: true,
    });
  } catch (error) {
    options.warn(`warning: could not post the build annotation (${(error as Error).message.split('\n')[0]})`);
  }
}

/** One line per thing that failed (tool preparation, the server, each failed or skipped task, each failed write), for the console. */
export function runFailures(summary: RunSummary): string[] {
  const failed = summary.tasks
    .filter((t) => t.status === 'failed' || t.status === 'skipped')
    .map((t) => `${t.id} (${t.status}${t.error ? `: ${t.error.message}` : t.reason ? `: ${t.reason}` : ''})`);
  if (summary.server.status === 'failed')
    failed.unshift(
      `server: ${summary.server.error?.message ?? 'failed'}${summary.server.diagnosis ? ` [${summary.server.diagnosis}]` : ''}`,
    );
  if (summary.prepareError) failed.unshift(`tools: ${summary.prepareError.message}`);
  failed.push(...(summary.writeErrors ?? []));
  return failed;
}
