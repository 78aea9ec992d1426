import { isSecretName, secretValuesOf } from '@perf-eval/util';
import type { ServerSpec } from './types.js';

export const DEFAULT_STOP_GRACE_S = 5;
export const ENGINE_READY_TIMEOUT_ENV = 'VLLM_ENGINE_READY_TIMEOUT_S';

export function stopGraceOf(spec: Pick<ServerSpec, 'stopGraceS'>): number {
  return Math.max(1, Math.round(spec.stopGraceS ?? DEFAULT_STOP_GRACE_S));
}

/**
 * The server's own environment (recipe-compat §7, D18, D22): `VLLM_ENGINE_READY_TIMEOUT_S` =
 * startup timeout first unless the recipe env sets it, then the recipe env in order.
 */
export function serverEnv(spec: Pick<ServerSpec, 'env' | 'startupTimeoutS'>): Record<string, string> {
  const env: Record<string, string> = {};
  if (!Object.hasOwn(spec.env, ENGINE_READY_TIMEOUT_ENV))
    env[ENGINE_READY_TIMEOUT_ENV] = String(spec.startupTimeoutS);
  return Object.assign(env, spec.env);
}

/**
 * `--stop-timeout` for containers from the Buildkite cancel budget (buildkite.md §6.3):
 * max(1, BUILDKITE_CANCEL_GRACE_PERIOD − 3), default grace 10 → 7.
 */
export function stopGraceFromEnv(env: Readonly<Record<string, string | undefined>>): number {
  const grace = Number(env['BUILDKITE_CANCEL_GRACE_PERIOD'] || 10);
  return Math.max(1, (Number.isFinite(grace) ? Math.floor(grace) : 10) - 3);
}

/** Container labels identifying the Buildkite job (buildkite.md §6.3). Unset variables are left out. */
export function buildkiteLabels(
  workload: string,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const labels: Record<string, string> = {};
  const pairs: [string, string][] = [
    ['com.buildkite.job-id', 'BUILDKITE_JOB_ID'],
    ['com.buildkite.step_key', 'BUILDKITE_STEP_KEY'],
    ['com.buildkite.build_number', 'BUILDKITE_BUILD_NUMBER'],
    ['com.buildkite.pipeline_slug', 'BUILDKITE_PIPELINE_SLUG'],
  ];
  for (const [label, name] of pairs) {
    const value = env[name];
    if (value) labels[label] = value;
  }
  labels['perf-eval.workload'] = workload;
  return labels;
}

/**
 * `docker run -d` argv (recipe-compat §12.2 plus labels, `--init`, `--stop-timeout`). No `--rm`:
 * the stopped container keeps its exit state and logs for diagnosis; `stop()` removes it, and
 * `findStaleContainers` finds leftovers. `perf-eval.workload` defaults to the container name.
 */
export function buildDockerRunArgv(spec: ServerSpec): string[] {
  if (!spec.image) throw new TypeError('buildDockerRunArgv: spec.image is required for the docker runtime');
  const argv = [
    spec.docker ?? 'docker',
    'run',
    '-d',
    '--name',
    spec.containerName,
    '--init',
    '--stop-timeout',
    String(stopGraceOf(spec)),
  ];
  const labels = { ...spec.labels };
  labels['perf-eval.workload'] ??= spec.containerName;
  for (const [key, value] of Object.entries(labels)) argv.push('--label', `${key}=${value}`);
  argv.push('--gpus', 'all', '--ipc=host', '--ulimit', 'nofile=65536:65536');
  if (!Object.hasOwn(spec.env, ENGINE_READY_TIMEOUT_ENV))
    argv.push('-e', `${ENGINE_READY_TIMEOUT_ENV}=${spec.startupTimeoutS}`);
  argv.push('-p', `${spec.port}:${spec.port}`);
  // Secret-named entries are passed as `-e NAME`; docker copies the value from its own env (never in argv).
  for (const [key, value] of Object.entries(spec.env))
    argv.push('-e', isSecretName(key) ? key : `${key}=${value}`);
  const hfHome = spec.hfHome ?? spec.env['HF_HOME'];
  if (hfHome) argv.push('-v', `${hfHome}:${hfHome}`);
  argv.push(spec.image, spec.model, '--port', String(spec.port), ...spec.serveArgs);
  return argv;
}

/**
 * Native: `vllm serve <model> --port <port> <serve args>`.
 * Sim: `llm-d-inference-sim --model <model> --port <port> <serve args>`.
 */
export function buildNativeArgv(spec: ServerSpec): string[] {
  if (spec.runtime === 'sim') {
    return [
      spec.binary ?? 'llm-d-inference-sim',
      '--model',
      spec.model,
      '--port',
      String(spec.port),
      ...spec.serveArgs,
    ];
  }
  return [spec.binary ?? 'vllm', 'serve', spec.model, '--port', String(spec.port), ...spec.serveArgs];
}

/** Literal secret values of a spec: secret-named env values and `--api-key` arguments. */
export function specSecrets(spec: Pick<ServerSpec, 'env' | 'serveArgs'>): string[] {
  const secrets = secretValuesOf(spec.env);
  const args = spec.serveArgs;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--api-key' && args[i + 1]) secrets.push(args[i + 1] as string);
    else if (arg.startsWith('--api-key=')) secrets.push(arg.slice('--api-key='.length));
  }
  return secrets.filter((secret) => secret.length >= 4);
}

/** API key the probes must send to `/v1/models` (`--api-key` or `VLLM_API_KEY`). */
export function apiKeyOf(spec: Pick<ServerSpec, 'env' | 'serveArgs'>): string | undefined {
  const args = spec.serveArgs;
  for (let i = args.length - 1; i >= 0; i--) {
    const arg = args[i] as string;
    if (arg === '--api-key' && args[i + 1]) return args[i + 1];
    if (arg.startsWith('--api-key=')) return arg.slice('--api-key='.length);
  }
  return spec.env['VLLM_API_KEY'] || undefined;
}
