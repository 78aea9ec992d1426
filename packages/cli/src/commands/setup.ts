import { parseChoices, UsageError } from '../lib/args.js';
import { defineCommand } from '../lib/command.js';
import { runToolComponents } from '@perf-eval/run';
import { EXIT } from '../lib/exit-codes.js';
import { writeLine } from '../lib/io.js';
import {
  checkToolsDir,
  COMPONENTS,
  formatProvisionReports,
  LM_EVAL_VERSION,
  provision,
  terminalProgress,
  SIMULATOR_VERSION,
  toolsDir,
  VLLM_VERSION,
  type Component,
} from '@perf-eval/toolchain';
import { BFCL_EVAL_VERSION } from '@perf-eval/util';
import { verifyBfclInstall } from '@perf-eval/bfcl-runner';
import { loadRecipe } from '../lib/workload.js';

const HELP = `Usage: perf-eval setup [FILE] [options]

Provision the pinned external tools under the tools directory, reusing what is already there:
  lm_eval  venv with lm-eval[api]==${LM_EVAL_VERSION}
  bfcl     venv with bfcl-eval==${BFCL_EVAL_VERSION} (without sentence-transformers/torch)
  bench    venv with vllm==${VLLM_VERSION} for 'vllm bench serve' (skipped when 'vllm' is on PATH)
  sim      llm-d-inference-sim ${SIMULATOR_VERSION} built with Go (skipped when on PATH), plus the
           offline tokenizer the bench uses against it (tokenizers/sim-bpe)
With FILE, exactly what 'perf-eval run FILE' needs; without FILE, --only's list or everything.

Options:
  --only LIST        components, comma-separated: ${COMPONENTS.join(',')} (not with FILE)
  --tools-dir DIR    where tools go (default: $PERF_EVAL_TOOLS_DIR, else ~/.cache/perf-eval/tools)
  --force            rebuild even when an up-to-date install exists
  --python PY        base interpreter for the venvs (default: python3; 3.10–3.12)
  --profiles PATH    GPU profiles file (with FILE)
  --verbose          stream pip/go output (default: only the tail of a failing command)

Installs are atomic (built next to the target, renamed into place) and stamped with their pinned
spec in DIR/stamps/; a changed pin rebuilds. Needs network access to PyPI and the Go module proxy.
Exit: 0 ok, 1 an install failed (the output tail is printed), 2 bad flags or recipe, or a missing prerequisite (Python, Go, the setup lock), 130/143 interrupted.`;

function parseComponents(value: string): Set<Component> {
  const out = parseChoices('setup', '--only', value, COMPONENTS);
  if (out.size === 0)
    throw new UsageError(`perf-eval setup: --only needs at least one of ${COMPONENTS.join(', ')}`);
  return out;
}

export const { run } = defineCommand(
  {
    name: 'setup',
    help: HELP,
    options: {
      only: { type: 'string' },
      'tools-dir': { type: 'string' },
      force: { type: 'boolean' },
      python: { type: 'string' },
      profiles: { type: 'string' },
      verbose: { type: 'boolean' },
    },
    positionals: { min: 0, max: 1, describe: 'recipe FILE' },
  },
  async ({ values, positionals }, io) => {
    if (positionals.length === 1 && values.only !== undefined)
      throw new UsageError(`perf-eval setup: give either a recipe FILE or --only, not both`);
    if (values.python !== undefined && values.python.trim() === '')
      throw new UsageError(`perf-eval setup: --python needs an interpreter name or path`);
    const components =
      positionals[0] !== undefined
        ? runToolComponents(loadRecipe(positionals[0], io, values.profiles), { env: io.env })
        : values.only !== undefined
          ? parseComponents(values.only)
          : new Set<Component>(COMPONENTS);
    const dir = checkToolsDir(values['tools-dir'], { cwd: io.cwd, env: io.env });
    const started = Date.now();
    const out = (line: string): void => writeLine(io.stdout, line);
    if (components.size === 0) {
      out(`${positionals[0]} needs no local tools (docker runtime, no accuracy tasks); nothing to do`);
      return EXIT.ok;
    }
    out(`--- :package: perf-eval setup: ${[...components].join(', ')} → ${dir}`);
    const reports = await provision(components, {
      dir,
      python: values.python?.trim() || 'python3',
      force: Boolean(values.force),
      verbose: Boolean(values.verbose),
      env: io.env,
      signal: io.signal,
      print: out,
      progress: terminalProgress(io.stdout),
      verifyBfcl: verifyBfclInstall,
    });
    out('');
    for (const line of formatProvisionReports(reports)) out(line);
    out(`setup done in ${Math.round((Date.now() - started) / 100) / 10} s`);
    if (values['tools-dir'] && dir !== toolsDir(io.env))
      out(`'perf-eval run' finds these tools with PERF_EVAL_TOOLS_DIR=${dir}`);
    return EXIT.ok;
  },
);
