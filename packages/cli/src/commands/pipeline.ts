import {
  checkOutputPath,
  checkPipelineFiles,
  checkUploads,
  defaultSchemaCacheDir,
  defaultSchemaPath,
  JOBS_PER_UPLOAD,
  jobCount,
  generatePipeline,
  PipelineFileError,
  PipelineRecipeError,
  SCHEMA_PATH_ENV,
  type CheckOptions,
  type PipelineIssue,
  writeUploads,
} from '@perf-eval/pipeline';
import { formatDiagnostic } from '@perf-eval/workload-schema';
import { UsageError } from '../lib/args.js';
import { defineCommand, type FlagValues } from '../lib/command.js';
import { EXIT } from '../lib/exit-codes.js';
import { writeLine, type Io } from '../lib/io.js';
import { withProfilesFlagHint } from '../lib/workload.js';

const HELP = `Usage: perf-eval pipeline [--validate] [--schema PATH] [--output FILE] [--profiles PATH] [--escape-dollars]
       perf-eval pipeline --validate [--schema PATH] FILE...

Print the Buildkite pipeline (YAML) for 'buildkite-agent pipeline upload --no-interpolation': one
command step per selected recipe. Run from the repository root (workloads/, profiles/).
A recipe with 'sweep:' becomes one step per variant (key wl-<stem>--<variant>, command
'perf-eval run <recipe> --variant <name>'), so the variants run in parallel. A multi-node recipe
(vllm.num_nodes or a role's num_nodes > 1; server_runtime native only) becomes one step with
'parallelism: <nodes>': parallel job 0 starts the Ray head and runs the recipe, the others join it
('ray start --address', via build meta-data). PERF_EVAL_RAY_WAIT_S (default 1800) bounds the wait.

Environment (the bootstrap job's):
  WORKLOADS              recipe paths or stems, comma/newline separated, in build order
                         (default: every recipe with 'nightly: true'); duplicates run once
  VLLM_IMAGE, VLLM_COMMIT, BENCH_ONLY, NIGHTLY
                         copied into every step's env when set
  <GPU>_QUEUE            queue override for one GPU kind (e.g. H200_QUEUE)
  <GPU>_HF_CACHE_VOLUME  AMD hf-cache volume source, YAML/JSON (e.g. {"persistentVolumeClaim":{"claimName":"x"}})

Every selected recipe is validated first; the lints (unique keys, queues, retry rules, secrets,
Kubernetes GPU limits and HF_HOME agreement, …) always run. Every step depends_on the
'perf-eval-executable' step of .buildkite/pipeline.yaml, which builds the executable it downloads.

Output: one upload holds at most ${JOBS_PER_UPLOAD} jobs (counting parallelism; Buildkite rejects more than
500). Up to that, the YAML goes to stdout, or with --output to FILE. Beyond it, --output is
required and writes FILE's name with .1, .2, … before the extension (pipeline.generated.1.yaml, …);
with --output the written paths are printed on stdout, one per line, in upload order: upload them
one after another ('buildkite-agent pipeline upload --no-interpolation <file>' each).

Options:
  --validate        also check against the official Buildkite JSON schema
  --schema PATH     the schema file (default: env ${SCHEMA_PATH_ENV}, else
                    ../shared/reference/buildkite/pipeline-schema.json from the current directory);
                    its compiled form is cached in PERF_EVAL_SCHEMA_CACHE_DIR (default
                    ~/.cache/perf-eval/buildkite-schema; 'off' disables)
  --output, -o FILE write the YAML to FILE (atomically; several files for a large selection)
                    and print the written paths on stdout
  --profiles PATH   GPU profiles file (default: env PERF_EVAL_PROFILES, else profiles/gpu_profiles.yaml)
  --escape-dollars  write every '$' as '$$', for an upload WITH interpolation (default: verbatim,
                    upload with --no-interpolation)
  FILE...           with --validate: check existing pipeline files (uploads of one build, in order)
                    instead of generating

Exit: 0 ok, 2 bad WORKLOADS, invalid recipe, multi-node on a docker/sim profile, invalid pipeline,
or more than ${JOBS_PER_UPLOAD} jobs without --output.`;

const OPTIONS = {
  validate: { type: 'boolean' },
  schema: { type: 'string' },
  output: { type: 'string', short: 'o' },
  profiles: { type: 'string' },
  'escape-dollars': { type: 'boolean' },
} as const;

type Flags = FlagValues<typeof OPTIONS>;

