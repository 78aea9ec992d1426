/**
 * `perf-eval run` after the recipe is loaded: tools, plan, preflight, provisioning beside the launch,
 * the run itself with the verdict step, the report and the build annotation. The caller keeps the
 * flags, the exit decision and the final messages; the report writer is injected, so this package
 * never loads the renderer.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { PerfEvalError, type EnvVars } from '@perf-eval/util';
import type { GateResult } from '@perf-eval/verdicts';
import type { ResolvedWorkload } from '@perf-eval/workload-schema';
import { annotateBuild } from './annotation.js';
import { ConsoleReporter, type ConsoleStreams } from './console-reporter.js';
import { serverEnvironments } from './environment.js';
import { executeRun, type RunAdapters } from './execute.js';
import { ALL_PHASES, DEFAULT_JOBS, planSecrets, type Phase, type RunPlan } from './plan.js';
import {
  discoverRunTools,
  planLocalRun,
  preflightRun,
  PreflightError,
  prepareDuringLaunch,
  provisionForLaunch,
  type RunToolsOptions,
} from './preflight.js';
import type { RunSummary } from './summary.js';
import { runIdentityOf, verdictPostRun } from './verdict-step.js';

/** `--baseline` names a path that does not exist (exit 2, before anything starts). */
export class BaselineMissingError extends PerfEvalError {
  constructor(readonly spec: string) {
    super(
      'E_RUN_BASELINE_MISSING',
      `perf-eval run: --baseline ${spec} does not exist; pass a results dir, a history.jsonl, buildkite:<build> or auto`,
      { category: 'usage' },
    );
  }
}

export interface RunWorkloadOptions {
  env: EnvVars;
  cwd: string;
  /** The console: the run's reporter, and its other lines (stdout) and warnings (stderr). */
  streams: ConsoleStreams;
  /** Aborting cancels the run (see `executeRun`); an aborted run writes no report. */
  signal: AbortSignal;
  forceSignal?: AbortSignal | undefined;
  /** Default: all. */
  phases?: ReadonlySet<Phase> | undefined;
  /** Concurrent accuracy tasks; default `DEFAULT_JOBS`. */
  jobs?: number | undefined;
  resultsRoot?: string | undefined;
  /** An already-running server: no launch, no teardown. */
  serverUrl?: string | undefined;
  ingest?: { disabled?: boolean | undefined; strict?: boolean | undefined } | undefined;
  verbose?: boolean | undefined;
  /** A results dir or history.jsonl (relative to `cwd`), `buildkite:<number|url>` or `auto`. */
  baseline?: string | undefined;
  /**
   * Writes `results/<name>/report.html` and returns its path (undefined: none written). Injected: the
   * renderer loads ECharts, which a run otherwise never needs.
   */
  writeReport?: ((resultsDir: string) => Promise<string | undefined>) | undefined;
  /** Default: the real adapters. */
  adapters?: Partial<RunAdapters> | undefined;
}

export interface WorkloadRun {
  plan: RunPlan;
  summary: RunSummary;
  reportPath: string | undefined;
  /** A tool problem found while the server started: a preflight failure (exit 2), not a run failure. */
  toolCheckFailure: PreflightError | undefined;
  gateFailures: GateResult[];
}

/** A path baseline resolved against `cwd`; `auto` and `buildkite:…` as given. Throws `BaselineMissingError`. */
function baselineOf(spec: string | undefined, cwd: string): string | undefined {
  if (spec === undefined || spec === 'auto' || spec.startsWith('buildkite:')) return spec;
  const path = resolve(cwd, spec);
  if (!existsSync(path)) throw new BaselineMissingError(spec);
  return path;
}

/**
 * Run one resolved recipe (one variant) end to end. Throws before anything starts for a missing
 * baseline (`BaselineMissingError`) or a failed preflight (`PreflightError`); afterwards never for
 * task, server or gate failures: the summary and `gateFailures` say what failed.
 */
export async function runWorkload(
  workload: ResolvedWorkload,
  options: RunWorkloadOptions,
): Promise<WorkloadRun> {
  const { env, cwd, streams, signal } = options;
  const print = (line: string): void => void streams.stdout.write(`${line}\n`);
  const warn = (line: string): void => void streams.stderr.write(`${line}\n`);
  const phases = options.phases ?? new Set(ALL_PHASES);
  const toolOptions: RunToolsOptions = {
    env,
    cwd,
    phases,
    externalServer: options.serverUrl !== undefined,
    print,
    warn,
    // Plain progress lines even on a TTY: provisioning shares the terminal with the server's log.
    progress: {},
  };
  // Missing tools are provisioned after preflight: the simulator (it is the server) before the
  // launch, the rest while the server starts.
  const found = discoverRunTools(workload, toolOptions);
  const plan = planLocalRun(workload, {
    env,
    cwd,
    tools: found.tools,
    ...(options.resultsRoot !== undefined ? { resultsRoot: options.resultsRoot } : {}),
    ...(options.serverUrl !== undefined ? { serverUrl: options.serverUrl } : {}),
    phases: [...phases],
    jobs: options.jobs ?? DEFAULT_JOBS,
    ingest: { disabled: Boolean(options.ingest?.disabled), strict: Boolean(options.ingest?.strict) },
  });
  const baseline = baselineOf(options.baseline, cwd);
  await preflightRun(plan, workload, found, toolOptions);
  const runTools = await provisionForLaunch(found, { ...toolOptions, signal });
  // After the tasks, before the final summary: verdicts against the baseline, history.jsonl, gates.
  const verdicts = verdictPostRun({ workload, resultsDir: plan.resultsDir, env, baseline, print, warn });

  let toolCheckFailure: PreflightError | undefined;
  const summary = await executeRun(plan, {
    ...(options.adapters ? { adapters: options.adapters } : {}),
    prepare: (prepareSignal) =>
      prepareDuringLaunch(
        plan,
        runTools,
        toolOptions,
      )(prepareSignal).catch((error: unknown) => {
        if (error instanceof PreflightError) toolCheckFailure = error;
        throw error;
      }),
    // The GPUs are held from the step's start: everything before executeRun is accounted as setup.
    stepStartedAtMs: performance.timeOrigin,
    env,
    serverEnv: serverEnvironments(workload),
    secrets: planSecrets(workload, env),
    signal,
    ...(options.forceSignal ? { forceSignal: options.forceSignal } : {}),
    reporter: new ConsoleReporter(streams, env),
    verbose: Boolean(options.verbose),
    toolRoles: runTools.tools.roles,
    identity: await runIdentityOf(workload, env),
    postRun: [verdicts],
  });
  const gateFailures = (summary.gates ?? []).filter((gate) => !gate.passed);
  // An interrupted run exits at once (Buildkite's cancel grace period is short); 'perf-eval report' can follow.
  const reportPath = signal.aborted ? undefined : await options.writeReport?.(plan.resultsDir);
  await annotateBuild(summary, { env, cwd, stem: workload.stem, reportPath, warn });
  return { plan, summary, reportPath, toolCheckFailure, gateFailures };
}
