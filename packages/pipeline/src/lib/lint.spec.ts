import { REPO_ROOT } from '../../test/helpers.js';
import { generatePipeline, type GeneratedPipeline } from './generate.js';
import { escapeDeep } from './interpolation.js';
import { lintPipeline, type LintContext } from './lint.js';

type Step = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** H200 (docker), B200 (nvidia pod), MI355X (amd pod): a clean pipeline to break one lint at a time. */
function fixture(): { steps: Step[]; context: LintContext; generated: GeneratedPipeline } {
  const generated = generatePipeline({
    root: REPO_ROOT,
    env: { WORKLOADS: 'qwen3_5_h200,qwen3_5_b200,minimax_m3_mi355x' },
  });
  return {
    steps: structuredClone(generated.pipeline.steps) as Step[],
    context: generated.lintContext,
    generated,
  };
}

function lint(steps: Step[], context: LintContext = {}): Array<[string, string]> {
  return lintPipeline({ steps }, context).map((issue) => [issue.rule, issue.message]);
}

const H200 = 'steps[0] (:h200: qwen3_5-h200)';
const B200 = 'steps[1] (:b200: qwen3_5-b200)';
const AMD = 'steps[2] (:amd: minimax_m3-mi355x)';

describe('lintPipeline', () => {
  it('passes the generated pipeline, with and without context', () => {
    const { steps, context } = fixture();
    expect(lint(steps, context)).toEqual([]);
    expect(lint(steps)).toEqual([]);
  });

  it('1. keys are unique and depends_on targets exist', () => {
    const { steps } = fixture();
    steps[1].key = steps[0].key;
    steps[2].depends_on = ['wl-nope'];
    steps[0].depends_on = [{ step: 'wl-minimax_m3_mi355x' }, 'perf-eval-executable'];
    expect(lint(steps)).toEqual([
      ['unique-key', `${B200}: key 'wl-qwen3_5_h200' is already used by steps[0]`],
      [
        'depends-on',
        `${AMD}: depends_on 'wl-nope' names no step in this upload, an earlier one or .buildkite/pipeline.yaml`,
      ],
    ]);
    // Without the executable step among the known outside keys, the generated depends_on is flagged.
    const { steps: fresh } = fixture();
    expect(lint(fresh, { externalKeys: new Set() })[0]).toEqual([
      'depends-on',
      `${H200}: depends_on 'perf-eval-executable' names no step in this upload, an earlier one or .buildkite/pipeline.yaml`,
    ]);
  });

  it('2. concurrency needs concurrency_group (and concurrency_method both)', () => {
    const { steps } = fixture();
    steps[0].concurrency = 1;
    steps[1].concurrency_method = 'eager';
    expect(lint(steps)).toEqual([
      ['concurrency', `${H200}: concurrency and concurrency_group must be set together`],
      ['concurrency', `${B200}: concurrency_method needs concurrency and concurrency_group`],
    ]);
  });

  it('3. at most 500 jobs per upload, counting parallelism', () => {
    const { steps } = fixture();
    const many: Step[] = Array.from({ length: 501 }, (_, i) => ({
      ...structuredClone(steps[0]),
      key: `wl-${i}`,
    }));
    const tooMany =
      "pipeline: 501 jobs (counting parallelism) exceed Buildkite's 500 jobs per upload; generate with 'perf-eval pipeline --output FILE' to split them into several uploads";
    expect(lint(many)).toEqual([['max-jobs', tooMany]]);
    expect(lint(many.slice(0, 500))).toEqual([]);
    // 500 steps, one of them with parallelism 2: 501 jobs (the parallelism lints fire too, on that step only).
    const parallel = many.slice(0, 500);
    parallel[0] = { ...parallel[0], parallelism: 2 };
    expect(lint(parallel).filter(([rule]) => rule === 'max-jobs')).toEqual([['max-jobs', tooMany]]);
  });

  it('4. every step has exactly two commands', () => {
    const { steps } = fixture();
    delete steps[0].commands;
    steps[1].commands = [...steps[1].commands, 'echo extra'];
    expect(lint(steps)).toEqual([
      ['command', `${H200}: has no command or commands`],
      ['command', `${B200}: expected exactly 2 commands (setup, run), got 3`],
    ]);
  });

  it('5. agents.queue is present and a profile queue or an override', () => {
    const { steps, context } = fixture();
    steps[0].agents = {};
    steps[1].agents = { queue: 'b200-typo' };
    const issues = lint(steps, context);
    expect(issues[0]).toEqual(['queue', `${H200}: agents.queue is missing or empty`]);
    expect(issues[1]?.[1]).toMatch(
      /^steps\[1\] \(:b200: qwen3_5-b200\): agents.queue 'b200-typo' is neither a GPU-profile queue nor a <GPU>_QUEUE override \(have H200, b200-k8s, /,
    );
    expect(issues).toHaveLength(2);
  });

  it('6. retry rules cover lost infrastructure only', () => {
    const { steps } = fixture();
    steps[0].retry = { automatic: true };
    steps[1].retry = { automatic: [{ exit_status: '*', limit: 2 }] };
    steps[2].retry = {
      automatic: [
        { exit_status: -1, limit: 2 },
        { exit_status: 1, limit: 1 },
        { signal_reason: 'cancel', limit: 1 },
      ],
    };
    expect(lint(steps)).toEqual([
      ['retry', `${H200}: retry.automatic: true retries every failure; list the lost-agent rules instead`],
      [
        'retry',
        `${B200}: retry rule {"exit_status":"*","limit":2} is not a lost-infrastructure rule (allowed: exit_status -1, signal_reason agent_stop, signal_reason stack_error)`,
      ],
      [
        'retry',
        `${AMD}: retry rule {"exit_status":1,"limit":1} is not a lost-infrastructure rule (allowed: exit_status -1, signal_reason agent_stop, signal_reason stack_error)`,
      ],
      [
        'retry',
        `${AMD}: retry rule {"signal_reason":"cancel","limit":1} is not a lost-infrastructure rule (allowed: exit_status -1, signal_reason agent_stop, signal_reason stack_error)`,
      ],
    ]);
  });

  it('7. with interpolation on (escaped mode) no single $ may remain', () => {
    const { steps, context } = fixture();
    const escaped = escapeDeep(steps);
    expect(lint(escaped, { ...context, mode: 'escaped' })).toEqual([]);
    escaped[0].env = { VLLM_IMAGE: 'img:${TAG}' };
    expect(lint(escaped, { ...context, mode: 'escaped' })).toEqual([
      ['interpolation', `${H200}: '\${TAG}' would be interpolated at upload; write '$\${TAG}'`],
    ]);
    escaped[0].env = { VLLM_IMAGE: escapeDeep('a\\$b') };
    expect(lint(escaped, { ...context, mode: 'escaped' })).toEqual([
      [
        'interpolation',
        `${H200}: '\\$' is an escape for Buildkite's interpolation, so this backslash cannot survive; upload with --no-interpolation instead`,
      ],
    ]);
    // Verbatim mode (uploaded with --no-interpolation): informational only, nothing reported.
    expect(lint(steps, context)).toEqual([]);
  });

  it('8. no secret material', () => {
    const { steps, context } = fixture();
    steps[0].commands[1] = steps[0].commands[1].replace(
      /INGEST_BEARER_TOKEN="[^"]+"/,
      'INGEST_BEARER_TOKEN=abc123',
    );
    steps[1].env = { HF_TOKEN: 'x' };
    steps[2].label = `${steps[2].label} hf_abcdefghijklmnopqrstuvwxyz0123456789`;
    const issues = lint(steps, { ...context, secretValues: ['s3cr3t-value'] });
    expect(issues.map(([rule]) => rule)).toEqual(['secret', 'secret', 'secret']);
    expect(issues[0]?.[1]).toBe(
      `${H200}: INGEST_BEARER_TOKEN is assigned a literal value; use "$(buildkite-agent secret get INGEST_BEARER_TOKEN)"`,
    );
    expect(issues[1]?.[1]).toBe(
      `${B200}: env.HF_TOKEN looks like a secret; secrets are fetched in the job with 'buildkite-agent secret get'`,
    );
    expect(issues[2]?.[1]).toMatch(/: contains what looks like a Hugging Face token$/);
    const leaked = fixture();
    leaked.steps[0].env = { VLLM_IMAGE: 'registry/s3cr3t-value:1' };
    expect(lint(leaked.steps, { secretValues: ['s3cr3t-value'] })).toEqual([
      ['secret', `${H200}: contains the value of a secret from the generator environment`],
    ]);
  });

  it('9. label, integer timeout >= 1, string env values', () => {
    const { steps } = fixture();
    steps[0].label = ' ';
    steps[1].timeout_in_minutes = '60';
    steps[2].env = { BENCH_ONLY: 1 };
    expect(lint(steps)).toEqual([
      ['label', 'steps[0] ( ): label is missing or empty'],
      ['timeout', `${B200}: timeout_in_minutes must be an integer >= 1, got "60"`],
      ['env', `${AMD}: env.BENCH_ONLY must be a string, got 1`],
    ]);
  });

  it('10a. the pod GPU limit equals num_gpus', () => {
    const { steps, context } = fixture();
    steps[1].plugins[0].kubernetes.podSpec.containers[0].resources.limits['nvidia.com/gpu'] = 4;
    steps[2].plugins[0].kubernetes.podSpecPatch.containers[0].resources.limits = {};
    expect(lint(steps, context)).toEqual([
      ['k8s', `${B200}: pod GPU limit 4 differs from the recipe's num_gpus 8`],
      ['k8s', `${AMD}: pod GPU limit must be a positive integer, got undefined`],
    ]);
  });

  it('10b. mount path, pod HF_HOME and server HF_HOME agree (D19)', () => {
    const { steps, context } = fixture();
    const amd = steps[2].plugins[0].kubernetes.podSpecPatch.containers[0];
    amd.volumeMounts[1].mountPath = '/cache';
    const nvidia = steps[1].plugins[0].kubernetes.podSpec.containers[0];
    nvidia.env[2].value = '/elsewhere/hf';
    expect(lint(steps, context)).toEqual([
      [
        'k8s',
        `${B200}: pod HF_HOME /elsewhere/hf is not on a mounted volume (the cache would fill the node's root disk)`,
      ],
      [
        'k8s',
        `${B200}: server HF_HOME /mnt/shared/hf_cache differs from the pod HF_HOME /elsewhere/hf (D19)`,
      ],
      [
        'k8s',
        `${AMD}: pod HF_HOME /root/.cache/huggingface is not on a mounted volume (the cache would fill the node's root disk)`,
      ],
      [
        'k8s',
        `${AMD}: 'hf-cache' is mounted at /cache but the pod HF_HOME is /root/.cache/huggingface (D19)`,
      ],
    ]);
  });

  it('10c. the hf-cache volume keeps its name and Kubernetes commands do not override HF_HOME', () => {
    const { steps, context } = fixture();
    steps[2].plugins[0].kubernetes.podSpecPatch.volumes[1].name = 'renamed';
    steps[1].commands[1] = `export HF_HOME=/tmp/hf && ${steps[1].commands[1]}`;
    expect(lint(steps, context)).toEqual([
      ['k8s', `${B200}: a Kubernetes step must not override HF_HOME in its commands (D19)`],
      ['k8s', `${AMD}: no volume named 'hf-cache' (a name in the volume source must not rename it, D28)`],
    ]);
  });

  it('reports an empty document', () => {
    expect(lint([])).toEqual([['steps', 'pipeline: no steps']]);
  });
});
