/**
 * Failure classification for vLLM server logs (tool-contracts §1.4, recipe-compat §18 D1).
 * `FailureScanner` sees every line as it streams (bounded memory: one evidence line per class),
 * so a root cause printed early — e.g. `No available memory for the cache blocks` followed by a
 * long traceback — is still found after the in-memory tail has rolled past it.
 */

export type FailureKind =
  | 'bad_argument'
  | 'out_of_memory'
  | 'max_model_len'
  | 'model_not_found'
  | 'image_pull'
  | 'port_in_use'
  | 'engine_init'
  | 'unknown';

export interface Diagnosis {
  kind: FailureKind;
  /** Human label, e.g. `out of memory / no KV-cache memory`. */
  label: string;
  /** The log line that matched (prefixes stripped, ≤ 300 chars), if any. */
  evidence: string | undefined;
  /** What to try next. */
  hint: string;
  /** One line: `<label>: <evidence> (<hint>)`. */
  summary: string;
}

interface Rule {
  kind: Exclude<FailureKind, 'unknown'>;
  pattern: RegExp;
}

/** Specific classes; the first one seen in the log wins. `engine_init` is only a fallback. */
const RULES: readonly Rule[] = [
  { kind: 'bad_argument', pattern: /: error: (unrecognized arguments:|argument \S+:|the following arguments are required)/ },
  { kind: 'image_pull', pattern: /pull access denied|manifest unknown|manifest for \S+ not found|Unable to find image '[^']*' locally|repository does not exist or may require 'docker login'/ },
  { kind: 'port_in_use', pattern: /Address already in use|EADDRINUSE|port is already allocated/ },
  {
    kind: 'model_not_found',
    pattern:
      /RepositoryNotFoundError|GatedRepoError|is not a valid model identifier|Cannot access gated repo|Repository Not Found|(401|403|404) Client Error|Invalid user token|LocalEntryNotFoundError/,
  },
  { kind: 'max_model_len', pattern: /User-specified max_model_len \(\d+\) is greater than|max_model_len .*(is greater than|exceeds) the (derived|maximum)/ },
  {
    kind: 'out_of_memory',
    pattern:
      /No available memory for the cache blocks|larger than the available KV cache memory|OutOfMemoryError|CUDA out of memory|HIP out of memory|CUDA error: out of memory|Insufficient memory|insufficient KV cache/,
  },
  { kind: 'engine_init', pattern: /Engine core initialization failed|EngineCore failed to start/ },
];

const ANY = new RegExp(RULES.map((rule) => rule.pattern.source).join('|'));

const LABELS: Record<FailureKind, { label: string; hint: string }> = {
  bad_argument: { label: 'bad argument', hint: 'check vllm.serve_args against `vllm serve --help` for this vLLM version' },
  out_of_memory: {
    label: 'out of memory / no KV-cache memory',
    hint: 'raise --gpu-memory-utilization, lower --max-model-len or --max-num-seqs, or use more GPUs',
  },
  max_model_len: { label: 'max_model_len rejected', hint: "lower --max-model-len to the model's maximum context" },
  model_not_found: { label: 'model or auth not found', hint: 'check vllm.model and that HF_TOKEN can access the repository' },
  image_pull: { label: 'image pull failure', hint: 'check the image reference (VLLM_IMAGE / vllm.image) and registry access' },
  port_in_use: { label: 'port in use', hint: 'free the port or set VLLM_PORT to another port' },
  engine_init: { label: 'engine initialisation failed', hint: 'see the server log tail for the root cause' },
  unknown: { label: 'unknown failure', hint: 'see the server log tail' },
};

/** `(APIServer pid=1) ERROR 08-18 02:57:12 [core.py:1231] text` → `text`. */
export function stripLogPrefix(line: string): string {
  return line
    .replace(/^\((?:[\w-]+) pid=\d+\)\s*/, '')
    .replace(/^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL) \d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \[[^\]]*\]\s*/, '')
    .trim();
}

function evidenceOf(line: string): string {
  const text = stripLogPrefix(line);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

export function makeDiagnosis(kind: FailureKind, evidence: string | undefined): Diagnosis {
  const { label, hint } = LABELS[kind];
  return { kind, label, evidence, hint, summary: evidence ? `${label}: ${evidence} (${hint})` : `${label} (${hint})` };
}

/** Streams lines through the rules; keeps only the first evidence line per class. */
export class FailureScanner {
  private readonly found = new Map<FailureKind, string>();
  private firstSpecific: FailureKind | undefined;

  push(line: string): void {
    if (!ANY.test(line)) return;
    for (const rule of RULES) {
      if (this.found.has(rule.kind) || !rule.pattern.test(line)) continue;
      this.found.set(rule.kind, evidenceOf(line));
      if (rule.kind !== 'engine_init' && this.firstSpecific === undefined) this.firstSpecific = rule.kind;
    }
  }

  /** The diagnosis so far. `exit.oomKilled` (docker state) counts as out of memory. */
  diagnose(exit?: { oomKilled?: boolean | undefined }): Diagnosis {
    if (this.firstSpecific) return makeDiagnosis(this.firstSpecific, this.found.get(this.firstSpecific));
    if (exit?.oomKilled) return makeDiagnosis('out_of_memory', 'container was OOM-killed (docker State.OOMKilled)');
    if (this.found.has('engine_init')) return makeDiagnosis('engine_init', this.found.get('engine_init'));
    return makeDiagnosis('unknown', undefined);
  }
}

/** Classify a finished log (or a docker CLI's stderr). */
export function classifyServerLog(lines: Iterable<string>): Diagnosis {
  const scanner = new FailureScanner();
  for (const line of lines) scanner.push(line);
  return scanner.diagnose();
}
