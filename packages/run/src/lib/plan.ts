/**
 * `planRun`: everything one run of a recipe will do, as a plain serialisable value (the RunPlan).
 * `perf-eval plan --json` prints it, `executeRun` executes it; nothing computes it a second time.
 * Every environment-dependent input is an explicit option; nothing here reads `process.env`.
 */
import { join, relative, resolve } from 'node:path';
import type { BenchExecutor, BenchRunSpec, BenchTarget } from '@perf-eval/bench-runner';
import type { BfclRunSpec } from '@perf-eval/bfcl-runner';
import type { LmEvalTaskSpec } from '@perf-eval/lmeval-runner';
import {
  buildDockerRunArgv,
  buildNativeArgv,
  resolvePort,
  specSecrets,
  type ProxySpec,
  type ServerSpec,
} from '@perf-eval/server-lifecycle';
import { redactArgv, redactEnv, scrubSorted, secretList, secretValuesOf } from '@perf-eval/util';
import {
  expandVariants,
  proxyHealthUrl,
  topologyPorts,
  type ResolvedRole,
  type ResolvedWorkload,
} from '@perf-eval/workload-schema';
import {
  benchOnly,
  benchPlans,
  bfclPlans,
  isDisaggregated,
  lmEvalPlans,
  proxyArgv,
  rolePorts,
  roleServerSpecs,
  semanticEvalPlan,
  serverBaseUrl,
  serverSpec,
  topologySpec,
  type RunContext,
  type ToolCommands,
} from './compose.js';
import {
  planToolEnv,
  SERVER_DEV_MODE,
  toolEnvNames,
  withServerDevMode,
  type ToolEnvPlan,
} from './environment.js';

export type Phase = 'bench' | 'semantic_eval' | 'lm_eval' | 'bfcl';
export const ALL_PHASES: readonly Phase[] = ['bench', 'semantic_eval', 'lm_eval', 'bfcl'];

