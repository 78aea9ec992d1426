/**
 * Large selections: Buildkite rejects an upload of more than 500 jobs (counting `parallelism`), so the
 * steps are cut, in order, into uploads of at most 450 jobs each — the margin ray-project/rayci (#483)
 * uses — and the bootstrap uploads them one after another (gpu-time.md §4). The generated steps never
 * depend on each other (only on the executable step of `.buildkite/pipeline.yaml`) and there are no
 * `wait` steps, so every upload's steps run in parallel however the uploads are ordered.
 */
import { jobCount } from './lint.js';
import type { CommandStep, Pipeline } from './types.js';

export const JOBS_PER_UPLOAD = 450;

/** `pipeline`'s steps in order, cut into documents of at most `maxJobs` jobs (a step is never split). */
export function splitPipeline(pipeline: Pipeline, maxJobs: number = JOBS_PER_UPLOAD): Pipeline[] {
  const uploads: Pipeline[] = [];
  let current: CommandStep[] = [];
  let jobs = 0;
  for (const step of pipeline.steps) {
    const count = jobCount(step);
    if (current.length > 0 && jobs + count > maxJobs) {
      uploads.push({ steps: current });
      current = [];
      jobs = 0;
    }
    current.push(step);
    jobs += count;
  }
  if (current.length > 0) uploads.push({ steps: current });
  return uploads;
}

/** `pipeline.generated.yaml` → `pipeline.generated.yaml` for one upload; `pipeline.generated.<i>.yaml` (1-based) for several. */
export function uploadFileNames(file: string, count: number): string[] {
  if (count <= 1) return [file];
  const slash = file.lastIndexOf('/');
  const dot = file.lastIndexOf('.');
  const [stem, extension] = dot > slash + 1 ? [file.slice(0, dot), file.slice(dot)] : [file, ''];
  return Array.from({ length: count }, (_, i) => `${stem}.${i + 1}${extension}`);
}
