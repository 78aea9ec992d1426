/** The checks the Buildkite schema cannot express (buildkite.md §7.4). */
import { isSecretName } from '@perf-eval/util';
import type { PipelineIssue } from './errors.js';
import { findUnescapedDollars, type InterpolationMode } from './interpolation.js';
import { EXECUTABLE_STEP_KEY, HF_CACHE_VOLUME_NAME } from './steps.js';

/** Buildkite rejects an upload of more jobs than this ("exceeds your organization limit of 500"). */
export const UPLOAD_JOB_LIMIT = 500;
export const COMMANDS_PER_STEP = 2;

export interface ExpectedStep {
  /** The recipe's `num_gpus`: the pod GPU limit must equal it. */
  numGpus: number;
  /** Hosts the recipe's server spans (`nodeCount`); a multi-node step's `parallelism` must equal it, a single-node step has none. */
  numNodes?: number;
  /** The server's HF_HOME (profile `hf_home` or recipe env); on a pod it must equal the pod's HF_HOME (D19). */
  serverHfHome?: string;
}

export interface LintContext {
  /** Profile queues plus `<GPU>_QUEUE` override values; when given, every step queue must be one of them. */
  allowedQueues?: ReadonlySet<string>;
  /** Per step key, what the recipe demands of the Kubernetes pod. */
  expected?: ReadonlyMap<string, ExpectedStep>;
  /** `escaped`: the document is meant for an upload with interpolation on, so a single `$` is an error. */
  mode?: InterpolationMode;
  /** Secret values of the generator environment; none may appear anywhere in the document. */
  secretValues?: readonly string[];
  /**
   * Keys of steps outside this document that `depends_on` may name: the steps of
   * `.buildkite/pipeline.yaml` and of earlier uploads of the same build. Default: the executable step.
   */
  externalKeys?: ReadonlySet<string>;
}

/** A step's job count: `parallelism`, else 1 (what Buildkite counts against the per-upload limit). */
export function jobCount(step: unknown): number {
  const parallelism = isMap(step) ? step['parallelism'] : undefined;
  return Number.isInteger(parallelism) && (parallelism as number) > 1 ? (parallelism as number) : 1;
}

type Step = Record<string, unknown>;

const ALLOWED_RETRY = [
  (rule: Step) =>
    rule['exit_status'] === -1 && rule['signal_reason'] === undefined && rule['signal'] === undefined,
  (rule: Step) =>
    rule['exit_status'] === undefined &&
    rule['signal_reason'] === 'agent_stop' &&
    rule['signal'] === undefined,
  (rule: Step) =>
    rule['exit_status'] === undefined &&
    rule['signal_reason'] === 'stack_error' &&
    rule['signal'] === undefined,
];
const HF_TOKEN = /\bhf_[A-Za-z0-9]{30,}\b/;
const LITERAL_INGEST_TOKEN =
  /INGEST_BEARER_TOKEN=(?!"\$\(buildkite-agent secret get INGEST_BEARER_TOKEN\)")(?=\S)/;

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) strings(item, out);
  else if (isMap(value))
    for (const [key, item] of Object.entries(value)) {
      out.push(key);
      strings(item, out);
    }
  return out;
}

function unescape(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/\$\$/g, '$');
  if (Array.isArray(value)) return value.map(unescape);
  if (isMap(value))
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [unescape(key) as string, unescape(item)]),
    );
  return value;
}

interface PodView {
  kind: 'podSpec' | 'podSpecPatch';
  hostNetwork: unknown;
  container: Step;
  volumes: Step[];
}

function podOf(step: Step): PodView | undefined {
  const plugins = step['plugins'];
  if (!Array.isArray(plugins)) return undefined;
  for (const plugin of plugins) {
    const kubernetes = isMap(plugin) ? plugin['kubernetes'] : undefined;
    if (!isMap(kubernetes)) continue;
    const kind = isMap(kubernetes['podSpec'])
      ? 'podSpec'
      : isMap(kubernetes['podSpecPatch'])
        ? 'podSpecPatch'
        : undefined;
    if (!kind) continue;
    const spec = kubernetes[kind] as Step;
    const containers = Array.isArray(spec['containers']) ? spec['containers'] : [];
    const container = isMap(containers[0]) ? containers[0] : {};
    return {
      kind,
      hostNetwork: spec['hostNetwork'],
      container,
      volumes: Array.isArray(spec['volumes']) ? spec['volumes'].filter(isMap) : [],
    };
  }
  return undefined;
}

