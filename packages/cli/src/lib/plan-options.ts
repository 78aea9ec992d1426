/**
 * The one place `plan` and `run` turn flags and the environment into `planRun` options, so
 * `perf-eval plan --json` shows exactly what `perf-eval run` executes.
 */
import { defaultDriverCacheDir } from '@perf-eval/bfcl-runner';
import { discoverRunTools, planRun, type Phase, type RunPlan, type ToolCommands } from '@perf-eval/run';
import type { ResolvedWorkload } from '@perf-eval/workload-schema';
import { parseServerUrl } from './args.js';
import type { Io } from './io.js';
import { toolPaths, type DiscoveredTools } from '@perf-eval/toolchain';

export interface PlanFlags {
  command: 'plan' | 'run';
  resultsRoot?: string | undefined;
  serverUrl?: string | undefined;
  phases?: readonly Phase[] | undefined;
  jobs?: number | undefined;
  ingest?: { disabled?: boolean; strict?: boolean };
}

/** The tool commands a run uses (tool discovery), with the simulator's offline tokenizer. */
export function toolCommands(tools: DiscoveredTools): ToolCommands {
  return { ...tools.commands, simTokenizer: toolPaths(tools.dir).simTokenizer };
}

/** `--server-url` must be an http(s) URL with a host (`parseServerUrl`): a usage error (exit 2) otherwise. */
export function checkServerUrl(command: string, url: string | undefined): void {
  if (url !== undefined) parseServerUrl(command, url);
}

export function planFor(
  workload: ResolvedWorkload,
  io: Io,
  flags: PlanFlags,
  // What `run` uses: tools it would provision are named at their provisioned paths.
  tools: DiscoveredTools = discoverRunTools(workload, {
    env: io.env,
    cwd: io.cwd,
    externalServer: Boolean(flags.serverUrl),
  }).tools,
): RunPlan {
  checkServerUrl(flags.command, flags.serverUrl);
  return planRun(workload, {
    env: io.env,
    cwd: io.cwd,
    tools: toolCommands(tools),
    pid: process.pid,
    bfclDriverCacheDir: defaultDriverCacheDir(io.env),
    ...(flags.resultsRoot !== undefined ? { resultsRoot: flags.resultsRoot } : {}),
    ...(flags.serverUrl !== undefined ? { serverUrl: flags.serverUrl } : {}),
    ...(flags.phases !== undefined ? { phases: flags.phases } : {}),
    ...(flags.jobs !== undefined ? { jobs: flags.jobs } : {}),
    ...(flags.ingest !== undefined ? { ingest: flags.ingest } : {}),
  });
}