function report(io: Io, issues: readonly PipelineIssue[]): number {
  for (const issue of issues) writeLine(io.stderr, issue.message);
  writeLine(io.stderr, `perf-eval pipeline: ${issues.length} problem(s); nothing was written`);
  return EXIT.usage;
}

function checkOptions(io: Io, flags: Flags): CheckOptions {
  if (!flags.validate) return {};
  return {
    schemaPath: defaultSchemaPath(io.cwd, io.env, flags.schema),
    schemaCacheDir: defaultSchemaCacheDir(io.env),
  };
}

/** The pipeline package's file errors in this command's words: a written path is the --output flag's. */
function worded(error: unknown): unknown {
  if (!(error instanceof PipelineFileError)) return error;
  const message =
    error.problem === 'unreadable'
      ? error.message
      : error.problem === 'is-directory'
        ? `--output ${error.message}`
        : `cannot write --output ${error.path}: ${error.reason}`;
  return new UsageError(`perf-eval pipeline: ${message}`);
}

export const { run } = defineCommand(
  { name: 'pipeline', help: HELP, options: OPTIONS, positionals: 'any' },
  async ({ values, positionals }, io) => {
    if (positionals.length > 0 && !values.validate) {
      throw new UsageError(
        `perf-eval pipeline: FILE arguments need --validate (see 'perf-eval pipeline --help')`,
      );
    }
    if (positionals.length > 0 && values.output !== undefined)
      throw new UsageError(`perf-eval pipeline: --output and FILE arguments exclude each other`);
    if (values.schema !== undefined && !values.validate)
      throw new UsageError(`perf-eval pipeline: --schema needs --validate`);
    try {
      return positionals.length > 0 ? validateFiles(io, positionals, values) : await generate(io, values);
    } catch (error) {
      throw worded(error);
    }
  },
);

function validateFiles(io: Io, files: readonly string[], flags: Flags): number {
  const context = flags['escape-dollars'] ? { mode: 'escaped' as const } : {};
  const { issues, files: checked } = checkPipelineFiles(files, {
    ...checkOptions(io, flags),
    context,
    cwd: io.cwd,
  });
  if (issues.length > 0) return report(io, issues);
  for (const file of checked)
    writeLine(
      io.stderr,
      `ok ${file.path}: ${file.steps} step(s), ${file.jobs} job(s) pass the Buildkite schema and the lints`,
    );
  return EXIT.ok;
}

async function generate(io: Io, flags: Flags): Promise<number> {
  if (flags.output !== undefined) checkOutputPath(flags.output, io.cwd);
  let generated;
  try {
    generated = generatePipeline({
      root: io.cwd,
      env: io.env,
      ...(flags.profiles ? { profilesPath: flags.profiles } : {}),
      mode: flags['escape-dollars'] ? 'escaped' : 'verbatim',
    });
  } catch (error) {
    if (error instanceof PipelineRecipeError) {
      for (const problem of error.problems)
        for (const diagnostic of problem.diagnostics) writeLine(io.stderr, formatDiagnostic(diagnostic));
    }
    throw withProfilesFlagHint(error);
  }
  for (const warning of generated.warnings)
    writeLine(io.stderr, warning.includes(': warning: ') ? warning : `warning: ${warning}`);
  const { uploads, uploadYaml } = generated;
  const jobs = generated.pipeline.steps.reduce((sum: number, step) => sum + jobCount(step), 0);
  if (uploads.length > 1 && !flags.output) {
    throw new UsageError(
      `perf-eval pipeline: ${jobs} jobs need ${uploads.length} uploads of at most ${JOBS_PER_UPLOAD} jobs; pass --output FILE to write one file per upload (see 'perf-eval pipeline --help')`,
    );
  }
  const issues = checkUploads(uploads, { ...checkOptions(io, flags), context: generated.lintContext });
  if (issues.length > 0) return report(io, issues);
  if (!flags.output) {
    io.stdout.write(uploadYaml[0] as string);
    return EXIT.ok;
  }
  const written = await writeUploads(generated, flags.output, {
    cwd: io.cwd,
    onWritten: (file, i) =>
      writeLine(
        io.stderr,
        `wrote ${file.path}${uploads.length > 1 ? ` (upload ${i + 1}/${uploads.length})` : ''}: ${file.steps} step(s), ${file.jobs} job(s)${flags.validate ? ', valid against the Buildkite schema' : ''}`,
      ),
  });
  for (const file of written) writeLine(io.stdout, file.path);
  return EXIT.ok;
}
