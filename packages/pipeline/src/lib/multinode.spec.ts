/** Multi-node recipes: `parallelism` steps whose jobs form a Ray cluster (issue 8 part 2). */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { FIXTURE_BIN, makeRoot, SCHEMA_PATH, tempDir } from '../../test/helpers.js';
import { PipelineTopologyError } from './errors.js';
import { generatePipeline } from './generate.js';
import { simulateUpload } from './interpolation.js';
import { lintPipeline } from './lint.js';
import { nodeCount, rayMetaDataKeys } from './multinode.js';
import { createSchemaValidator } from './schema.js';
import type { CommandStep } from './types.js';

const FAKE_EXECUTABLE = resolve(import.meta.dirname, '../../test/fixtures/artifacts/perf-eval');
const RAY_BIN = resolve(import.meta.dirname, '../../test/fixtures/ray-bin');
const BENCH = [
  'vllm_bench:',
  '  configs:',
  '    - {name: short, input_len: 128, output_len: 16, num_prompts: 8, max_concurrency: 4}',
];

function aggregated(gpu: string, numNodes: number, extra: string[] = []): string {
  return [
    `name: big-${gpu.toLowerCase()}`,
    `gpu: ${gpu}`,
    'num_gpus: 8',
    'vllm:',
    '  model: org/model',
    `  num_nodes: ${numNodes}`,
    '  serve_args: --tensor-parallel-size 8',
    ...BENCH,
    ...extra,
    '',
  ].join('\n');
}

function disaggregated(gpu: string, prefillNodes: number, decodeNodes: number): string {
  return [
    'name: pd',
    `gpu: ${gpu}`,
    'num_gpus: 8',
    'vllm:',
    '  model: org/model',
    '  prefill:',
    `    num_nodes: ${prefillNodes}`,
    '  decode:',
    `    num_nodes: ${decodeNodes}`,
    ...BENCH,
    '',
  ].join('\n');
}

type Loose = Record<string, unknown>;

function pod(step: CommandStep): Loose {
  const kubernetes = (step.plugins?.[0] as { kubernetes: Loose }).kubernetes;
  return (kubernetes['podSpec'] ?? kubernetes['podSpecPatch']) as Loose;
}

function generate(
  recipes: Record<string, string>,
  workloads: string,
  mode: 'verbatim' | 'escaped' = 'verbatim',
) {
  const root = makeRoot({ recipes });
  const generated = generatePipeline({ root, env: { WORKLOADS: workloads }, mode });
  expect(createSchemaValidator(SCHEMA_PATH).validate(generated.pipeline)).toEqual([]);
  expect(lintPipeline(generated.pipeline, generated.lintContext)).toEqual([]);
  return generated;
}

interface Call {
  tool?: string;
  argv: string[];
  env: Record<string, string>;
}

interface Cluster {
  store: string;
  log: string;
  calls(): Call[];
  metaData(key: string): string | undefined;
  /** Runs both commands of `step` like a Buildkite job (`bash -e -c`, stop at the first failure). */
  job(
    step: CommandStep,
    parallelJob: number,
    env?: Record<string, string>,
  ): Promise<{ status: number | null; output: string; checkout: string }>;
}

