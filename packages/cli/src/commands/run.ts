import { existsSync } from 'node:fs';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { execa } from 'execa';
import { checkTaskNames, listLmEvalTasks } from '@perf-eval/lmeval-runner';
import { assertPortFree, resolvePort } from '@perf-eval/server-lifecycle';
import { PerfEvalError, secretValuesOf } from '@perf-eval/util';
import { topologyPorts } from '@perf-eval/workload-schema';
import { parseCommandArgs, parsePositiveInt, UsageError } from '../lib/args.js';
import { benchOnly, isDisaggregated, roleServerSpecs, rolePorts, runtimeToolEnv, semanticEvalPlan, simBenchTokenizer, type RunContext } from '../lib/compose.js';
import { selectVariant, variantRequiredError } from '../lib/variants.js';
import { EXIT } from '../lib/exit-codes.js';
import { IngestBridge } from '../lib/ingest-bridge.js';
import { writeLine, type Io } from '../lib/io.js';
import { Orchestrator, type Phase } from '../lib/orchestrate.js';
import { Reporter } from '../lib/reporter.js';
import { interruptionOf } from '../lib/signals.js';
import { renderSummaryMarkdown, writeSummary, type RunSummary } from '../lib/summary.js';
import { identityOf, verdictStep } from '../lib/verdict-step.js';
import { GateFailedError, type GateResult } from '@perf-eval/verdicts';
import { discoverTools, findOnPath, toolPaths, type DiscoveredTools } from '../lib/tools.js';
import { checkToolVersions, type VersionCheck } from '../lib/tool-versions.js';
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

Tools come from 'perf-eval setup' (PERF_EVAL_TOOLS_DIR, default ~/.cache/perf-eval/tools), else PATH.
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

/** Default concurrency of the accuracy phase; see the README ("Accuracy concurrency") for the measurement. */
export const DEFAULT_JOBS = 4;

