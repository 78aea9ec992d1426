import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { execa } from 'execa';
import { checkTaskNames, listLmEvalTasks } from '@perf-eval/lmeval-runner';
import {
  ALL_PHASES,
  benchOnly,
  DEFAULT_JOBS,
  executeRun,
  planSecrets,
  renderSummaryMarkdown,
  serverEnvironments,
  toolEnvValues,
  type Phase,
  type RunPlan,
  type RunSummary,
} from '@perf-eval/run';
import { assertPortFree } from '@perf-eval/server-lifecycle';
import { PerfEvalError, secretValuesOf } from '@perf-eval/util';
import { ingestUrlProblems } from '@perf-eval/ingest';
import type { ResolvedWorkload } from '@perf-eval/workload-schema';
import { parseCommandArgs, parsePositiveInt, UsageError } from '../lib/args.js';
import { EXIT, exitCodeFor } from '../lib/exit-codes.js';
import { writeLine, type Io } from '../lib/io.js';
import { planFor } from '../lib/plan-options.js';
import { Reporter } from '../lib/reporter.js';
import { interruptionOf } from '../lib/signals.js';
import {
  checkToolVersions,
  componentsFor,
  discoverTools,
  ensureTools,
  findOnPath,
  SERVER_VLLM_ENV,
  toolPaths,
  toolsDir,
  type DiscoveredTools,
  type VersionCheck,
} from '@perf-eval/toolchain';
import { setupProgress, verifyBfclWithDriver } from '../lib/provisioning.js';
import { GateFailedError } from '@perf-eval/verdicts';
import { runIdentityOf, verdictPostRun } from '@perf-eval/run';
import { selectVariant, variantRequiredError } from '../lib/variants.js';
import { loadRecipe } from '../lib/workload.js';

const HELP = `Usage: perf-eval run FILE [options]

Run a recipe end to end: start vLLM (or, disaggregated, the prefill and decode servers and their
proxy), run the bench configs alone on the server, then the semantic eval, the lm_eval tasks and
BFCL categories, write results/<name>/ (bench-*.json, semantic_eval.json, <task>/, bfcl-*/,
server.log or server-<role>.log + proxy.log, summary.json, summary.md, report.html), ingest
results, and tear everything down.

Options:
  --results-dir DIR   results root (default: results); files go to DIR/<name>/
  --server-url URL    use an already-running server (no launch, no teardown)
  --only LIST         phases to run, comma-separated: bench,semantic_eval,lm_eval,bfcl (default: all)
  --variant NAME      the sweep variant to run (a recipe with sweep: needs it; each variant is its
                      own run, results in DIR/<variant name>/; names: 'perf-eval plan FILE')
  --jobs N            accuracy tasks run concurrently against the server (default: 4;
                      1 = upstream's serial order)
  --profiles PATH     GPU profiles file
  --no-ingest         do not post results (the ingest plan is still written)
  --strict-ingest     fail the run when ingestion fails or INGEST_BEARER_TOKEN is missing
  --verbose           forward every tool output line (default: server log + phase lines)
  --baseline SPEC     compare with a baseline after the run: a results dir, a history.jsonl,
                      buildkite:<number|url>, or auto (the previous finished build of this pipeline
                      and branch; needs BUILDKITE_API_TOKEN or 'buildkite-agent secret get'). Verdicts
                      go to summary.json/summary.md and the annotation; no baseline is a warning.

Tools the recipe needs and this machine lacks are provisioned first, exactly as 'perf-eval setup FILE'
does (PERF_EVAL_TOOLS_DIR, default ~/.cache/perf-eval/tools; PERF_EVAL_PYTHON picks the base Python;
PERF_EVAL_NO_AUTO_SETUP=1 turns this off). Roles: 'vllm serve' is PERF_EVAL_VLLM or the vllm on PATH,
never the provisioned CPU-only bench client; a native bench uses that same vllm, the simulator and
--server-url use the provisioned client (PERF_EVAL_BENCH_VLLM overrides). summary.json records them.
Every run writes results/<name>/history.jsonl (the last 30 runs, carried forward from the baseline).
Exit: 0 all tasks ok, 1 a task or the server failed or a gate failed (see summary.md), 2 invalid recipe
or failed preflight (nothing started), 130/143 interrupted.`;

interface RunFlags {
  help?: boolean;
  'results-dir'?: string;
  'server-url'?: string;
  only?: string;
  jobs?: string;
  profiles?: string;
  'no-ingest'?: boolean;
  'strict-ingest'?: boolean;
  verbose?: boolean;
  variant?: string;
  baseline?: string;
}

