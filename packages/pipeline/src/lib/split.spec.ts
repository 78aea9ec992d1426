/** Large selections: several uploads of at most 450 jobs (gpu-time.md §4, issue 15 item 6). */
import { parse } from 'yaml';
import { makeRoot, SCHEMA_PATH } from '../../test/helpers.js';
import { generatePipeline } from './generate.js';
import { jobCount } from './lint.js';
import { JOBS_PER_UPLOAD, splitPipeline, uploadFileNames } from './split.js';
import type { CommandStep, Pipeline } from './types.js';
import { checkUploads } from './validate.js';

const BENCH = [
  'vllm_bench:',
  '  configs:',
  '    - {name: short, input_len: 128, output_len: 16, num_prompts: 8, max_concurrency: 4}',
];

/** Steps with the given job counts (1 = no parallelism), keys s0, s1, …; only what splitting reads. */
function steps(counts: readonly number[]): Pipeline {
  return {
    steps: counts.map(
      (count, i) =>
        ({ key: `s${i}`, ...(count > 1 ? { parallelism: count } : {}) }) as unknown as CommandStep,
    ),
  };
}

const keysOf = (uploads: Pipeline[]) => uploads.map((upload) => upload.steps.map((step) => step.key));
const jobsOf = (uploads: Pipeline[]) =>
  uploads.map((upload) => upload.steps.reduce((sum, step) => sum + jobCount(step), 0));

describe('splitPipeline', () => {
  it('keeps up to 450 jobs in one upload and starts the next one at job 451, in order', () => {
    expect(JOBS_PER_UPLOAD).toBe(450);
    expect(splitPipeline(steps(Array(450).fill(1)))).toHaveLength(1);
    const uploads = splitPipeline(steps(Array(1001).fill(1)));
    expect(jobsOf(uploads)).toEqual([450, 450, 101]);
    expect(keysOf(uploads).flat()).toEqual(Array.from({ length: 1001 }, (_, i) => `s${i}`));
  });

  it('counts parallelism and never splits a step across uploads', () => {
    // 448 single jobs, then a 3-node step: 451 > 450, so the 3-node step opens upload 2.
    const uploads = splitPipeline(steps([...Array(448).fill(1), 3, 1, 2]));
    expect(jobsOf(uploads)).toEqual([448, 6]);
    expect(keysOf(uploads)[1]).toEqual(['s448', 's449', 's450']);
    expect(jobsOf(splitPipeline(steps([2, 2, 2]), 4))).toEqual([4, 2]);
    // A step larger than the budget still gets an upload of its own (the job-limit lint reports it if > 500).
    expect(jobsOf(splitPipeline(steps([1, 600, 1])))).toEqual([1, 600, 1]);
  });

  it('jobCount: parallelism when it is an integer > 1, else 1', () => {
    expect([{}, { parallelism: 1 }, { parallelism: 4 }, { parallelism: '4' }, null].map(jobCount)).toEqual([
      1, 1, 4, 1, 1,
    ]);
  });
});

describe('uploadFileNames', () => {
  it('keeps the name for one upload and numbers several before the extension', () => {
    expect(uploadFileNames('pipeline.generated.yaml', 1)).toEqual(['pipeline.generated.yaml']);
    expect(uploadFileNames('pipeline.generated.yaml', 3)).toEqual([
      'pipeline.generated.1.yaml',
      'pipeline.generated.2.yaml',
      'pipeline.generated.3.yaml',
    ]);
    expect(uploadFileNames('out/p.json', 2)).toEqual(['out/p.1.json', 'out/p.2.json']);
    expect(uploadFileNames('a.b/pipeline', 2)).toEqual(['a.b/pipeline.1', 'a.b/pipeline.2']);
  });
});

describe('checkUploads', () => {
  it('splits multi-node sweeps by jobs: 4 recipes × 64 variants × 2 nodes = 512 jobs in 256 steps', () => {
    const sweep64 = [
      'sweep:',
      '  serve_args:',
      '    --a: [1, 2, 3, 4, 5, 6, 7, 8]',
      '    --b: [1, 2, 3, 4, 5, 6, 7, 8]',
    ];
    const recipes: Record<string, string> = {};
    for (let i = 0; i < 4; i++) {
      recipes[`m${i}.yaml`] = [
        `name: m${i}`,
        'gpu: B200',
        'num_gpus: 8',
        'vllm:',
        '  model: org/model',
        '  num_nodes: 2',
        ...BENCH,
        ...sweep64,
        '',
      ].join('\n');
    }
    const generated = generatePipeline({ root: makeRoot({ recipes }), env: { WORKLOADS: 'm0,m1,m2,m3' } });
    expect(generated.pipeline.steps).toHaveLength(256);
    expect(generated.uploads.map((upload) => upload.steps.length)).toEqual([225, 31]);
    expect(jobsOf(generated.uploads)).toEqual([450, 62]);
    expect(
      checkUploads(generated.uploads, { schemaPath: SCHEMA_PATH, context: generated.lintContext }),
    ).toEqual([]);
    expect(generated.uploadYaml.map((text) => parse(text))).toEqual(generated.uploads);
  });

  it('keys are unique across uploads; depends_on may name earlier uploads, not later ones', () => {
    const generated = generatePipeline({
      root: makeRoot({
        recipes: {
          'a.yaml': ['gpu: H200', 'vllm:', '  model: org/a', ...BENCH, ''].join('\n'),
          'b.yaml': ['gpu: H200', 'vllm:', '  model: org/b', ...BENCH, ''].join('\n'),
        },
      }),
      env: { WORKLOADS: 'a,b' },
    });
    const [a, b] = generated.pipeline.steps as [CommandStep, CommandStep];
    expect(
      checkUploads([{ steps: [a] }, { steps: [b] }], {
        schemaPath: SCHEMA_PATH,
        context: generated.lintContext,
      }),
    ).toEqual([]);
    const duplicate = checkUploads([{ steps: [a] }, { steps: [{ ...b, key: a.key }] }], {
      context: generated.lintContext,
    });
    expect(duplicate.map((issue) => [issue.rule, issue.upload, issue.message])).toEqual([
      ['unique-key', 1, "upload 2/2: steps[0]: key 'wl-a' is already used in upload 1"],
    ]);
    const forward = checkUploads(
      [{ steps: [{ ...a, depends_on: b.key }] }, { steps: [{ ...b, depends_on: a.key }] }],
      { context: generated.lintContext },
    );
    expect(forward.map((issue) => issue.message)).toEqual([
      "upload 1/2: steps[0] (:h200: a): depends_on 'wl-b' names no step in this upload, an earlier one or .buildkite/pipeline.yaml",
    ]);
  });
});