/** Failed preflight: nothing was started (exit 2). */
export class PreflightError extends PerfEvalError {
  constructor(readonly problems: readonly string[]) {
    super('E_PREFLIGHT', `preflight failed (nothing was started):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const ALL_PHASES: readonly Phase[] = ['bench', 'semantic_eval', 'lm_eval', 'bfcl'];

function parsePhases(value: string | undefined): Set<Phase> {
  if (!value) return new Set(ALL_PHASES);
  const phases = new Set<Phase>();
  for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(ALL_PHASES as readonly string[]).includes(item)) throw new UsageError(`perf-eval run: --only takes bench, semantic_eval, lm_eval, bfcl; got '${item}'`);
    phases.add(item as Phase);
  }
  return phases;
}

/** The documented environment of lm_eval, BFCL and a host-side bench (never the server env, D18). */
export function toolEnvironment(env: Readonly<Record<string, string | undefined>>, serverEnv: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = { PYTHONUNBUFFERED: '1' };
  const pass = [
    'PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ', 'HF_TOKEN', 'HF_HUB_OFFLINE', 'HF_DATASETS_OFFLINE', 'HF_ENDPOINT',
    'OPENAI_API_KEY', 'BFCL_MAXIMUM_STEP_LIMIT', 'BFCL_MAX_TEST_CASES', 'VLLM_SPEED_BENCH_DIR', 'LMEVAL_LOG_LEVEL',
    'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE',
  ];
  for (const name of pass) {
    const value = env[name];
    if (value !== undefined) out[name] = value;
  }
  // The tokenizer cache the server uses is where host-side tools find tokenizers too.
  const hfHome = env['HF_HOME'] ?? serverEnv['HF_HOME'];
  if (hfHome) out['HF_HOME'] = hfHome;
  return out;
}

/** Whether argv[0] can be started: an existing path, or a name on PATH. */
function commandExists(command: string, io: Io): boolean {
  return command.includes('/') ? existsSync(resolve(io.cwd, command)) : findOnPath(command, io.env) !== undefined;
}

/** Disaggregated: every role port and the proxy port free; the proxy's interpreter and script present. */
async function topologyProblems(context: RunContext, io: Io): Promise<string[]> {
  const problems: string[] = [];
  const disagg = context.workload.disaggregated;
  if (!disagg) return problems;
  const ports = rolePorts(context);
  for (const [role, port] of [...roleServerSpecs(context).map((spec) => [spec.role, spec.port] as const), ['proxy', ports.proxy] as const]) {
    try {
      await assertPortFree(port);
    } catch (error) {
      problems.push(`${role}: ${(error as Error).message}`);
    }
  }
  if (!commandExists(disagg.proxy.python, io)) problems.push(`proxy: interpreter '${disagg.proxy.python}' not found (vllm.proxy.python)`);
  if (!existsSync(resolve(io.cwd, disagg.proxy.script))) {
    problems.push(
      `proxy: script ${disagg.proxy.script} not found; set VLLM_SOURCE_DIR to a vLLM source checkout${io.env['VLLM_SOURCE_DIR'] ? ` (now ${io.env['VLLM_SOURCE_DIR']})` : ''} or vllm.proxy.script to its path`,
    );
  }
  return problems;
}

/** The semantic eval's command (and, for the default gsm8k_eval.py command, its script) must exist. */
function semanticEvalProblems(context: RunContext, io: Io): string[] {
  const plan = semanticEvalPlan(context);
  const template = context.workload.semanticEval;
  if (!plan || !template) return [];
  const problems: string[] = [];
  const [command, script] = plan.argv;
  if (command && !commandExists(command, io)) problems.push(`semantic_eval: '${command}' not found (semantic_eval.command / semantic_eval.python)`);
  if (template.defaultCommand && script && !existsSync(resolve(io.cwd, script))) {
    problems.push(`semantic_eval: ${script} not found; set VLLM_SOURCE_DIR to a vLLM source checkout or give semantic_eval.command`);
  }
  return problems;
}

async function preflight(context: RunContext, tools: DiscoveredTools, phases: Set<Phase>, io: Io, ingest: IngestBridge): Promise<void> {
  const problems: string[] = [];
  const { workload } = context;
  const setupHint = `run 'npx perf-eval setup ${workload.path}' (tools dir ${tools.dir}) or put it on PATH`;
  const accuracy = !benchOnly(context);
  if (!context.serverUrl) {
    const runtime = workload.server.runtime;
    if (runtime === 'docker' && !tools.found.docker) problems.push(`docker runtime: 'docker' not found on PATH`);
    if (runtime === 'native' && !tools.found.vllm) problems.push(`native runtime: 'vllm' not found; ${setupHint}`);
    if (runtime === 'sim' && !tools.found.simulator) problems.push(`sim runtime: 'llm-d-inference-sim' not found; ${setupHint}`);
    if (isDisaggregated(context)) {
      problems.push(...(await topologyProblems(context, io)));
    } else {
      try {
        await assertPortFree(context.port);
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
  }
  if (accuracy && phases.has('semantic_eval')) problems.push(...semanticEvalProblems(context, io));
  const hostBench = context.serverUrl !== undefined || workload.server.runtime !== 'docker';
  if (phases.has('bench') && workload.bench.length > 0 && hostBench && !tools.found.vllm) {
    problems.push(`bench: 'vllm' (for vllm bench serve) not found; ${setupHint} (--only lm_eval,bfcl skips the bench)`);
  }
  const tokenizer = workload.bench[0] ? simBenchTokenizer(context, workload.bench[0].extraArgs) : undefined;
  if (phases.has('bench') && tokenizer && !existsSync(join(tokenizer, 'tokenizer.json'))) {
    problems.push(`bench: the offline tokenizer for the simulator (${tokenizer}) is missing; run 'npx perf-eval setup ${workload.path}'`);
  }
  if (accuracy && phases.has('lm_eval') && workload.lmEval.length > 0) {
    if (!tools.found.lm_eval) {
      problems.push(`lm_eval: 'lm_eval' not found; ${setupHint}`);
    } else {
      const byInclude = new Map<string | undefined, string[]>();
      for (const task of workload.lmEval) byInclude.set(task.includePath, [...(byInclude.get(task.includePath) ?? []), task.task]);
      for (const [includePath, names] of byInclude) {
        try {
          const known = await listLmEvalTasks({
            python: tools.lmEvalPython,
            lmEval: context.tools.lmEval,
            cacheDir: toolPaths(tools.dir).cache,
            env: { ...toolEnvironment(io.env, {}), ...runtimeToolEnv(context) },
            signal: io.signal,
            ...(includePath ? { includePath } : {}),
          });
          for (const unknown of checkTaskNames(names, known)) {
            problems.push(`${workload.path}: unknown lm_eval task '${unknown.name}'${unknown.suggestions[0] ? ` (did you mean '${unknown.suggestions[0]}'?)` : ''}`);
          }
        } catch (error) {
          problems.push((error as Error).message);
        }
      }
    }
  }
  if (accuracy && phases.has('bfcl') && workload.bfcl.length > 0 && !tools.found.bfcl) {
    problems.push(`bfcl: the BFCL virtualenv was not found; ${setupHint}`);
  }
  // Tools that will run must be of versions whose contracts we encode.
  const versionChecks: VersionCheck[] = [];
  if (phases.has('bench') && workload.bench.length > 0 && hostBench && tools.found.vllm) versionChecks.push({ tool: 'vllm', executable: tools.found.vllm });
  if (accuracy && phases.has('lm_eval') && workload.lmEval.length > 0 && tools.found.lm_eval) versionChecks.push({ tool: 'lm_eval', executable: tools.found.lm_eval });
  if (accuracy && phases.has('bfcl') && workload.bfcl.length > 0 && tools.found.bfcl) versionChecks.push({ tool: 'bfcl', executable: tools.found.bfcl });
  const versions = await checkToolVersions(versionChecks, toolEnvironment(io.env, {}), io.signal);
  problems.push(...versions.problems);
  for (const unknown of versions.unknown) writeLine(io.stderr, `warning: could not read the version of ${unknown}`);
  try {
    await mkdir(context.resultsDir, { recursive: true });
    const probe = join(context.resultsDir, `.write-probe-${process.pid}`);
    await writeFile(probe, '');
    await rm(probe);
  } catch (error) {
    problems.push(`results dir ${context.resultsDir} is not writable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  problems.push(...ingest.endpointProblems);
  const ingestProblem = ingest.preflightProblem;
  if (ingestProblem) problems.push(`--strict-ingest: ${ingestProblem}`);
  if (problems.length > 0) throw new PreflightError(problems);
}

/**
 * `results/<name>/report.html` at the end of every run that was not interrupted (failed ones too: it
 * shows what exists and what failed). A report problem is a warning, never a run failure.
 */
async function writeRunReport(resultsDir: string, io: Io): Promise<string | undefined> {
  try {
    const { writeReport } = await import('../lib/report-write.js');
    return (await writeReport(resultsDir, join(resultsDir, 'report.html'), { secrets: secretValuesOf(io.env) })).path;
  } catch (error) {
    writeLine(io.stderr, `warning: could not write the HTML report (${(error as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

/** The annotation links the report as a build artifact (uploaded with the `results/` artifacts), relative to the job's checkout. */
export function reportLinkMarkdown(reportPath: string, cwd: string): string {
  const artifact = relative(cwd, reportPath).split(sep).join('/');
  return `\n📊 [HTML report](artifact://${artifact}) (charts, tables, timeline)\n`;
}

async function annotate(summary: RunSummary, io: Io, stepKey: string, reportPath: string | undefined): Promise<void> {
  if (io.env['BUILDKITE'] !== 'true') return;
  const agent = findOnPath('buildkite-agent', io.env);
  if (!agent) return;
  const style = summary.status === 'ok' ? 'success' : summary.status === 'cancelled' ? 'warning' : 'error';
  const markdown = renderSummaryMarkdown(summary) + (reportPath ? reportLinkMarkdown(reportPath, io.cwd) : '');
  try {
    await execa(agent, ['annotate', '--style', style, '--context', `wl-${stepKey}`], { input: markdown, timeout: 15_000, reject: true });
  } catch (error) {
    writeLine(io.stderr, `warning: could not post the build annotation (${(error as Error).message.split('\n')[0]})`);
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
  if (positionals.length !== 1) throw new UsageError(`perf-eval run: expected exactly one recipe FILE, got ${positionals.length} (see 'perf-eval run --help')`);
  const phases = parsePhases(values.only);
  const jobs = parsePositiveInt('run', '--jobs', values.jobs) ?? DEFAULT_JOBS;
  if (values['server-url']) {
    try {
      new URL(values['server-url']);
    } catch {
      throw new UsageError(`perf-eval run: --server-url must be a URL like http://127.0.0.1:8000, got '${values['server-url']}'`);
    }
  }
  const file = positionals[0] as string;
  const recipe = loadRecipe(file, io, values.profiles);
  if (recipe.sweep && values.variant === undefined) throw variantRequiredError(recipe, file);
  const workload = values.variant === undefined ? recipe : selectVariant(recipe, values.variant, file, 'run');
  const tools = discoverTools(io.env);
  const basePort = resolvePort(io.env);
  const context: RunContext = {
    workload,
    resultsDir: resolve(io.cwd, values['results-dir'] ?? 'results', workload.name),
    // Disaggregated: the tools talk to the proxy (its explicit port, else the resolved port).
    port: values['server-url'] ? 0 : topologyPorts(workload, basePort).client,
    basePort,
    env: io.env,
    tools: tools.commands,
    pid: process.pid,
  };
  if (values['server-url']) context.serverUrl = values['server-url'].replace(/\/+$/, '');
  const reporter = new Reporter(io);
  const ingest = new IngestBridge({
    context,
    strict: Boolean(values['strict-ingest']),
    disabled: Boolean(values['no-ingest']),
    print: (line) => reporter.line(line),
    signal: io.signal,
  });
  const baselineSpec = values.baseline;
  if (baselineSpec !== undefined && baselineSpec !== 'auto' && !baselineSpec.startsWith('buildkite:') && !existsSync(resolve(io.cwd, baselineSpec))) {
    throw new UsageError(`perf-eval run: --baseline ${baselineSpec} does not exist; pass a results dir, a history.jsonl, buildkite:<build> or auto`);
  }
  await preflight(context, tools, phases, io, ingest);
  await access(context.resultsDir);

  const stepTimeoutMs = workload.timeoutInMinutes * 60_000;
  const orchestrator = new Orchestrator({
    context,
    reporter,
    signal: io.signal,
    phases,
    jobs,
    toolEnv: { ...toolEnvironment(io.env, workload.server.env), ...runtimeToolEnv(context) },
    ingest,
    // Leave a minute before Buildkite's step timeout so our own timeout reports the cause.
    deadline: Date.now() + Math.max(60_000, stepTimeoutMs - 60_000),
    verbose: Boolean(values.verbose),
  });
  orchestrator.summary.identity = await identityOf(context);
  const summary = await orchestrator.run();
  let gateFailures: GateResult[] = [];
  if (!interruptionOf(io.signal)) {
    const outcome = await verdictStep({
      context,
      summary,
      baseline: baselineSpec === undefined || baselineSpec === 'auto' || baselineSpec.startsWith('buildkite:') ? baselineSpec : resolve(io.cwd, baselineSpec),
      print: (line) => writeLine(io.stdout, line),
      warn: (line) => writeLine(io.stderr, line),
      signal: io.signal,
    });
    gateFailures = outcome.gates.filter((g) => !g.passed);
    await writeSummary(context.resultsDir, summary);
  }
  // An interrupted run exits at once (Buildkite's cancel grace period is short); 'perf-eval report' can follow.
  const reportPath = interruptionOf(io.signal) ? undefined : await writeRunReport(context.resultsDir, io);
  await annotate(summary, io, workload.stem.replace(/[^A-Za-z0-9_-]/g, '-'), reportPath);

  const interruption = interruptionOf(io.signal);
  if (interruption) {
    writeLine(io.stderr, interruption.message);
    return interruption.signalName === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
  }
  writeLine(io.stdout, `results: ${context.resultsDir}/summary.md`);
  if (reportPath) writeLine(io.stdout, `report: ${reportPath}`);
  if (summary.status !== 'ok') {
    const failed = summary.tasks.filter((t) => t.status === 'failed' || t.status === 'skipped').map((t) => `${t.id} (${t.status}${t.error ? `: ${t.error.message}` : t.reason ? `: ${t.reason}` : ''})`);
    if (summary.server.status === 'failed') failed.unshift(`server: ${summary.server.error?.message ?? 'failed'}${summary.server.diagnosis ? ` [${summary.server.diagnosis}]` : ''}`);
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
