/**
 * Composition: a resolved recipe plus run-time facts (port, results dir, tool commands) become the
 * adapters' own inputs. Adapters never see the recipe model; this is the only place that knows both
 * sides. Only `planRun` calls it, so the plan is exactly what a run executes.
 */
import { join } from 'node:path';
import {
  buildBenchArgv,
  type BenchExecutor,
  type BenchRunSpec,
  type BenchTarget,
} from '@perf-eval/bench-runner';
import { buildBfclArgv, type BfclRunSpec } from '@perf-eval/bfcl-runner';
import {
  buildLmEvalArgv,
  renderBaseUrl,
  renderModelArgs,
  type LmEvalTaskSpec,
} from '@perf-eval/lmeval-runner';
import {
  buildkiteLabels,
  stopGraceFromEnv,
  type ServerSpec,
  type TopologyServerSpec,
  type TopologySpec,
} from '@perf-eval/server-lifecycle';
import {
  isTruthyFlag,
  renderProxyArgv,
  renderSemanticEval,
  semanticEvalOutputPath,
  topologyPorts,
  type ResolvedRole,
  type ResolvedWorkload,
} from '@perf-eval/workload-schema';

export interface ToolCommands {
  /** `vllm` for `vllm serve` (native runtime). */
  vllm: string[];
  /**
   * `vllm` for `vllm bench serve` outside containers (the toolchain's bench-client role); default `vllm`.
   * Never the provisioned CPU-only client for a native server unless asked (see @perf-eval/toolchain).
   */
  benchVllm?: string[];
  lmEval: string[];
  /** Python of the BFCL virtualenv. */
  bfclPython: string;
  simulator: string;
  docker: string;
  /**
   * The offline tokenizer `vllm bench serve` uses against the simulator when the recipe sets none
   * (`<tools>/tokenizers/sim-bpe`, built by `perf-eval setup`).
   */
  simTokenizer?: string;
}

export const DEFAULT_TOOLS: ToolCommands = {
  vllm: ['vllm'],
  lmEval: ['lm_eval'],
  bfclPython: 'python3',
  simulator: 'llm-d-inference-sim',
  docker: 'docker',
};

export interface RunContext {
  workload: ResolvedWorkload;
  /** `results/<name>` (absolute or relative to the working directory). */
  resultsDir: string;
  /** The port the tools talk to: the server's, or the proxy's when disaggregated. */
  port: number;
  /**
   * The resolved port (VLLM_PORT / Buildkite job id / 8000) the topology ports derive from
   * (`topologyPorts`: proxy = it, prefill + 1, decode + 2). Default: `port`.
   */
  basePort?: number;
  /** An already-running server (`--server-url`): no launch, no teardown. */
  serverUrl?: string;
  env: Readonly<Record<string, string | undefined>>;
  tools: ToolCommands;
  /** Process id used in the container name (upstream: the orchestrator's pid). */
  pid: number;
}

export function benchOnly(context: Pick<RunContext, 'workload' | 'env'>): boolean {
  return context.workload.benchOnly || isTruthyFlag(context.env['BENCH_ONLY']);
}

export function containerName(context: Pick<RunContext, 'workload' | 'pid'>): string {
  return `perf-eval-${context.workload.name}-${context.pid}`;
}

export function serverSpec(context: RunContext): ServerSpec {
  const { workload } = context;
  const runtime = context.serverUrl ? 'external' : workload.server.runtime;
  const spec: ServerSpec = {
    runtime,
    model: workload.server.model,
    servedModelName: workload.server.servedModelName,
    port: context.port,
    serveArgs: workload.server.serveArgs,
    env: workload.server.env,
    containerName: containerName(context),
    startupTimeoutS: workload.server.startupTimeoutS,
    logFile: join(context.resultsDir, 'server.log'),
    stopGraceS: stopGraceFromEnv(context.env),
  };
  if (context.serverUrl) spec.url = context.serverUrl;
  if (runtime === 'docker') {
    spec.image = workload.server.image;
    spec.docker = context.tools.docker;
    spec.labels = buildkiteLabels(workload.name, context.env);
  }
  if (runtime === 'native') spec.binary = context.tools.vllm[0] as string;
  if (runtime === 'sim') spec.binary = context.tools.simulator;
  return spec;
}

