/** Schema + lints in one call: what `perf-eval pipeline --validate` and the bootstrap run. */
import { PipelineInvalidError, type PipelineIssue } from './errors.js';
import { lintPipeline, type LintContext } from './lint.js';
import { createSchemaValidator } from './schema.js';
import { EXECUTABLE_STEP_KEY } from './steps.js';

export interface CheckOptions {
  /** Path of the Buildkite schema file; omit to run only the lints. */
  schemaPath?: string;
  /** Compiled-validator cache directory (`createSchemaValidator`); default `defaultSchemaCacheDir()`, `null` for none. */
  schemaCacheDir?: string | null;
  context?: LintContext;
}

/** Every schema and lint issue of `pipeline` (schema issues first). */
export function checkPipeline(pipeline: unknown, options: CheckOptions = {}): PipelineIssue[] {
  const issues: PipelineIssue[] = [];
  if (options.schemaPath !== undefined)
    issues.push(...createSchemaValidator(options.schemaPath).validate(pipeline));
  issues.push(...lintPipeline(pipeline, options.context));
  return issues;
}

/** `checkPipeline`, throwing `PipelineInvalidError` when anything is wrong. */
export function assertValidPipeline(pipeline: unknown, options: CheckOptions = {}): void {
  const issues = checkPipeline(pipeline, options);
  if (issues.length > 0) throw new PipelineInvalidError(issues);
}

/** The step keys of a document, by step index (`undefined` for a step without one). */
function stepKeys(upload: unknown): Array<string | undefined> {
  const steps = (upload as { steps?: unknown })?.steps;
  if (!Array.isArray(steps)) return [];
  return steps.map((step) => {
    const key = (step as { key?: unknown } | null)?.key;
    return typeof key === 'string' ? key : undefined;
  });
}

/**
 * Every issue of several documents uploaded in order by one build (`splitPipeline`): each is checked
 * on its own (schema, lints, the per-upload job limit), `depends_on` may also name earlier uploads'
 * steps, and keys must be unique across all of them (Buildkite keys are build-wide). With more than one
 * upload each message starts with `upload <i>/<n>: ` and the issue carries `upload` (0-based).
 */
export function checkUploads(uploads: readonly unknown[], options: CheckOptions = {}): PipelineIssue[] {
  const issues: PipelineIssue[] = [];
  const external = new Set(options.context?.externalKeys ?? [EXECUTABLE_STEP_KEY]);
  const firstUpload = new Map<string, number>();
  uploads.forEach((upload, u) => {
    const prefix = uploads.length > 1 ? `upload ${u + 1}/${uploads.length}: ` : '';
    const context: LintContext = { ...options.context, externalKeys: new Set(external) };
    const own = checkPipeline(upload, { ...options, context });
    const keys = stepKeys(upload);
    keys.forEach((key, i) => {
      const earlier = key === undefined ? undefined : firstUpload.get(key);
      if (earlier !== undefined)
        own.push({
          rule: 'unique-key',
          step: i,
          message: `steps[${i}]: key '${key}' is already used in upload ${earlier + 1}`,
        });
    });
    for (const issue of own)
      issues.push({
        ...issue,
        ...(uploads.length > 1 ? { upload: u, message: `${prefix}${issue.message}` } : {}),
      });
    for (const key of keys) {
      if (key === undefined) continue;
      external.add(key);
      if (!firstUpload.has(key)) firstUpload.set(key, u);
    }
  });
  return issues;
}
