/**
 * lm-eval's output directory name for a model (tool-contracts §4.4): every run of one or more of
 * `"` `<` `>` `:` `/` `|` `\` `?` `*` `[` `]` becomes `__`. `Qwen/Qwen3-8B` → `Qwen__Qwen3-8B`.
 */
export function sanitizeModelName(modelName: string): string {
  return modelName.replace(/["<>:/|\\?*[\]]+/g, '__');
}
