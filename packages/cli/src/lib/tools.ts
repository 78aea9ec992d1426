/**
 * Where the external tools live. `perf-eval setup` provisions pinned virtualenvs and the simulator
 * under one cache directory; `run` uses them from there, falling back to PATH.
 */
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { ToolCommands } from '@perf-eval/run';

export function toolsDir(env: Readonly<Record<string, string | undefined>>): string {
  const explicit = env['PERF_EVAL_TOOLS_DIR']?.trim();
  if (explicit) return explicit;
  const cache = env['XDG_CACHE_HOME']?.trim() || join(env['HOME']?.trim() || homedir(), '.cache');
  return join(cache, 'perf-eval', 'tools');
}

/** Fixed layout under the tools directory (shared by setup and run). */
export function toolPaths(dir: string) {
  return {
    lmEvalVenv: join(dir, 'venvs', 'lmeval'),
    lmEval: join(dir, 'venvs', 'lmeval', 'bin', 'lm_eval'),
    lmEvalPython: join(dir, 'venvs', 'lmeval', 'bin', 'python'),
    bfclVenv: join(dir, 'venvs', 'bfcl'),
    bfclPython: join(dir, 'venvs', 'bfcl', 'bin', 'python'),
    vllmVenv: join(dir, 'venvs', 'vllm'),
    vllm: join(dir, 'venvs', 'vllm', 'bin', 'vllm'),
    bin: join(dir, 'bin'),
    simulator: join(dir, 'bin', 'llm-d-inference-sim'),
    /** Offline tokenizer for `vllm bench serve` against the simulator (built by `perf-eval setup`). */
    simTokenizer: join(dir, 'tokenizers', 'sim-bpe'),
    cache: join(dir, 'cache'),
  };
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `which`: the first executable `name` on PATH, or undefined. */
export function findOnPath(name: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export interface DiscoveredTools {
  commands: ToolCommands;
  /** Python of the lm-eval venv (task listing); undefined when lm_eval comes from PATH without a venv. */
  lmEvalPython: string;
  /** Which tools were found, and where (for preflight messages). */
  found: Record<'vllm' | 'lm_eval' | 'bfcl' | 'simulator' | 'docker', string | undefined>;
  dir: string;
}

export function discoverTools(env: Readonly<Record<string, string | undefined>>): DiscoveredTools {
  const dir = toolsDir(env);
  const paths = toolPaths(dir);
  const pick = (cached: string, name: string): string | undefined => (isExecutable(cached) ? cached : findOnPath(name, env));
  const vllm = pick(paths.vllm, 'vllm');
  const lmEval = pick(paths.lmEval, 'lm_eval');
  const bfcl = isExecutable(paths.bfclPython) ? paths.bfclPython : undefined;
  const simulator = pick(paths.simulator, 'llm-d-inference-sim');
  const docker = findOnPath('docker', env);
  return {
    commands: {
      vllm: [vllm ?? 'vllm'],
      lmEval: [lmEval ?? 'lm_eval'],
      bfclPython: bfcl ?? 'python3',
      simulator: simulator ?? 'llm-d-inference-sim',
      docker: docker ?? 'docker',
    },
    lmEvalPython: isExecutable(paths.lmEvalPython) ? paths.lmEvalPython : 'python3',
    found: { vllm, lm_eval: lmEval, bfcl, simulator, docker },
    dir,
  };
}
