/**
 * Server topologies beyond one aggregated `vllm serve`: disaggregated prefill/decode roles with a
 * KV-transfer connector and a proxy in front (as NVIDIA CloudAI's vLLM workload), and multi-node
 * servers through Ray. Pure functions; the loader validates, resolve.ts assembles.
 */
import { isAbsolute, join } from 'node:path';
import { PerfEvalError } from '@perf-eval/util';

export type RoleName = 'prefill' | 'decode';

export interface ResolvedRole {
  role: RoleName;
  /** The role's own serve_args as written. */
  serveArgsText: string;
  /** Shared vllm.serve_args, then the role's, then `--kv-transfer-config <json>` and the Ray backend (unless present). */
  serveArgs: string[];
  /** Server env (profile, vllm.env), the role's env over it, then CUDA_VISIBLE_DEVICES (and the NIXL side-channel port). */
  env: Record<string, string>;
  gpuIds: number[];
  /** Where the GPU ids came from. */
  gpuSource: GpuSource;
  numNodes: number;
  /** Explicit `port:` of the role; otherwise `topologyPorts` derives it (resolved port + 1 / + 2). */
  port?: number;
  /** `ray` when the role spans nodes (or the value the serve args already set). */
  distributedExecutorBackend?: string;
  /** The `--kv-transfer-config` JSON token this role's argv carries. */
  kvTransferConfig: string;
  servedModelName: string;
  trustRemoteCode: boolean;
}

export interface ResolvedProxy {
  python: string;
  /** Script path: absolute, or under VLLM_SOURCE_DIR when set, else relative to the working directory. */
  script: string;
  /** Explicit `port:`; otherwise the resolved port (VLLM_PORT / job-id derived / 8000). */
  port?: number;
  healthPath: string;
}

export interface ResolvedDisaggregation {
  prefill: ResolvedRole;
  decode: ResolvedRole;
  proxy: ResolvedProxy;
  kvConnector: string;
  kvThreads?: number;
}

export type GpuSource = 'gpu_ids' | 'CUDA_VISIBLE_DEVICES' | 'num_gpus';

export const DEFAULT_KV_CONNECTOR = 'NixlConnector';
export const DEFAULT_PROXY_SCRIPT = 'tests/v1/kv_connector/nixl_integration/toy_proxy_server.py';
export const DEFAULT_PROXY_HEALTH_PATH = '/healthcheck';
export const DEFAULT_NIXL_SIDE_CHANNEL_PORT = 5600;
export const RAY_FLAG = '--distributed-executor-backend';

/** A script under vLLM's source tree: absolute paths as given, relative ones under env VLLM_SOURCE_DIR when set. */
export function vllmSourcePath(path: string, env: Readonly<Record<string, string | undefined>>): string {
  const root = env['VLLM_SOURCE_DIR']?.trim();
  return isAbsolute(path) || !root ? path : join(root, path);
}

/** `CUDA_VISIBLE_DEVICES` as GPU indices; `undefined` when unset/empty, `null` when it is not a list of indices. */
export function parseCudaVisibleDevices(value: string | undefined): number[] | null | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  const parts = text.split(',').map((part) => part.trim());
  return parts.every((part) => /^\d+$/.test(part)) ? parts.map(Number) : null;
}

export interface GpuSplit {
  prefill: number[];
  decode: number[];
  source: GpuSource;
}

/**
 * CloudAI's assignment: explicit ids on both roles win; otherwise the available GPUs
 * (CUDA_VISIBLE_DEVICES of the loader env, else 0..num_gpus-1) are split in halves, first half to
 * prefill. Returns an error message (without position) when that is impossible.
 */
export function splitGpus(input: {
  prefillIds?: number[] | undefined;
  decodeIds?: number[] | undefined;
  cudaVisibleDevices?: string | undefined;
  numGpus: number;
}): GpuSplit | { error: string } {
  const { prefillIds, decodeIds } = input;
  if (prefillIds && decodeIds) {
    const overlap = prefillIds.filter((id) => decodeIds.includes(id));
    if (overlap.length > 0)
      return {
        error: `vllm.prefill.gpu_ids and vllm.decode.gpu_ids overlap on GPU(s) ${[...new Set(overlap)].join(', ')}`,
      };
    return { prefill: prefillIds, decode: decodeIds, source: 'gpu_ids' };
  }
  if (prefillIds || decodeIds) {
    const [set, unset] = prefillIds ? ['prefill', 'decode'] : ['decode', 'prefill'];
    return { error: `vllm.${set}.gpu_ids is set but vllm.${unset}.gpu_ids is not; set both or neither` };
  }
  const visible = parseCudaVisibleDevices(input.cudaVisibleDevices);
  const hint = 'set vllm.prefill.gpu_ids and vllm.decode.gpu_ids';
  if (visible === null)
    return {
      error: `CUDA_VISIBLE_DEVICES='${input.cudaVisibleDevices ?? ''}' is not a list of GPU indices; ${hint}`,
    };
  const all = visible ?? Array.from({ length: input.numGpus }, (_, i) => i);
  const from = visible ? `CUDA_VISIBLE_DEVICES=${visible.join(',')}` : `num_gpus: ${input.numGpus}`;
  if (all.length % 2 !== 0)
    return {
      error: `cannot split ${all.length} GPU(s) (${from}) evenly between prefill and decode; ${hint}`,
    };
  const mid = all.length / 2;
  return {
    prefill: all.slice(0, mid),
    decode: all.slice(mid),
    source: visible ? 'CUDA_VISIBLE_DEVICES' : 'num_gpus',
  };
}

