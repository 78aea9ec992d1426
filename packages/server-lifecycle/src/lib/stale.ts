import { execa } from 'execa';
import { DockerCommandError } from './errors.js';

export interface StaleContainer {
  id: string;
  name: string;
  /** docker `State`: running, exited, created, … */
  state: string;
  /** `com.buildkite.job-id` label, undefined when absent. */
  jobId: string | undefined;
  /** `perf-eval.workload` label. */
  workload: string;
}

export interface DockerOptions {
  /** Docker executable. Default `docker`. */
  docker?: string;
  signal?: AbortSignal;
}

const FORMAT =
  '{{.ID}}\t{{.Names}}\t{{.State}}\t{{.Label "com.buildkite.job-id"}}\t{{.Label "perf-eval.workload"}}';

async function runDocker(docker: string, args: string[], signal: AbortSignal | undefined, timeoutMs: number) {
  const result = await execa(docker, args, {
    reject: false,
    stdin: 'ignore',
    timeout: timeoutMs,
    forceKillAfterDelay: 1000,
    ...(signal ? { cancelSignal: signal } : {}),
  });
  if (result.failed) {
    throw new DockerCommandError(
      {
        command: [docker, ...args],
        exitCode: result.exitCode,
        signal: result.signal,
        timedOut: result.timedOut,
        durationMs: result.durationMs,
        outputTail: String(result.stderr ?? '')
          .split(/\r?\n/)
          .filter(Boolean)
          .slice(-20),
      },
      { cause: result },
    );
  }
  return String(result.stdout ?? '');
}

/**
 * Containers labelled `perf-eval.workload` that belong to another Buildkite job (or to no job when
 * `jobId` is set), i.e. leftovers of cancelled or killed runs (buildkite.md §6.3 step 5).
 */
export async function findStaleContainers(
  options: DockerOptions & { jobId: string | undefined },
): Promise<StaleContainer[]> {
  const stdout = await runDocker(
    options.docker ?? 'docker',
    ['ps', '-a', '--filter', 'label=perf-eval.workload', '--format', FORMAT],
    options.signal,
    30_000,
  );
  const containers: StaleContainer[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const [id = '', name = '', state = '', jobId = '', workload = ''] = line.split('\t');
    containers.push({
      id,
      name,
      state,
      jobId: jobId === '' || jobId === '<no value>' ? undefined : jobId,
      workload,
    });
  }
  const current = options.jobId || undefined;
  return containers.filter((container) => container.jobId !== current);
}

/** `docker stop -t <s>` (when `stopTimeoutS` is given) then `docker rm -f` for the given ids or names. */
export async function removeContainers(
  ids: readonly string[],
  options: DockerOptions & { stopTimeoutS?: number } = {},
): Promise<void> {
  if (ids.length === 0) return;
  const docker = options.docker ?? 'docker';
  if (options.stopTimeoutS !== undefined) {
    const seconds = Math.max(0, Math.round(options.stopTimeoutS));
    await runDocker(
      docker,
      ['stop', '-t', String(seconds), ...ids],
      options.signal,
      (seconds + 10) * 1000,
    ).catch(() => undefined);
  }
  await runDocker(docker, ['rm', '-f', ...ids], options.signal, 30_000);
}