/** True when this run launches prefill and decode servers behind a proxy. */
export function isDisaggregated(context: Pick<RunContext, 'workload' | 'serverUrl'>): boolean {
  return (
    context.workload.topology === 'disaggregated' &&
    context.workload.disaggregated !== undefined &&
    !context.serverUrl
  );
}

export interface RolePorts {
  proxy: number;
  prefill: number;
  decode: number;
}

/** Ports of the proxy and both roles (disaggregated workloads only). */
export function rolePorts(context: Pick<RunContext, 'workload' | 'port' | 'basePort'>): RolePorts {
  const ports = topologyPorts(context.workload, context.basePort ?? context.port);
  if (ports.proxy === undefined || ports.prefill === undefined || ports.decode === undefined) {
    throw new TypeError(`workload '${context.workload.name}' is not disaggregated`);
  }
  return { proxy: ports.proxy, prefill: ports.prefill, decode: ports.decode };
}

/** Flags of `vllm serve` that llm-d-inference-sim does not know (it exits on an unknown flag). */
const SIM_UNSUPPORTED_ROLE_FLAGS = ['--kv-transfer-config', '--distributed-executor-backend'];

/**
 * A role's serve args as launched. The simulator has no KV connector and no Ray backend and rejects
 * both flags, so for the sim runtime they are dropped (`--flag value` and `--flag=value`); every
 * other runtime gets the role's args unchanged.
 */
export function roleServeArgs(context: Pick<RunContext, 'workload'>, role: ResolvedRole): string[] {
  if (context.workload.server.runtime !== 'sim') return [...role.serveArgs];
  const out: string[] = [];
  for (let i = 0; i < role.serveArgs.length; i++) {
    const arg = role.serveArgs[i] as string;
    if (SIM_UNSUPPORTED_ROLE_FLAGS.includes(arg)) {
      i++;
      continue;
    }
    if (SIM_UNSUPPORTED_ROLE_FLAGS.some((flag) => arg.startsWith(`${flag}=`))) continue;
    out.push(arg);
  }
  return out;
}

/** Host the proxy forwards to: the simulator listens on IPv4 only (see serverBaseUrl). */
function backendHost(context: Pick<RunContext, 'workload'>): string {
  return context.workload.server.runtime === 'sim' ? '127.0.0.1' : 'localhost';
}

/** The proxy's argv (vLLM's toy proxy flags). */
export function proxyArgv(context: Pick<RunContext, 'workload' | 'port' | 'basePort'>): string[] {
  const disagg = context.workload.disaggregated;
  if (!disagg) throw new TypeError(`workload '${context.workload.name}' is not disaggregated`);
  return renderProxyArgv(disagg.proxy, rolePorts(context), backendHost(context));
}

/** One server spec per role (prefill first), each on its own port with its own log and env. */
export function roleServerSpecs(context: RunContext): TopologyServerSpec[] {
  const disagg = context.workload.disaggregated;
  if (!disagg) throw new TypeError(`workload '${context.workload.name}' is not disaggregated`);
  const ports = rolePorts(context);
  const base = serverSpec({ ...context, port: ports.prefill });
  return [disagg.prefill, disagg.decode].map((role) => ({
    ...base,
    role: role.role,
    port: ports[role.role],
    serveArgs: roleServeArgs(context, role),
    env: role.env,
    servedModelName: role.servedModelName,
    containerName: `${containerName(context)}-${role.role}`,
    logFile: join(context.resultsDir, `server-${role.role}.log`),
  }));
}

/** Everything `startTopology` launches for a disaggregated run: both roles, then the proxy. */
export function topologySpec(context: RunContext): TopologySpec {
  const disagg = context.workload.disaggregated;
  if (!disagg) throw new TypeError(`workload '${context.workload.name}' is not disaggregated`);
  return {
    servers: roleServerSpecs(context),
    proxy: {
      argv: proxyArgv(context),
      port: rolePorts(context).proxy,
      host: '127.0.0.1',
      healthPath: disagg.proxy.healthPath,
      logFile: join(context.resultsDir, 'proxy.log'),
    },
  };
}

export interface PlannedSemanticEval {
  /** Task name in the summary: `gsm8k` for the default command, else the result file's stem. */
  name: string;
  argv: string[];
  outputPath: string;
  timeoutMs: number;
}

