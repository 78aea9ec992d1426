/** Server-config sweeps: one step per variant (issue 8 part 4). */
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { makeRoot, recipe, REPO_ROOT, SCHEMA_PATH } from '../../test/helpers.js';
import { assignStepKeys, generatePipeline } from './generate.js';
import { simulateUpload } from './interpolation.js';
import { lintPipeline, UPLOAD_JOB_LIMIT } from './lint.js';
import { createSchemaValidator } from './schema.js';
import { checkUploads } from './validate.js';
import { buildStep, MAX_KEY_LENGTH, stepKeyFor } from './steps.js';
import type { CommandStep } from './types.js';

const SWEEP = [
  'sweep:',
  '  serve_args:',
  '    --max-num-seqs: [128, 256]',
  '    --gpu-memory-utilization: [0.9, 0.95]',
].join('\n');

function checkAll(generated: ReturnType<typeof generatePipeline>): void {
  expect(createSchemaValidator(SCHEMA_PATH).validate(generated.pipeline)).toEqual([]);
  expect(lintPipeline(generated.pipeline, generated.lintContext)).toEqual([]);
}

describe('sweep fan-out', () => {
  it('turns a sweep recipe into one step per variant, in expansion order, between its neighbours', () => {
    const root = makeRoot({
      recipes: {
        'before.yaml': recipe({ name: 'before' }),
        'qwen_sweep.yaml': recipe({ name: 'qwen-h200', extra: SWEEP }),
        'after.yaml': recipe({ name: 'after', gpu: 'B200' }),
      },
    });
    const generated = generatePipeline({ root, env: { WORKLOADS: 'before,qwen_sweep,after' } });
    const steps = generated.pipeline.steps;
    expect(steps.map((step) => step.label)).toEqual([
      ':h200: before',
      ':h200: qwen-h200--max-num-seqs-128--gpu-memory-utilization-0.9',
      ':h200: qwen-h200--max-num-seqs-128--gpu-memory-utilization-0.95',
      ':h200: qwen-h200--max-num-seqs-256--gpu-memory-utilization-0.9',
      ':h200: qwen-h200--max-num-seqs-256--gpu-memory-utilization-0.95',
      ':b200: after',
    ]);
    expect(steps.map((step) => step.key)).toEqual([
      'wl-before',
      'wl-qwen_sweep--max-num-seqs-128--gpu-memory-utilization-0-9',
      'wl-qwen_sweep--max-num-seqs-128--gpu-memory-utilization-0-95',
      'wl-qwen_sweep--max-num-seqs-256--gpu-memory-utilization-0-9',
      'wl-qwen_sweep--max-num-seqs-256--gpu-memory-utilization-0-95',
      'wl-after',
    ]);
    expect(steps.map((step) => step.commands[1]?.split(' && ').at(-1))).toEqual([
      './perf-eval run workloads/before.yaml',
      './perf-eval run workloads/qwen_sweep.yaml --variant qwen-h200--max-num-seqs-128--gpu-memory-utilization-0.9',
      './perf-eval run workloads/qwen_sweep.yaml --variant qwen-h200--max-num-seqs-128--gpu-memory-utilization-0.95',
      './perf-eval run workloads/qwen_sweep.yaml --variant qwen-h200--max-num-seqs-256--gpu-memory-utilization-0.9',
      './perf-eval run workloads/qwen_sweep.yaml --variant qwen-h200--max-num-seqs-256--gpu-memory-utilization-0.95',
      './perf-eval run workloads/after.yaml',
    ]);
    expect(generated.files).toEqual([
      'workloads/before.yaml',
      'workloads/qwen_sweep.yaml',
      'workloads/after.yaml',
    ]);
    expect(generated.workloads).toHaveLength(3);
    expect(generated.variants.map((variant) => variant.variant?.settings['--max-num-seqs'] ?? null)).toEqual([
      null,
      '128',
      '128',
      '256',
      '256',
      null,
    ]);
    checkAll(generated);
  });

  it('gives every variant the base recipe step in all fields but label, key and the run command', () => {
    const root = makeRoot({
      recipes: {
        'plain.yaml': recipe({ name: 'm', gpu: 'MI355X', numGpus: 4 }),
        'swept.yaml': recipe({ name: 'm', gpu: 'MI355X', numGpus: 4, extra: SWEEP }),
      },
    });
    const env = {
      WORKLOADS: 'plain,swept',
      VLLM_COMMIT: '0123456789abcdef0123456789abcdef01234567',
      NIGHTLY: '1',
    };
    const generated = generatePipeline({ root, env });
    const [base, ...variants] = generated.pipeline.steps as [CommandStep, ...CommandStep[]];
    expect(variants).toHaveLength(4);
    const strip = (step: CommandStep) => ({
      ...step,
      label: undefined,
      key: undefined,
      commands: [
        step.commands[0],
        step.commands[1]?.replace(/ --variant \S+$/, '').replace('swept.yaml', 'plain.yaml'),
      ],
    });
    for (const variant of variants) {
      expect(strip(variant)).toEqual(strip(base));
      expect(Object.keys(variant)).toEqual(Object.keys(base));
    }
    checkAll(generated);
  });

  it('runs the variant command in bash: the path and the variant name reach perf-eval verbatim', () => {
    const root = makeRoot({
      recipes: {
        'odd $x.yaml': recipe({
          name: 'n',
          extra: ['sweep:', '  serve_args:', "    --chat-template: ['a$b', 'c(d)']"].join('\n'),
        }),
      },
    });
    const generated = generatePipeline({ root, env: { WORKLOADS: 'odd $x' } });
    const run = (generated.pipeline.steps[0] as CommandStep).commands[1]?.split(' && ').at(-1) as string;
    const echoed = spawnSync('bash', ['-c', run.replace('./perf-eval run', 'printf "%s\\n"')], {
      encoding: 'utf8',
    });
    expect(echoed.stdout.split('\n').slice(0, 3)).toEqual([
      'workloads/odd $x.yaml',
      '--variant',
      'n--chat-template-a_b',
    ]);
    checkAll(generated);
  });

  it('keeps keys unique: sanitised suffixes that collide get a stable hash', () => {
    const root = makeRoot({
      recipes: {
        'c.yaml': recipe({
          name: 'c',
          extra: ['sweep:', '  serve_args:', '    --x: [a.b, a-b, q]'].join('\n'),
        }),
      },
    });
    const generated = generatePipeline({ root, env: { WORKLOADS: 'c' } });
    const keys = generated.pipeline.steps.map((step) => step.key);
    expect(keys[2]).toBe('wl-c--x-q');
    expect(keys[0]).toMatch(/^wl-c--x-a-b-[0-9a-f]{8}$/);
    expect(keys[1]).toMatch(/^wl-c--x-a-b-[0-9a-f]{8}$/);
    expect(new Set(keys).size).toBe(3);
    // Stable: the same recipe gives the same keys again.
    expect(
      generatePipeline({ root, env: { WORKLOADS: 'c' } }).pipeline.steps.map((step) => step.key),
    ).toEqual(keys);
    expect(assignStepKeys(generated.variants)).toEqual(keys);
    checkAll(generated);
  });

  it('shortens keys over 100 characters with a stable hash, still unique and schema-valid', () => {
    const stem = `s${'x'.repeat(60)}`;
    const long = [
      'sweep:',
      '  serve_args:',
      `    --${'very-long-flag-name-'.repeat(2)}a: [${Array.from({ length: 8 }, (_, i) => `value-number-${i}`).join(', ')}]`,
    ].join('\n');
    const root = makeRoot({ recipes: { [`${stem}.yaml`]: recipe({ name: 'long', extra: long }) } });
    const generated = generatePipeline({ root, env: { WORKLOADS: stem } });
    const keys = generated.pipeline.steps.map((step) => step.key);
    expect(keys).toHaveLength(8);
    for (const key of keys) {
      expect(key.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
      expect(key).toMatch(new RegExp(`^wl-${stem}--very-long-flag-name-.*-[0-9a-f]{8}$`));
    }
    expect(new Set(keys).size).toBe(8);
    expect(stepKeyFor(generated.variants[3] as never)).toBe(keys[3]);
    checkAll(generated);
  });

  it('expands 64 variants (the sweep bound); beyond 450 jobs the steps are split into schema-valid uploads', () => {
    const sweep64 = [
      'sweep:',
      '  serve_args:',
      '    --a: [1, 2, 3, 4, 5, 6, 7, 8]',
      '    --b: [1, 2, 3, 4, 5, 6, 7, 8]',
    ].join('\n');
    const recipes: Record<string, string> = {};
    for (let i = 0; i < 8; i++) recipes[`r${i}.yaml`] = recipe({ name: `r${i}`, extra: sweep64 });
    const root = makeRoot({ recipes });
    const seven = generatePipeline({ root, env: { WORKLOADS: 'r0,r1,r2,r3,r4,r5,r6' } });
    expect(seven.pipeline.steps).toHaveLength(448);
    expect(seven.uploads).toHaveLength(1);
    expect(seven.pipeline.steps[0]?.key).toBe('wl-r0--a-1--b-1');
    expect(seven.pipeline.steps[63]?.key).toBe('wl-r0--a-8--b-8');
    expect(lintPipeline(seven.pipeline, seven.lintContext)).toEqual([]);
    const eight = generatePipeline({ root, env: { WORKLOADS: 'r0,r1,r2,r3,r4,r5,r6,r7' } });
    expect(eight.pipeline.steps).toHaveLength(512);
    // As one document it would be refused by Buildkite …
    expect(lintPipeline(eight.pipeline, eight.lintContext).map((issue) => issue.rule)).toEqual(['max-jobs']);
    expect(UPLOAD_JOB_LIMIT).toBe(500);
    // … so it is uploaded as 450 + 62 steps, in order, each valid on its own and together.
    expect(eight.uploads.map((upload) => upload.steps.length)).toEqual([450, 62]);
    expect(eight.uploads.flatMap((upload) => upload.steps)).toEqual(eight.pipeline.steps);
    expect(eight.uploadYaml.map((text) => parse(text))).toEqual(eight.uploads);
    expect(checkUploads(eight.uploads, { schemaPath: SCHEMA_PATH, context: eight.lintContext })).toEqual([]);
  });

  it('escaped mode: the variant commands survive an upload with interpolation unchanged', () => {
    const root = makeRoot({ recipes: { 's.yaml': recipe({ name: 's$HOME', extra: SWEEP }) } });
    const verbatim = generatePipeline({ root, env: { WORKLOADS: 's' } });
    const escaped = generatePipeline({ root, env: { WORKLOADS: 's' }, mode: 'escaped' });
    expect(simulateUpload(escaped.yaml, { noInterpolation: false, env: { HOME: '/root' } })).toEqual(
      parse(verbatim.yaml),
    );
    expect(lintPipeline(escaped.pipeline, escaped.lintContext)).toEqual([]);
  });

  it('leaves recipes without a sweep byte-identical (the 13 upstream recipes)', () => {
    const generated = generatePipeline({ root: REPO_ROOT, env: {} });
    expect(generated.variants).toEqual(generated.workloads);
    expect(generated.pipeline.steps).toEqual(generated.workloads.map((workload) => buildStep(workload, {})));
    for (const step of generated.pipeline.steps) {
      expect(step.key).toBe(`wl-${step.commands[1]?.match(/run workloads\/(\w+)\.yaml$/)?.[1]}`);
      expect(step).not.toHaveProperty('parallelism');
    }
  });
});
