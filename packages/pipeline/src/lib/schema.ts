/**
 * Validation against the official Buildkite pipeline schema (buildkite.md §7): ajv 8 default class,
 * allErrors, ajv-formats, `fileMatch` registered; each step on its own for readable errors, then the
 * whole document as the final gate.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import * as addFormatsModule from 'ajv-formats';
import type { PipelineIssue } from './errors.js';
import { PipelineSchemaError } from './errors.js';

// ajv and ajv-formats are CommonJS with `exports.default`; under NodeNext the default import is the module.
const Ajv = AjvModule.default.default;
const addFormats = addFormatsModule.default.default;

export const SCHEMA_ID = 'bk://pipeline';
/** Where the vendored schema lives relative to the repository root (the repo does not copy it). */
export const DEFAULT_SCHEMA_RELATIVE_PATH = '../shared/reference/buildkite/pipeline-schema.json';
export const SCHEMA_PATH_ENV = 'PERF_EVAL_BUILDKITE_SCHEMA';

/** `--schema` > env `PERF_EVAL_BUILDKITE_SCHEMA` > `../shared/reference/buildkite/pipeline-schema.json` from the root. */
export function defaultSchemaPath(root: string, env: Readonly<Record<string, string | undefined>> = process.env, explicit?: string): string {
  if (explicit) return resolve(root, explicit);
  const fromEnv = env[SCHEMA_PATH_ENV]?.trim();
  if (fromEnv) return resolve(root, fromEnv);
  return resolve(root, DEFAULT_SCHEMA_RELATIVE_PATH);
}

export interface SchemaValidator {
  schemaPath: string;
  /** Per-step errors first; the whole document only when every step passes. Empty when valid. */
  validate(pipeline: unknown): PipelineIssue[];
}

const cache = new Map<string, SchemaValidator>();

function describeError(error: ErrorObject): string {
  const where = error.instancePath ? `${error.instancePath} ` : '';
  let message = `${where}${error.message ?? 'is invalid'}`;
  if (error.keyword === 'additionalProperties') message += ` (${String((error.params as { additionalProperty: string }).additionalProperty)})`;
  if (error.keyword === 'enum') message += ` (${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')})`;
  return message;
}

function uniqueMessages(errors: readonly ErrorObject[] | null | undefined): string[] {
  return [...new Set((errors ?? []).map(describeError))];
}

export function loadSchema(schemaPath: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(schemaPath, 'utf8');
  } catch (error) {
    throw new PipelineSchemaError(
      schemaPath,
      `Buildkite pipeline schema not found at ${schemaPath} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}); pass --schema PATH or set ${SCHEMA_PATH_ENV}`,
      { cause: error },
    );
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new PipelineSchemaError(schemaPath, `Buildkite pipeline schema ${schemaPath} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** Compile (once per path and process) a validator for the schema file at `schemaPath`. */
export function createSchemaValidator(schemaPath: string): SchemaValidator {
  const cached = cache.get(schemaPath);
  if (cached) return cached;
  const schema = loadSchema(schemaPath);
  const ajv = new Ajv({ allErrors: true });
  addFormats(ajv);
  ajv.addKeyword('fileMatch');
  let whole: ValidateFunction | undefined;
  let commandStep: ValidateFunction | undefined;
  try {
    ajv.addSchema(schema, SCHEMA_ID);
    whole = ajv.getSchema(SCHEMA_ID);
    commandStep = ajv.getSchema(`${SCHEMA_ID}#/definitions/commandStep`);
  } catch (error) {
    throw new PipelineSchemaError(schemaPath, `Buildkite pipeline schema ${schemaPath} does not compile: ${(error as Error).message}`, { cause: error });
  }
  if (!whole || !commandStep) {
    throw new PipelineSchemaError(schemaPath, `Buildkite pipeline schema ${schemaPath} has no definitions/commandStep`);
  }
  const validateWhole = whole;
  const validateStep = commandStep;
  const validator: SchemaValidator = {
    schemaPath,
    validate(pipeline: unknown): PipelineIssue[] {
      const issues: PipelineIssue[] = [];
      const steps = (pipeline as { steps?: unknown })?.steps;
      if (Array.isArray(steps)) {
        steps.forEach((step, i) => {
          if (validateStep(step)) return;
          const label = typeof (step as { label?: unknown })?.label === 'string' ? (step as { label: string }).label : '?';
          for (const message of uniqueMessages(validateStep.errors)) issues.push({ rule: 'schema', step: i, message: `steps[${i}] (${label}): ${message}` });
        });
      }
      if (issues.length === 0 && !validateWhole(pipeline)) {
        for (const message of uniqueMessages(validateWhole.errors)) issues.push({ rule: 'schema', step: -1, message: `pipeline: ${message}` });
      }
      return issues;
    },
  };
  cache.set(schemaPath, validator);
  return validator;
}
