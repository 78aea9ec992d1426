/** Perf metadata (recipe-compat.md §11): device, TP×DP, precision — kept for dashboard continuity. */

const TP_NAMES = ['--tensor-parallel-size', '-tp', '--tp'];
const DP_NAMES = ['--data-parallel-size', '-dp', '--dp'];
const PRECISIONS = ['fp4', 'fp8', 'int4', 'int8', 'bf16', 'fp16'];

/** Split serve args the way upstream does: on whitespace runs, no quotes, no globbing (§4.1, D30). */
export function splitServeArgs(serveArgs: string): string[] {
  return serveArgs.split(/\s+/).filter((token) => token !== '');
}

function scan(tokens: readonly string[], names: readonly string[]): number | undefined {
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    let value: string | undefined;
    const eq = token.indexOf('=');
    if (eq > 0 && names.includes(token.slice(0, eq))) value = token.slice(eq + 1);
    else if (names.includes(token) && i + 1 < tokens.length) value = tokens[i + 1];
    else continue;
    // The first matching token wins, even when its value is not an integer.
    const parsed = /^[-+]?\d+$/.test((value ?? '').trim()) ? Number(value) : undefined;
    return parsed === 0 ? undefined : parsed;
  }
  return undefined;
}

/** TP × DP from serve args; missing or 0 counts as 1; expert parallelism is ignored. */
export function parallelismOf(tokens: readonly string[]): { tp: number; dp: number; product: number } {
  const tp = scan(tokens, TP_NAMES) ?? 1;
  const dp = scan(tokens, DP_NAMES) ?? 1;
  return { tp, dp, product: tp * dp };
}

export function precisionOfModel(model: string): string {
  const lower = model.toLowerCase();
  return PRECISIONS.find((p) => lower.includes(p)) ?? 'bf16';
}

/** `--trust-remote-code` or `--trust-remote-code=<true|True|1|yes|Yes>` as a whole token. */
export function hasTrustRemoteCode(tokens: readonly string[]): boolean {
  return tokens.some(
    (token) => token === '--trust-remote-code' || /^--trust-remote-code=(true|True|1|yes|Yes)$/.test(token),
  );
}

/** `--served-model-name X` / `--served-model-name=X` (first name), else undefined. */
export function servedModelNameOf(tokens: readonly string[]): string | undefined {
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (token.startsWith('--served-model-name='))
      return token.slice('--served-model-name='.length) || undefined;
    if (
      token === '--served-model-name' &&
      i + 1 < tokens.length &&
      !(tokens[i + 1] as string).startsWith('--')
    ) {
      return tokens[i + 1];
    }
  }
  return undefined;
}
