import { join } from 'node:path';
import { buildNativeArgv, resolvePort } from '@perf-eval/server-lifecycle';
import { formatCommand, redactArgv, redactEnv, scrubValues, secretValuesOf } from '@perf-eval/util';
import { expandVariants, proxyHealthUrl, topologyPorts, type ResolvedRole, type ResolvedWorkload } from '@perf-eval/workload-schema';
import { parseCommandArgs, UsageError } from '../lib/args.js';
import {
  benchOnly,
  benchPlans,
  DEFAULT_TOOLS,
  isDisaggregated,
  lmEvalPlans,
  proxyArgv,
  rolePorts,
  roleServerSpecs,
  runSecrets,
  semanticEvalPlan,
  serverArgv,
  type RunContext,
} from '../lib/compose.js';
import { selectVariant } from '../lib/variants.js';
import { EXIT } from '../lib/exit-codes.js';
import { writeLine, type Io } from '../lib/io.js';
import { loadRecipe } from '../lib/workload.js';

const HELP = `Usage: perf-eval plan FILE [--json] [--profiles PATH] [--results-dir DIR] [--server-url URL] [--variant NAME]

Show what 'perf-eval run FILE' would do, without doing it: the server launch (or the prefill and
decode servers and their proxy), every bench, lm_eval, BFCL and semantic-eval command, the server
env (secrets as ***), the ports, the results directory and the sweep variants.

Options:
  --json             one JSON object on stdout (machine-readable)
  --profiles PATH    GPU profiles file
  --results-dir DIR  results root (default: results); files go to DIR/<name>/
  --server-url URL   plan against an already-running server (no launch)
  --variant NAME     the full plan of one sweep variant (names: see 'variants' of the plan)`;

interface PlanFlags {
  help?: boolean;
  json?: boolean;
  profiles?: string;
  'results-dir'?: string;
  'server-url'?: string;
  variant?: string;
}

function planRoles(context: RunContext, secrets: string[]): { roles: Record<string, unknown>[]; proxy: Record<string, unknown> | null } {
  const disagg = context.workload.disaggregated;
  if (!disagg || !isDisaggregated(context)) return { roles: [], proxy: null };
  const ports = rolePorts(context);
  const roles = [disagg.prefill, disagg.decode];
  return {
    roles: roleServerSpecs(context).map((spec, index) => {
      const role = roles[index] as ResolvedRole;
      const roleSecrets = [...secrets, ...secretValuesOf(spec.env)];
      return {
        role: role.role,
        port: spec.port,
        gpuIds: role.gpuIds,
        gpuSource: role.gpuSource,
        numNodes: role.numNodes,
        distributedExecutorBackend: role.distributedExecutorBackend ?? null,
        kvTransferConfig: role.kvTransferConfig,
        healthUrl: `http://localhost:${spec.port}/health`,
        serveArgs: redactArgv(spec.serveArgs, roleSecrets),
        env: redactEnv(spec.env),
        argv: redactArgv(buildNativeArgv(spec), roleSecrets),
      };
    }),
    proxy: {
      port: ports.proxy,
      healthUrl: proxyHealthUrl(disagg.proxy, ports.proxy),
      script: disagg.proxy.script,
      kvConnector: disagg.kvConnector,
      argv: proxyArgv(context),
    },
  };
}

function planSemanticEval(context: RunContext): Record<string, unknown> | null {
  const template = context.workload.semanticEval;
  const plan = semanticEvalPlan(context);
  if (!template || !plan) return null;
  return { outputPath: plan.outputPath, timeoutMinutes: template.timeoutMinutes, defaultCommand: template.defaultCommand, argv: plan.argv };
}

/** The variants of a swept workload (empty without `sweep:`); results dirs under `resultsRoot`. */
export function planVariants(workload: ResolvedWorkload, resultsRoot: string): Record<string, unknown>[] {
  if (!workload.sweep) return [];
  return expandVariants(workload).map((variant) => {
    const secrets = secretValuesOf(variant.server.env);
    const row: Record<string, unknown> = {
      name: variant.name,
      resultsDir: join(resultsRoot, variant.name),
      settings: variant.variant?.settings ?? {},
      serveArgs: redactArgv(variant.server.serveArgs, secrets),
    };
    if (variant.disaggregated) {
      row['roleServeArgs'] = {
        prefill: redactArgv(variant.disaggregated.prefill.serveArgs, secrets),
        decode: redactArgv(variant.disaggregated.decode.serveArgs, secrets),
      };
    }
    return row;
  });
}