function cluster(): Cluster {
  const dir = tempDir('perf-eval-cluster-');
  const store = join(dir, 'store');
  mkdirSync(join(store, 'artifacts'), { recursive: true });
  copyFileSync(FAKE_EXECUTABLE, join(store, 'artifacts/perf-eval'));
  const log = join(dir, 'calls.jsonl');
  return {
    store,
    log,
    calls: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line) as Call)
        : [],
    metaData: (key) =>
      existsSync(join(store, 'meta-data', key))
        ? readFileSync(join(store, 'meta-data', key), 'utf8')
        : undefined,
    async job(step, parallelJob, env = {}) {
      const checkout = join(dir, `job-${parallelJob}`);
      mkdirSync(checkout, { recursive: true });
      const jobEnv = {
        PATH: `${RAY_BIN}:${FIXTURE_BIN}:${process.env['PATH'] ?? ''}`,
        HOME: join(dir, 'home'),
        FAKE_BUILDKITE_AGENT_LOG: log,
        FAKE_BUILDKITE_AGENT_STORE: store,
        BUILDKITE: 'true',
        BUILDKITE_JOB_ID: `job-${parallelJob}-${step.key}`,
        BUILDKITE_PARALLEL_JOB: String(parallelJob),
        BUILDKITE_PARALLEL_JOB_COUNT: String(step.parallelism ?? 1),
        PERF_EVAL_RAY_POLL_S: '0.05',
        PERF_EVAL_RAY_WAIT_S: '20',
        ...step.env,
        ...env,
      };
      let output = '';
      for (const command of step.commands) {
        const child = spawn('bash', ['-e', '-c', command], { cwd: checkout, env: jobEnv });
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const status = await new Promise<number | null>((done) => child.on('close', done));
        if (status !== 0) return { status, output, checkout };
      }
      return { status: 0, output, checkout };
    },
  };
}

