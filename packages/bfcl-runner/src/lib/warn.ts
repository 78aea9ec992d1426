/**
 * `recipe-compat.md` §10.3: vLLM rejects tool requests unless it runs with
 * `--enable-auto-tool-choice --tool-call-parser <name>`. Returns the (non-fatal) warning text when no
 * serve arg contains `--tool-call-parser`, else `undefined`.
 */
export function warnMissingToolCallParser(
  serveArgs: readonly string[],
  recipePath = '<recipe>',
): string | undefined {
  if (serveArgs.some((arg) => arg.includes('--tool-call-parser'))) return undefined;
  return `WARNING: ${recipePath}: bfcl without --tool-call-parser in serve_args; some models may need it for function-calling`;
}
