/** How the CLI drives the toolchain's provisioning: progress on its stdout and the BFCL check it injects. */
import { checkBfcl } from '@perf-eval/bfcl-runner';
import { terminalProgress, type ProgressOptions } from '@perf-eval/toolchain';
import type { Io } from './io.js';

/** Provisioning progress on the command's stdout: a live line on a TTY, plain lines otherwise (CI). */
export function setupProgress(io: Io): ProgressOptions {
  return terminalProgress(io.stdout);
}

/** bfcl-runner's driver check, injected into the toolchain (which may not import an adapter). */
export async function verifyBfclWithDriver(
  python: string,
  options: { cacheDir: string; env: Record<string, string>; timeoutMs: number },
): Promise<string> {
  const report = await checkBfcl({ python, ...options });
  return `bfcl_eval ${report.bfclEvalVersion} imports (python ${report.python}, ${Object.keys(report.testCollectionMapping).length} category groups)`;
}