function podEnv(container: Step, name: string): string | undefined {
  const env = Array.isArray(container['env']) ? container['env'] : [];
  const entry = env.find((item) => isMap(item) && item['name'] === name) as Step | undefined;
  return typeof entry?.['value'] === 'string' ? entry['value'] : undefined;
}

function isUnder(path: string, dir: string): boolean {
  const base = dir.replace(/\/+$/, '');
  return path === base || path.startsWith(`${base}/`);
}

/** Every lint problem of `pipeline`; empty when clean. Works on any document, more precisely with a context. */
export function lintPipeline(pipeline: unknown, context: LintContext = {}): PipelineIssue[] {
  const issues: PipelineIssue[] = [];
  const add = (rule: string, step: number, message: string) => issues.push({ rule, step, message });
  const raw = isMap(pipeline) ? pipeline : {};
  const steps = Array.isArray(raw['steps']) ? raw['steps'] : [];
  const doc = (context.mode === 'escaped' ? unescape(raw) : raw) as Step;
  const view = (Array.isArray(doc['steps']) ? doc['steps'] : []) as unknown[];
  const where = (i: number, step: Step) =>
    `steps[${i}] (${typeof step['label'] === 'string' ? step['label'] : '?'})`;

  if (steps.length === 0) add('steps', -1, 'pipeline: no steps');
  const jobs = steps.reduce((sum: number, step) => sum + jobCount(step), 0);
  if (jobs > UPLOAD_JOB_LIMIT) {
    add(
      'max-jobs',
      -1,
      `pipeline: ${jobs} jobs (counting parallelism) exceed Buildkite's ${UPLOAD_JOB_LIMIT} jobs per upload; generate with 'perf-eval pipeline --output FILE' to split them into several uploads`,
    );
  }
  const external = context.externalKeys ?? new Set([EXECUTABLE_STEP_KEY]);

  const keys = new Map<string, number>();
  view.forEach((value, i) => {
    const step = isMap(value) ? value : {};
    const key = step['key'] ?? step['identifier'] ?? step['id'];
    if (typeof key === 'string') {
      const first = keys.get(key);
      if (first !== undefined)
        add('unique-key', i, `${where(i, step)}: key '${key}' is already used by steps[${first}]`);
      else keys.set(key, i);
    }
  });

  view.forEach((value, i) => {
    if (!isMap(value)) {
      add('step', i, `steps[${i}]: must be a command step map`);
      return;
    }
    const step = value;
    const at = where(i, step);
    // 1. depends_on targets exist
    const dependsOn = step['depends_on'];
    const targets = (Array.isArray(dependsOn) ? dependsOn : dependsOn === undefined ? [] : [dependsOn])
      .map((item) => (isMap(item) ? item['step'] : item))
      .filter((item): item is string => typeof item === 'string');
    for (const target of targets) {
      if (!keys.has(target) && !external.has(target))
        add(
          'depends-on',
          i,
          `${at}: depends_on '${target}' names no step in this upload, an earlier one or .buildkite/pipeline.yaml`,
        );
    }
    // 2. concurrency needs a group
    const hasConcurrency = step['concurrency'] !== undefined;
    const hasGroup = step['concurrency_group'] !== undefined;
    if (hasConcurrency !== hasGroup)
      add('concurrency', i, `${at}: concurrency and concurrency_group must be set together`);
    if (step['concurrency_method'] !== undefined && !(hasConcurrency && hasGroup))
      add('concurrency', i, `${at}: concurrency_method needs concurrency and concurrency_group`);
    // 4. commands
    const commands = step['commands'] ?? step['command'];
    const list = Array.isArray(commands) ? commands : typeof commands === 'string' ? [commands] : [];
    if (list.length === 0) add('command', i, `${at}: has no command or commands`);
    else if (list.length !== COMMANDS_PER_STEP)
      add(
        'command',
        i,
        `${at}: expected exactly ${COMMANDS_PER_STEP} commands (setup, run), got ${list.length}`,
      );
    // 5. queue
    const agents = step['agents'];
    const queue = isMap(agents) ? agents['queue'] : undefined;
    if (typeof queue !== 'string' || queue.trim() === '')
      add('queue', i, `${at}: agents.queue is missing or empty`);
    else if (context.allowedQueues && !context.allowedQueues.has(queue)) {
      add(
        'queue',
        i,
        `${at}: agents.queue '${queue}' is neither a GPU-profile queue nor a <GPU>_QUEUE override (have ${[...context.allowedQueues].join(', ')})`,
      );
    }
    // 6. retry only lost infrastructure
    const retry = step['retry'];
    if (retry !== undefined) {
      const automatic = isMap(retry) ? retry['automatic'] : undefined;
      if (automatic === true || automatic === 'true')
        add(
          'retry',
          i,
          `${at}: retry.automatic: true retries every failure; list the lost-agent rules instead`,
        );
      else if (automatic !== undefined && automatic !== false && automatic !== 'false') {
        const rules = Array.isArray(automatic) ? automatic : [automatic];
        for (const rule of rules) {
          if (!isMap(rule) || !ALLOWED_RETRY.some((allowed) => allowed(rule))) {
            add(
              'retry',
              i,
              `${at}: retry rule ${JSON.stringify(rule)} is not a lost-infrastructure rule (allowed: exit_status -1, signal_reason agent_stop, signal_reason stack_error)`,
            );
          }
        }
      }
    }
    // 9. label, timeout, env
    if (typeof step['label'] !== 'string' || step['label'].trim() === '')
      add('label', i, `${at}: label is missing or empty`);
    const timeout = step['timeout_in_minutes'];
    if (!Number.isInteger(timeout) || (timeout as number) < 1)
      add('timeout', i, `${at}: timeout_in_minutes must be an integer >= 1, got ${JSON.stringify(timeout)}`);
    const env = step['env'];
    if (env !== undefined) {
      if (!isMap(env)) add('env', i, `${at}: env must be a map`);
      else
        for (const [name, item] of Object.entries(env)) {
          if (typeof item !== 'string')
            add('env', i, `${at}: env.${name} must be a string, got ${JSON.stringify(item)}`);
          if (isSecretName(name))
            add(
              'secret',
              i,
              `${at}: env.${name} looks like a secret; secrets are fetched in the job with 'buildkite-agent secret get'`,
            );
        }
    }
    // 8. secrets
    for (const text of strings(step)) {
      if (LITERAL_INGEST_TOKEN.test(text))
        add(
          'secret',
          i,
          `${at}: INGEST_BEARER_TOKEN is assigned a literal value; use "$(buildkite-agent secret get INGEST_BEARER_TOKEN)"`,
        );
      if (HF_TOKEN.test(text)) add('secret', i, `${at}: contains what looks like a Hugging Face token`);
      for (const secret of context.secretValues ?? [])
        if (secret.length >= 4 && text.includes(secret))
          add('secret', i, `${at}: contains the value of a secret from the generator environment`);
    }
    // 11. multi-node: parallelism = node count, on pods that share the hosts' network
    const expected = typeof step['key'] === 'string' ? context.expected?.get(step['key']) : undefined;
    const parallelism = step['parallelism'];
    const pod = podOf(step);
    if (parallelism !== undefined) {
      if (!Number.isInteger(parallelism) || (parallelism as number) < 2)
        add(
          'parallelism',
          i,
          `${at}: parallelism must be an integer >= 2 (one job per node of a multi-node server), got ${JSON.stringify(parallelism)}`,
        );
      else if (expected?.numNodes !== undefined && parallelism !== expected.numNodes) {
        add(
          'parallelism',
          i,
          `${at}: parallelism ${String(parallelism)} differs from the recipe's node count ${expected.numNodes}`,
        );
      }
      if (!pod)
        add('parallelism', i, `${at}: a multi-node step needs the Kubernetes plugin (server_runtime native)`);
      else if (pod.hostNetwork !== true)
        add(
          'parallelism',
          i,
          `${at}: a multi-node step's pod must set hostNetwork: true (the Ray nodes connect over the hosts' network)`,
        );
    } else if (expected?.numNodes !== undefined && expected.numNodes > 1) {
      add(
        'parallelism',
        i,
        `${at}: the recipe spans ${expected.numNodes} nodes but the step has no parallelism`,
      );
    }
    // 10. Kubernetes sanity
    if (pod) {
      const limits =
        isMap(pod.container['resources']) && isMap(pod.container['resources']['limits'])
          ? pod.container['resources']['limits']
          : {};
      const gpuLimit = limits['nvidia.com/gpu'] ?? limits['amd.com/gpu'];
      if (!Number.isInteger(gpuLimit) || (gpuLimit as number) < 1)
        add('k8s', i, `${at}: pod GPU limit must be a positive integer, got ${JSON.stringify(gpuLimit)}`);
      else if (expected && gpuLimit !== expected.numGpus)
        add(
          'k8s',
          i,
          `${at}: pod GPU limit ${String(gpuLimit)} differs from the recipe's num_gpus ${expected.numGpus}`,
        );
      const hfHome = podEnv(pod.container, 'HF_HOME');
      const mounts = (
        Array.isArray(pod.container['volumeMounts']) ? pod.container['volumeMounts'] : []
      ).filter(isMap);
      if (hfHome === undefined) add('k8s', i, `${at}: pod sets no HF_HOME`);
      else {
        if (
          !mounts.some(
            (mount) => typeof mount['mountPath'] === 'string' && isUnder(hfHome, mount['mountPath']),
          )
        ) {
          add(
            'k8s',
            i,
            `${at}: pod HF_HOME ${hfHome} is not on a mounted volume (the cache would fill the node's root disk)`,
          );
        }
        if (expected?.serverHfHome !== undefined && expected.serverHfHome !== hfHome) {
          add(
            'k8s',
            i,
            `${at}: server HF_HOME ${expected.serverHfHome} differs from the pod HF_HOME ${hfHome} (D19)`,
          );
        }
      }
      if (pod.kind === 'podSpecPatch') {
        const cacheMount = mounts.find((mount) => mount['name'] === HF_CACHE_VOLUME_NAME);
        if (!pod.volumes.some((volume) => volume['name'] === HF_CACHE_VOLUME_NAME))
          add(
            'k8s',
            i,
            `${at}: no volume named '${HF_CACHE_VOLUME_NAME}' (a name in the volume source must not rename it, D28)`,
          );
        if (!cacheMount) add('k8s', i, `${at}: no volumeMount of '${HF_CACHE_VOLUME_NAME}'`);
        else if (hfHome !== undefined && cacheMount['mountPath'] !== hfHome) {
          add(
            'k8s',
            i,
            `${at}: '${HF_CACHE_VOLUME_NAME}' is mounted at ${String(cacheMount['mountPath'])} but the pod HF_HOME is ${hfHome} (D19)`,
          );
        }
      }
      if (
        list.some((command) => typeof command === 'string' && /(^|[\s;&|])(export\s+)?HF_HOME=/.test(command))
      ) {
        add('k8s', i, `${at}: a Kubernetes step must not override HF_HOME in its commands (D19)`);
      }
    }
  });

  // 7. upload-time interpolation
  if (context.mode === 'escaped') {
    steps.forEach((value, i) => {
      const step = isMap(value) ? value : {};
      for (const text of strings(step)) {
        for (const hit of findUnescapedDollars(text)) {
          add(
            'interpolation',
            i,
            hit.startsWith('\\')
              ? `${where(i, step)}: '\\$' is an escape for Buildkite's interpolation, so this backslash cannot survive; upload with --no-interpolation instead`
              : `${where(i, step)}: '${hit}' would be interpolated at upload; write '$${hit}'`,
          );
        }
      }
    });
  }
  return issues;
}
