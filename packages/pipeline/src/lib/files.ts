/**
 * Pipeline files on disk: the generated uploads written atomically, and upload files read back and
 * checked together (the uploads of one build, in order).
 */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  describeFsError,
  directoryProblem,
  FileReadError,
  PerfEvalError,
  readRegularFileSync,
  writeFileAtomic,
} from '@perf-eval/util';
import { parse as parseYaml } from 'yaml';
import type { PipelineIssue } from './errors.js';
import type { GeneratedPipeline } from './generate.js';
import { jobCount } from './lint.js';
import { uploadFileNames } from './split.js';
import { checkUploads, type CheckOptions } from './validate.js';

/** A generated pipeline is ~2 KB per step; 16 MiB is thousands of steps (Buildkite's own limit is lower). */
const MAX_PIPELINE_BYTES = 16 * 1024 * 1024;

/** `unreadable`: missing, not a regular file, too large or not YAML; `unwritable`; `is-directory`: an output path that is a directory. */
export type PipelineFileProblem = 'unreadable' | 'unwritable' | 'is-directory';

/** A pipeline file that cannot be read or written (exit 2); `path` as the caller gave it. */
export class PipelineFileError extends PerfEvalError {
  constructor(
    readonly path: string,
    readonly problem: PipelineFileProblem,
    readonly reason: string,
    options: { cause?: unknown } = {},
  ) {
    super(
      'E_PIPELINE_FILE',
      problem === 'is-directory'
        ? `${path} is a directory; give a file path such as ${path.replace(/\/+$/, '')}/pipeline.yaml`
        : `cannot ${problem === 'unreadable' ? 'read' : 'write'} ${path}: ${reason}`,
      { ...options, category: 'usage' },
    );
  }
}

/** One pipeline file: its path (as given) and its size in steps and jobs (`parallelism` counted). */
export interface PipelineFile {
  path: string;
  steps: number;
  jobs: number;
}

function summary(path: string, document: unknown): PipelineFile {
  const steps = (document as { steps?: unknown } | null)?.steps;
  const list = Array.isArray(steps) ? steps : [];
  return { path, steps: list.length, jobs: list.reduce((sum: number, step) => sum + jobCount(step), 0) };
}

/**
 * Throws `PipelineFileError` when `output` (relative to `cwd`) cannot become a file: it is a directory,
 * or its directory cannot be created. Meant to run before anything is generated.
 */
export function checkOutputPath(output: string, cwd = process.cwd()): void {
  const path = resolve(cwd, output);
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    // Absent is fine: it is created.
  }
  if (isDirectory) throw new PipelineFileError(output, 'is-directory', 'is a directory');
  const problem = directoryProblem(dirname(path));
  if (problem) throw new PipelineFileError(output, 'unwritable', problem);
}

export interface WriteUploadsOptions {
  /** Base of a relative `output` (default: the process's). */
  cwd?: string;
  /** Called after each file is in place, before the next one is written. */
  onWritten?: (file: PipelineFile, index: number) => void;
}

/**
 * Write each upload's YAML atomically to `output`, or for several uploads to `output`'s name with .1, .2,
 * … before the extension (`uploadFileNames`). Returns the files in upload order; throws
 * `PipelineFileError` (`unwritable`) on the first file that cannot be written.
 */
export async function writeUploads(
  generated: Pick<GeneratedPipeline, 'uploads' | 'uploadYaml'>,
  output: string,
  options: WriteUploadsOptions = {},
): Promise<PipelineFile[]> {
  const { uploads, uploadYaml } = generated;
  const written: PipelineFile[] = [];
  for (const [i, name] of uploadFileNames(output, uploads.length).entries()) {
    try {
      await writeFileAtomic(resolve(options.cwd ?? process.cwd(), name), uploadYaml[i] as string);
    } catch (error) {
      throw new PipelineFileError(name, 'unwritable', describeFsError(error), { cause: error });
    }
    const file = summary(name, uploads[i]);
    written.push(file);
    options.onWritten?.(file, i);
  }
  return written;
}

export interface CheckFilesOptions extends CheckOptions {
  /** Base of relative paths (default: the process's). */
  cwd?: string;
}

/**
 * Read pipeline files (the uploads of one build, in order) and check them together with
 * `checkUploads`. Throws `PipelineFileError` (`unreadable`) for the first file that is not a readable
 * regular file of at most 16 MiB or not YAML; problems of the documents themselves are `issues`.
 */
export function checkPipelineFiles(
  paths: readonly string[],
  options: CheckFilesOptions = {},
): { issues: PipelineIssue[]; files: PipelineFile[] } {
  const { cwd = process.cwd(), ...check } = options;
  const documents = paths.map((path) => {
    try {
      return parseYaml(readRegularFileSync(resolve(cwd, path), { maxBytes: MAX_PIPELINE_BYTES })) as unknown;
    } catch (error) {
      // Not a readable regular file, or not YAML (the parser's first line says where).
      const reason =
        error instanceof FileReadError ? error.reason : ((error as Error).message.split('\n')[0] as string);
      throw new PipelineFileError(path, 'unreadable', reason, { cause: error });
    }
  });
  return {
    issues: checkUploads(documents, check),
    files: paths.map((path, i) => summary(path, documents[i])),
  };
}
