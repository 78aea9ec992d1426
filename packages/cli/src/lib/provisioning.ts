/** How the CLI drives the toolchain's provisioning: progress on its streams and the BFCL check it injects. */
import { checkBfcl } from '@perf-eval/bfcl-runner';
import type { ProgressOptions } from '@perf-eval/toolchain';
import type { Io } from './io.js';

/** Live progress on a TTY (one status line, redrawn), plain `    … <step> (1m30s)` lines every 30 s otherwise (CI). */
export function setupProgress(io: Io): ProgressOptions {
  const stream = io.stdout as NodeJS.WriteStream;
  if (!stream.isTTY) return {};
  return {
    live: (text) =>
      stream.write(text ? `\r\x1b[K    … ${text.slice(0, (stream.columns || 100) - 8)}` : '\r\x1b[K'),
  };
}

/** bfcl-runner's driver check, injected into the toolchain (which may not import an adapter). */
export async function verifyBfclWithDriver(
  python: string,
  options: { cacheDir: string; env: Record<string, string>; timeoutMs: number },
): Promise<string> {
  const report = await checkBfcl({ python, ...options });
  return `bfcl_eval ${report.bfclEvalVersion} imports (python ${report.python}, ${Object.keys(report.testCollectionMapping).length} category groups)`;
}
