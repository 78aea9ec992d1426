/**
 * Before and beside the server launch: which tools a run uses (and which it still has to provision),
 * the checks that refuse a run before any GPU time is spent, and the work that overlaps the launch —
 * provisioning the missing Python tools and the slow tool checks — as `executeRun`'s `prepare`.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { defaultDriverCacheDir, verifyBfclInstall } from '@perf-eval/bfcl-runner';
import { ingestUrlProblems } from '@perf-eval/ingest';
import { checkTaskNames, listLmEvalTasks } from '@perf-eval/lmeval-runner';
import { assertPortFree } from '@perf-eval/server-lifecycle';
import {
  checkToolVersions,
  componentsFor,
  discoverTools,
  findOnPath,
  hasComponent,
  provision,
  SERVER_VLLM_ENV,
  toolPaths,
  toolsDir,
  type Component,
  type DiscoveredTools,
  type ProgressOptions,
  type ProvisionOptions,
  type VersionCheck,
} from '@perf-eval/toolchain';
import { PerfEvalError, type EnvVars } from '@perf-eval/util';
import type { ResolvedWorkload } from '@perf-eval/workload-schema';
import { benchOnly } from './compose.js';
import { toolEnvValues } from './environment.js';
import { planRun, type Phase, type PlanRunOptions, type RunPlan } from './plan.js';

/** Failed preflight: nothing was started (exit 2). */
export class PreflightError extends PerfEvalError {
  constructor(
    readonly problems: readonly string[],
    /** The checks that ran while the server started: the server was started, and torn down again. */
    readonly duringLaunch = false,
  ) {
    super(
      'E_PREFLIGHT',
      `preflight failed (${duringLaunch ? 'checked while the server started; no task ran and the server was stopped' : 'nothing was started'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      { category: 'preflight' },
    );
  }
}

/** Where a run's tools come from, and how to provision what is missing. */
export interface RunToolsOptions {
  env: EnvVars;
  cwd: string;
  /** The phases that will run (default: all). */
  phases?: ReadonlySet<Phase> | undefined;
  /** `--server-url`: nothing is launched here. */
  externalServer?: boolean | undefined;
  /** Provisioning output (`provisioning …`, step lines, progress). */
  print?: ((line: string) => void) | undefined;
  /** Warnings (a tool version that could not be read). */
  warn?: ((line: string) => void) | undefined;
  progress?: ProgressOptions | undefined;
  /** BFCL venv check after provisioning (default: bfcl-runner's driver check, `verifyBfclInstall`). */
  verifyBfcl?: ProvisionOptions['verifyBfcl'];
}

export interface RunTools {
  tools: DiscoveredTools;
  /**
   * Components this machine lacks that the run provisions while the server starts; `tools` already
   * names them at their provisioned paths. Empty with `PERF_EVAL_NO_AUTO_SETUP=1` (preflight then
   * says what is missing).
   */
  pending: ReadonlySet<Component>;
}

/** `PERF_EVAL_NO_AUTO_SETUP=1`: never provision during a run. */
export const NO_AUTO_SETUP_ENV = 'PERF_EVAL_NO_AUTO_SETUP';

/** The setup components a run of `workload` needs on this machine (`perf-eval setup FILE` installs these). */
export function runToolComponents(
  workload: ResolvedWorkload,
  options: Pick<RunToolsOptions, 'env' | 'phases' | 'externalServer'>,
): Set<Component> {
  const selected = (phase: Phase): boolean => options.phases === undefined || options.phases.has(phase);
  const accuracy = !benchOnly({ workload, env: options.env });
  return componentsFor({
    runtime: workload.server.runtime,
    bench: selected('bench') && workload.bench.length > 0,
    lmEval: accuracy && selected('lm_eval') && workload.lmEval.length > 0,
    bfcl: accuracy && selected('bfcl') && workload.bfcl.length > 0,
    externalServer: options.externalServer === true,
  });
}

/**
 * The tools of a run, without side effects: what is there, and what a run would provision (so
 * `perf-eval plan` shows the same commands `run` executes).
 */
export function discoverRunTools(workload: ResolvedWorkload, options: RunToolsOptions): RunTools {
  const { env } = options;
  const needed = runToolComponents(workload, options);
  const dir = toolsDir(env);
  const pending =
    env[NO_AUTO_SETUP_ENV] === '1'
      ? new Set<Component>()
      : new Set([...needed].filter((component) => !hasComponent(component, dir, env)));
  const tools = discoverTools(env, {
    runtime: workload.server.runtime,
    externalServer: options.externalServer === true,
    pending,
  });
  return { tools, pending };
}

/**
 * `planRun` on this machine: the tools `discoverRunTools` finds (or `tools`), the simulator's offline
 * tokenizer and BFCL's driver cache under the tools directory, this process's pid. `perf-eval plan`
 * and `perf-eval run` both plan with it, so the plan shows exactly what the run executes.
 */
export function planLocalRun(
  workload: ResolvedWorkload,
  options: Omit<PlanRunOptions, 'tools' | 'pid' | 'bfclDriverCacheDir'> & { tools?: DiscoveredTools },
): RunPlan {
  const { tools: given, ...rest } = options;
  const tools =
    given ??
    discoverRunTools(workload, {
      env: options.env,
      cwd: options.cwd,
      externalServer: options.serverUrl !== undefined,
    }).tools;
  return planRun(workload, {
    ...rest,
    tools: { ...tools.commands, simTokenizer: toolPaths(tools.dir).simTokenizer },
    pid: process.pid,
    bfclDriverCacheDir: defaultDriverCacheDir(options.env),
  });
}

const PROVISION_LOCK_WAIT_MS = 45 * 60_000;

function provisionOptions(options: RunToolsOptions, signal: AbortSignal): ProvisionOptions {
  return {
    dir: toolsDir(options.env),
    python: options.env['PERF_EVAL_PYTHON']?.trim() || 'python3',
    force: false,
    verbose: false,
    env: options.env,
    signal,
    print: options.print ?? (() => undefined),
    ...(options.progress ? { progress: options.progress } : {}),
    verifyBfcl: options.verifyBfcl ?? verifyBfclInstall,
    // Another job on this agent installing the same tools: wait for it (the step timeout still bounds
    // the run) instead of failing; its install is then found up to date.
    lockWaitMs: PROVISION_LOCK_WAIT_MS,
  };
}

async function provisionPending(
  components: ReadonlySet<Component>,
  options: RunToolsOptions,
  signal: AbortSignal,
): Promise<void> {
  if (components.size === 0) return;
  const dir = toolsDir(options.env);
  await provision(components, provisionOptions(options, signal));
  options.print?.(`provisioned ${[...components].join(', ')} into ${dir} (what 'perf-eval setup' does)`);
}

/**
 * Provision what the launch itself needs, after `preflightRun` passed: the simulator is the server, so
 * it is built before the launch. Everything else stays pending for `prepareDuringLaunch`.
 */
export async function provisionForLaunch(
  runTools: RunTools,
  options: RunToolsOptions & { signal: AbortSignal },
): Promise<RunTools> {
  if (!runTools.pending.has('sim')) return runTools;
  await provisionPending(new Set<Component>(['sim']), options, options.signal);
  const pending = new Set(runTools.pending);
  pending.delete('sim');
  return { tools: runTools.tools, pending };
}

/** Whether argv[0] can be started: an existing path, or a name on PATH. */
function commandExists(command: string, options: RunToolsOptions): boolean {
  return command.includes('/')
    ? existsSync(resolve(options.cwd, command))
    : findOnPath(command, options.env) !== undefined;
}

async function portProblem(label: string, port: number): Promise<string | undefined> {
  try {
    await assertPortFree(port);
    return undefined;
  } catch (error) {
    return `${label}${(error as Error).message}`;
  }
}

/** Launch checks: the runtime's binary, free ports; disaggregated: the proxy's interpreter and script. */
async function launchProblems(
  plan: RunPlan,
  workload: ResolvedWorkload,
  tools: DiscoveredTools,
  options: RunToolsOptions,
  setupHint: string,
): Promise<string[]> {
  const { launch } = plan;
  if (launch.kind === 'external') return [];
  const problems: string[] = [];
  const runtime = plan.server.runtime;
  if (runtime === 'docker' && !tools.found.docker)
    problems.push(`docker runtime: 'docker' not found on PATH`);
  if (runtime === 'native' && !tools.found.vllm)
    // The provisioned bench client is CPU-only: it never serves, so setup cannot fix this.
    problems.push(
      `native runtime: the serving 'vllm' was not found on PATH; install vLLM there or set ${SERVER_VLLM_ENV} to its vllm`,
    );
  if (runtime === 'sim' && !tools.found.simulator)
    problems.push(`sim runtime: 'llm-d-inference-sim' not found; ${setupHint}`);
  const ports: Array<readonly [string, number]> =
    launch.kind === 'server'
      ? [['', launch.server.port]]
      : [
          ...launch.servers.map((server) => [`${server.role}: `, server.port] as const),
          ['proxy: ', launch.proxy.port] as const,
        ];
  for (const [label, port] of ports) {
    const problem = await portProblem(label, port);
    if (problem) problems.push(problem);
  }
  const proxy = launch.kind === 'server' ? undefined : workload.disaggregated?.proxy;
  if (proxy && !commandExists(proxy.python, options))
    problems.push(`proxy: interpreter '${proxy.python}' not found (vllm.proxy.python)`);
  if (proxy && !existsSync(resolve(options.cwd, proxy.script))) {
    problems.push(
      `proxy: script ${proxy.script} not found; set VLLM_SOURCE_DIR to a vLLM source checkout${options.env['VLLM_SOURCE_DIR'] ? ` (now ${options.env['VLLM_SOURCE_DIR']})` : ''} or vllm.proxy.script to its path`,
    );
  }
  return problems;
}

/** The semantic eval's command (and, for the default gsm8k_eval.py command, its script) must exist. */
function semanticEvalProblems(plan: RunPlan, options: RunToolsOptions): string[] {
  const semantic = plan.semanticEval;
  if (!semantic) return [];
  const problems: string[] = [];
  const [command, script] = semantic.argv;
  if (command && !commandExists(command, options))
    problems.push(`semantic_eval: '${command}' not found (semantic_eval.command / semantic_eval.python)`);
  if (semantic.defaultCommand && script && !existsSync(resolve(options.cwd, script))) {
    problems.push(
      `semantic_eval: ${script} not found; set VLLM_SOURCE_DIR to a vLLM source checkout or give semantic_eval.command`,
    );
  }
  return problems;
}

/**
 * Everything the plan will start must be there (or be provisioned while the server starts), before
 * any GPU time is spent. Throws `PreflightError` listing every problem.
 */
export async function preflightRun(
  plan: RunPlan,
  workload: ResolvedWorkload,
  { tools, pending }: RunTools,
  options: RunToolsOptions,
): Promise<void> {
  const setupHint = `run 'npx perf-eval setup ${plan.workload.path}' (tools dir ${tools.dir}) or put it on PATH`;
  const problems = await launchProblems(plan, workload, tools, options, setupHint);
  problems.push(...semanticEvalProblems(plan, options));
  const hostBench = plan.bench.some((bench) => bench.executor.kind === 'native');
  if (hostBench && !tools.found.benchVllm)
    problems.push(
      `bench: 'vllm' (for vllm bench serve) not found; ${setupHint} (--only lm_eval,bfcl skips the bench)`,
    );
  const tokenizer = plan.bench[0]?.spec.extraArgs['tokenizer'];
  if (
    workload.server.runtime === 'sim' &&
    !pending.has('sim') &&
    tokenizer === toolPaths(tools.dir).simTokenizer &&
    !existsSync(join(tokenizer, 'tokenizer.json'))
  ) {
    problems.push(
      `bench: the offline tokenizer for the simulator (${tokenizer}) is missing; run 'npx perf-eval setup ${plan.workload.path}'`,
    );
  }
  if (plan.lmEval.length > 0 && !tools.found.lm_eval)
    problems.push(`lm_eval: 'lm_eval' not found; ${setupHint}`);
  if (plan.bfcl.length > 0 && !tools.found.bfcl)
    problems.push(`bfcl: the BFCL virtualenv was not found; ${setupHint}`);
  try {
    await mkdir(plan.resultsDir, { recursive: true });
    const probe = join(plan.resultsDir, `.write-probe-${process.pid}`);
    await writeFile(probe, '');
    await rm(probe);
  } catch (error) {
    problems.push(
      `results dir ${plan.resultsDir} is not writable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  // An INGEST_URL / PERF_INGEST_URL that is not an http(s) URL: refuse before any GPU time is spent.
  if (!plan.ingest.disabled) problems.push(...ingestUrlProblems(options.env));
  // Missing token with --strict-ingest: refuse before any GPU time is spent.
  if (plan.ingest.strict && !plan.ingest.enabled && !plan.ingest.disabled)
    problems.push(`--strict-ingest: ${plan.ingest.reason}`);
  if (problems.length > 0) throw new PreflightError(problems);
}

async function lmEvalProblems(plan: RunPlan, tools: DiscoveredTools, env: EnvVars, signal: AbortSignal) {
  const problems: string[] = [];
  const byInclude = new Map<string | undefined, string[]>();
  for (const task of plan.lmEval)
    byInclude.set(task.spec.includePath, [...(byInclude.get(task.spec.includePath) ?? []), task.task]);
  for (const [includePath, names] of byInclude) {
    try {
      const known = await listLmEvalTasks({
        python: tools.lmEvalPython,
        lmEval: tools.commands.lmEval,
        cacheDir: toolPaths(tools.dir).cache,
        env: toolEnvValues(plan.toolEnv, env),
        signal,
        ...(includePath ? { includePath } : {}),
      });
      for (const unknown of checkTaskNames(names, known)) {
        problems.push(
          `${plan.workload.path}: unknown lm_eval task '${unknown.name}'${unknown.suggestions[0] ? ` (did you mean '${unknown.suggestions[0]}'?)` : ''}`,
        );
      }
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  return problems;
}

/**
 * The slow tool checks — importing each Python tool for its version, listing lm-eval's 14k task names
 * (10–30 s cold) — need no server. Throws `PreflightError` (during the launch).
 */
async function toolChecks(
  plan: RunPlan,
  tools: DiscoveredTools,
  options: RunToolsOptions,
  signal: AbortSignal,
): Promise<void> {
  const problems: string[] = [];
  const hostBench = plan.bench.some((bench) => bench.executor.kind === 'native');
  if (plan.lmEval.length > 0 && tools.found.lm_eval)
    problems.push(...(await lmEvalProblems(plan, tools, options.env, signal)));
  // Tools that will run must be of versions whose contracts we encode.
  const versionChecks: VersionCheck[] = [];
  if (hostBench && tools.found.benchVllm)
    versionChecks.push({ tool: 'vllm', executable: tools.found.benchVllm });
  if (plan.lmEval.length > 0 && tools.found.lm_eval)
    versionChecks.push({ tool: 'lm_eval', executable: tools.found.lm_eval });
  if (plan.bfcl.length > 0 && tools.found.bfcl)
    versionChecks.push({ tool: 'bfcl', executable: tools.found.bfcl });
  const versions = await checkToolVersions(
    versionChecks,
    toolEnvValues({ inherit: plan.toolEnv.inherit, set: { PYTHONUNBUFFERED: '1' } }, options.env),
    signal,
  );
  problems.push(...versions.problems);
  for (const unknown of versions.unknown) options.warn?.(`warning: could not read the version of ${unknown}`);
  if (problems.length > 0) throw new PreflightError(problems, true);
}

/**
 * `executeRun`'s `prepare`: provision the pending tools (pip installs: tens of seconds to minutes),
 * then the slow tool checks — all while the server pulls its image and loads the model, so a GPU step
 * waits max(launch, provisioning) instead of their sum. A tool problem found here is a
 * `PreflightError` (exit 2); a failed install is the provisioning step's own error.
 */
export function prepareDuringLaunch(
  plan: RunPlan,
  { tools, pending }: RunTools,
  options: RunToolsOptions,
): (signal: AbortSignal) => Promise<void> {
  return async (signal) => {
    await provisionPending(pending, options, signal);
    await toolChecks(plan, tools, options, signal);
  };
}
