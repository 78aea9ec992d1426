/**
 * Validation against the official Buildkite pipeline schema (buildkite.md §7): ajv 8 default class,
 * allErrors, ajv-formats, `fileMatch` registered; each step on its own for readable errors, then the
 * whole document as the final gate.
 *
 * Compiling the 41 kB schema is most of `perf-eval pipeline --validate`'s time (~0.2 s CPU, more than
 * generating the nightly set), so the compiled validators are cached on disk as ajv standalone code,
 * keyed by the sha256 of the schema text: the next run (the bootstrap's re-check, the next build on
 * the agent) only evaluates that code. A missing, unreadable or broken cache entry just means compiling.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import * as AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import * as ucs2lengthModule from 'ajv/dist/runtime/ucs2length.js';
import * as standaloneModule from 'ajv/dist/standalone/index.js';
import * as addFormatsModule from 'ajv-formats';
import type { PipelineIssue } from './errors.js';
import { PipelineSchemaError } from './errors.js';

// ajv and ajv-formats are CommonJS with `exports.default`; under NodeNext the default import is the module.
const Ajv = AjvModule.default.default;
const addFormats = addFormatsModule.default.default;
const standaloneCode = standaloneModule.default.default;
/** A CommonJS module's exports however the ESM interop presents them (Node, esbuild, vitest differ). */
function commonJsExports(namespace: { default?: unknown }): unknown {
  const value = namespace.default;
  return typeof value === 'function' ? { default: value } : value;
}
/** What cached standalone code may `require` (anything else is not cached): module name → its exports. */
const STANDALONE_RUNTIME: Record<string, unknown> = {
  'ajv/dist/runtime/ucs2length': commonJsExports(ucs2lengthModule),
};
/** Part of the cache key: bump when the ajv options or the cached module's shape change. */
const CACHE_FORMAT = 'ajv8-allErrors-formats-fileMatch-v1';
export const SCHEMA_CACHE_DIR_ENV = 'PERF_EVAL_SCHEMA_CACHE_DIR';

export const SCHEMA_ID = 'bk://pipeline';
/** Where the vendored schema lives relative to the repository root (the repo does not copy it). */
export const DEFAULT_SCHEMA_RELATIVE_PATH = '../shared/reference/buildkite/pipeline-schema.json';
export const SCHEMA_PATH_ENV = 'PERF_EVAL_BUILDKITE_SCHEMA';

/** `--schema` > env `PERF_EVAL_BUILDKITE_SCHEMA` > `../shared/reference/buildkite/pipeline-schema.json` from the root. */
export function defaultSchemaPath(
  root: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  explicit?: string,
): string {
  if (explicit) return resolve(root, explicit);
  const fromEnv = env[SCHEMA_PATH_ENV]?.trim();
  if (fromEnv) return resolve(root, fromEnv);
  return resolve(root, DEFAULT_SCHEMA_RELATIVE_PATH);
}

/**
 * Where compiled validators are cached: env `PERF_EVAL_SCHEMA_CACHE_DIR` (`off` disables), else
 * `$XDG_CACHE_HOME/perf-eval/buildkite-schema`, else `~/.cache/perf-eval/buildkite-schema`.
 */
