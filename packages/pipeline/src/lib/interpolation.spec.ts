import { makeRoot, recipe } from '../../test/helpers.js';
import { generatePipeline } from './generate.js';
import {
  escapeDeep,
  escapeDollars,
  findUnescapedDollars,
  interpolate,
  simulateUpload,
} from './interpolation.js';
import { lintPipeline } from './lint.js';

const BOOTSTRAP_ENV = { HOME: '/home/bootstrap', PATH: '/bootstrap/bin', TAG: 't1' };

describe('interpolate (Buildkite upload-time semantics)', () => {
  it.each([
    ['$HOME/x', '/home/bootstrap/x'],
    ['${HOME}/x', '/home/bootstrap/x'],
    ['${NOPE:-dflt}', 'dflt'],
    ['${TAG:-dflt}', 't1'],
    ['${NOPE-d}', 'd'],
    ['$NOPE|', '|'],
    ['$$HOME $$(id)', '$HOME $(id)'],
    ['\\$HOME', '$HOME'],
    ['$(id) $1 a$', '$(id) $1 a$'],
  ])('%s → %s', (text, expected) => {
    expect(interpolate(text, BOOTSTRAP_ENV)).toBe(expected);
  });

  it('rejects ${NAME:?} for an unset name and an unterminated ${', () => {
    expect(() => interpolate('${NOPE:?must be set}', {})).toThrow('interpolation: NOPE: must be set');
    expect(() => interpolate('${HOME', {})).toThrow(/unterminated/);
  });

  it('escapeDollars is undone by interpolation, for any text', () => {
    for (const text of ['$HOME', '$(id)', '$$', '${X:-y}', 'a$', 'a\\b$', 'plain'])
      expect(interpolate(escapeDollars(text), BOOTSTRAP_ENV)).toBe(text);
    // A backslash right before '$' is itself an escape in Buildkite: not representable, so the lint flags it.
    expect(interpolate(escapeDollars('\\$x'), BOOTSTRAP_ENV)).not.toBe('\\$x');
    expect(findUnescapedDollars(escapeDollars('a\\$x'))).toEqual(['\\$$']);
    expect(escapeDeep({ k$: ['$a', 1, { b: '$' }] })).toEqual({ k$$: ['$$a', 1, { b: '$$' }] });
  });

  it('finds the single $ that interpolation would consume', () => {
    expect(findUnescapedDollars('$$HOME $(id) ${A} $B $$ $1 a$')).toEqual(['$(id)', '${A}', '$B']);
  });
});

describe('recipe and env values survive the upload literally', () => {
  const NAME = 'n-$HOME-$(id)';
  const IMAGE = 'registry.example/vllm:$HOME-$(id)';
  const setup = () =>
    makeRoot({ recipes: { 'dollar_$HOME.yaml': recipe({ name: NAME, gpu: 'B200', nightly: true }) } });
  const env = { VLLM_IMAGE: IMAGE, VLLM_COMMIT: '$(id)', H200_QUEUE: 'q-$HOME' };

  it('verbatim YAML uploaded with --no-interpolation (the bootstrap) arrives unchanged', () => {
    const generated = generatePipeline({ root: setup(), env });
    const uploaded = simulateUpload(generated.yaml, { noInterpolation: true, env: BOOTSTRAP_ENV }) as {
      steps: Array<Record<string, any>>;
    }; // eslint-disable-line @typescript-eslint/no-explicit-any
    const [step] = uploaded.steps;
    expect(step?.['label']).toBe(`:b200: ${NAME}`);
    expect(step?.['env']).toEqual({ VLLM_IMAGE: IMAGE, VLLM_COMMIT: '$(id)' });
    expect(step?.['plugins'][0].kubernetes.podSpec.containers[0].image).toBe(IMAGE);
    expect(step?.['commands'][1]).toContain("./perf-eval run 'workloads/dollar_$HOME.yaml'");
    expect(step?.['commands'][1]).toContain('"$(buildkite-agent secret get INGEST_BEARER_TOKEN)"');
    expect(uploaded).toEqual(JSON.parse(JSON.stringify(generated.pipeline)));
  });

  it('escaped YAML ($$) uploaded WITH interpolation arrives as the verbatim document', () => {
    const verbatim = generatePipeline({ root: setup(), env });
    const escaped = generatePipeline({ root: setup(), env, mode: 'escaped' });
    expect(escaped.yaml).toContain('$$HOME');
    expect(simulateUpload(escaped.yaml, { noInterpolation: false, env: BOOTSTRAP_ENV })).toEqual(
      JSON.parse(JSON.stringify(verbatim.pipeline)),
    );
    expect(lintPipeline(escaped.pipeline, escaped.lintContext)).toEqual([]);
  });

  it('control: the verbatim YAML uploaded WITH interpolation is corrupted (upstream D24)', () => {
    const generated = generatePipeline({ root: setup(), env });
    const uploaded = simulateUpload(generated.yaml, { noInterpolation: false, env: BOOTSTRAP_ENV }) as {
      steps: Array<Record<string, any>>;
    }; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(uploaded.steps[0]?.['label']).toBe(':b200: n-/home/bootstrap-$(id)');
    expect(uploaded.steps[0]?.['commands'][1]).toContain('/bootstrap/bin');
    // …which is exactly what the escaped-mode lint reports.
    expect(
      lintPipeline(generated.pipeline, { ...generated.lintContext, mode: 'escaped' }).map(
        (issue) => issue.rule,
      ),
    ).toContain('interpolation');
  });
});
