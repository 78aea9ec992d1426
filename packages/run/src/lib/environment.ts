/**
 * The environment of the host-side tools (lm_eval, BFCL, a host-side bench, the semantic eval):
 * a documented allow-list of the caller's variables, never the server env (D18). The plan keeps
 * only names and non-secret fixed values; values are read from the caller's env at execution.
 */
import type { ResolvedWorkload } from '@perf-eval/workload-schema';

/** Variables of the caller's environment that the tools inherit when set. */
export const TOOL_ENV_PASSTHROUGH = [
  'PATH',
  'HOME',
  'USER',
  'LANG',
  'LC_ALL',
  'TMPDIR',
  'TZ',
  'HF_TOKEN',
  'HF_HUB_OFFLINE',
  'HF_DATASETS_OFFLINE',
  'HF_ENDPOINT',
  'OPENAI_API_KEY',
  'BFCL_MAXIMUM_STEP_LIMIT',
  'BFCL_MAX_TEST_CASES',
  'VLLM_SPEED_BENCH_DIR',
  'LMEVAL_LOG_LEVEL',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'SSL_CERT_FILE',
  'REQUESTS_CA_BUNDLE',
  'HF_HOME',
] as const;

export interface ToolEnvPlan {
  /** Names taken from the caller's environment at execution (those set when the plan was made). */
  inherit: string[];
  /** Fixed values (never secrets): unbuffered Python, the server's HF_HOME, offline mode against the simulator. */
  set: Record<string, string>;
}

export function planToolEnv(
  env: Readonly<Record<string, string | undefined>>,
  workload: ResolvedWorkload,
): ToolEnvPlan {
  const inherit = TOOL_ENV_PASSTHROUGH.filter((name) => env[name] !== undefined);
  const set: Record<string, string> = { PYTHONUNBUFFERED: '1' };
  // The tokenizer cache the server uses is where host-side tools find tokenizers too.
  const serverHfHome = workload.server.env['HF_HOME'];
  if (env['HF_HOME'] === undefined && serverHfHome) set['HF_HOME'] = serverHfHome;
  // Against the simulator everything is offline (local tokenizer, local lm-eval data): the hub is never contacted.
  if (workload.server.runtime === 'sim')
    Object.assign(set, { HF_HUB_OFFLINE: '1', HF_DATASETS_OFFLINE: '1' });
  return { inherit: inherit.filter((name) => !(name in set)), set };
}

/** Names of every variable the tools get. */
export function toolEnvNames(plan: ToolEnvPlan): string[] {
  return [...new Set([...Object.keys(plan.set), ...plan.inherit])];
}

/** The tools' environment: the fixed values plus the inherited names' current values. */
export function toolEnvValues(
  plan: ToolEnvPlan,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(plan.set)) out[name] = value;
  for (const name of plan.inherit) {
    const value = env[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** The server-side environments of a workload (values, never printed): the server's and each role's. */
export interface ServerEnvironments {
  server: Readonly<Record<string, string>>;
  roles: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** The variable that makes vLLM serve `/reset_prefix_cache`, `/reset_mm_cache`, `/reset_encoder_cache`. */
export const SERVER_DEV_MODE = 'VLLM_SERVER_DEV_MODE';

/**
 * Servers perf-eval starts (docker, native) get `VLLM_SERVER_DEV_MODE=1` so their caches can be reset
 * before every bench run and repetition (a warm prefix cache inflates repeated runs). A recipe opts
 * out by setting the variable itself in `env:` (e.g. `'0'`); its value is then kept as it is.
 */
export function withServerDevMode(workload: ResolvedWorkload): ResolvedWorkload {
  const runtime = workload.server.runtime;
  if (runtime !== 'docker' && runtime !== 'native') return workload;
  const add = (env: Readonly<Record<string, string>>): Record<string, string> =>
    env[SERVER_DEV_MODE] === undefined ? { ...env, [SERVER_DEV_MODE]: '1' } : { ...env };
  const out: ResolvedWorkload = {
    ...workload,
    server: { ...workload.server, env: add(workload.server.env) },
  };
  if (workload.disaggregated)
    out.disaggregated = {
      ...workload.disaggregated,
      prefill: { ...workload.disaggregated.prefill, env: add(workload.disaggregated.prefill.env) },
      decode: { ...workload.disaggregated.decode, env: add(workload.disaggregated.decode.env) },
    };
  return out;
}

export function serverEnvironments(recipe: ResolvedWorkload): ServerEnvironments {
  const workload = withServerDevMode(recipe);
  const roles: Record<string, Record<string, string>> = {};
  if (workload.disaggregated)
    for (const role of [workload.disaggregated.prefill, workload.disaggregated.decode])
      roles[role.role] = role.env;
  return { server: workload.server.env, roles };
}
