/**
 * The subset of the Buildkite pipeline schema this generator emits (buildkite.md §2). Hand-written
 * on purpose (buildkite.md §7.5): ajv validates the real document against the vendored schema.
 */

export interface RetryRule {
  exit_status?: number | '*';
  signal_reason?: 'agent_stop' | 'stack_error';
  limit: number;
}

export interface KubernetesPlugin {
  kubernetes: { podSpec: Record<string, unknown> } | { podSpecPatch: Record<string, unknown> };
}

export interface CommandStep {
  label: string;
  key: string;
  /** The CPU step that builds the `perf-eval` executable (`EXECUTABLE_STEP_KEY`). */
  depends_on: string;
  agents: { queue: string };
  /** Multi-node recipes only: one parallel job per node (job 0 = Ray head + orchestrator). */
  parallelism?: number;
  timeout_in_minutes: number;
  commands: string[];
  artifact_paths: string[];
  plugins?: KubernetesPlugin[];
  env?: Record<string, string>;
  retry: { automatic: RetryRule[] };
}

export interface Pipeline {
  steps: CommandStep[];
}
