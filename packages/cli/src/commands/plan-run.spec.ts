/**
 * `perf-eval plan --json` is what `perf-eval run` executes: every tool is a recorder that logs its
 * argv and env names before handing over to the adapter's fake, and the recorded launches, bench,
 * lm_eval and BFCL invocations must equal the plan's — for docker, native, sim, disaggregated and
 * sweep recipes.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  BIN,
  cliEnv,
  FAKES,
  FIXTURE_BIN,
  freePort,
  PROFILES,
  readJsonLines,
  readSummary,
  runCli,
  sandbox,
  simRecipe,
  type Sandbox,
} from '../../test/harness.js';

interface Call {
  tool: string;
  argv: string[];
  env: string[];
}

/** An executable at `path` recording its call into `<sandbox>/calls.jsonl`, then running `target` (per first argument). */
function recorder(
  box: Sandbox,
  path: string,
  tool: string,
  targets: Record<string, string> & { default: string },
): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(
    path,
    `#!/usr/bin/env node
import { appendFileSync, readFileSync } from 'node:fs';
appendFileSync(${JSON.stringify(box.path('calls.jsonl'))}, JSON.stringify({ tool: ${JSON.stringify(tool)}, argv: [process.argv[1], ...process.argv.slice(2)], env: Object.keys(process.env) }) + '\\n');
Object.assign(process.env, JSON.parse(readFileSync(${JSON.stringify(box.path('knobs.json'))}, 'utf8')));
const targets = ${JSON.stringify(targets)};
await import(targets[process.argv[2]] ?? targets.default);
`,
  );
  chmodSync(path, 0o755);
}

