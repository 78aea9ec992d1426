/**
 * What a run needs on this machine, and provisioning of what it lacks before it starts (the same
 * steps as `perf-eval setup`), so a fresh machine runs a recipe without a separate setup.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { provision, type Component, type ProvisionOptions, type StepReport } from './provision.js';
import { findOnPath, isExecutable, toolPaths, type ServerRuntime } from './tools.js';

/** The parts of a recipe that decide which tools a run needs (plain values; no recipe types). */
export interface ToolNeeds {
  runtime: ServerRuntime;
  /** Has bench runs (and the bench phase is selected). */
  bench: boolean;
  /** Has lm_eval tasks (and accuracy tasks run). */
  lmEval: boolean;
  /** Has BFCL categories (and accuracy tasks run). */
  bfcl: boolean;
  /** `--server-url`: nothing is launched here. */
  externalServer?: boolean;
}

/** The setup components a run needs: the simulator for `sim`, a host bench client unless the bench runs in a docker server, the Python tools. */
export function componentsFor(needs: ToolNeeds): Set<Component> {
  const out = new Set<Component>();
  if (needs.runtime === 'sim' && needs.externalServer !== true) out.add('sim');
  // Inside a docker server the bench runs in the container; natively the server's own vLLM runs it.
  if (needs.bench && (needs.runtime === 'sim' || needs.externalServer === true)) out.add('bench');
  if (needs.lmEval) out.add('lm_eval');
  if (needs.bfcl) out.add('bfcl');
  return out;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Whether a component is already there (provisioned, or usable from PATH where setup accepts that). */
export function hasComponent(component: Component, dir: string, env: Env): boolean {
  const paths = toolPaths(dir);
  switch (component) {
    case 'sim':
      return (
        (isExecutable(paths.simulator) || findOnPath('llm-d-inference-sim', env) !== undefined) &&
        existsSync(join(paths.simTokenizer, 'tokenizer.json'))
      );
    case 'bench':
      return isExecutable(paths.vllm) || findOnPath('vllm', env) !== undefined;
    case 'lm_eval':
      return isExecutable(paths.lmEval) || findOnPath('lm_eval', env) !== undefined;
    case 'bfcl':
      return isExecutable(paths.bfclPython);
  }
}

export interface EnsureToolsResult {
  /** Components that were missing and got provisioned (empty when everything was there). */
  provisioned: Component[];
  reports: StepReport[];
}

/**
 * Provision the components in `components` that this machine lacks, with the same steps (pins,
 * stamps, atomic installs, lock, progress) as `perf-eval setup`. Components already present are not
 * touched: a run never rebuilds what setup left, and never waits on pip when nothing is missing.
 */
export async function ensureTools(
  components: ReadonlySet<Component>,
  options: ProvisionOptions,
): Promise<EnsureToolsResult> {
  const missing = new Set(
    [...components].filter((component) => !hasComponent(component, options.dir, options.env)),
  );
  if (missing.size === 0) return { provisioned: [], reports: [] };
  const reports = await provision(missing, options);
  return { provisioned: [...missing], reports };
}
