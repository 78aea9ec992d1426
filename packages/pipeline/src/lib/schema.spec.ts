import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, SCHEMA_PATH, tempDir } from '../../test/helpers.js';
import { PipelineSchemaError } from './errors.js';
import { generatePipeline } from './generate.js';
import {
  createSchemaValidator,
  DEFAULT_SCHEMA_RELATIVE_PATH,
  defaultSchemaCacheDir,
  defaultSchemaPath,
} from './schema.js';

function base(): { steps: Array<Record<string, unknown>> } {
  const { pipeline } = generatePipeline({ root: REPO_ROOT, env: { WORKLOADS: 'qwen3_5_h200,qwen3_5_b200' } });
  return structuredClone(pipeline) as unknown as { steps: Array<Record<string, unknown>> };
}

describe('Buildkite schema validation', () => {
  const validator = () => createSchemaValidator(SCHEMA_PATH);

  it('accepts the generated steps and document', () => {
    expect(validator().validate(base())).toEqual([]);
  });

  it('reports an unknown key per step with the label and the key name', () => {
    const doc = base();
    (doc.steps[1] as Record<string, unknown>)['bogus'] = 1;
    expect(validator().validate(doc)).toEqual([
      {
        rule: 'schema',
        step: 1,
        message: 'steps[1] (:b200: qwen3_5-b200): must NOT have additional properties (bogus)',
      },
    ]);
  });

  it('reports timeout_in_minutes: 0', () => {
    const doc = base();
    (doc.steps[0] as Record<string, unknown>)['timeout_in_minutes'] = 0;
    expect(
      validator()
        .validate(doc)
        .map((issue) => issue.message),
    ).toEqual(['steps[0] (:h200: qwen3_5-h200): /timeout_in_minutes must be >= 1']);
  });

  it('reports a key that breaks the pattern', () => {
    const doc = base();
    (doc.steps[0] as Record<string, unknown>)['key'] = 'wl qwen/h200';
    expect(
      validator()
        .validate(doc)
        .map((issue) => issue.message),
    ).toEqual(['steps[0] (:h200: qwen3_5-h200): /key must match pattern "^[a-zA-Z0-9_\\-:${}.,]+$"']);
  });

  it('reports several problems of several steps, then skips the whole-document pass', () => {
    const doc = base();
    (doc.steps[0] as Record<string, unknown>)['timeout_in_minutes'] = 1.5;
    (doc.steps[1] as Record<string, unknown>)['retry'] = { automatic: [{ signal_reason: 'nope', limit: 2 }] };
    const messages = validator()
      .validate(doc)
      .map((issue) => issue.message);
    expect(messages[0]).toBe('steps[0] (:h200: qwen3_5-h200): /timeout_in_minutes must be integer');
    expect(
      messages.some((message) => message.startsWith('steps[1] (:b200: qwen3_5-b200): /retry/automatic')),
    ).toBe(true);
    expect(messages.some((message) => message.startsWith('pipeline:'))).toBe(false);
  });

  it('checks the whole document once every step passes', () => {
    expect(
      validator()
        .validate({ steps: [], env: 5 })
        .map((issue) => issue.message),
    ).toContain('pipeline: /env must be object');
    expect(
      validator()
        .validate({})
        .map((issue) => issue.message),
    ).toContain("pipeline: must have required property 'steps'");
  });

  it('fails clearly when the schema file is missing or not JSON', () => {
    const dir = tempDir();
    const missing = join(dir, 'nope.json');
    expect(() => createSchemaValidator(missing)).toThrow(PipelineSchemaError);
    expect(() => createSchemaValidator(missing)).toThrow(
      `Buildkite pipeline schema not found at ${missing} (ENOENT); pass --schema PATH or set PERF_EVAL_BUILDKITE_SCHEMA`,
    );
  });

  it('resolves the schema path: --schema > env > ../shared default', () => {
    expect(defaultSchemaPath('/repo', {}, 'x.json')).toBe('/repo/x.json');
    expect(defaultSchemaPath('/repo', { PERF_EVAL_BUILDKITE_SCHEMA: '/s/schema.json' })).toBe(
      '/s/schema.json',
    );
    expect(defaultSchemaPath('/repo/main', {})).toBe(join('/repo/main', DEFAULT_SCHEMA_RELATIVE_PATH));
    expect(defaultSchemaPath(REPO_ROOT, {})).toBe(SCHEMA_PATH);
  });
});