/** Every tool of the sandbox (tools dir and PATH) becomes a recorder in front of its fake. */
function recordingSandbox(): Sandbox {
  const box = sandbox();
  const tools = box.toolsDir;
  recorder(box, join(tools, 'venvs/vllm/bin/vllm'), 'vllm', {
    serve: join(FIXTURE_BIN, '../../../../server-lifecycle/test/fixtures/bin/vllm'),
    default: FAKES.benchVllm,
  });
  recorder(box, join(tools, 'venvs/lmeval/bin/lm_eval'), 'lm_eval', { default: FAKES.lmEval });
  recorder(box, join(tools, 'venvs/bfcl/bin/python'), 'bfcl', { default: FAKES.bfclPython });
  recorder(box, join(tools, 'bin/llm-d-inference-sim'), 'simulator', { default: FAKES.simulator });
  recorder(box, join(box.pathDir, 'docker'), 'docker', { default: join(FIXTURE_BIN, 'docker') });
  // `vllm` inside the fake container (the fake `docker exec` runs it from PATH).
  writeFileSync(
    join(box.pathDir, 'vllm'),
    `#!/usr/bin/env node\nawait import(${JSON.stringify(FAKES.benchVllm)});\n`,
  );
  chmodSync(join(box.pathDir, 'vllm'), 0o755);
  return box;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the plan JSON, compared field by field
type Plan = Record<string, any>;

function planJson(box: Sandbox, recipe: string, env: Record<string, string>, extra: string[] = []): Plan {
  const out = spawnSync(
    process.execPath,
    [BIN, 'plan', recipe, '--json', '--profiles', PROFILES, '--results-dir', box.resultsRoot, ...extra],
    { cwd: box.dir, env, encoding: 'utf8' },
  );
  expect(out.stderr).toBe('');
  expect(out.status).toBe(0);
  return JSON.parse(out.stdout) as Plan;
}

/** Container names carry the pid of the perf-eval process; plan and run are two processes. */
const samePid = (argv: readonly string[]): string[] =>
  argv.map((token) => token.replace(/^(perf-eval-.+)-\d+(-prefill|-decode)?$/, '$1-<pid>$2'));
/** The BFCL driver is a content-hashed file materialised at run time; the plan names it `<bfcl-driver>`. */
const driver = (argv: readonly string[]): string[] =>
  argv.map((token) => (/\/bfcl_driver-[0-9a-f]+\.py$/.test(token) ? '<bfcl-driver>' : token));

function callsOf(box: Sandbox, tool: string, keep: (call: Call) => boolean = () => true): Call[] {
  return readJsonLines<Call>(box.path('calls.jsonl')).filter((call) => call.tool === tool && keep(call));
}

/**
 * The recorded invocations equal the plan's, argv for argv (in any order: accuracy tasks and the
 * two roles start concurrently); every planned env name reached the process.
 */
function expectSame(
  calls: Call[],
  planned: Array<{ argv: string[]; envNames: string[] }>,
  exactEnv = false,
): void {
  const key = (argv: readonly string[]): string => JSON.stringify(argv);
  const recorded = calls
    .map((call) => ({ argv: driver(samePid(call.argv)), env: call.env }))
    .sort((a, b) => key(a.argv).localeCompare(key(b.argv)));
  const expected = planned
    .map((entry) => ({ argv: samePid(entry.argv), envNames: entry.envNames }))
    .sort((a, b) => key(a.argv).localeCompare(key(b.argv)));
  expect(recorded.map((call) => call.argv)).toEqual(expected.map((entry) => entry.argv));
  recorded.forEach((call, index) => {
    const names = expected[index]?.envNames ?? [];
    if (exactEnv) expect([...call.env].sort()).toEqual([...names].sort());
    else expect(call.env).toEqual(expect.arrayContaining(names));
  });
}

const isBench = (call: Call): boolean => call.argv[1] === 'bench';
const isEval = (call: Call): boolean => call.argv.includes('--tasks');
const isDriver = (call: Call): boolean => /bfcl_driver-[0-9a-f]+\.py$/.test(call.argv[1] ?? '');

async function planThenRun(
  box: Sandbox,
  text: string,
  extra: string[] = [],
  ports = 1,
): Promise<{ plan: Plan; env: Record<string, string> }> {
  const env = cliEnv(box, await freePort(ports), {
    FAKE_DOCKER_STATE: box.path('docker-state'),
    FAKE_DOCKER_ROOT: box.path('docker-root'),
  });
  mkdirSync(box.path('docker-state'), { recursive: true });
  mkdirSync(box.path('docker-root'), { recursive: true });
  const recipe = box.recipe(text);
  const plan = planJson(box, recipe, env, extra);
  const out = await runCli(box, ['run', recipe, ...extra], env);
  expect(out.stderr).not.toContain('rotating_light');
  expect(out.code).toBe(0);
  expect(readSummary(plan['resultsDir']).status).toBe('ok');
  return { plan, env };
}

// Each test spawns `plan` and a full `run`: allow for a loaded machine (2 cores shared by many test workers).
describe('plan --json equals what run executes (recorded argv and env names)', { timeout: 90_000 }, () => {
  it('sim: the simulator launch, bench, lm_eval and BFCL invocations', async () => {
    const box = recordingSandbox();
    const { plan } = await planThenRun(box, simRecipe('rec-sim'));
    expect(plan['launch'].kind).toBe('server');
    expectSame(callsOf(box, 'simulator'), [plan['launch'].server]);
    // A host-side bench inherits the caller's environment on top of the planned names (bench-runner's contract).
    expectSame(
      callsOf(box, 'vllm', isBench),
      plan['bench'].flatMap((b: Plan) =>
        b['commands'].map((argv: string[]) => ({ argv, envNames: b['envNames'] })),
      ),
    );
    expectSame(callsOf(box, 'lm_eval', isEval), plan['lmEval'], true);
    expectSame(callsOf(box, 'bfcl', isDriver), plan['bfcl']);
    expect(plan['bfcl'].length).toBe(2);
  });

  it('docker: docker run, and docker exec -e NAME … for every bench repetition', async () => {
    const box = recordingSandbox();
    const { plan } = await planThenRun(
      box,
      simRecipe('rec-docker', {
        gpu: 'H200',
        bfcl: null,
        lmEval: null,
        bench:
          'vllm_bench:\n  configs:\n    - {name: short, input_len: 8, output_len: 8, num_prompts: 4, max_concurrency: 2, repetitions: 3, args: {num-warmups: 2}}\n',
      }),
    );
    const docker = callsOf(box, 'docker');
    // docker run: non-secret server env goes into argv as -e NAME=value (compared with argv); secrets by name only.
    expectSame(
      docker.filter((call) => call.argv[1] === 'run'),
      [{ argv: plan['launch'].server.argv, envNames: [] }],
    );
    expect(plan['bench'][0].commands).toHaveLength(3);
    expectSame(
      docker.filter((call) => call.argv[1] === 'exec' && call.argv.includes('bench')),
      plan['bench'][0].commands.map((argv: string[]) => ({ argv, envNames: plan['bench'][0].envNames })),
    );
  });

  it('docker with HF_TOKEN set: the plan shows the docker exec -e HF_TOKEN forwarding that runs', async () => {
    const box = recordingSandbox();
    const env = {
      ...cliEnv(box, await freePort(), { FAKE_DOCKER_STATE: box.path('s'), FAKE_DOCKER_ROOT: box.path('r') }),
      HF_TOKEN: 'hf_recordedsecret',
    };
    mkdirSync(box.path('s'));
    mkdirSync(box.path('r'));
    const recipe = box.recipe(simRecipe('rec-docker-token', { gpu: 'H200', bfcl: null, lmEval: null }));
    const plan = planJson(box, recipe, env);
    expect(plan['bench'][0].argv.slice(0, 4)).toEqual([
      join(box.pathDir, 'docker'),
      'exec',
      '-e',
      'HF_TOKEN',
    ]);
    expect(JSON.stringify(plan)).not.toContain('hf_recordedsecret');
    const out = await runCli(box, ['run', recipe], env);
    expect(out.code).toBe(0);
    expectSame(
      callsOf(box, 'docker', (call) => call.argv[1] === 'exec' && call.argv.includes('bench')),
      [{ argv: plan['bench'][0].argv, envNames: ['HF_TOKEN'] }],
    );
  });

  it('native: vllm serve and vllm bench serve', async () => {
    const box = recordingSandbox();
    // A native server is the vllm on PATH (never the provisioned bench client), and its bench uses it too.
    recorder(box, join(box.pathDir, 'vllm'), 'vllm', {
      serve: join(FIXTURE_BIN, '../../../../server-lifecycle/test/fixtures/bin/vllm'),
      default: FAKES.benchVllm,
    });
    const { plan } = await planThenRun(box, simRecipe('rec-native', { gpu: 'B200', bfcl: null }));
    expect(plan['server'].runtime).toBe('native');
    expectSame(
      callsOf(box, 'vllm', (call) => call.argv[1] === 'serve'),
      [plan['launch'].server],
    );
    expectSame(
      callsOf(box, 'vllm', isBench),
      plan['bench'].map((b: Plan) => ({ argv: b['argv'], envNames: b['envNames'] })),
    );
    expectSame(callsOf(box, 'lm_eval', isEval), plan['lmEval'], true);
  });

  it('disaggregated: both roles and the proxy, and every tool pointed at the proxy', async () => {
    const box = recordingSandbox();
    const roles = `  prefill: {gpu_ids: [0]}\n  decode: {gpu_ids: [1]}\n  proxy: {python: ${JSON.stringify(process.execPath)}, script: ${JSON.stringify(FAKES.toyProxy)}}\n`;
    const { plan } = await planThenRun(box, simRecipe('rec-pd', { extra: roles, bfcl: null }), [], 3);
    expect(plan['launch'].kind).toBe('topology');
    expectSame(callsOf(box, 'simulator'), plan['launch'].servers);
    expect(plan['launch'].proxy.argv[1]).toBe(FAKES.toyProxy);
    expectSame(
      callsOf(box, 'vllm', isBench),
      plan['bench'].map((b: Plan) => ({ argv: b['argv'], envNames: b['envNames'] })),
    );
    expectSame(callsOf(box, 'lm_eval', isEval), plan['lmEval'], true);
  });

  it('sweep: plan --variant NAME is what run --variant NAME executes', async () => {
    const box = recordingSandbox();
    const sweep = 'sweep:\n  serve_args:\n    --max-num-seqs: [128, 256]\n';
    const { plan } = await planThenRun(box, simRecipe('rec-sweep', { bfcl: null, extra: '' }) + sweep, [
      '--variant',
      'rec-sweep--max-num-seqs-256',
    ]);
    expect(plan['workload'].name).toBe('rec-sweep--max-num-seqs-256');
    expect(plan['launch'].server.argv).toEqual(expect.arrayContaining(['--max-num-seqs', '256']));
    expectSame(callsOf(box, 'simulator'), [plan['launch'].server]);
    expectSame(
      callsOf(box, 'vllm', isBench),
      plan['bench'].map((b: Plan) => ({ argv: b['argv'], envNames: b['envNames'] })),
    );
    expectSame(callsOf(box, 'lm_eval', isEval), plan['lmEval'], true);
  });
});
