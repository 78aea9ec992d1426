/** One Buildkite command step per recipe (recipe-compat.md §13.3–13.6, buildkite.md §2). */
import { createHash } from 'node:crypto';
import { quoteArg } from '@perf-eval/util';
import { isTruthyFlag, type GpuProfile, type ResolvedWorkload } from '@perf-eval/workload-schema';
import { parse as parseYaml } from 'yaml';
import { PipelineOverrideError } from './errors.js';
import { checkMultiNode, multiNodeFetch, multiNodeRun } from './multinode.js';
import type { CommandStep, KubernetesPlugin, RetryRule } from './types.js';

export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_AMD_HF_HOME = '/root/.cache/huggingface';
export const NVIDIA_POD_HF_HOME = '/mnt/shared/hf_cache';
export const HF_CACHE_VOLUME_NAME = 'hf-cache';
export const ECR_PUBLIC_PREFIX = 'public.ecr.aws/';
export const ECR_PULL_THROUGH_PREFIX =
  '936637512419.dkr.ecr.us-west-2.amazonaws.com/vllm-ci-pull-through-cache/';
export const ARTIFACT_PATHS = ['results/**/*'];
/** The executable the executable step builds and uploads as an artifact. */
export const EXECUTABLE = 'perf-eval';
/**
 * Key of the CPU step in `.buildkite/pipeline.yaml` that builds `perf-eval` beside the bootstrap
 * (gpu-time.md §4): every GPU step `depends_on` it and downloads the executable from it.
 */
export const EXECUTABLE_STEP_KEY = 'perf-eval-executable';

const EMOJI: Record<string, string> = {
  H200: ':h200:',
  B200: ':b200:',
  A100: ':a100:',
  MI355X: ':amd:',
  MI300X: ':amd:',
};

export function gpuEmoji(gpu: string): string {
  return EMOJI[gpu] ?? ':buildkite:';
}