/** The semantic eval as it will run against the live server (or proxy); undefined without `semantic_eval:`. */
export function semanticEvalPlan(context: RunContext): PlannedSemanticEval | undefined {
  const template = context.workload.semanticEval;
  if (!template) return undefined;
  const url = serverBaseUrl(context);
  const parsed = new URL(url);
  const outputPath = semanticEvalOutputPath(template, context.resultsDir);
  const argv = renderSemanticEval(template, {
    model: context.workload.server.servedModelName,
    host: parsed.hostname,
    port: Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80)),
    url,
    resultDir: context.resultsDir,
    outputPath,
  });
  const stem = (outputPath.split('/').at(-1) ?? 'semantic_eval').replace(/\.json$/, '') || 'semantic_eval';
  return {
    name: template.defaultCommand ? 'gsm8k' : stem,
    argv,
    outputPath,
    timeoutMs: template.timeoutMinutes * 60_000,
  };
}

/** The simulator we launch ourselves (not `--server-url`). */
function launchesSimulator(context: Pick<RunContext, 'serverUrl' | 'workload'>): boolean {
  return context.workload.server.runtime === 'sim' && !context.serverUrl;
}

/**
 * Base URL of the server as tools should reach it (upstream: http://localhost:<port>). The simulator
 * listens on IPv4 only, so for it the URL says 127.0.0.1: where `localhost` resolves to ::1 first,
 * clients that do not fall back to IPv4 would fail against it.
 */
export function serverBaseUrl(
  context: Pick<RunContext, 'serverUrl' | 'port'> & Partial<Pick<RunContext, 'workload'>>,
): string {
  if (context.serverUrl) return context.serverUrl.replace(/\/+$/, '');
  const host =
    context.workload && launchesSimulator({ workload: context.workload }) ? '127.0.0.1' : 'localhost';
  return `http://${host}:${context.port}`;
}

/**
 * The offline tokenizer `vllm bench serve` uses against the simulator when the recipe's bench args
 * set none: `<tools>/tokenizers/sim-bpe`, built by `perf-eval setup` (the simulator's model name is
 * not loadable without the hub). Undefined for every other runtime.
 */
export function simBenchTokenizer(
  context: Pick<RunContext, 'workload' | 'tools'>,
  extraArgs: Readonly<Record<string, unknown>>,
): string | undefined {
  // A sim recipe targets a simulator even when it is already running (`--server-url`).
  if (context.workload.server.runtime !== 'sim' || extraArgs['tokenizer'] !== undefined) return undefined;
  return context.tools.simTokenizer;
}

