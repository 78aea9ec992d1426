/**
 * Multi-node steps: one Buildkite step with `parallelism: <nodes>` on the recipe's queue. Parallel
 * job 0 starts the Ray head, publishes its address in build meta-data, waits for the workers and runs
 * the orchestrator; jobs 1…n-1 join the head with `ray start --address` and stay until the head is done.
 * Ray forms the cluster; vLLM uses it through `--distributed-executor-backend ray` and `RAY_ADDRESS`.
 */
import type { ResolvedWorkload } from '@perf-eval/workload-schema';
import { PipelineTopologyError } from './errors.js';

/** Ray GCS port on the head node (Ray's default). */
export const RAY_HEAD_PORT = 6379;
/** Default seconds a head waits for its workers, and a worker for a head (`PERF_EVAL_RAY_WAIT_S`). */
export const DEFAULT_RAY_WAIT_S = 1800;
/** Default meta-data poll interval in seconds (`PERF_EVAL_RAY_POLL_S`). */
export const DEFAULT_RAY_POLL_S = 5;

/** Build meta-data keys of one multi-node step (build-wide, so they carry the step key and the head's job id). */
export function rayMetaDataKeys(stepKey: string): { head: string; joined: string; done: string } {
  return {
    head: `perf-eval:ray-head:${stepKey}`,
    joined: `perf-eval:ray-joined:${stepKey}`,
    done: `perf-eval:ray-done:${stepKey}`,
  };
}

/**
 * Hosts the server needs: `vllm.num_nodes` (aggregated), or the larger role `num_nodes` when
 * disaggregated (a role's `gpu_ids` name GPUs on each of its nodes, so the roles share nodes).
 */
export function nodeCount(workload: ResolvedWorkload): number {
  if (workload.disaggregated)
    return Math.max(workload.disaggregated.prefill.numNodes, workload.disaggregated.decode.numNodes);
  return workload.server.numNodes;
}

function describeNodes(workload: ResolvedWorkload): string {
  const roles = workload.disaggregated;
  if (!roles) return `vllm.num_nodes: ${workload.server.numNodes}`;
  return `vllm.prefill.num_nodes: ${roles.prefill.numNodes}, vllm.decode.num_nodes: ${roles.decode.numNodes}`;
}

/** The step's node count; throws `PipelineTopologyError` when a multi-node recipe's profile is not `native`. */
export function checkMultiNode(workload: ResolvedWorkload): number {
  const nodes = nodeCount(workload);
  const { name, serverRuntime } = workload.profile;
  if (nodes > 1 && serverRuntime !== 'native') {
    throw new PipelineTopologyError(
      workload.path,
      name,
      serverRuntime,
      nodes,
      `${workload.path}: multi-node serving (${describeNodes(workload)}) needs a GPU profile with server_runtime native (Kubernetes pods with hostNetwork); profile '${name}' uses ${serverRuntime}`,
    );
  }
  return nodes;
}

const WAIT = `wait_s="\${PERF_EVAL_RAY_WAIT_S:-${DEFAULT_RAY_WAIT_S}}"; poll_s="\${PERF_EVAL_RAY_POLL_S:-${DEFAULT_RAY_POLL_S}}"`;
const IS_HEAD = '[ "${BUILDKITE_PARALLEL_JOB:-0}" = 0 ]';

/** First command of a multi-node step: only the head (job 0) runs the orchestrator, so only it fetches it. */
export function multiNodeFetch(fetch: string): string {
  return `if ${IS_HEAD}; then ${fetch}; else echo '~~~ :ray: Ray worker node: no perf-eval executable needed'; fi`;
}

/**
 * Run command of a multi-node step. Head (job 0): `ray start --head`, publish `<job id> <ip>:<port>`,
 * wait until every worker registered under its job id, export `RAY_ADDRESS`, run `run` (the normal
 * run command); on exit publish the done key and `ray stop`. Worker: wait for the head address,
 * `ray start --address`, register, then poll until the head is done (rejoining a restarted head).
 */
export function multiNodeRun(run: string, stepKey: string, nodes: number): string {
  const keys = rayMetaDataKeys(stepKey);
  const head = [
    `echo '~~~ :ray: Ray head node (1 of ${nodes})'`,
    'set -e',
    WAIT,
    `ip="\${PERF_EVAL_RAY_NODE_IP:-$(hostname -I | awk '{print $1}')}"`,
    `if [ -z "$ip" ]; then echo 'cannot find this node'"'"'s IP address (hostname -I); set PERF_EVAL_RAY_NODE_IP' >&2; exit 1; fi`,
    `ray start --head --port=${RAY_HEAD_PORT} --node-ip-address="$ip" --disable-usage-stats`,
    `trap 'status=$?; buildkite-agent meta-data set "${keys.done}:$BUILDKITE_JOB_ID" "exit $status"; ray stop || true' EXIT`,
    `buildkite-agent meta-data set '${keys.head}' "$BUILDKITE_JOB_ID $ip:${RAY_HEAD_PORT}"`,
    `deadline=$((SECONDS + wait_s)); i=1`,
    `while [ "$i" -lt ${nodes} ]; do if buildkite-agent meta-data exists "${keys.joined}:$BUILDKITE_JOB_ID:$i"; then i=$((i + 1)); elif [ "$SECONDS" -ge "$deadline" ]; then echo "only $((i - 1)) of ${nodes - 1} Ray worker(s) joined within \${wait_s}s (PERF_EVAL_RAY_WAIT_S); are ${nodes} agents free on this queue?" >&2; exit 1; else sleep "$poll_s"; fi; done`,
    `echo "all ${nodes} Ray nodes joined"`,
    `export RAY_ADDRESS="$ip:${RAY_HEAD_PORT}"`,
    run,
  ].join('; ');
  const worker = [
    `echo "~~~ :ray: Ray worker node ($((BUILDKITE_PARALLEL_JOB + 1)) of ${nodes})"`,
    'set -e',
    WAIT,
    `deadline=$((SECONDS + wait_s)); joined=''`,
    'while true; do ' +
      [
        `current=''; if buildkite-agent meta-data exists '${keys.head}'; then current="$(buildkite-agent meta-data get '${keys.head}')"; fi`,
        `if [ -n "$joined" ] && buildkite-agent meta-data exists "${keys.done}:\${joined%% *}"; then echo 'Ray head finished; leaving the cluster'; ray stop || true; exit 0; fi`,
        `if [ -n "$joined" ] && [ "$current" != "$joined" ]; then echo 'Ray head restarted; rejoining'; ray stop || true; joined=''; deadline=$((SECONDS + wait_s)); fi`,
        `if [ -z "$joined" ] && [ -n "$current" ]; then if ray start --address="\${current#* }" --disable-usage-stats; then buildkite-agent meta-data set "${keys.joined}:\${current%% *}:$BUILDKITE_PARALLEL_JOB" "$BUILDKITE_JOB_ID"; joined="$current"; fi; fi`,
        `if [ -z "$joined" ] && [ "$SECONDS" -ge "$deadline" ]; then echo "no Ray head to join within \${wait_s}s (PERF_EVAL_RAY_WAIT_S); did parallel job 0 start?" >&2; exit 1; fi`,
        'sleep "$poll_s"',
      ].join('; ') +
      '; done',
  ].join('; ');
  return `if ${IS_HEAD}; then ${head}; else ${worker}; fi`;
}