/** `wl-<stem>` with every character outside `[A-Za-z0-9_-]` replaced by `-` (buildkite.md §2.2). */
export function stepKey(stem: string): string {
  return `wl-${stem.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

/** The schema's limit on `key` (buildkite.md §7.3). */
export const MAX_KEY_LENGTH = 100;
const HASH_LENGTH = 8;

/** `key` cut to fit `MAX_KEY_LENGTH` with `-<8 hex of sha256(identity)>` appended: stable and distinct per identity. */
export function hashedStepKey(key: string, identity: string): string {
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, HASH_LENGTH);
  return `${key.slice(0, MAX_KEY_LENGTH - HASH_LENGTH - 1).replace(/-+$/, '')}-${hash}`;
}

/** What makes a step's hashed key distinct: the recipe stem plus the variant name. */
export function stepIdentity(workload: ResolvedWorkload): string {
  return `${workload.stem}\0${workload.variant?.name ?? ''}`;
}

/**
 * `wl-<stem>` for a recipe; `wl-<stem>--<variant suffix>` for a sweep variant (the suffix is the
 * variant name after `<base name>--`), sanitised like the stem and, when longer than 100
 * characters, shortened with a stable hash suffix (`hashedStepKey`).
 */
export function stepKeyFor(workload: ResolvedWorkload): string {
  const base = stepKey(workload.stem);
  const variant = workload.variant;
  if (!variant) return base;
  const prefix = `${variant.baseName}--`;
  const suffix = variant.name.startsWith(prefix) ? variant.name.slice(prefix.length) : variant.name;
  const key = `${base}--${suffix.replace(/[^A-Za-z0-9_-]/g, '-')}`;
  return key.length <= MAX_KEY_LENGTH ? key : hashedStepKey(key, stepIdentity(workload));
}

export function queueOverrideVariable(gpu: string): string {
  return `${gpu.toUpperCase()}_QUEUE`;
}

export function hfCacheVolumeVariable(gpu: string): string {
  return `${gpu.toUpperCase()}_HF_CACHE_VOLUME`;
}

/** `<GPU>_QUEUE` (trimmed, non-empty) or the profile's queue. */
export function queueFor(profile: GpuProfile, env: Env): string {
  const override = env[queueOverrideVariable(profile.name)]?.trim();
  return override ? override : profile.queue;
}

function checkVolumeSource(source: unknown, where: string, variable: string): Record<string, unknown> {
  if (typeof source !== 'object' || source === null || Array.isArray(source)) {
    throw new PipelineOverrideError(
      variable,
      `${where} must be a Kubernetes volume source map such as {"persistentVolumeClaim":{"claimName":"hf-cache"}}`,
    );
  }
  const keys = Object.keys(source);
  if (keys.includes('name')) {
    throw new PipelineOverrideError(
      variable,
      `${where} must not set 'name' (the volume is always named ${HF_CACHE_VOLUME_NAME})`,
    );
  }
  if (keys.length !== 1) {
    throw new PipelineOverrideError(
      variable,
      `${where} must have exactly one volume-source key (e.g. emptyDir, hostPath, persistentVolumeClaim), got ${keys.length === 0 ? 'none' : keys.join(', ')}`,
    );
  }
  return source as Record<string, unknown>;
}

/**
 * The `hf-cache` volume source for an AMD pod: env `<GPU>_HF_CACHE_VOLUME` (YAML or JSON) >
 * profile `hf_cache_volume` > `{emptyDir: {}}`. A `name` key is rejected (D28).
 */
export function hfCacheVolumeFor(profile: GpuProfile, env: Env): Record<string, unknown> {
  const variable = hfCacheVolumeVariable(profile.name);
  const raw = env[variable]?.trim();
  if (raw) {
    let parsed: unknown;
    try {
      parsed = parseYaml(raw);
    } catch (error) {
      throw new PipelineOverrideError(
        variable,
        `${variable} is not valid YAML/JSON: ${(error as Error).message.split('\n')[0]}`,
        { cause: error },
      );
    }
    return checkVolumeSource(parsed, variable, variable);
  }
  if (profile.hfCacheVolume)
    return checkVolumeSource(
      structuredClone(profile.hfCacheVolume),
      `profile '${profile.name}' hf_cache_volume`,
      variable,
    );
  return { emptyDir: {} };
}

/** The pod image: the resolved image, rewritten to the ECR pull-through cache unless the profile opts out. */
export function podImage(image: string, profile: GpuProfile): string {
  if (profile.ecrPullThroughCache && image.startsWith(ECR_PUBLIC_PREFIX))
    return ECR_PULL_THROUGH_PREFIX + image.slice(ECR_PUBLIC_PREFIX.length);
  return image;
}

export function nvidiaPlugin(image: string, numGpus: number): KubernetesPlugin {
  return {
    kubernetes: {
      podSpec: {
        runtimeClassName: 'nvidia',
        hostNetwork: true,
        dnsPolicy: 'ClusterFirstWithHostNet',
        imagePullSecrets: [{ name: 'k8s-ecr-login-renew-docker-secret' }],
        containers: [
          {
            image,
            resources: { limits: { 'nvidia.com/gpu': numGpus } },
            securityContext: { capabilities: { add: ['IPC_LOCK', 'SYS_RESOURCE'] } },
            volumeMounts: [
              { name: 'devshm', mountPath: '/dev/shm' },
              { name: 'raid', mountPath: '/raid' },
              { name: 'shared', mountPath: '/mnt/shared' },
            ],
            env: [
              { name: 'VLLM_USAGE_SOURCE', value: 'ci-test' },
              { name: 'NCCL_CUMEM_HOST_ENABLE', value: '0' },
              { name: 'HF_HOME', value: NVIDIA_POD_HF_HOME },
              { name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf-token-secret', key: 'token' } } },
            ],
          },
        ],
        volumes: [
          { name: 'devshm', emptyDir: { medium: 'Memory' } },
          { name: 'raid', hostPath: { path: '/raid', type: 'DirectoryOrCreate' } },
          { name: 'shared', hostPath: { path: '/mnt/shared', type: 'DirectoryOrCreate' } },
        ],
      },
    },
  };
}

export function amdPlugin(
  image: string,
  numGpus: number,
  hfHome: string,
  volumeSource: Record<string, unknown>,
  hostNetwork = false,
): KubernetesPlugin {
  return {
    kubernetes: {
      podSpecPatch: {
        // Multi-node: the Ray nodes reach each other on the hosts' network, as the nvidia pods always do.
        ...(hostNetwork ? { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' } : {}),
        imagePullSecrets: [{ name: 'docker-config' }],
        containers: [
          {
            name: 'container-0',
            image,
            resources: { limits: { 'amd.com/gpu': numGpus } },
            securityContext: {
              seccompProfile: { type: 'Unconfined' },
              capabilities: { add: ['IPC_LOCK', 'SYS_PTRACE'] },
            },
            volumeMounts: [
              { name: 'devshm', mountPath: '/dev/shm' },
              { name: HF_CACHE_VOLUME_NAME, mountPath: hfHome },
            ],
            env: [
              { name: 'VLLM_USAGE_SOURCE', value: 'ci-test' },
              { name: 'HF_HOME', value: hfHome },
              { name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf-token', key: 'TOKEN' } } },
            ],
          },
        ],
        volumes: [
          { name: 'devshm', emptyDir: { medium: 'Memory' } },
          { name: HF_CACHE_VOLUME_NAME, ...volumeSource },
        ],
      },
    },
  };
}

/** The Kubernetes plugin of a `native` profile, or undefined for `docker` / `sim`. Multi-node AMD pods get hostNetwork. */
export function k8sPluginFor(workload: ResolvedWorkload, env: Env): KubernetesPlugin | undefined {
  const profile = workload.profile;
  if (profile.serverRuntime !== 'native') return undefined;
  const image = podImage(workload.server.image, profile);
  if (profile.k8sPlugin === 'amd') {
    return amdPlugin(
      image,
      workload.numGpus,
      profile.hfHome ?? DEFAULT_AMD_HF_HOME,
      hfCacheVolumeFor(profile, env),
      checkMultiNode(workload) > 1,
    );
  }
  return nvidiaPlugin(image, workload.numGpus);
}

export function isBenchOnly(workload: ResolvedWorkload, env: Env): boolean {
  return isTruthyFlag(env['BENCH_ONLY']) || workload.benchOnly;
}

export const SECRET_COMMAND =
  'INGEST_BEARER_TOKEN="$(buildkite-agent secret get INGEST_BEARER_TOKEN)" && export INGEST_BEARER_TOKEN';

/**
 * `[fetch, run]` (recipe-compat.md §13.4). The job needs no Node, npm or checkout build: it downloads
 * the self-contained `perf-eval` executable the executable step (`EXECUTABLE_STEP_KEY`) uploaded.
 * There is no separate `perf-eval setup`: `run` provisions the Python tools the recipe lacks while
 * its server pulls the image and loads the model, so the GPUs wait max(launch, installs), not the sum. Runtime `$` references are
 * meant for the job shell; the bootstrap uploads with `--no-interpolation` (buildkite.md §5). A sweep
 * variant runs `run '<path>' --variant '<name>'`; a multi-node recipe branches on
 * `BUILDKITE_PARALLEL_JOB` (multinode.ts), its Ray meta-data keyed by `key`.
 */
export function stepCommands(
  workload: ResolvedWorkload,
  env: Env,
  key = stepKeyFor(workload),
): [string, string] {
  const fetch = [
    `echo '~~~ :package: perf-eval executable'`,
    `buildkite-agent artifact download ${EXECUTABLE} . --step ${EXECUTABLE_STEP_KEY}`,
    `chmod +x ./${EXECUTABLE}`,
  ].join(' && ');
  const run = [SECRET_COMMAND, 'export PATH="$PWD/.venv/bin:$HOME/.local/bin:$PATH"'];
  // D19: Kubernetes pods keep the pod's HF_HOME (the mounted cache); only host jobs use a checkout cache.
  if (workload.profile.serverRuntime !== 'native') run.push('export HF_HOME="$PWD/.hf-cache"');
  const variant = workload.variant ? ` --variant ${quoteArg(workload.variant.name)}` : '';
  run.push(`./${EXECUTABLE} run ${quoteArg(workload.path)}${variant}`);
  const nodes = checkMultiNode(workload);
  if (nodes > 1) return [multiNodeFetch(fetch), multiNodeRun(run.join(' && '), key, nodes)];
  return [fetch, run.join(' && ')];
}

/** `VLLM_IMAGE`, `VLLM_COMMIT`, `BENCH_ONLY` (verbatim when non-empty; else `"1"` from the recipe), `NIGHTLY` when set. */
export function stepEnv(workload: ResolvedWorkload, env: Env): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const name of ['VLLM_IMAGE', 'VLLM_COMMIT', 'BENCH_ONLY']) {
    const value = env[name];
    if (value) out[name] = value;
  }
  if (workload.benchOnly && out['BENCH_ONLY'] === undefined) out['BENCH_ONLY'] = '1';
  const nightly = env['NIGHTLY'];
  if (nightly) out['NIGHTLY'] = nightly;
  return Object.keys(out).length > 0 ? out : undefined;
}

export function retryRules(kubernetes: boolean): { automatic: RetryRule[] } {
  const automatic: RetryRule[] = [
    { exit_status: -1, limit: 2 },
    { signal_reason: 'agent_stop', limit: 2 },
  ];
  if (kubernetes) automatic.push({ signal_reason: 'stack_error', limit: 1 });
  return { automatic };
}

/**
 * The command step for one resolved recipe (or sweep variant), keys in upstream order plus `key`,
 * `depends_on` (the executable step) and `retry`, and `parallelism: <nodes>` after `agents` for a
 * multi-node recipe.
 */
export function buildStep(workload: ResolvedWorkload, env: Env, key = stepKeyFor(workload)): CommandStep {
  const nodes = checkMultiNode(workload);
  const plugin = k8sPluginFor(workload, env);
  const step: CommandStep = {
    label: `${gpuEmoji(workload.gpu)} ${workload.name}`,
    key,
    depends_on: EXECUTABLE_STEP_KEY,
    agents: { queue: queueFor(workload.profile, env) },
    ...(nodes > 1 ? { parallelism: nodes } : {}),
    timeout_in_minutes: workload.timeoutInMinutes,
    commands: stepCommands(workload, env, key),
    artifact_paths: [...ARTIFACT_PATHS],
    retry: retryRules(plugin !== undefined),
  };
  if (plugin) step.plugins = [plugin];
  const stepEnvironment = stepEnv(workload, env);
  if (stepEnvironment) step.env = stepEnvironment;
  // Re-insert retry last so the YAML reads label … env, retry.
  const { retry, ...rest } = step;
  return { ...rest, retry };
}
