import { findStaleContainers, removeContainers } from '@perf-eval/server-lifecycle';
import { defineCommand } from '../lib/command.js';
import { EXIT } from '../lib/exit-codes.js';
import { writeLine } from '../lib/io.js';
import { findOnPath } from '@perf-eval/toolchain';

const HELP = `Usage: perf-eval cleanup [--dry-run] [--all]

Find vLLM containers started by perf-eval (label perf-eval.workload) that belong to another
Buildkite job (label com.buildkite.job-id differs from BUILDKITE_JOB_ID) and stop + remove them,
freeing their GPUs. Use on hosts that run one job at a time.

Options:
  --dry-run   only list them
  --all       include containers of the current job too`;

export const { run } = defineCommand(
  {
    name: 'cleanup',
    help: HELP,
    options: {
      'dry-run': { type: 'boolean' },
      all: { type: 'boolean' },
    },
  },
  async ({ values }, io) => {
    const docker = findOnPath('docker', io.env) ?? 'docker';
    const jobId = values.all ? undefined : io.env['BUILDKITE_JOB_ID'];
    const stale = await findStaleContainers({ docker, jobId, signal: io.signal });
    if (stale.length === 0) {
      writeLine(io.stdout, 'no stale perf-eval containers');
      return EXIT.ok;
    }
    for (const container of stale) {
      writeLine(
        io.stdout,
        `${values['dry-run'] ? 'would remove' : 'removing'} ${container.name} (${container.id.slice(0, 12)}, ${container.state}, workload ${container.workload}, job ${container.jobId ?? '-'})`,
      );
    }
    if (!values['dry-run'])
      await removeContainers(
        stale.map((c) => c.id),
        { docker, signal: io.signal },
      );
    return EXIT.ok;
  },
);