/** Failed preflight: nothing was started (exit 2). */
export class PreflightError extends PerfEvalError {
  constructor(
    readonly problems: readonly string[],
    /** The checks that ran while the server started: the server was started, and torn down again. */
    readonly duringLaunch = false,
  ) {
    super(
      'E_PREFLIGHT',
      `preflight failed (${duringLaunch ? 'checked while the server started; no task ran and the server was stopped' : 'nothing was started'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      { category: 'preflight' },
    );
  }
}

function parsePhases(value: string | undefined): Set<Phase> {
  if (!value) return new Set(ALL_PHASES);
  const phases = new Set<Phase>();
  for (const item of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!(ALL_PHASES as readonly string[]).includes(item))
      throw new UsageError(`perf-eval run: --only takes bench, semantic_eval, lm_eval, bfcl; got '${item}'`);
    phases.add(item as Phase);
  }
  return phases;
}

/** Whether argv[0] can be started: an existing path, or a name on PATH. */
function commandExists(command: string, io: Io): boolean {
  return command.includes('/')
    ? existsSync(resolve(io.cwd, command))
    : findOnPath(command, io.env) !== undefined;
}

async function portProblem(label: string, port: number): Promise<string | undefined> {
  try {
    await assertPortFree(port);
    return undefined;
  } catch (error) {
    return `${label}${(error as Error).message}`;
  }
}

/** Launch checks: the runtime's binary, free ports; disaggregated: the proxy's interpreter and script. */
async function launchProblems(
  plan: RunPlan,
  workload: ResolvedWorkload,
  tools: DiscoveredTools,
  io: Io,
  setupHint: string,
): Promise<string[]> {
  const { launch } = plan;
  if (launch.kind === 'external') return [];
  const problems: string[] = [];
  const runtime = plan.server.runtime;
  if (runtime === 'docker' && !tools.found.docker)
    problems.push(`docker runtime: 'docker' not found on PATH`);
  if (runtime === 'native' && !tools.found.vllm)
    // The provisioned bench client is CPU-only: it never serves, so setup cannot fix this.
    problems.push(
      `native runtime: the serving 'vllm' was not found on PATH; install vLLM there or set ${SERVER_VLLM_ENV} to its vllm`,
    );
  if (runtime === 'sim' && !tools.found.simulator)
    problems.push(`sim runtime: 'llm-d-inference-sim' not found; ${setupHint}`);
  if (launch.kind === 'server') {
    const problem = await portProblem('', launch.server.port);
    if (problem) problems.push(problem);
    return problems;
  }
  for (const [role, port] of [
    ...launch.servers.map((server) => [server.role as string, server.port] as const),
    ['proxy', launch.proxy.port] as const,
  ]) {
    const problem = await portProblem(`${role}: `, port);
    if (problem) problems.push(problem);
  }
  const proxy = workload.disaggregated?.proxy;
  if (proxy && !commandExists(proxy.python, io))
    problems.push(`proxy: interpreter '${proxy.python}' not found (vllm.proxy.python)`);
  if (proxy && !existsSync(resolve(io.cwd, proxy.script))) {
    problems.push(
      `proxy: script ${proxy.script} not found; set VLLM_SOURCE_DIR to a vLLM source checkout${io.env['VLLM_SOURCE_DIR'] ? ` (now ${io.env['VLLM_SOURCE_DIR']})` : ''} or vllm.proxy.script to its path`,
    );
  }
  return problems;
}

/** The semantic eval's command (and, for the default gsm8k_eval.py command, its script) must exist. */
function semanticEvalProblems(plan: RunPlan, io: Io): string[] {
  const semantic = plan.semanticEval;
  if (!semantic) return [];
  const problems: string[] = [];
  const [command, script] = semantic.argv;
  if (command && !commandExists(command, io))
    problems.push(`semantic_eval: '${command}' not found (semantic_eval.command / semantic_eval.python)`);
  if (semantic.defaultCommand && script && !existsSync(resolve(io.cwd, script))) {
    problems.push(
      `semantic_eval: ${script} not found; set VLLM_SOURCE_DIR to a vLLM source checkout or give semantic_eval.command`,
    );
  }
  return problems;
}

async function lmEvalProblems(plan: RunPlan, tools: DiscoveredTools, io: Io): Promise<string[]> {
  const problems: string[] = [];
  const byInclude = new Map<string | undefined, string[]>();
  for (const task of plan.lmEval)
    byInclude.set(task.spec.includePath, [...(byInclude.get(task.spec.includePath) ?? []), task.task]);
  for (const [includePath, names] of byInclude) {
    try {
      const known = await listLmEvalTasks({
        python: tools.lmEvalPython,
        lmEval: tools.commands.lmEval,
        cacheDir: toolPaths(tools.dir).cache,
        env: toolEnvValues(plan.toolEnv, io.env),
        signal: io.signal,
        ...(includePath ? { includePath } : {}),
      });
      for (const unknown of checkTaskNames(names, known)) {
        problems.push(
          `${plan.workload.path}: unknown lm_eval task '${unknown.name}'${unknown.suggestions[0] ? ` (did you mean '${unknown.suggestions[0]}'?)` : ''}`,
        );
      }
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  return problems;
}

/** Everything the plan will start must be there, before any GPU time is spent. */
async function preflight(
  plan: RunPlan,
  workload: ResolvedWorkload,
  tools: DiscoveredTools,
  io: Io,
): Promise<void> {
  const setupHint = `run 'npx perf-eval setup ${plan.workload.path}' (tools dir ${tools.dir}) or put it on PATH`;
  const problems = await launchProblems(plan, workload, tools, io, setupHint);
  problems.push(...semanticEvalProblems(plan, io));
  const hostBench = plan.bench.some((bench) => bench.executor.kind === 'native');
  if (hostBench && !tools.found.benchVllm)
    problems.push(
      `bench: 'vllm' (for vllm bench serve) not found; ${setupHint} (--only lm_eval,bfcl skips the bench)`,
    );
  const tokenizer = plan.bench[0]?.spec.extraArgs['tokenizer'];
  if (
    workload.server.runtime === 'sim' &&
    tokenizer === toolPaths(tools.dir).simTokenizer &&
    !existsSync(join(tokenizer, 'tokenizer.json'))
  ) {
    problems.push(
      `bench: the offline tokenizer for the simulator (${tokenizer}) is missing; run 'npx perf-eval setup ${plan.workload.path}'`,
    );
  }
  if (plan.lmEval.length > 0 && !tools.found.lm_eval)
    problems.push(`lm_eval: 'lm_eval' not found; ${setupHint}`);
  if (plan.bfcl.length > 0 && !tools.found.bfcl)
    problems.push(`bfcl: the BFCL virtualenv was not found; ${setupHint}`);
  try {
    await mkdir(plan.resultsDir, { recursive: true });
    const probe = join(plan.resultsDir, `.write-probe-${process.pid}`);
    await writeFile(probe, '');
    await rm(probe);
  } catch (error) {
    problems.push(
      `results dir ${plan.resultsDir} is not writable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  // An INGEST_URL / PERF_INGEST_URL that is not an http(s) URL: refuse before any GPU time is spent.
  if (!plan.ingest.disabled) problems.push(...ingestUrlProblems(io.env));
  // Missing token with --strict-ingest: refuse before any GPU time is spent.
  if (plan.ingest.strict && !plan.ingest.enabled && !plan.ingest.disabled)
    problems.push(`--strict-ingest: ${plan.ingest.reason}`);
  if (problems.length > 0) throw new PreflightError(problems);
}

/**
 * The slow tool checks — importing each Python tool for its version, listing lm-eval's 14k task names
 * (10–30 s cold) — need no server: they run while it starts (`executeRun`'s `prepare`), so the GPUs
 * do not wait for them. A problem fails the run before any task, exit 2.
 */
async function toolChecks(plan: RunPlan, tools: DiscoveredTools, io: Io, signal: AbortSignal): Promise<void> {
  const problems: string[] = [];
  const hostBench = plan.bench.some((bench) => bench.executor.kind === 'native');
  if (plan.lmEval.length > 0 && tools.found.lm_eval)
    problems.push(...(await lmEvalProblems(plan, tools, { ...io, signal })));
  // Tools that will run must be of versions whose contracts we encode.
  const versionChecks: VersionCheck[] = [];
  if (hostBench && tools.found.benchVllm)
    versionChecks.push({ tool: 'vllm', executable: tools.found.benchVllm });
  if (plan.lmEval.length > 0 && tools.found.lm_eval)
    versionChecks.push({ tool: 'lm_eval', executable: tools.found.lm_eval });
  if (plan.bfcl.length > 0 && tools.found.bfcl)
    versionChecks.push({ tool: 'bfcl', executable: tools.found.bfcl });
  const versions = await checkToolVersions(
    versionChecks,
    toolEnvValues({ inherit: plan.toolEnv.inherit, set: { PYTHONUNBUFFERED: '1' } }, io.env),
    signal,
  );
  problems.push(...versions.problems);
  for (const unknown of versions.unknown)
    writeLine(io.stderr, `warning: could not read the version of ${unknown}`);
  if (problems.length > 0) throw new PreflightError(problems, true);
}

/** A fresh machine runs a recipe without a separate `setup`: provision what it needs and lacks first. */
async function provisionMissingTools(
  workload: ResolvedWorkload,
  phases: ReadonlySet<Phase>,
  externalServer: boolean,
  io: Io,
): Promise<void> {
  if (io.env['PERF_EVAL_NO_AUTO_SETUP'] === '1') return;
  const accuracy = !benchOnly({ workload, env: io.env });
  const components = componentsFor({
    runtime: workload.server.runtime,
    bench: phases.has('bench') && workload.bench.length > 0,
    lmEval: accuracy && phases.has('lm_eval') && workload.lmEval.length > 0,
    bfcl: accuracy && phases.has('bfcl') && workload.bfcl.length > 0,
    externalServer,
  });
  const dir = toolsDir(io.env);
  const print = (line: string): void => writeLine(io.stdout, line);
  const result = await ensureTools(components, {
    dir,
    python: io.env['PERF_EVAL_PYTHON']?.trim() || 'python3',
    force: false,
    verbose: false,
    env: io.env,
    signal: io.signal,
    print,
    progress: setupProgress(io),
    verifyBfcl: verifyBfclWithDriver,
  });
  if (result.provisioned.length > 0)
    print(`provisioned ${result.provisioned.join(', ')} into ${dir} (what 'perf-eval setup' does)`);
}

/**
 * `results/<name>/report.html` at the end of every run that was not interrupted (failed ones too: it
 * shows what exists and what failed). A report problem is a warning, never a run failure.
 */
async function writeRunReport(resultsDir: string, io: Io): Promise<string | undefined> {
  try {
    const { writeReport } = await import('../lib/report-write.js');
    return (
      await writeReport(resultsDir, join(resultsDir, 'report.html'), { secrets: secretValuesOf(io.env) })
    ).path;
  } catch (error) {
    writeLine(
      io.stderr,
      `warning: could not write the HTML report (${(error as Error).message.split('\n')[0]})`,
    );
    return undefined;
  }
}

/** The annotation links the report as a build artifact (uploaded with the `results/` artifacts), relative to the job's checkout. */
export function reportLinkMarkdown(reportPath: string, cwd: string): string {
  const artifact = relative(cwd, reportPath).split(sep).join('/');
  return `\n📊 [HTML report](artifact://${artifact}) (charts, tables, timeline)\n`;
}

async function annotate(
  summary: RunSummary,
  io: Io,
  stepKey: string,
  reportPath: string | undefined,
): Promise<void> {
  if (io.env['BUILDKITE'] !== 'true') return;
  const agent = findOnPath('buildkite-agent', io.env);
  if (!agent) return;
  const style = summary.status === 'ok' ? 'success' : summary.status === 'cancelled' ? 'warning' : 'error';
  const markdown =
    renderSummaryMarkdown(summary) + (reportPath ? reportLinkMarkdown(reportPath, io.cwd) : '');
  try {
    await execa(agent, ['annotate', '--style', style, '--context', `wl-${stepKey}`], {
      input: markdown,
      timeout: 15_000,
      reject: true,
    });
  } catch (error) {
    writeLine(
      io.stderr,
      `warning: could not post the build annotation (${(error as Error).message.split('\n')[0]})`,
    );
  }
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs<RunFlags>('run', argv, {
    'results-dir': { type: 'string' },
    'server-url': { type: 'string' },
    only: { type: 'string' },
    jobs: { type: 'string' },
    profiles: { type: 'string' },
    'no-ingest': { type: 'boolean' },
    'strict-ingest': { type: 'boolean' },
    verbose: { type: 'boolean' },
    variant: { type: 'string' },
    baseline: { type: 'string' },
  });
  if (values.help) {
    writeLine(io.stdout, HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1)
    throw new UsageError(
      `perf-eval run: expected exactly one recipe FILE, got ${positionals.length} (see 'perf-eval run --help')`,
    );
  const phases = parsePhases(values.only);
  const jobs = parsePositiveInt('run', '--jobs', values.jobs) ?? DEFAULT_JOBS;
  const file = positionals[0] as string;
  const recipe = loadRecipe(file, io, values.profiles);
  if (recipe.sweep && values.variant === undefined) throw variantRequiredError(recipe, file);
  const workload = values.variant === undefined ? recipe : selectVariant(recipe, values.variant, file, 'run');
  await provisionMissingTools(workload, phases, Boolean(values['server-url']), io);
  const tools = discoverTools(io.env, {
    runtime: workload.server.runtime,
    externalServer: Boolean(values['server-url']),
  });
  const plan = planFor(
    workload,
    io,
    {
      command: 'run',
      resultsRoot: values['results-dir'],
      serverUrl: values['server-url'],
      phases: [...phases],
      jobs,
      ingest: { disabled: Boolean(values['no-ingest']), strict: Boolean(values['strict-ingest']) },
    },
    tools,
  );
  const baselineSpec = values.baseline;
  if (
    baselineSpec !== undefined &&
    baselineSpec !== 'auto' &&
    !baselineSpec.startsWith('buildkite:') &&
    !existsSync(resolve(io.cwd, baselineSpec))
  ) {
    throw new UsageError(
      `perf-eval run: --baseline ${baselineSpec} does not exist; pass a results dir, a history.jsonl, buildkite:<build> or auto`,
    );
  }
  await preflight(plan, workload, tools, io);
  // After the tasks, before the final summary: verdicts against the baseline, history.jsonl, gates.
  const verdicts = verdictPostRun({
    workload,
    resultsDir: plan.resultsDir,
    env: io.env,
    baseline:
      baselineSpec === undefined || baselineSpec === 'auto' || baselineSpec.startsWith('buildkite:')
        ? baselineSpec
        : resolve(io.cwd, baselineSpec),
    print: (line) => writeLine(io.stdout, line),
    warn: (line) => writeLine(io.stderr, line),
  });

  let toolCheckFailure: PreflightError | undefined;
  const summary = await executeRun(plan, {
    prepare: (signal) =>
      toolChecks(plan, tools, io, signal).catch((error: unknown) => {
        if (error instanceof PreflightError) toolCheckFailure = error;
        throw error;
      }),
    // The GPUs are held from the step's start: everything before executeRun is accounted as setup.
    stepStartedAtMs: performance.timeOrigin,
    env: io.env,
    serverEnv: serverEnvironments(workload),
    secrets: planSecrets(workload, io.env),
    signal: io.signal,
    ...(io.forceSignal ? { forceSignal: io.forceSignal } : {}),
    reporter: new Reporter(io),
    verbose: Boolean(values.verbose),
    toolRoles: tools.roles,
    identity: await runIdentityOf(workload, io.env),
    postRun: [verdicts],
  });
  const gateFailures = (summary.gates ?? []).filter((gate) => !gate.passed);
  // An interrupted run exits at once (Buildkite's cancel grace period is short); 'perf-eval report' can follow.
  const reportPath = interruptionOf(io.signal) ? undefined : await writeRunReport(plan.resultsDir, io);
  await annotate(summary, io, workload.stem.replace(/[^A-Za-z0-9_-]/g, '-'), reportPath);

  const interruption = interruptionOf(io.signal);
  if (interruption) {
    writeLine(io.stderr, interruption.message);
    return exitCodeFor(interruption).code;
  }
  if (toolCheckFailure) throw toolCheckFailure;
  writeLine(io.stdout, `results: ${plan.resultsDir}/summary.md`);
  if (reportPath) writeLine(io.stdout, `report: ${reportPath}`);
  if (summary.status !== 'ok') {
    const failed = summary.tasks
      .filter((t) => t.status === 'failed' || t.status === 'skipped')
      .map(
        (t) => `${t.id} (${t.status}${t.error ? `: ${t.error.message}` : t.reason ? `: ${t.reason}` : ''})`,
      );
    if (summary.server.status === 'failed')
      failed.unshift(
        `server: ${summary.server.error?.message ?? 'failed'}${summary.server.diagnosis ? ` [${summary.server.diagnosis}]` : ''}`,
      );
    failed.push(...(summary.writeErrors ?? []));
    writeLine(io.stderr, `+++ :rotating_light: run failed\n${failed.map((f) => `  - ${f}`).join('\n')}`);
    return EXIT.failure;
  }
  if (values['strict-ingest'] && summary.ingest.failed > 0) {
    writeLine(io.stderr, `ingestion failed for ${summary.ingest.failed} payload(s) (--strict-ingest)`);
    return EXIT.failure;
  }
  if (gateFailures.length > 0) {
    writeLine(io.stderr, '+++ :rotating_light: gate failed');
    throw new GateFailedError(gateFailures);
  }
  return EXIT.ok;
}
