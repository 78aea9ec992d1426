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
  /** Weak evidence: used only when no strong rule matched anywhere in the log. */
  weak?: boolean;
}

/** The first strong match seen in the log wins; weak matches (generic engine error, …) are fallbacks. */
const RULES: readonly Rule[] = [
  {
    kind: 'bad_argument',
    pattern: /: error: (unrecognized arguments:|argument \S+:|the following arguments are required)/,
  },
  {
    kind: 'image_pull',
    pattern:
      /pull access denied|manifest unknown|manifest for \S+ not found|repository does not exist or may require 'docker login'/,
  },
  // Printed before every pull, successful or not: only meaningful when `docker run` itself failed.
  { kind: 'image_pull', pattern: /Unable to find image '[^']*' locally/, weak: true },
  { kind: 'port_in_use', pattern: /Address already in use|EADDRINUSE|port is already allocated/ },
  {
    kind: 'model_not_found',
    pattern:
      /RepositoryNotFoundError|GatedRepoError|is not a valid model identifier|Cannot access gated repo|Repository Not Found|(401|403|404) Client Error|Invalid user token|LocalEntryNotFoundError/,
  },
  {
    kind: 'max_model_len',
    pattern:
      /User-specified max_model_len \(\d+\) is greater than|max_model_len .*(is greater than|exceeds) the (derived|maximum)/,
  },
  {
    kind: 'out_of_memory',
    pattern:
      /No available memory for the cache blocks|larger than the available KV cache memory|OutOfMemoryError|CUDA out of memory|HIP out of memory|CUDA error: out of memory|Insufficient memory|insufficient KV cache/,
  },
  {
    kind: 'engine_init',
    pattern: /Engine core initialization failed|EngineCore failed to start/,
    weak: true,
  },
];

const ANY = new RegExp(RULES.map((rule) => rule.pattern.source).join('|'));
/** vLLM INFO/DEBUG records never carry a failure signature; skipping them keeps multi-GB logs cheap. */
const ROUTINE = /^(?:\([\w-]+ pid=\d+\) )?(?:INFO|DEBUG) \d/;

const LABELS: Record<FailureKind, { label: string; hint: string }> = {
  bad_argument: {
    label: 'bad argument',
    hint: 'check vllm.serve_args against `vllm serve --help` for this vLLM version',
  },
  out_of_memory: {
    label: 'out of memory / no KV-cache memory',
    hint: 'raise --gpu-memory-utilization, lower --max-model-len or --max-num-seqs, or use more GPUs',
  },
  max_model_len: {
    label: 'max_model_len rejected',
    hint: "lower --max-model-len to the model's maximum context",
  },
  model_not_found: {
    label: 'model or auth not found',
    hint: 'check vllm.model and that HF_TOKEN can access the repository',
  },
  image_pull: {
    label: 'image pull failure',
    hint: 'check the image reference (VLLM_IMAGE / vllm.image) and registry access',
  },
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
  return {
    kind,
    label,
    evidence,
    hint,
    summary: evidence ? `${label}: ${evidence} (${hint})` : `${label} (${hint})`,
  };
}

/** Streams lines through the rules; keeps only the first evidence line per class. */
export class FailureScanner {
  private strong: { kind: FailureKind; evidence: string } | undefined;
  private weak: { kind: FailureKind; evidence: string } | undefined;

  push(line: string): void {
    if (this.strong || ROUTINE.test(line) || !ANY.test(line)) return;
    for (const rule of RULES) {
      if (!rule.pattern.test(line)) continue;
      if (!rule.weak) {
        this.strong = { kind: rule.kind, evidence: evidenceOf(line) };
        return;
      }
      this.weak ??= { kind: rule.kind, evidence: evidenceOf(line) };
    }
  }

  /** The diagnosis so far. `exit.oomKilled` (docker state) counts as out of memory. */
  diagnose(exit?: { oomKilled?: boolean | undefined }): Diagnosis {
    if (this.strong) return makeDiagnosis(this.strong.kind, this.strong.evidence);
    if (exit?.oomKilled)
      return makeDiagnosis('out_of_memory', 'container was OOM-killed (docker State.OOMKilled)');
    if (this.weak) return makeDiagnosis(this.weak.kind, this.weak.evidence);
    return makeDiagnosis('unknown', undefined);
  }
}

/** Classify a finished log (or a docker CLI's stderr). */
export function classifyServerLog(lines: Iterable<string>): Diagnosis {
  const scanner = new FailureScanner();
  for (const line of lines) scanner.push(line);
  return scanner.diagnose();
}
