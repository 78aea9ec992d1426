/** Schema + lints in one call: what `perf-eval pipeline --validate` and the bootstrap run. */
import { PipelineInvalidError, type PipelineIssue } from './errors.js';
import { lintPipeline, type LintContext } from './lint.js';
import { createSchemaValidator } from './schema.js';

export interface CheckOptions {
  /** Path of the Buildkite schema file; omit to run only the lints. */
  schemaPath?: string;
  context?: LintContext;
}

/** Every schema and lint issue of `pipeline` (schema issues first). */
export function checkPipeline(pipeline: unknown, options: CheckOptions = {}): PipelineIssue[] {
  const issues: PipelineIssue[] = [];
  if (options.schemaPath !== undefined) issues.push(...createSchemaValidator(options.schemaPath).validate(pipeline));
  issues.push(...lintPipeline(pipeline, options.context));
  return issues;
}

/** `checkPipeline`, throwing `PipelineInvalidError` when anything is wrong. */
export function assertValidPipeline(pipeline: unknown, options: CheckOptions = {}): void {
  const issues = checkPipeline(pipeline, options);
  if (issues.length > 0) throw new PipelineInvalidError(issues);
}
