/** `vllm serve` flags that make a multi-node server use the Ray cluster started with `buildRayArgv`. */
export const RAY_EXECUTOR_FLAG: readonly string[] = Object.freeze(['--distributed-executor-backend', 'ray']);

/** Default Ray GCS port (`ray start --head` without `--port`). */
export const DEFAULT_RAY_PORT = 6379;

export interface RayNodeOptions {
  /** `head` starts the cluster; `worker` joins `headAddress`. */
  role: 'head' | 'worker';
  /** Worker: host (or `host:port`) of the head node. Required for workers. */
  headAddress?: string;
  /** GCS port of the head. Default 6379. */
  port?: number;
  /** GPUs this node offers to Ray (`--num-gpus`). Default: Ray's own detection. */
  numGpus?: number;
  /** `ray` executable. Default `ray`. */
  ray?: string;
}

function checkInt(name: string, value: number, min: number, max: number): string {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`buildRayArgv: ${name} must be an integer between ${min} and ${max}, got ${value}`);
  }
  return String(value);
}

/**
 * `ray start` argv for one node of a multi-node vLLM server (one Ray cluster per role, as CloudAI
 * does). The process stays in the foreground (`--block`), so the caller owns its lifetime:
 * head → `ray start --head --port <port> [--num-gpus N] --block`;
 * worker → `ray start --address <head>:<port> [--num-gpus N] --block`.
 */
export function buildRayArgv(options: RayNodeOptions): string[] {
  const port = checkInt('port', options.port ?? DEFAULT_RAY_PORT, 1, 65535);
  const argv = [options.ray ?? 'ray', 'start'];
  if (options.role === 'head') {
    argv.push('--head', '--port', port);
  } else if (options.role === 'worker') {
    const head = options.headAddress?.trim();
    if (!head) throw new TypeError('buildRayArgv: headAddress is required for a worker node');
    // `host:port` is used as given; a bare host (or bracketed IPv6) gets the GCS port.
    const hasPort = /^\[.*\]:\d+$/.test(head) || /^[^:]+:\d+$/.test(head);
    argv.push('--address', hasPort ? head : `${head}:${port}`);
  } else {
    throw new TypeError(`buildRayArgv: role must be 'head' or 'worker', got '${String(options.role)}'`);
  }
  if (options.numGpus !== undefined) argv.push('--num-gpus', checkInt('numGpus', options.numGpus, 0, 1024));
  argv.push('--block');
  return argv;
}