export function buildPlan(context: RunContext, resultsRoot = join(context.resultsDir, '..')): Record<string, unknown> {
  const { workload } = context;
  const secrets = secretValuesOf(workload.server.env);
  const skipAccuracy = benchOnly(context);
  const disaggregated = isDisaggregated(context);
  const { roles, proxy } = planRoles(context, secrets);
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
      numNodes: workload.server.numNodes,
      distributedExecutorBackend: workload.server.distributedExecutorBackend ?? null,
      // Disaggregated: nothing is launched as "the server"; see roles and proxy.
      argv: disaggregated ? [] : redactArgv(serverArgv(context), secrets),
    },
    topology: workload.topology,
    roles,
    proxy,
    semanticEval: skipAccuracy ? null : planSemanticEval(context),
    variant: workload.variant ?? null,
    variants: planVariants(workload, resultsRoot),
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
  if (p.variant) out(`variant   ${p.variant.name}  (${Object.entries(p.variant.settings as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(' ')})`);
  out();
  if (p.topology === 'disaggregated' && p.proxy) {
    out(`proxy (port ${p.proxy.port}, health ${p.proxy.healthUrl}, serving '${p.server.servedModelName}')`);
    out(`  $ ${formatCommand(p.proxy.argv)}`);
    for (const role of p.roles) {
      out(`${role.role} (${p.server.runtime}, port ${role.port}, GPUs ${role.gpuIds.join(',')} from ${role.gpuSource}, ${role.numNodes} node(s))`);
      out(`  $ ${formatCommand(role.argv)}`);
      for (const [key, value] of Object.entries(role.env as Record<string, string>)) out(`  env ${key}=${value}`);
    }
  } else {
    out(`server (${p.server.runtime}, port ${p.server.port}, ready within ${p.server.startupTimeoutS}s, serving '${p.server.servedModelName}'${p.server.numNodes > 1 ? `, ${p.server.numNodes} nodes` : ''})`);
    if (p.server.argv.length > 0) out(`  $ ${formatCommand(p.server.argv)}`);
    for (const [key, value] of Object.entries(p.server.env as Record<string, string>)) out(`  env ${key}=${value}`);
  }
  out();
  out(`bench (${p.bench.length} run(s), alone on the server)`);
  for (const run of p.bench) out(`  ${run.runName}: n=${run.numPrompts} conc=${run.maxConcurrency} repetitions=${run.repetitions}\n    $ ${formatCommand(run.argv)}`);
  if (p.variants.length > 0) {
    out();
    out(`variants (${p.variants.length}; plan one with --variant NAME)`);
    for (const variant of p.variants) out(`  ${variant.name}  → ${variant.resultsDir}/`);
  }
  if (p.semanticEval) {
    out();
    out(`semantic eval (after the bench, within ${p.semanticEval.timeoutMinutes} min)`);
    out(`  $ ${formatCommand(p.semanticEval.argv)}`);
  }
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
    variant: { type: 'string' },
  });
  if (values.help) {
    writeLine(io.stdout, HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError(`perf-eval plan: expected exactly one recipe FILE, got ${positionals.length} (see 'perf-eval plan --help')`);
  const base = loadRecipe(positionals[0] as string, io, values.profiles);
  const workload = values.variant === undefined ? base : selectVariant(base, values.variant, positionals[0] as string, 'plan');
  const resultsRoot = values['results-dir'] ?? 'results';
  const context: RunContext = {
    workload,
    resultsDir: join(resultsRoot, workload.name),
    // Disaggregated: the tools talk to the proxy (its explicit port, else the resolved port).
    port: topologyPorts(workload, resolvePort(io.env)).client,
    basePort: resolvePort(io.env),
    env: io.env,
    tools: DEFAULT_TOOLS,
    pid: process.pid,
  };
  if (values['server-url']) context.serverUrl = values['server-url'];
  // Recipe values (an lm_eval model_args token …) that equal a secret are masked too.
  const plan = scrubValues(buildPlan(context, resultsRoot), runSecrets(context));
  if (values.json) writeLine(io.stdout, JSON.stringify(plan, null, 2));
  else printHuman(plan, io);
  return EXIT.ok;
}