describe('multi-node steps', () => {
  it('vllm.num_nodes 3 on a native profile: parallelism 3, hostNetwork pod, GPU limit = num_gpus per pod', () => {
    const generated = generate({ 'big.yaml': aggregated('B200', 3) }, 'big');
    const step = generated.pipeline.steps[0] as CommandStep;
    expect(Object.keys(step)).toEqual([
      'label',
      'key',
      'depends_on',
      'agents',
      'parallelism',
      'timeout_in_minutes',
      'commands',
      'artifact_paths',
      'plugins',
      'retry',
    ]);
    expect(step).toMatchObject({
      label: ':b200: big-b200',
      key: 'wl-big',
      agents: { queue: 'b200-k8s' },
      parallelism: 3,
    });
    expect(pod(step)).toMatchObject({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' });
    expect((pod(step)['containers'] as Loose[])[0]).toMatchObject({
      resources: { limits: { 'nvidia.com/gpu': 8 } },
    });
    expect(step.commands[0]).toMatch(
      /^if \[ "\$\{BUILDKITE_PARALLEL_JOB:-0\}" = 0 \]; then echo .* && chmod \+x \.\/perf-eval; else echo .*; fi$/,
    );
    expect(step.commands[1]).toContain("buildkite-agent meta-data set 'perf-eval:ray-head:wl-big'");
    expect(step.commands[1]).toContain('./perf-eval run workloads/big.yaml');
    expect(generated.lintContext.expected?.get('wl-big')).toMatchObject({ numGpus: 8, numNodes: 3 });
    expect(parse(generated.yaml).steps[0].parallelism).toBe(3);
  });

  it('disaggregated roles: the larger role num_nodes is the node count; AMD pods get hostNetwork', () => {
    const generated = generate({ 'pd.yaml': disaggregated('MI355X', 2, 1) }, 'pd');
    const step = generated.pipeline.steps[0] as CommandStep;
    expect(nodeCount(generated.variants[0] as never)).toBe(2);
    expect(step.parallelism).toBe(2);
    expect(pod(step)).toMatchObject({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' });
    expect((pod(step)['containers'] as Loose[])[0]).toMatchObject({
      resources: { limits: { 'amd.com/gpu': 8 } },
    });
    // A single-node AMD recipe keeps the upstream podSpecPatch (no hostNetwork).
    const single = generate({ 'pd1.yaml': disaggregated('MI355X', 1, 1) }, 'pd1').pipeline
      .steps[0] as CommandStep;
    expect(single).not.toHaveProperty('parallelism');
    expect(pod(single)).not.toHaveProperty('hostNetwork');
  });

  it('rejects multi-node on docker and sim profiles with a clear message', () => {
    const root = makeRoot({ recipes: { 'd.yaml': aggregated('H200', 2), 's.yaml': aggregated('SIM', 4) } });
    expect(() => generatePipeline({ root, env: { WORKLOADS: 'd' } })).toThrow(
      new PipelineTopologyError(
        'workloads/d.yaml',
        'H200',
        'docker',
        2,
        "workloads/d.yaml: multi-node serving (vllm.num_nodes: 2) needs a GPU profile with server_runtime native (Kubernetes pods with hostNetwork); profile 'H200' uses docker",
      ),
    );
    try {
      generatePipeline({ root, env: { WORKLOADS: 's' } });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PipelineTopologyError);
      expect((error as PipelineTopologyError).code).toBe('E_PIPELINE_INVALID_TOPOLOGY');
      expect((error as Error).message).toBe(
        "workloads/s.yaml: multi-node serving (vllm.num_nodes: 4) needs a GPU profile with server_runtime native (Kubernetes pods with hostNetwork); profile 'SIM' uses sim",
      );
    }
  });

  it('sweep × multi-node: every variant is its own parallel step with its own Ray meta-data keys', () => {
    const sweep = ['sweep:', '  serve_args:', '    --max-num-seqs: [64, 128]'];
    const generated = generate({ 'bs.yaml': aggregated('B200', 2, sweep) }, 'bs');
    const steps = generated.pipeline.steps;
    expect(steps.map((step) => [step.key, step.parallelism])).toEqual([
      ['wl-bs--max-num-seqs-64', 2],
      ['wl-bs--max-num-seqs-128', 2],
    ]);
    expect(steps[1]?.commands[1]).toContain("'perf-eval:ray-head:wl-bs--max-num-seqs-128'");
    expect(steps[1]?.commands[1]).toContain(
      './perf-eval run workloads/bs.yaml --variant big-b200--max-num-seqs-128',
    );
  });

  it('escaped mode: the branching commands survive an upload with interpolation unchanged', () => {
    const verbatim = generate({ 'big.yaml': aggregated('B200', 2) }, 'big');
    const escaped = generate({ 'big.yaml': aggregated('B200', 2) }, 'big', 'escaped');
    expect(escaped.pipeline.steps[0]?.commands[1]).toContain('$$(buildkite-agent meta-data get');
    expect(
      simulateUpload(escaped.yaml, {
        noInterpolation: false,
        env: { BUILDKITE_PARALLEL_JOB: '1', HOME: '/x' },
      }),
    ).toEqual(parse(verbatim.yaml));
    expect(simulateUpload(verbatim.yaml, { noInterpolation: true })).toEqual(parse(verbatim.yaml));
  });
});

describe('multi-node commands in bash (fake buildkite-agent, ray, hostname)', () => {
  it('head starts Ray, publishes its address, waits for both workers, runs with RAY_ADDRESS; workers join and leave when it is done', async () => {
    const step = generate({ 'big.yaml': aggregated('B200', 3) }, 'big').pipeline.steps[0] as CommandStep;
    const c = cluster();
    // A stale head address from an earlier attempt: workers fail to join it and wait for the new head.
    mkdirSync(join(c.store, 'meta-data'), { recursive: true });
    writeFileSync(join(c.store, 'meta-data', 'perf-eval:ray-head:wl-big'), 'old-head 10.9.9.9:6379');
    const stale = { FAKE_RAY_FAIL_ADDRESS: '10.9.9.9:6379' };
    const workers = [c.job(step, 1, stale), c.job(step, 2, stale)];
    // Buildkite does not start parallel jobs together: the head starts only once both workers tried the stale head.
    const triedStale = (worker: number) =>
      c
        .calls()
        .some(
          (call) =>
            call.tool === 'ray' &&
            call.env['BUILDKITE_PARALLEL_JOB'] === String(worker) &&
            call.argv[1] === '--address=10.9.9.9:6379',
        );
    while (!(triedStale(1) && triedStale(2))) await new Promise((done) => setTimeout(done, 50));
    const head = await c.job(step, 0);
    const [one, two] = await Promise.all(workers);
    expect(head.status, head.output).toBe(0);
    expect(one?.status, one?.output).toBe(0);
    expect(two?.status, two?.output).toBe(0);

    const calls = c.calls();
    const headJob = `job-0-wl-big`;
    const headCalls = calls.filter(
      (call) => call.tool !== 'ray' || call.env['BUILDKITE_PARALLEL_JOB'] === '0',
    );
    expect(headCalls.filter((call) => call.tool === 'ray').map((call) => call.argv)).toEqual([
      ['start', '--head', '--port=6379', '--node-ip-address=10.1.2.3', '--disable-usage-stats'],
      ['stop'],
    ]);
    const run = calls.find((call) => call.tool === 'perf-eval' && call.argv[0] === 'run') as Call;
    expect(run.argv).toEqual(['run', 'workloads/big.yaml']);
    expect(run.env['RAY_ADDRESS']).toBe('10.1.2.3:6379');
    expect(calls.filter((call) => call.argv[0] === 'artifact')).toHaveLength(1);
    // The run starts only after both workers registered with this head.
    const runIndex = calls.indexOf(run);
    for (const worker of [1, 2]) {
      const joinedAt = calls.findIndex(
        (call) =>
          call.argv.join(' ') ===
          `meta-data set perf-eval:ray-joined:wl-big:${headJob}:${worker} job-${worker}-wl-big`,
      );
      expect(joinedAt).toBeGreaterThan(-1);
      expect(joinedAt).toBeLessThan(runIndex);
      const rayCalls = calls
        .filter((call) => call.tool === 'ray' && call.env['BUILDKITE_PARALLEL_JOB'] === String(worker))
        .map((call) => call.argv);
      expect(rayCalls[0]).toEqual(['start', '--address=10.9.9.9:6379', '--disable-usage-stats']);
      expect(rayCalls.slice(-2)).toEqual([
        ['start', '--address=10.1.2.3:6379', '--disable-usage-stats'],
        ['stop'],
      ]);
    }
    expect(c.metaData('perf-eval:ray-head:wl-big')).toBe(`${headJob} 10.1.2.3:6379`);
    expect(c.metaData(`${rayMetaDataKeys('wl-big').done}:${headJob}`)).toBe('exit 0');
    expect(one?.output).toContain('Ray head finished; leaving the cluster');
  });

  it('head: gives up when the workers do not join in time, still publishes done and stops Ray, never runs', async () => {
    const step = generate({ 'big.yaml': aggregated('B200', 2) }, 'big').pipeline.steps[0] as CommandStep;
    const c = cluster();
    const head = await c.job(step, 0, { PERF_EVAL_RAY_WAIT_S: '1', PERF_EVAL_RAY_NODE_IP: '192.168.7.7' });
    expect(head.status).toBe(1);
    expect(head.output).toContain(
      'only 0 of 1 Ray worker(s) joined within 1s (PERF_EVAL_RAY_WAIT_S); are 2 agents free on this queue?',
    );
    expect(c.calls().some((call) => call.tool === 'perf-eval' && call.argv[0] === 'run')).toBe(false);
    expect(
      c
        .calls()
        .filter((call) => call.tool === 'ray')
        .map((call) => call.argv[0]),
    ).toEqual(['start', 'stop']);
    expect(c.metaData('perf-eval:ray-head:wl-big')).toBe('job-0-wl-big 192.168.7.7:6379');
    expect(c.metaData('perf-eval:ray-done:wl-big:job-0-wl-big')).toBe('exit 1');
  });

  it('head: fails before starting Ray when it cannot find its IP', async () => {
    const step = generate({ 'big.yaml': aggregated('B200', 2) }, 'big').pipeline.steps[0] as CommandStep;
    const c = cluster();
    const head = await c.job(step, 0, { FAKE_HOSTNAME_IPS: '' });
    expect(head.status).toBe(1);
    expect(head.output).toContain(
      "cannot find this node's IP address (hostname -I); set PERF_EVAL_RAY_NODE_IP",
    );
    expect(c.calls().some((call) => call.tool === 'ray')).toBe(false);
  });

  it('worker: fails with a clear message when no head appears in time, without setting up perf-eval', async () => {
    const step = generate({ 'big.yaml': aggregated('B200', 2) }, 'big').pipeline.steps[0] as CommandStep;
    const c = cluster();
    const worker = await c.job(step, 1, { PERF_EVAL_RAY_WAIT_S: '1' });
    expect(worker.status).toBe(1);
    expect(worker.output).toContain('Ray worker node: no perf-eval executable needed');
    expect(worker.output).toContain(
      'no Ray head to join within 1s (PERF_EVAL_RAY_WAIT_S); did parallel job 0 start?',
    );
    expect(c.calls().some((call) => call.tool === 'perf-eval' || call.tool === 'ray')).toBe(false);
    expect(existsSync(join(worker.checkout, 'perf-eval'))).toBe(false);
  });
});

describe('multi-node lints', () => {
  function base() {
    const generated = generate(
      {
        'big.yaml': aggregated('B200', 2),
        'one.yaml': aggregated('B200', 1),
        'h.yaml': aggregated('H200', 1),
      },
      'big,one,h',
    );
    return { generated, steps: structuredClone(generated.pipeline.steps) as unknown as Loose[] };
  }

  it('parallelism must equal the node count, and a multi-node recipe needs it', () => {
    const { generated, steps } = base();
    (steps[0] as Loose)['parallelism'] = 3;
    (steps[1] as Loose)['parallelism'] = 2;
    expect(lintPipeline({ steps }, generated.lintContext).map((issue) => issue.message)).toEqual([
      "steps[0] (:b200: big-b200): parallelism 3 differs from the recipe's node count 2",
      "steps[1] (:b200: big-b200): parallelism 2 differs from the recipe's node count 1",
    ]);
    delete (steps[0] as Loose)['parallelism'];
    delete (steps[1] as Loose)['parallelism'];
    expect(lintPipeline({ steps }, generated.lintContext).map((issue) => issue.message)).toEqual([
      'steps[0] (:b200: big-b200): the recipe spans 2 nodes but the step has no parallelism',
    ]);
  });

  it('a parallel step needs a Kubernetes pod with hostNetwork, and parallelism >= 2', () => {
    const { generated, steps } = base();
    delete pod(steps[0] as unknown as CommandStep)['hostNetwork'];
    (steps[2] as Loose)['parallelism'] = 1;
    expect(lintPipeline({ steps }, generated.lintContext).map((issue) => issue.message)).toEqual([
      "steps[0] (:b200: big-b200): a multi-node step's pod must set hostNetwork: true (the Ray nodes connect over the hosts' network)",
      'steps[2] (:h200: big-h200): parallelism must be an integer >= 2 (one job per node of a multi-node server), got 1',
      'steps[2] (:h200: big-h200): a multi-node step needs the Kubernetes plugin (server_runtime native)',
    ]);
  });

  it('the per-pod GPU limit must still equal num_gpus on a multi-node step', () => {
    const { generated, steps } = base();
    (
      (pod(steps[0] as unknown as CommandStep)['containers'] as Loose[])[0] as {
        resources: { limits: Loose };
      }
    ).resources.limits['nvidia.com/gpu'] = 16;
    expect(lintPipeline({ steps }, generated.lintContext).map((issue) => issue.message)).toEqual([
      "steps[0] (:b200: big-b200): pod GPU limit 16 differs from the recipe's num_gpus 8",
    ]);
  });
});
