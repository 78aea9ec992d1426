import { join } from 'node:path';
import { resolvePort } from '@perf-eval/server-lifecycle';
import { formatCommand, redactArgv, redactEnv, secretValuesOf } from '@perf-eval/util';
import { parseCommandArgs, UsageError } from '../lib/args.js';
import { benchOnly, benchPlans, DEFAULT_TOOLS, lmEvalPlans, serverArgv, type RunContext } from '../lib/compose.js';
import { EXIT } from '../lib/exit-codes.js';
import { writeLine, type Io } from '../lib/io.js';
import { loadRecipe } from '../lib/workload.js';

const HELP = `Usage: perf-eval plan FILE [--json] [--profiles PATH] [--results-dir DIR] [--server-url URL]

Show what 'perf-eval run FILE' would do, without doing it: the server launch, every bench, lm_eval
and BFCL command, the server env (secrets as ***), the port and the results directory.

Options:
  --json             one JSON object on stdout (machine-readable)
  --profiles PATH    GPU profiles file
  --results-dir DIR  results root (default: results); files go to DIR/<name>/
  --server-url URL   plan against an already-running server (no launch)`;

interface PlanFlags {
  help?: boolean;
  json?: boolean;
  profiles?: string;
  'results-dir'?: string;
  'server-url'?: string;
}

export function buildPlan(context: RunContext): Record<string, unknown> {
  const { workload } = context;
  const secrets = secretValuesOf(workload.server.env);
  const skipAccuracy = benchOnly(context);
  return {
    workload: {
      name: workload.name,
      path: workload.path,
      gpu: workload.gpu,
      numGpus: workload.numGpus,
      nightly: workload.nightly,
      timeoutInMinutes: workload.timeoutInMinutes,
      benchOnly: skipAccuracy,
    },
    server: {
      runtime: context.serverUrl ? 'external' : workload.server.runtime,
      image: workload.server.image,
      imageRule: workload.server.imageRule,
      vllmCommit: workload.server.vllmCommit,
      model: workload.server.model,
      servedModelName: workload.server.servedModelName,
      port: context.port,
      serveArgs: redactArgv(workload.server.serveArgs, secrets),
      env: redactEnv(workload.server.env),
      startupTimeoutS: workload.server.startupTimeoutS,
      argv: redactArgv(serverArgv(context), secrets),
    },
    bench: benchPlans(context).map(({ spec, argv, resultFile }) => ({
      runName: spec.runName,
      backend: spec.backend ?? null,
      dataset: spec.dataset,
      inputLen: spec.inputLen,
      outputLen: spec.outputLen,
      numPrompts: spec.numPrompts,
      maxConcurrency: spec.maxConcurrency,
      repetitions: spec.repetitions,
      extraArgs: spec.extraArgs,
      resultFile,
      argv,
    })),
    lmEval: skipAccuracy
      ? []
      : lmEvalPlans(context).map(({ spec, argv }) => ({
          task: spec.task,
          numFewshot: spec.numFewshot,
          modelArgs: spec.modelArgs,
          outputPath: spec.outputPath,
          argv,
        })),
    bfcl: skipAccuracy
      ? []
      : workload.bfcl.map((row) => ({
          category: row.category,
          numThreads: row.numThreads,
          temperature: row.temperature,
          maximumStepLimit: row.maximumStepLimit ?? null,
          maxTestCases: row.maxTestCases ?? null,
          outputDir: join(context.resultsDir, `bfcl-${row.category}`),
        })),
    perf: { device: workload.perf.device, tp: workload.perf.tp, precision: workload.perf.precision, sources: workload.perf.sources },
    resultsDir: context.resultsDir,
  };
}

function printHuman(plan: ReturnType<typeof buildPlan>, io: Io): void {
  const p = plan as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const out = (line = '') => writeLine(io.stdout, line);
  out(`workload  ${p.workload.name}  (${p.workload.path})`);
  out(`gpu       ${p.workload.gpu} × ${p.workload.numGpus}   timeout ${p.workload.timeoutInMinutes} min   nightly ${p.workload.nightly}${p.workload.benchOnly ? '   bench_only' : ''}`);
  out(`image     ${p.server.image}   (rule: ${p.server.imageRule}${p.server.vllmCommit ? `, commit ${p.server.vllmCommit}` : ''})`);
  out(`results   ${p.resultsDir}/`);
  out(`perf      device=${p.perf.device} tp=${p.perf.tp} precision=${p.perf.precision}`);
  out();
  out(`server (${p.server.runtime}, port ${p.server.port}, ready within ${p.server.startupTimeoutS}s, serving '${p.server.servedModelName}')`);
  if (p.server.argv.length > 0) out(`  $ ${formatCommand(p.server.argv)}`);
  for (const [key, value] of Object.entries(p.server.env as Record<string, string>)) out(`  env ${key}=${value}`);
  out();
  out(`bench (${p.bench.length} run(s), alone on the server)`);
  for (const run of p.bench) out(`  ${run.runName}: n=${run.numPrompts} conc=${run.maxConcurrency} repetitions=${run.repetitions}\n    $ ${formatCommand(run.argv)}`);
  if (p.workload.benchOnly) {
    out();
    out('lm_eval and bfcl: skipped (bench_only / BENCH_ONLY)');
    return;
  }
  out();
  out(`lm_eval (${p.lmEval.length} task(s))`);
  for (const task of p.lmEval) out(`  ${task.task} (${task.numFewshot}-shot)\n    $ ${formatCommand(task.argv)}`);
  out();
  out(`bfcl (${p.bfcl.length} categor${p.bfcl.length === 1 ? 'y' : 'ies'})`);
  for (const row of p.bfcl) {
    out(`  ${row.category}: threads=${row.numThreads} temperature=${row.temperature} step_limit=${row.maximumStepLimit ?? 'default'} max_cases=${row.maxTestCases ?? 'all'}`);
  }
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs<PlanFlags>('plan', argv, {
    json: { type: 'boolean' },
    profiles: { type: 'string' },
    'results-dir': { type: 'string' },
    'server-url': { type: 'string' },
  });
  if (values.help) {
    writeLine(io.stdout, HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError(`perf-eval plan: expected exactly one recipe FILE, got ${positionals.length} (see 'perf-eval plan --help')`);
  const workload = loadRecipe(positionals[0] as string, io, values.profiles);
  const context: RunContext = {
    workload,
    resultsDir: join(values['results-dir'] ?? 'results', workload.name),
    port: resolvePort(io.env),
    env: io.env,
    tools: DEFAULT_TOOLS,
    pid: process.pid,
  };
  if (values['server-url']) context.serverUrl = values['server-url'];
  const plan = buildPlan(context);
  if (values.json) writeLine(io.stdout, JSON.stringify(plan, null, 2));
  else printHuman(plan, io);
  return EXIT.ok;
}
