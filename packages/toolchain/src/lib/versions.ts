/**
 * Preflight: the tools a run will use are of versions whose contracts perf-eval encodes. Versions come
 * from each tool's own interpreter (`importlib.metadata`, no package import, ~50 ms), in parallel.
 */
import { open } from 'node:fs/promises';
import { BFCL_EVAL_VERSION, runTool } from '@perf-eval/util';

export interface SupportedRange {
  /** Python distribution name. */
  dist: string;
  /** Human form of the range, for messages. */
  range: string;
  accepts(version: string): boolean;
}

function parts(version: string): number[] {
  return version
    .split(/[.+-]/)
    .map((p) => Number.parseInt(p, 10))
    .map((n) => (Number.isNaN(n) ? 0 : n));
}

/** Compare dotted versions numerically (`0.4.13` > `0.4.9`). */
export function compareVersions(a: string, b: string): number {
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export const SUPPORTED: Record<'lm_eval' | 'bfcl' | 'vllm', SupportedRange> = {
  // Results layout, `local-completions` and `--include_path` as in tool-contracts §4 (0.4.9+); 0.5 may change them.
  lm_eval: {
    dist: 'lm_eval',
    range: '>=0.4.9, <0.5',
    accepts: (v) => compareVersions(v, '0.4.9') >= 0 && compareVersions(v, '0.5') < 0,
  },
  // The BFCL driver uses bfcl-eval internals (registry, generate/evaluate signatures): the pinned release only.
  bfcl: { dist: 'bfcl-eval', range: `==${BFCL_EVAL_VERSION}`, accepts: (v) => v === BFCL_EVAL_VERSION },
  // `vllm bench serve` with --save-result/--result-filename and the 0.25+ result keys.
  vllm: { dist: 'vllm', range: '>=0.10', accepts: (v) => compareVersions(v, '0.10') >= 0 },
};

/** The interpreter of a console script (its `#!` line), or the path itself when it is a Python. */
export async function interpreterOf(executable: string): Promise<string | undefined> {
  if (/\/python[0-9.]*$/.test(executable)) return executable;
  try {
    const handle = await open(executable, 'r');
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(256), 0, 256, 0);
      const first = buffer.subarray(0, bytesRead).toString('utf8').split('\n')[0] ?? '';
      const match = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
      if (!match) return undefined;
      // `#!/usr/bin/env python3` → python3 (resolved on PATH by the runner).
      return match[1]?.endsWith('/env') ? match[2] : match[1];
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

export interface VersionCheck {
  tool: keyof typeof SUPPORTED;
  /** The tool's executable (console script or python). */
  executable: string;
}

export interface VersionReport {
  problems: string[];
  /** Versions found, e.g. `{ lm_eval: '0.4.13' }`, for the log and summary. */
  versions: Record<string, string>;
  /** Tools whose version could not be read (not fatal: the run itself will tell). */
  unknown: string[];
}

export async function checkToolVersions(
  checks: readonly VersionCheck[],
  env: Readonly<Record<string, string>>,
  signal?: AbortSignal,
): Promise<VersionReport> {
  const report: VersionReport = { problems: [], versions: {}, unknown: [] };
  await Promise.all(
    checks.map(async ({ tool, executable }) => {
      const supported = SUPPORTED[tool];
      const python = await interpreterOf(executable);
      // A wrapper that is not a Python console script (e.g. a site-specific shim) cannot be asked.
      if (python !== undefined && !/(^|\/)python[0-9.]*$/.test(python)) return;
      const run = python
        ? await runTool(
            [
              python,
              '-c',
              `import importlib.metadata as m; print(m.version(${JSON.stringify(supported.dist)}))`,
            ],
            {
              env,
              extendEnv: false,
              signal,
              timeoutMs: 60_000,
              tailLines: 5,
            },
          )
        : undefined;
      const version = run?.ok ? run.outputTail.at(-1)?.trim() : undefined;
      if (!version) {
        report.unknown.push(`${tool} (${executable})`);
        return;
      }
      report.versions[tool] = version;
      if (!supported.accepts(version)) {
        report.problems.push(
          `${tool}: ${supported.dist} ${version} at ${executable} is not supported (need ${supported.dist}${supported.range}); run 'npx perf-eval setup' for the pinned version`,
        );
      }
    }),
  );
  return report;
}
