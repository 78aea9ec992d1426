/** The human rendering of a RunPlan (`perf-eval plan` without `--json`). */
import { formatCommand } from '@perf-eval/util';
import type { RunPlan } from './plan.js';

/** Lines describing `plan` for people; print the plan through `redactPlan` first. */
export function formatPlan(plan: RunPlan): string {
  const lines: string[] = [];
  const out = (line = ''): void => void lines.push(line);
  const { workload, server } = plan;
  out(`workload  ${workload.name}  (${workload.path})`);
  out(
    `gpu       ${workload.gpu} × ${workload.numGpus}   timeout ${workload.timeoutInMinutes} min   nightly ${workload.nightly}${workload.benchOnly ? '   bench_only' : ''}`,
  );
  out(
    `image     ${server.image}   (rule: ${server.imageRule}${server.vllmCommit ? `, commit ${server.vllmCommit}` : ''})`,
  );
  out(`results   ${plan.resultsDir}/`);
  out(`perf      device=${plan.perf.device} tp=${plan.perf.tp} precision=${plan.perf.precision}`);
  if (plan.variant)
    out(
      `variant   ${plan.variant.name}  (${Object.entries(plan.variant.settings)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')})`,
    );
  out();
  if (plan.topology === 'disaggregated' && plan.proxy) {
    const proxy = plan.proxy as { port: number; healthUrl: string; argv: string[] };
    out(`proxy (port ${proxy.port}, health ${proxy.healthUrl}, serving '${server.servedModelName}')`);
    out(`  $ ${formatCommand(proxy.argv)}`);
    for (const role of plan.roles as Array<{
      role: string;
      port: number;
      gpuIds: number[];
      gpuSource: string;
      numNodes: number;
      argv: string[];
      env: Record<string, string>;
    }>) {
      out(
        `${role.role} (${server.runtime}, port ${role.port}, GPUs ${role.gpuIds.join(',')} from ${role.gpuSource}, ${role.numNodes} node(s))`,
      );
      out(`  $ ${formatCommand(role.argv)}`);
      for (const [key, value] of Object.entries(role.env)) out(`  env ${key}=${value}`);
    }
  } else {
    out(
      `server (${server.runtime}, port ${server.port}, ready within ${server.startupTimeoutS}s, serving '${server.servedModelName}'${server.numNodes > 1 ? `, ${server.numNodes} nodes` : ''})`,
    );
    if (server.argv.length > 0) out(`  $ ${formatCommand(server.argv)}`);
    for (const [key, value] of Object.entries(server.env)) out(`  env ${key}=${value}`);
  }
  out();
  out(`bench (${plan.bench.length} run(s), alone on the server)`);
  out(
    plan.cacheReset.enabled
      ? '  caches reset before every run and repetition (POST /reset_prefix_cache, /reset_mm_cache, /reset_encoder_cache); /metrics sampled'
      : `  caches not reset: ${plan.cacheReset.reason ?? 'disabled'}; /metrics sampled`,
  );
  for (const run of plan.bench) {
    out(`  ${run.runName}: n=${run.numPrompts} conc=${run.maxConcurrency} repetitions=${run.repetitions}`);
    for (const command of run.commands) out(`    $ ${formatCommand(command)}`);
  }
  if (plan.variants.length > 0) {
    out();
    out(`variants (${plan.variants.length}; plan one with --variant NAME)`);
    for (const variant of plan.variants)
      out(`  ${String(variant['name'])}  → ${String(variant['resultsDir'])}/`);
  }
  if (plan.semanticEval) {
    out();
    out(`semantic eval (after the bench, within ${plan.semanticEval.timeoutMinutes} min)`);
    out(`  $ ${formatCommand(plan.semanticEval.argv)}`);
  }
  if (workload.benchOnly) {
    out();
    out('lm_eval and bfcl: skipped (bench_only / BENCH_ONLY)');
    return `${lines.join('\n')}\n`;
  }
  out();
  out(`lm_eval (${plan.lmEval.length} task(s))`);
  for (const task of plan.lmEval)
    out(`  ${task.task} (${task.numFewshot}-shot)\n    $ ${formatCommand(task.argv)}`);
  out();
  out(`bfcl (${plan.bfcl.length} categor${plan.bfcl.length === 1 ? 'y' : 'ies'})`);
  for (const row of plan.bfcl) {
    out(
      `  ${row.category}: threads=${row.numThreads} temperature=${row.temperature} step_limit=${row.maximumStepLimit ?? 'default'} max_cases=${row.maxTestCases ?? 'all'}`,
    );
    out(`    $ ${formatCommand(row.argv)}`);
  }
  return `${lines.join('\n')}\n`;
}
