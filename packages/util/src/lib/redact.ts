/** Names whose values must never be printed: tokens, secrets, passwords, keys. */
const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|APIKEY|PRIVATE_KEY|CREDENTIALS?|AUTH)(_|$)/i;

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
  const secrets = secretValues.filter((value) => value.length >= 4);
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
    if (value && value.length >= 4 && isSecretName(key)) values.push(value);
  }
  return values;
}

export function scrubText(text: string, secretValues: readonly string[]): string {
  let out = text;
  for (const secret of secretValues) if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  return out;
}
