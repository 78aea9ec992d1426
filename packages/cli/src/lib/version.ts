import { readFileSync } from 'node:fs';

/** Inlined by scripts/build-sea.mjs (esbuild `define`); absent when running from dist/ or src/. */
declare const __PERF_EVAL_VERSION__: string | undefined;

function packageVersion(): string {
  return (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
}

/** The CLI package version: inlined in the self-contained executable, read from package.json otherwise. */
export const VERSION: string =
  typeof __PERF_EVAL_VERSION__ === 'string' ? __PERF_EVAL_VERSION__ : packageVersion();
