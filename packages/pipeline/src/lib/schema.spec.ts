import { join } from 'node:path';
import { REPO_ROOT, SCHEMA_PATH, tempDir } from '../../test/helpers.js';
import { PipelineSchemaError } from './errors.js';
import { generatePipeline } from './generate.js';
import { createSchemaValidator, DEFAULT_SCHEMA_RELATIVE_PATH, defaultSchemaPath } from './schema.js';

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
    expect(validator().validate(doc)).toEqual([{ rule: 'schema', step: 1, message: 'steps[1] (:b200: qwen3_5-b200): must NOT have additional properties (bogus)' }]);
  });

  it('reports timeout_in_minutes: 0', () => {
    const doc = base();
    (doc.steps[0] as Record<string, unknown>)['timeout_in_minutes'] = 0;
    expect(validator().validate(doc).map((issue) => issue.message)).toEqual(['steps[0] (:h200: qwen3_5-h200): /timeout_in_minutes must be >= 1']);
  });

  it('reports a key that breaks the pattern', () => {
    const doc = base();
    (doc.steps[0] as Record<string, unknown>)['key'] = 'wl qwen/h200';
    expect(validator().validate(doc).map((issue) => issue.message)).toEqual(['steps[0] (:h200: qwen3_5-h200): /key must match pattern "^[a-zA-Z0-9_\\-:${}.,]+$"']);
  });

  it('reports several problems of several steps, then skips the whole-document pass', () => {
    const doc = base();
    (doc.steps[0] as Record<string, unknown>)['timeout_in_minutes'] = 1.5;
    (doc.steps[1] as Record<string, unknown>)['retry'] = { automatic: [{ signal_reason: 'nope', limit: 2 }] };
    const messages = validator().validate(doc).map((issue) => issue.message);
    expect(messages[0]).toBe('steps[0] (:h200: qwen3_5-h200): /timeout_in_minutes must be integer');
    expect(messages.some((message) => message.startsWith('steps[1] (:b200: qwen3_5-b200): /retry/automatic'))).toBe(true);
    expect(messages.some((message) => message.startsWith('pipeline:'))).toBe(false);
  });

  it('checks the whole document once every step passes', () => {
    expect(validator().validate({ steps: [], env: 5 }).map((issue) => issue.message)).toContain('pipeline: /env must be object');
    expect(validator().validate({}).map((issue) => issue.message)).toContain("pipeline: must have required property 'steps'");
  });

  it('fails clearly when the schema file is missing or not JSON', () => {
    const dir = tempDir();
    const missing = join(dir, 'nope.json');
    expect(() => createSchemaValidator(missing)).toThrow(PipelineSchemaError);
    expect(() => createSchemaValidator(missing)).toThrow(`Buildkite pipeline schema not found at ${missing} (ENOENT); pass --schema PATH or set PERF_EVAL_BUILDKITE_SCHEMA`);
  });

  it('resolves the schema path: --schema > env > ../shared default', () => {
    expect(defaultSchemaPath('/repo', {}, 'x.json')).toBe('/repo/x.json');
    expect(defaultSchemaPath('/repo', { PERF_EVAL_BUILDKITE_SCHEMA: '/s/schema.json' })).toBe('/s/schema.json');
    expect(defaultSchemaPath('/repo/main', {})).toBe(join('/repo/main', DEFAULT_SCHEMA_RELATIVE_PATH));
    expect(defaultSchemaPath(REPO_ROOT, {})).toBe(SCHEMA_PATH);
  });
});
