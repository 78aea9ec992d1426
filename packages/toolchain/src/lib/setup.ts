/**
 * Around `provision` for `perf-eval setup`: the tools directory it installs into, checked before
 * anything is built, and the table of what each step did.
 */
import { resolve } from 'node:path';
import { directoryProblem, PerfEvalError } from '@perf-eval/util';
import type { StepReport } from './provision.js';
import { toolsDir } from './tools.js';

/** The tools directory cannot be created or used (exit 2); `source` says where it came from. */
export class ToolsDirError extends PerfEvalError {
  constructor(
    readonly dir: string,
    readonly source: string,
    readonly problem: string,
  ) {
    super(
      'E_SETUP_TOOLS_DIR',
      `perf-eval setup: cannot use ${source} as the tools directory: ${problem}; choose another directory`,
      { category: 'usage' },
    );
  }
}

/**
 * The tools directory setup installs into: `given` (`--tools-dir`, relative to `cwd`), else
 * `toolsDir(env)`. Checked up front, so a path under a file is a usage error naming the flag,
 * `PERF_EVAL_TOOLS_DIR` or the default, not an ENOTDIR halfway through an install. Throws `ToolsDirError`.
 */
export function checkToolsDir(
  given: string | undefined,
  options: { cwd: string; env: Readonly<Record<string, string | undefined>> },
): string {
  const { cwd, env } = options;
  const dir = given ? resolve(cwd, given) : toolsDir(env);
  const problem = directoryProblem(dir);
  if (!problem) return dir;
  const source = given
    ? `--tools-dir ${given}`
    : env['PERF_EVAL_TOOLS_DIR']
      ? `PERF_EVAL_TOOLS_DIR=${env['PERF_EVAL_TOOLS_DIR']}`
      : `the tools directory ${dir}`;
  throw new ToolsDirError(dir, source, problem);
}

/** One aligned line per step: tool, status, seconds, path (what `perf-eval setup` prints at the end). */
export function formatProvisionReports(reports: readonly StepReport[]): string[] {
  return reports.map(
    (report) =>
      `  ${report.tool.padEnd(10)} ${report.status.padEnd(11)} ${String(report.durationS).padStart(7)} s  ${report.path}`,
  );
}
