/** Names whose values must never be printed: tokens, secrets, passwords, keys (`*_KEY`, `*API_KEY*`). */
const SECRET_NAME =
  /(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|APIKEY|PRIVATE_KEY|CREDENTIALS?|AUTH)(_|$)|(^|_)KEY$/i;

/** Shorter values are too likely to occur by chance (`1`, `yes`) to be scrubbed from free text. */
const MIN_SECRET_LENGTH = 4;

export const REDACTED = '***';

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** A copy of an env map with secret values replaced by `***`. Order is kept. */
export function redactEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) out[key] = isSecretName(key) ? REDACTED : value;
  return out;
}

/**
 * Redact an argv for display: `-e NAME=value` / `--env NAME=value` / `NAME=value` tokens with secret
 * names, values following secret flags (`--api-key x`, `--header Authorization=…`), and any literal
 * occurrence of a known secret value.
 */
export function redactArgv(argv: readonly string[], secretValues: readonly string[] = []): string[] {
  const secrets = secretList(secretValues);
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    let token = argv[i] as string;
    const previous = i > 0 ? (argv[i - 1] as string) : '';
    const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(token);
    if (assignment && isSecretName(assignment[1] as string)) {
      token = `${assignment[1]}=${REDACTED}`;
    } else if (/^--?[a-z0-9-]*(api-key|(?<!first-)token|password|secret)$/i.test(previous)) {
      token = REDACTED;
    } else if (/^--?[a-z0-9-]*(api-key|(?<!first-)token|password|secret)=/i.test(token)) {
      token = `${token.slice(0, token.indexOf('='))}=${REDACTED}`;
    } else if (/^authorization[=:]/i.test(token)) {
      token = `${token.split(/[=:]/, 1)[0]}=${REDACTED}`;
    }
    for (const secret of secrets) token = token.split(secret).join(REDACTED);
    out.push(token);
  }
  return out;
}

/** Secret values present in an environment, for scrubbing free text (logs, error tails). */
export function secretValuesOf(env: Readonly<Record<string, string | undefined>>): string[] {
  const values: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (value && value.length >= MIN_SECRET_LENGTH && isSecretName(key)) values.push(value);
  }
  return values;
}

/**
 * Distinct scrubbable values, longest first: a secret that contains another one is masked whole
 * instead of leaving its remainder behind.
 */
export function secretList(secretValues: Iterable<string>): string[] {
  const unique = new Set<string>();
  for (const value of secretValues) if (value.length >= MIN_SECRET_LENGTH) unique.add(value);
  return [...unique].sort((a, b) => b.length - a.length);
}

/** `text` with every occurrence of every secret value replaced by `***`. */
export function scrubText(text: string, secretValues: readonly string[]): string {
  return secretValues.length === 0 ? text : scrubSorted(text, secretList(secretValues));
}

/** `scrubText` with a list already prepared by `secretList` (hot paths: one call per log line). */
export function scrubSorted(text: string, sortedSecrets: readonly string[]): string {
  let out = text;
  for (const secret of sortedSecrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

/**
 * A deep copy of JSON-like data (plans, summaries) with secret values masked in every string, keys
 * included. For recipe values that happen to equal a secret (an lm_eval `model_args` token …).
 */
export function scrubValues<T>(value: T, secretValues: readonly string[]): T {
  const secrets = secretList(secretValues);
  if (secrets.length === 0) return value;
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return scrubSorted(node, secrets);
    if (Array.isArray(node)) return node.map(walk);
    if (node !== null && typeof node === 'object' && Object.getPrototypeOf(node) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(node)) out[scrubSorted(key, secrets)] = walk(child);
      return out;
    }
    return node;
  };
  return walk(value) as T;
}