export function defaultSchemaCacheDir(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | null {
  const explicit = env[SCHEMA_CACHE_DIR_ENV]?.trim();
  if (explicit === 'off') return null;
  if (explicit) return resolve(explicit);
  const cache = env['XDG_CACHE_HOME']?.trim() || join(env['HOME']?.trim() || homedir(), '.cache');
  return join(cache, 'perf-eval', 'buildkite-schema');
}

export interface SchemaValidatorOptions {
  /** Cache directory for the compiled validators (`defaultSchemaCacheDir`); `null` compiles every time. */
  cacheDir?: string | null;
}

export interface SchemaValidator {
  schemaPath: string;
  /** `hit`: loaded from the disk cache; `compiled`: compiled now (and cached when possible). */
  source: 'hit' | 'compiled';
  /** Per-step errors first; the whole document only when every step passes. Empty when valid. */
  validate(pipeline: unknown): PipelineIssue[];
}

const cache = new Map<string, SchemaValidator>();

function describeError(error: ErrorObject): string {
  const where = error.instancePath ? `${error.instancePath} ` : '';
  let message = `${where}${error.message ?? 'is invalid'}`;
  if (error.keyword === 'additionalProperties')
    message += ` (${String((error.params as { additionalProperty: string }).additionalProperty)})`;
  if (error.keyword === 'enum')
    message += ` (${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')})`;
  return message;
}

function uniqueMessages(errors: readonly ErrorObject[] | null | undefined): string[] {
  return [...new Set((errors ?? []).map(describeError))];
}

function readSchemaText(schemaPath: string): string {
  try {
    return readFileSync(schemaPath, 'utf8');
  } catch (error) {
    throw new PipelineSchemaError(
      schemaPath,
      `Buildkite pipeline schema not found at ${schemaPath} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}); pass --schema PATH or set ${SCHEMA_PATH_ENV}`,
      { cause: error },
    );
  }
}

function parseSchema(schemaPath: string, text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new PipelineSchemaError(
      schemaPath,
      `Buildkite pipeline schema ${schemaPath} is not valid JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

export function loadSchema(schemaPath: string): Record<string, unknown> {
  return parseSchema(schemaPath, readSchemaText(schemaPath));
}

interface Compiled {
  whole: ValidateFunction;
  commandStep: ValidateFunction;
}

/** The cached validators for this schema text, or undefined (no entry, or one that does not evaluate). */
function loadCached(file: string): Compiled | undefined {
  let code: string;
  try {
    code = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const module: { exports: Partial<Compiled> } = { exports: {} };
    const require = (name: string): unknown => {
      if (!(name in STANDALONE_RUNTIME)) throw new Error(`unexpected require('${name}')`);
      return STANDALONE_RUNTIME[name];
    };
    // The file is ajv's own output for this schema text, written by compileAndCache below.
    new Function('module', 'exports', 'require', code)(module, module.exports, require);
    const { whole, commandStep } = module.exports;
    return typeof whole === 'function' && typeof commandStep === 'function'
      ? { whole, commandStep }
      : undefined;
  } catch {
    return undefined;
  }
}

function compileAndCache(
  schemaPath: string,
  schema: Record<string, unknown>,
  file: string | undefined,
): Compiled {
  const ajv = new Ajv({ allErrors: true, code: { source: file !== undefined } });
  addFormats(ajv);
  ajv.addKeyword('fileMatch');
  let whole: ValidateFunction | undefined;
  let commandStep: ValidateFunction | undefined;
  try {
    ajv.addSchema(schema, SCHEMA_ID);
    whole = ajv.getSchema(SCHEMA_ID);
    commandStep = ajv.getSchema(`${SCHEMA_ID}#/definitions/commandStep`);
  } catch (error) {
    throw new PipelineSchemaError(
      schemaPath,
      `Buildkite pipeline schema ${schemaPath} does not compile: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (!whole || !commandStep) {
    throw new PipelineSchemaError(
      schemaPath,
      `Buildkite pipeline schema ${schemaPath} has no definitions/commandStep`,
    );
  }
  if (file !== undefined) {
    // Best effort: a cache that cannot be written (read-only home, full disk) only costs the next run time.
    try {
      const code = standaloneCode(ajv, {
        whole: SCHEMA_ID,
        commandStep: `${SCHEMA_ID}#/definitions/commandStep`,
      });
      const requires = [...code.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1] as string);
      if (requires.every((name) => name in STANDALONE_RUNTIME)) {
        mkdirSync(resolve(file, '..'), { recursive: true });
        const temporary = `${file}.tmp-${process.pid}`;
        writeFileSync(temporary, code);
        renameSync(temporary, file);
      }
    } catch {
      try {
        rmSync(`${file}.tmp-${process.pid}`, { force: true });
      } catch {
        // The directory itself is unusable; nothing was written.
      }
    }
  }
  return { whole, commandStep };
}

/**
 * Compile (once per path and process; across processes through the disk cache) a validator for the
 * schema file at `schemaPath`.
 */
export function createSchemaValidator(
  schemaPath: string,
  options: SchemaValidatorOptions = {},
): SchemaValidator {
  const cacheDir = options.cacheDir === undefined ? defaultSchemaCacheDir() : options.cacheDir;
  const memoryKey = `${schemaPath}\0${cacheDir ?? ''}`;
  const cached = cache.get(memoryKey);
  if (cached) return cached;
  const text = readSchemaText(schemaPath);
  const schema = parseSchema(schemaPath, text);
  const file =
    cacheDir === null
      ? undefined
      : join(cacheDir, `${createHash('sha256').update(`${CACHE_FORMAT}\0${text}`).digest('hex')}.cjs`);
  const hit = file === undefined ? undefined : loadCached(file);
  const { whole, commandStep } = hit ?? compileAndCache(schemaPath, schema, file);
  const validateWhole = whole;
  const validateStep = commandStep;
  const validator: SchemaValidator = {
    schemaPath,
    source: hit ? 'hit' : 'compiled',
    validate(pipeline: unknown): PipelineIssue[] {
      const issues: PipelineIssue[] = [];
      const steps = (pipeline as { steps?: unknown })?.steps;
      if (Array.isArray(steps)) {
        steps.forEach((step, i) => {
          if (validateStep(step)) return;
          const label =
            typeof (step as { label?: unknown })?.label === 'string'
              ? (step as { label: string }).label
              : '?';
          for (const message of uniqueMessages(validateStep.errors))
            issues.push({ rule: 'schema', step: i, message: `steps[${i}] (${label}): ${message}` });
        });
      }
      if (issues.length === 0 && !validateWhole(pipeline)) {
        for (const message of uniqueMessages(validateWhole.errors))
          issues.push({ rule: 'schema', step: -1, message: `pipeline: ${message}` });
      }
      return issues;
    },
  };
  cache.set(memoryKey, validator);
  return validator;
}
