import type { Io } from '../src/lib/io.js';

/** An in-process `Io` whose stdout and stderr are collected as text (commands run without a process). */
export function captureIo(
  options: { env?: Record<string, string | undefined>; cwd?: string; signal?: AbortSignal } = {},
): { io: Io; stdout: () => string; stderr: () => string } {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: options.env ?? {},
    cwd: options.cwd ?? import.meta.dirname,
    signal: options.signal ?? new AbortController().signal,
  };
  return { io, stdout: () => stdout, stderr: () => stderr };
}