describe('compiled-validator cache', () => {
  /** A broken document: one issue per step, then (when fixed) the whole-document pass. */
  function broken(): unknown {
    const doc = base();
    (doc.steps[0] as Record<string, unknown>)['timeout_in_minutes'] = 0;
    (doc.steps[1] as Record<string, unknown>)['bogus'] = 1;
    return doc;
  }

  /** A copy of the vendored schema at a fresh path, so this process's in-memory cache does not answer. */
  function schemaCopy(dir: string, name: string): string {
    const path = join(dir, name);
    copyFileSync(SCHEMA_PATH, path);
    return path;
  }

  it('compiles once, then loads the cached standalone code and reports exactly the same issues', () => {
    const dir = tempDir();
    const cacheDir = join(dir, 'cache');
    const first = createSchemaValidator(schemaCopy(dir, 'a.json'), { cacheDir });
    expect(first.source).toBe('compiled');
    expect(readdirSync(cacheDir)).toEqual([expect.stringMatching(/^[0-9a-f]{64}\.cjs$/)]);
    const second = createSchemaValidator(schemaCopy(dir, 'b.json'), { cacheDir });
    expect(second.source).toBe('hit');
    const uncached = createSchemaValidator(schemaCopy(dir, 'c.json'), { cacheDir: null });
    expect(uncached.source).toBe('compiled');
    for (const doc of [base(), broken(), { steps: [], env: 5 }, {}]) {
      expect(second.validate(doc)).toEqual(uncached.validate(doc));
      expect(first.validate(doc)).toEqual(uncached.validate(doc));
    }
    expect(second.validate(broken())).toEqual([
      {
        rule: 'schema',
        step: 0,
        message: 'steps[0] (:h200: qwen3_5-h200): /timeout_in_minutes must be >= 1',
      },
      {
        rule: 'schema',
        step: 1,
        message: 'steps[1] (:b200: qwen3_5-b200): must NOT have additional properties (bogus)',
      },
    ]);
  });

  it('keys the cache by the schema text: another schema compiles its own entry', () => {
    const dir = tempDir();
    const cacheDir = join(dir, 'cache');
    createSchemaValidator(schemaCopy(dir, 'a.json'), { cacheDir });
    const changed = join(dir, 'changed.json');
    const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
    writeFileSync(changed, JSON.stringify({ ...schema, description: 'a different schema' }));
    expect(createSchemaValidator(changed, { cacheDir }).source).toBe('compiled');
    expect(readdirSync(cacheDir)).toHaveLength(2);
  });

  it('recompiles over a broken cache entry and survives a cache directory it cannot write', () => {
    const dir = tempDir();
    const cacheDir = join(dir, 'cache');
    createSchemaValidator(schemaCopy(dir, 'a.json'), { cacheDir });
    const [entry] = readdirSync(cacheDir);
    writeFileSync(join(cacheDir, entry as string), 'module.exports = { whole: 1, this is not javascript');
    const recompiled = createSchemaValidator(schemaCopy(dir, 'b.json'), { cacheDir });
    expect(recompiled.source).toBe('compiled');
    expect(recompiled.validate(broken())).toHaveLength(2);
    expect(createSchemaValidator(schemaCopy(dir, 'c.json'), { cacheDir }).source).toBe('hit');

    const notADir = join(dir, 'file');
    writeFileSync(notADir, '');
    const unwritable = createSchemaValidator(schemaCopy(dir, 'd.json'), { cacheDir: join(notADir, 'cache') });
    expect(unwritable.source).toBe('compiled');
    expect(unwritable.validate(base())).toEqual([]);
  });

  it('lives under PERF_EVAL_SCHEMA_CACHE_DIR, else XDG_CACHE_HOME or ~/.cache; off disables it', () => {
    expect(defaultSchemaCacheDir({ PERF_EVAL_SCHEMA_CACHE_DIR: '/c' })).toBe('/c');
    expect(defaultSchemaCacheDir({ PERF_EVAL_SCHEMA_CACHE_DIR: 'off' })).toBeNull();
    expect(defaultSchemaCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/perf-eval/buildkite-schema');
    expect(defaultSchemaCacheDir({ HOME: '/h' })).toBe('/h/.cache/perf-eval/buildkite-schema');
  });
});