export interface PlanRunOptions {
  /** The caller's environment (BENCH_ONLY, VLLM_PORT, BUILDKITE_*, INGEST_*, tool variables). Read, never copied into the plan except by name. */
  env: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths resolve against (the caller's working directory). */
  cwd: string;
  /** Results root; the run writes `<resultsRoot>/<name>/`. Default `results`. */
  resultsRoot?: string;
  /** An already-running server: no launch, no teardown. */
  serverUrl?: string;
  /** The tool commands (from tool discovery; the run package never discovers tools). */
  tools: ToolCommands;
  /** Process id naming the container (`perf-eval-<name>-<pid>`, upstream). */
  pid: number;
  /** Phases to run (`--only`); default all. */
  phases?: readonly Phase[];
  /** Concurrent accuracy tasks (default 4). */
  jobs?: number;
  /** Where the BFCL driver is materialised at run time. */
  bfclDriverCacheDir: string;
  ingest?: { disabled?: boolean; strict?: boolean };
}

/** Default concurrency of the accuracy phase (see the CLI README, "Accuracy concurrency"). */
export const DEFAULT_JOBS = 4;

/** A server launch: the adapter's spec without env values (names only), plus the argv it runs. */
export type PlannedServer = Omit<ServerSpec, 'env'> & { role?: string; envNames: string[]; argv: string[] };

export type PlannedLaunch =
  | { kind: 'server'; server: PlannedServer }
  | { kind: 'topology'; servers: PlannedServer[]; proxy: ProxySpec }
  | { kind: 'external'; url: string };

export interface PlannedPerfIngest {
  runName: string;
  /** Relative to the results dir. */
  file: string;
  meta: {
    device: string;
    tp: number;
    precision: string;
    model: string;
    isl: number;
    osl: number;
    conc: number;
  };
}

export interface RunPlan {
  version: 1;
  workload: {
    name: string;
    stem: string;
    path: string;
    gpu: string;
    numGpus: number;
    nightly: boolean;
    timeoutInMinutes: number;
    benchOnly: boolean;
  };
  /** The server as shown to people (secrets as ***); `launch` is what is started. */
  server: {
    runtime: string;
    image: string;
    imageRule: string;
    vllmCommit: string;
    model: string;
    servedModelName: string;
    port: number;
    /** Base URL every tool talks to (the server, the proxy, or `--server-url`). */
    url: string;
    serveArgs: string[];
    env: Record<string, string>;
    envNames: string[];
    startupTimeoutS: number;
    numNodes: number;
    distributedExecutorBackend: string | null;
    argv: string[];
  };
  topology: string;
  roles: Array<Record<string, unknown>>;
  proxy: Record<string, unknown> | null;
  launch: PlannedLaunch;
  semanticEval: {
    name: string;
    argv: string[];
    outputPath: string;
    timeoutMinutes: number;
    timeoutMs: number;
    defaultCommand: boolean;
    envNames: string[];
  } | null;
  variant: ResolvedWorkload['variant'] | null;
  variants: Array<Record<string, unknown>>;
  bench: Array<{
    runName: string;
    backend: string | null;
    dataset: string;
    inputLen: number;
    outputLen: number;
    numPrompts: number;
    maxConcurrency: number;
    repetitions: number;
    extraArgs: Record<string, unknown>;
    resultFile: string;
    repetitionFiles: string[];
    /** The argv of the first repetition (`commands[0]`). */
    argv: string[];
    commands: string[][];
    envNames: string[];
    spec: BenchRunSpec;
    target: BenchTarget;
    executor: BenchExecutor;
  }>;
  lmEval: Array<{
    task: string;
    numFewshot: number;
    modelArgs: string;
    outputPath: string;
    argv: string[];
    command: string[];
    envNames: string[];
    spec: LmEvalTaskSpec;
  }>;
  bfcl: Array<{
    category: string;
    numThreads: number;
    temperature: string;
    maximumStepLimit: number | null;
    maxTestCases: number | null;
    outputDir: string;
    argv: string[];
    python: string;
    driverCacheDir: string;
    envNames: string[];
    spec: BfclRunSpec;
  }>;
  perf: { device: string; tp: number; precision: string; sources: unknown };
  /** Absolute `results/<name>`. */
  resultsDir: string;
  phases: Phase[];
  jobs: number;
  toolEnv: ToolEnvPlan;
  files: { summaryJson: string; summaryMd: string; serverLogs: string[]; ingestPlan: string; outbox: string };
  /** Caches reset before every bench run and repetition (`POST /reset_*_cache`), or why not. */
  cacheReset: CacheResetPlan;
  ingest: {
    enabled: boolean;
    reason: string | null;
    strict: boolean;
    disabled: boolean;
    /** lm_eval samples are posted unless INGEST_NO_SAMPLES. */
    samples: boolean;
    context: { workload: string; image: string; vllmCommit: string };
    perf: PlannedPerfIngest[];
  };
  timeouts: {
    /** Buildkite's step timeout (`timeout_in_minutes`). */
    stepMs: number;
    /** Every tool's deadline: a minute before the step timeout, so our own timeout reports the cause. */
    runBudgetMs: number;
  };
}

/** The variants of a swept workload (empty without `sweep:`); results dirs under `resultsRoot`. */
export function planVariants(workload: ResolvedWorkload, resultsRoot: string): Record<string, unknown>[] {
  if (!workload.sweep) return [];
  return expandVariants(workload).map((variant) => {
    const secrets = secretValuesOf(variant.server.env);
    const row: Record<string, unknown> = {
      name: variant.name,
      resultsDir: join(resultsRoot, variant.name),
      settings: variant.variant?.settings ?? {},
      serveArgs: redactArgv(variant.server.serveArgs, secrets),
    };
    if (variant.disaggregated) {
      row['roleServeArgs'] = {
        prefill: redactArgv(variant.disaggregated.prefill.serveArgs, secrets),
        decode: redactArgv(variant.disaggregated.decode.serveArgs, secrets),
      };
    }
    return row;
  });
}

function planRoles(
  context: RunContext,
  secrets: string[],
): { roles: Record<string, unknown>[]; proxy: Record<string, unknown> | null } {
  const disagg = context.workload.disaggregated;
  if (!disagg || !isDisaggregated(context)) return { roles: [], proxy: null };
  const ports = rolePorts(context);
  const roles = [disagg.prefill, disagg.decode];
  return {
    roles: roleServerSpecs(context).map((spec, index) => {
      const role = roles[index] as ResolvedRole;
      const roleSecrets = [...secrets, ...secretValuesOf(spec.env)];
      return {
        role: role.role,
        port: spec.port,
        gpuIds: role.gpuIds,
        gpuSource: role.gpuSource,
        numNodes: role.numNodes,
        distributedExecutorBackend: role.distributedExecutorBackend ?? null,
        kvTransferConfig: role.kvTransferConfig,
        healthUrl: `http://localhost:${spec.port}/health`,
        serveArgs: redactArgv(spec.serveArgs, roleSecrets),
        env: redactEnv(spec.env),
        argv: redactArgv(buildNativeArgv(spec), roleSecrets),
      };
    }),
    proxy: {
      port: ports.proxy,
      healthUrl: proxyHealthUrl(disagg.proxy, ports.proxy),
      script: disagg.proxy.script,
      kvConnector: disagg.kvConnector,
      argv: proxyArgv(context),
    },
  };
}

function plannedServer(spec: ServerSpec & { role?: string }): PlannedServer {
  const { env, ...rest } = spec;
  const argv =
    spec.runtime === 'external'
      ? []
      : spec.runtime === 'docker'
        ? buildDockerRunArgv(spec)
        : buildNativeArgv(spec);
  return { ...rest, envNames: Object.keys(env), argv };
}

function planLaunch(context: RunContext): PlannedLaunch {
  if (context.serverUrl) return { kind: 'external', url: serverBaseUrl(context) };
  if (isDisaggregated(context)) {
    const topology = topologySpec(context);
    return {
      kind: 'topology',
      servers: topology.servers.map(plannedServer),
      proxy: topology.proxy as ProxySpec,
    };
  }
  return { kind: 'server', server: plannedServer(serverSpec(context)) };
}

function relativeTo(dir: string, path: string): string {
  return relative(resolve(dir), resolve(path));
}

/** Plans one run of `workload` (a sweep recipe: one variant, see `expandVariants`). Pure: no I/O. */
/** Whether perf-eval resets the server's caches before every bench run and repetition, and why not. */
export interface CacheResetPlan {
  enabled: boolean;
  /** Why not (simulator, external server, the recipe's opt-out). */
  reason?: string;
}

function planCacheReset(workload: ResolvedWorkload, serverUrl: string | undefined): CacheResetPlan {
  if (serverUrl)
    return { enabled: false, reason: 'external server (--server-url): perf-eval does not own its caches' };
  if (workload.server.runtime === 'sim')
    return { enabled: false, reason: 'the simulator (llm-d-inference-sim) has no cache-reset endpoints' };
  const value = workload.server.env[SERVER_DEV_MODE];
  if (value !== '1')
    return {
      enabled: false,
      reason: `the recipe sets ${SERVER_DEV_MODE}=${value ?? ''} (cache-reset endpoints off)`,
    };
  return { enabled: true };
}

export function planRun(recipe: ResolvedWorkload, options: PlanRunOptions): RunPlan {
  const workload = withServerDevMode(recipe);
  const resultsRoot = resolve(options.cwd, options.resultsRoot ?? 'results');
  const basePort = resolvePort(options.env);
  const context: RunContext = {
    workload,
    resultsDir: join(resultsRoot, workload.name),
    // Disaggregated: the tools talk to the proxy (its explicit port, else the resolved port).
    port: topologyPorts(workload, basePort).client,
    basePort,
    env: options.env,
    tools: options.tools,
    pid: options.pid,
  };
  if (options.serverUrl) context.serverUrl = options.serverUrl.replace(/\/+$/, '');
  const phases = new Set(options.phases ?? ALL_PHASES);
  const secrets = secretValuesOf(workload.server.env);
  const skipAccuracy = benchOnly(context);
  const disaggregated = isDisaggregated(context);
  const { roles, proxy } = planRoles(context, secrets);
  const launch = planLaunch(context);
  const toolEnv = planToolEnv(options.env, workload);
  const toolNames = toolEnvNames(toolEnv);
  const semantic = !skipAccuracy && phases.has('semantic_eval') ? semanticEvalPlan(context) : undefined;
  const bench = phases.has('bench') ? benchPlans(context, toolNames) : [];
  const lmEval = !skipAccuracy && phases.has('lm_eval') ? lmEvalPlans(context) : [];
  const bfcl = !skipAccuracy && phases.has('bfcl') ? bfclPlans(context) : [];
  const token = options.env['INGEST_BEARER_TOKEN']?.trim();
  const disabled = Boolean(options.ingest?.disabled);
  const stepMs = workload.timeoutInMinutes * 60_000;
  const serverArgv = launch.kind === 'server' ? launch.server.argv : [];
  const serverLogs =
    launch.kind === 'server'
      ? [launch.server.logFile]
      : launch.kind === 'topology'
        ? [...launch.servers.map((s) => s.logFile), launch.proxy.logFile]
        : [];
  return {
    version: 1,
    workload: {
      name: workload.name,
      stem: workload.stem,
      path: workload.path,
      gpu: workload.gpu,
      numGpus: workload.numGpus,
      nightly: workload.nightly,
      timeoutInMinutes: workload.timeoutInMinutes,
      benchOnly: skipAccuracy,
    },
    server: {
      runtime: context.serverUrl ? 'external' : workload.server.runtime,
      image: workload.server.image,
      imageRule: workload.server.imageRule,
      vllmCommit: workload.server.vllmCommit,
      model: workload.server.model,
      servedModelName: workload.server.servedModelName,
      port: context.port,
      url: serverBaseUrl(context),
      serveArgs: redactArgv(workload.server.serveArgs, secrets),
      env: redactEnv(workload.server.env),
      envNames: Object.keys(workload.server.env),
      startupTimeoutS: workload.server.startupTimeoutS,
      numNodes: workload.server.numNodes,
      distributedExecutorBackend: workload.server.distributedExecutorBackend ?? null,
      // Disaggregated: nothing is launched as "the server"; see roles and proxy.
      argv: disaggregated ? [] : redactArgv(serverArgv, secrets),
    },
    topology: workload.topology,
    roles,
    proxy,
    launch,
    semanticEval: semantic
      ? {
          name: semantic.name,
          argv: semantic.argv,
          outputPath: semantic.outputPath,
          timeoutMinutes: workload.semanticEval?.timeoutMinutes ?? semantic.timeoutMs / 60_000,
          timeoutMs: semantic.timeoutMs,
          defaultCommand: workload.semanticEval?.defaultCommand ?? false,
          envNames: toolNames,
        }
      : null,
    variant: workload.variant ?? null,
    variants: planVariants(workload, resultsRoot),
    bench: bench.map((run) => ({
      runName: run.spec.runName,
      backend: run.spec.backend ?? null,
      dataset: run.spec.dataset,
      inputLen: run.spec.inputLen,
      outputLen: run.spec.outputLen,
      numPrompts: run.spec.numPrompts,
      maxConcurrency: run.spec.maxConcurrency,
      repetitions: run.spec.repetitions,
      extraArgs: run.spec.extraArgs,
      resultFile: run.resultFile,
      repetitionFiles: run.repetitionFiles,
      argv: run.commands[0] as string[],
      commands: run.commands,
      envNames: run.envNames,
      spec: run.spec,
      target: run.target,
      executor: run.executor,
    })),
    lmEval: lmEval.map(({ spec, argv }) => ({
      task: spec.task,
      numFewshot: spec.numFewshot,
      modelArgs: spec.modelArgs,
      outputPath: spec.outputPath,
      argv,
      command: [...options.tools.lmEval],
      envNames: toolNames,
      spec,
    })),
    bfcl: bfcl.map(({ spec, argv, python, outputDir }) => ({
      category: spec.category,
      numThreads: spec.numThreads,
      temperature: spec.temperature,
      maximumStepLimit: spec.maximumStepLimit ?? null,
      maxTestCases: spec.maxTestCases ?? null,
      outputDir,
      argv,
      python,
      driverCacheDir: options.bfclDriverCacheDir,
      envNames: toolNames,
      spec,
    })),
    perf: {
      device: workload.perf.device,
      tp: workload.perf.tp,
      precision: workload.perf.precision,
      sources: workload.perf.sources,
    },
    resultsDir: context.resultsDir,
    phases: ALL_PHASES.filter((phase) => phases.has(phase)),
    jobs: options.jobs ?? DEFAULT_JOBS,
    toolEnv,
    files: {
      summaryJson: join(context.resultsDir, 'summary.json'),
      summaryMd: join(context.resultsDir, 'summary.md'),
      serverLogs,
      ingestPlan: join(context.resultsDir, '.ingest', 'plan.json'),
      outbox: join(context.resultsDir, '.ingest', 'outbox'),
    },
    ingest: {
      enabled: !disabled && Boolean(token),
      reason: disabled
        ? '--no-ingest'
        : token
          ? null
          : 'INGEST_BEARER_TOKEN is not set (results kept; deliver later with perf-eval ingest)',
      strict: Boolean(options.ingest?.strict),
      disabled,
      samples: !options.env['INGEST_NO_SAMPLES'],
      context: {
        workload: workload.name,
        image: workload.server.image,
        vllmCommit: workload.server.vllmCommit,
      },
      perf: bench.map((run) => ({
        runName: run.spec.runName,
        file: relativeTo(context.resultsDir, run.resultFile),
        meta: {
          device: workload.perf.device,
          tp: workload.perf.tp,
          precision: workload.perf.precision,
          model: workload.server.model,
          isl: run.spec.inputLen,
          osl: run.spec.outputLen,
          conc: run.spec.maxConcurrency,
        },
      })),
    },
    timeouts: { stepMs, runBudgetMs: Math.max(60_000, stepMs - 60_000) },
    cacheReset: planCacheReset(workload, context.serverUrl),
  };
}

/**
 * The plan as printed: every string with a secret value in it masked as `***` (server and role env
 * values with secret names, and the caller's secret-named variables). Launch specs keep exact argv,
 * so a secret a recipe put into serve args is masked here, never in what runs.
 */
export function redactPlan(plan: RunPlan, secretValues: readonly string[]): RunPlan {
  const secrets = secretList(secretValues);
  const scrub = (value: unknown): unknown => {
    if (typeof value === 'string') return scrubSorted(value, secrets);
    // Argv-like string lists also lose values of secret flags (`--api-key x`) and `NAME=value` tokens.
    if (Array.isArray(value))
      return value.every((item) => typeof item === 'string')
        ? redactArgv(value as string[], secrets).map(scrub)
        : value.map(scrub);
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scrub(item)]));
    return value;
  };
  return scrub(plan) as RunPlan;
}

/** Secret values a printed plan must not show: server and role env, and the caller's secret-named variables. */
export function planSecrets(
  workload: ResolvedWorkload,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  // Everything passed to a server by name: secret-named env values and `--api-key` arguments.
  const specs = [
    workload.server,
    ...(workload.disaggregated ? [workload.disaggregated.prefill, workload.disaggregated.decode] : []),
  ];
  return secretList([...specs.flatMap((spec) => specSecrets(spec)), ...secretValuesOf(env)]);
}