export function benchTarget(context: Pick<RunContext, 'serverUrl' | 'port'>): BenchTarget {
  if (context.serverUrl) {
    const url = new URL(context.serverUrl);
    return { host: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
  }
  return { host: '127.0.0.1', port: context.port };
}

export interface PlannedBench {
  spec: BenchRunSpec;
  target: BenchTarget;
  /** Where `vllm bench serve` runs: inside the server container (docker) or on the host. */
  executor: BenchExecutor;
  /** Names of the variables the bench gets (docker: forwarded by name with `docker exec -e NAME`). */
  envNames: string[];
  /** `bench-<run>.json`: the single result or the median aggregate. */
  resultFile: string;
  /** The result file of every repetition, in order (`[resultFile]` for one repetition). */
  repetitionFiles: string[];
  /** The exact argv of every repetition, as bench-runner executes it. */
  commands: string[][];
}

/** Names of the tool variables that cross into the server container for an in-container bench (upstream). */
const CONTAINER_BENCH_ENV = ['HF_TOKEN', 'OPENAI_API_KEY'];

/** Every bench run; `toolEnvNames` are the variables host-side tools get (see `planToolEnv`). */
export function benchPlans(context: RunContext, toolEnvNames: readonly string[]): PlannedBench[] {
  const { workload } = context;
  const inContainer = workload.server.runtime === 'docker' && !context.serverUrl;
  const target = benchTarget(context);
  // Inside the server container the bench keeps the image's own environment (upstream); only
  // credentials cross over, by name.
  const envNames = inContainer
    ? CONTAINER_BENCH_ENV.filter((name) => toolEnvNames.includes(name))
    : [...toolEnvNames];
  const executor: BenchExecutor = inContainer
    ? { kind: 'docker', container: containerName(context), docker: context.tools.docker }
    : { kind: 'native', command: context.tools.benchVllm ?? context.tools.vllm };
  return workload.bench.map((run) => {
    const spec: BenchRunSpec = {
      runName: run.runName,
      model: workload.server.model,
      backend: run.backend,
      dataset: run.dataset,
      inputLen: run.inputLen,
      outputLen: run.outputLen,
      numPrompts: run.numPrompts,
      maxConcurrency: run.maxConcurrency,
      repetitions: run.repetitions,
      extraArgs: ((tokenizer) => (tokenizer ? { ...run.extraArgs, tokenizer } : run.extraArgs))(
        simBenchTokenizer(context, run.extraArgs),
      ),
      trustRemoteCode: workload.server.trustRemoteCode,
      speedBenchSubset: run.speedBenchSubset,
      speedBenchCategory: run.speedBenchCategory,
    };
    const resultFile = join(context.resultsDir, `bench-${run.runName}.json`);
    const names =
      run.repetitions === 1
        ? [`bench-${run.runName}.json`]
        : Array.from({ length: run.repetitions }, (_, r) => `bench-${run.runName}-run-${r + 1}.json`);
    const speedBenchDir = run.dataset === 'speed_bench' ? '<speed-bench-dir>' : undefined;
    // The same composition as bench-runner's runBench: docker runs write to the container's /tmp (upstream).
    const commands = names.map((name) =>
      executor.kind === 'docker'
        ? [
            context.tools.docker,
            'exec',
            ...envNames.flatMap((key) => ['-e', key]),
            executor.container,
            ...buildBenchArgv(spec, target, { resultFile: `/tmp/${name}`, speedBenchDir }),
          ]
        : buildBenchArgv(spec, target, {
            resultFile: join(context.resultsDir, name),
            speedBenchDir,
            command: context.tools.benchVllm ?? context.tools.vllm,
          }),
    );
    return {
      spec,
      target,
      executor,
      envNames,
      resultFile,
      repetitionFiles: names.map((name) => join(context.resultsDir, name)),
      commands,
    };
  });
}

export interface PlannedBfcl {
  spec: BfclRunSpec;
  /** The BFCL virtualenv's python; the driver is materialised under `driverCacheDir` at run time. */
  python: string;
  /** `<python> <driver> …`; the driver path is `<bfcl-driver>` (a content-hashed file written at run time). */
  argv: string[];
  /** `results/<name>/bfcl-<category>` and its siblings for groups. */
  outputDir: string;
}

/** Placeholder of the materialised BFCL driver in planned argv (its name carries a content hash). */
export const BFCL_DRIVER_PLACEHOLDER = '<bfcl-driver>';

export function bfclPlans(context: RunContext): PlannedBfcl[] {
  const { workload } = context;
  return workload.bfcl.map((row) => {
    const spec: BfclRunSpec = {
      category: row.category,
      model: workload.server.model,
      baseUrl: serverBaseUrl(context),
      numThreads: row.numThreads,
      temperature: row.temperature,
      resultsDir: context.resultsDir,
      ...(row.maximumStepLimit !== undefined ? { maximumStepLimit: row.maximumStepLimit } : {}),
      ...(row.maxTestCases !== undefined ? { maxTestCases: row.maxTestCases } : {}),
    };
    return {
      spec,
      python: context.tools.bfclPython,
      argv: buildBfclArgv(spec, { python: context.tools.bfclPython, driverPath: BFCL_DRIVER_PLACEHOLDER }),
      outputDir: join(context.resultsDir, `bfcl-${row.category}`),
    };
  });
}

export interface PlannedLmEval {
  spec: LmEvalTaskSpec;
  argv: string[];
}

export function lmEvalPlans(context: RunContext): PlannedLmEval[] {
  const { workload } = context;
  return workload.lmEval.map((task) => {
    const spec: LmEvalTaskSpec = {
      task: task.task,
      numFewshot: task.numFewshot,
      modelArgs: renderModelArgs(
        workload.server.model,
        renderBaseUrl(serverBaseUrl(context), task.chat),
        task.extraModelArgs,
      ),
      chat: task.chat,
      outputPath: join(context.resultsDir, task.task),
      modelName: workload.server.model,
    };
    if (task.includePath) spec.includePath = task.includePath;
    if (task.limit !== undefined) spec.limit = task.limit;
    if (task.seed !== undefined) spec.seed = task.seed;
    if (task.genKwargs) spec.genKwargs = task.genKwargs;
    return { spec, argv: buildLmEvalArgv(spec, { command: context.tools.lmEval }) };
  });
}
