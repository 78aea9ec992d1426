/**
 * Where the external tools live and which binary plays which role. `perf-eval setup` provisions
 * pinned virtualenvs and the simulator under one cache directory; `run` takes them from there or from
 * PATH, by role: the provisioned `vllm` is a CPU-only `vllm bench serve` client and never serves.
 */
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/** Explicit override of the serving `vllm` (native runtime). */
export const SERVER_VLLM_ENV = 'PERF_EVAL_VLLM';
/** Explicit override of the `vllm` that runs `vllm bench serve` on this host. */
export const BENCH_VLLM_ENV = 'PERF_EVAL_BENCH_VLLM';

/** What `perf-eval setup` provisions (and a run provisions when missing). */
export const COMPONENTS = ['bench', 'lm_eval', 'bfcl', 'sim'] as const;
export type Component = (typeof COMPONENTS)[number];

export function toolsDir(env: Env): string {
  const explicit = env['PERF_EVAL_TOOLS_DIR']?.trim();
  if (explicit) return explicit;
  const cache = env['XDG_CACHE_HOME']?.trim() || join(env['HOME']?.trim() || homedir(), '.cache');
  return join(cache, 'perf-eval', 'tools');
}

/** Fixed layout under the tools directory (shared by setup and run). */
export function toolPaths(dir: string) {
  return {
    lmEvalVenv: join(dir, 'venvs', 'lmeval'),
    lmEval: join(dir, 'venvs', 'lmeval', 'bin', 'lm_eval'),
    lmEvalPython: join(dir, 'venvs', 'lmeval', 'bin', 'python'),
    bfclVenv: join(dir, 'venvs', 'bfcl'),
    bfclPython: join(dir, 'venvs', 'bfcl', 'bin', 'python'),
    vllmVenv: join(dir, 'venvs', 'vllm'),
    /** The CPU-only `vllm bench serve` client; never a server. */
    vllm: join(dir, 'venvs', 'vllm', 'bin', 'vllm'),
    bin: join(dir, 'bin'),
    simulator: join(dir, 'bin', 'llm-d-inference-sim'),
    /** Offline tokenizer for `vllm bench serve` against the simulator (built by `perf-eval setup`). */
    simTokenizer: join(dir, 'tokenizers', 'sim-bpe'),
    cache: join(dir, 'cache'),
  };
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `which`: the first executable `name` on PATH (skipping `exclude`), or undefined. */
export function findOnPath(name: string, env: Env, exclude: readonly string[] = []): string | undefined {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (exclude.includes(resolve(candidate))) continue;
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** How perf-eval's commands name each tool (argv prefixes). */
export interface ToolCommands {
  /** `vllm` for `vllm serve` (native runtime). */
  vllm: string[];
  /** `vllm` for `vllm bench serve` on this host (outside containers). */
  benchVllm: string[];
  lmEval: string[];
  /** Python of the BFCL virtualenv. */
  bfclPython: string;
  simulator: string;
  docker: string;
}

export const DEFAULT_TOOLS: ToolCommands = {
  vllm: ['vllm'],
  benchVllm: ['vllm'],
  lmEval: ['lm_eval'],
  bfclPython: 'python3',
  simulator: 'llm-d-inference-sim',
  docker: 'docker',
};

/**
 * Where a role's binary came from: an explicit override, PATH, the provisioned tools directory, the
 * server's container image (the bench runs inside it), or `missing`.
 */
export type ToolSource = 'override' | 'path' | 'provisioned' | 'container' | 'missing';

export interface ToolRole {
  /** Absolute path (or the in-container name); undefined when missing or not needed. */
  binary: string | undefined;
  source: ToolSource;
}

/** Which binary plays which role: plain JSON, recorded in `summary.json` as `tools`. */
export type ToolRoles = {
  /** `vllm serve` (native runtime) or the simulator binary (sim); `container` for docker. */
  server: ToolRole;
  /** `vllm bench serve`. */
  benchClient: ToolRole;
  lmEval: ToolRole;
  bfclPython: ToolRole;
  docker: ToolRole;
};

export type ServerRuntime = 'docker' | 'native' | 'sim';

export interface DiscoverToolsOptions {
  /** The recipe's server runtime (default `native`). */
  runtime?: ServerRuntime | undefined;
  /** An already-running server (`--server-url`): the bench is a client of somebody else's server. */
  externalServer?: boolean | undefined;
  /** Use the provisioned bench client even for a native server (default: the server's own vLLM). */
  provisionedBenchClient?: boolean | undefined;
  /**
   * Components a run provisions while its server starts: named at their provisioned paths as if
   * they were there already, so the plan shows the commands that will run.
   */
  pending?: ReadonlySet<Component> | undefined;
}

export interface DiscoveredTools {
  commands: ToolCommands;
  roles: ToolRoles;
  /** Python of the lm-eval venv (task listing); `python3` when lm_eval comes from PATH without a venv. */
  lmEvalPython: string;
  /** Which tools were found, and where (for preflight messages). */
  found: Record<'vllm' | 'benchVllm' | 'lm_eval' | 'bfcl' | 'simulator' | 'docker', string | undefined>;
  dir: string;
}

function role(binary: string | undefined, source: ToolSource): ToolRole {
  return binary === undefined ? { binary: undefined, source: 'missing' } : { binary, source };
}

/**
 * Find every tool for a run and decide its role. The serving `vllm` is an override
 * (`PERF_EVAL_VLLM`) or the `vllm` on PATH — never the provisioned bench client, even when its
 * directory is on PATH. The bench client is `PERF_EVAL_BENCH_VLLM` when set; for a native server the
 * server's own vLLM (same installation, same version) unless `provisionedBenchClient`; against the
 * simulator or an external server the provisioned client, else PATH; inside a docker server the
 * image's. lm_eval, BFCL's Python and the simulator prefer the provisioned copies.
 */
export function discoverTools(env: Env, options: DiscoverToolsOptions = {}): DiscoveredTools {
  const dir = toolsDir(env);
  const paths = toolPaths(dir);
  const runtime = options.runtime ?? 'native';
  const override = (name: string): string | undefined => env[name]?.trim() || undefined;
  const provisioned = (path: string, component: Component): boolean =>
    options.pending?.has(component) === true || isExecutable(path);
  const provisionedClient = provisioned(paths.vllm, 'bench') ? paths.vllm : undefined;

  const serverOverride = override(SERVER_VLLM_ENV);
  const pathVllm = findOnPath('vllm', env, [resolve(paths.vllm)]);
  const servingVllm = serverOverride ? role(serverOverride, 'override') : role(pathVllm, 'path');

  const simulator = provisioned(paths.simulator, 'sim')
    ? role(paths.simulator, 'provisioned')
    : role(findOnPath('llm-d-inference-sim', env), 'path');
  const server: ToolRole =
    options.externalServer === true
      ? { binary: undefined, source: 'missing' }
      : runtime === 'docker'
        ? { binary: 'vllm', source: 'container' }
        : runtime === 'sim'
          ? simulator
          : servingVllm;

  const benchOverride = override(BENCH_VLLM_ENV);
  const clientOrPath = provisionedClient ? role(provisionedClient, 'provisioned') : role(pathVllm, 'path');
  const benchClient: ToolRole = benchOverride
    ? role(benchOverride, 'override')
    : options.provisionedBenchClient === true && provisionedClient
      ? role(provisionedClient, 'provisioned')
      : options.externalServer === true || runtime === 'sim'
        ? clientOrPath
        : runtime === 'docker'
          ? { binary: 'vllm', source: 'container' }
          : servingVllm;

  const lmEval = provisioned(paths.lmEval, 'lm_eval')
    ? role(paths.lmEval, 'provisioned')
    : role(findOnPath('lm_eval', env), 'path');
  const bfclPython = provisioned(paths.bfclPython, 'bfcl')
    ? role(paths.bfclPython, 'provisioned')
    : role(undefined, 'missing');
  const docker = role(findOnPath('docker', env), 'path');
  // A docker server with a host-side bench (external URL) still needs a host client: covered above.
  const hostBench = benchClient.source === 'container' ? undefined : benchClient.binary;
  return {
    commands: {
      vllm: [servingVllm.binary ?? 'vllm'],
      benchVllm: [hostBench ?? 'vllm'],
      lmEval: [lmEval.binary ?? 'lm_eval'],
      bfclPython: bfclPython.binary ?? 'python3',
      simulator: simulator.binary ?? 'llm-d-inference-sim',
      docker: docker.binary ?? 'docker',
    },
    roles: { server, benchClient, lmEval, bfclPython, docker },
    lmEvalPython: provisioned(paths.lmEvalPython, 'lm_eval') ? paths.lmEvalPython : 'python3',
    found: {
      vllm: servingVllm.binary,
      benchVllm: hostBench,
      lm_eval: lmEval.binary,
      bfcl: bfclPython.binary,
      simulator: simulator.binary,
      docker: docker.binary,
    },
    dir,
  };
}