/** The value of `--flag v` / `--flag=v` (first occurrence), `''` for a bare flag, else undefined. */
export function flagValue(tokens: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (token.startsWith(`${flag}=`)) return token.slice(flag.length + 1);
    if (token === flag)
      return i + 1 < tokens.length && !(tokens[i + 1] as string).startsWith('--')
        ? (tokens[i + 1] as string)
        : '';
  }
  return undefined;
}

/** `tokens` plus `flag value` at the end, unless the flag is already there (either form). */
export function ensureFlag(tokens: readonly string[], flag: string, value: string): string[] {
  return flagValue(tokens, flag) === undefined ? [...tokens, flag, value] : [...tokens];
}

/** The compact `--kv-transfer-config` JSON of a role (one argv token; no shell, so no quoting). */
export function kvTransferConfigJson(role: RoleName, connector: string, numThreads?: number): string {
  const config: Record<string, unknown> = {
    kv_connector: connector,
    kv_role: role === 'prefill' ? 'kv_producer' : 'kv_consumer',
  };
  if (numThreads !== undefined) config['kv_connector_extra_config'] = { num_threads: numThreads };
  return JSON.stringify(config);
}

/** A port assignment that cannot work (two services on one port, or past 65535); a validation error. */
export class TopologyPortError extends PerfEvalError {
  constructor(
    message: string,
    readonly ports: Readonly<Record<string, number>>,
  ) {
    super('E_RECIPE_PORTS', message, { category: 'validation' });
  }
}

export interface TopologyPorts {
  /** The port clients (bench, lm-eval, BFCL, semantic eval) use: the server, or the proxy when disaggregated. */
  client: number;
  proxy?: number;
  prefill?: number;
  decode?: number;
}

/**
 * Ports of a topology from the resolved port (VLLM_PORT / job-id derived / 8000). Aggregated: the
 * server keeps it. Disaggregated: the proxy takes it (so every tool talks to the proxy), prefill
 * gets port + 1 and decode port + 2; explicit `port:` values win.
 */
export function topologyPorts(
  workload: { disaggregated?: ResolvedDisaggregation | undefined },
  basePort: number,
): TopologyPorts {
  const disagg = workload.disaggregated;
  if (!disagg) return { client: basePort };
  const ports = {
    proxy: disagg.proxy.port ?? basePort,
    prefill: disagg.prefill.port ?? basePort + 1,
    decode: disagg.decode.port ?? basePort + 2,
  };
  for (const [service, port] of Object.entries(ports)) {
    if (port > 65535) {
      throw new TopologyPortError(
        `${service} port ${port} is above 65535 (resolved port ${basePort}); set VLLM_PORT lower or give vllm.${service}.port`,
        ports,
      );
    }
  }
  const entries = Object.entries(ports);
  for (let i = 0; i < entries.length; i++) {
    for (let j = i + 1; j < entries.length; j++) {
      const [a, pa] = entries[i] as [string, number];
      const [b, pb] = entries[j] as [string, number];
      if (pa === pb)
        throw new TopologyPortError(
          `${a} and ${b} would both listen on port ${pa}; set distinct vllm.${a}.port / vllm.${b}.port`,
          ports,
        );
    }
  }
  return { client: ports.proxy, ...ports };
}

/** The toy proxy's argv (vLLM's `toy_proxy_server.py` flags); prefill and decode run on `host`. */
export function renderProxyArgv(
  proxy: ResolvedProxy,
  ports: { proxy: number; prefill: number; decode: number },
  host = 'localhost',
): string[] {
  return [
    proxy.python,
    proxy.script,
    '--port',
    String(ports.proxy),
    '--prefiller-hosts',
    host,
    '--prefiller-ports',
    String(ports.prefill),
    '--decoder-hosts',
    host,
    '--decoder-ports',
    String(ports.decode),
  ];
}

export function proxyHealthUrl(proxy: ResolvedProxy, port: number, host = 'localhost'): string {
  return `http://${host}:${port}${proxy.healthPath}`;
}
