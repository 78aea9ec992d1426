import { parse } from 'yaml';
import { REPO_ROOT, SHA } from '../../test/helpers.js';
import { generatePipeline } from './generate.js';
import { emitYaml, yamlScalar } from './yaml-emit.js';

const TRICKY = [
  '',
  ' ',
  'yes',
  'No',
  'on',
  'OFF',
  'y',
  'N',
  '~',
  'null',
  'Null',
  'true',
  'FALSE',
  '0',
  '-1',
  '0x1F',
  '0o17',
  '1e3',
  '1_000',
  '.inf',
  '.NaN',
  '-',
  '- a',
  ': a',
  'a: b',
  'a:b',
  'a #b',
  '#x',
  "it's",
  '"q"',
  '\\',
  'tab\there',
  'new\nline',
  'cr\r',
  '\u2028',
  '\u0085',
  '\u007f',
  '\ufeff',
  'é',
  '😀',
  '@x',
  '`x',
  '*x',
  '&x',
  '!x',
  '|',
  '>',
  '%x',
  '[a]',
  '{a}',
  ' lead',
  'trail ',
  'a,b',
  'a?b',
  '?x',
  '<<',
  '=',
  '2024-01-01',
  '12:30',
  '1:2:3',
  'nvidia.com/gpu',
  'results/**/*',
  '/dev/shm',
  '$HOME',
  '$(id)',
  '$$',
  ':h200: x',
  "echo '~~~ x' && y",
];

function roundTrips(value: Record<string, unknown>): void {
  const text = emitYaml(value);
  expect(parse(text)).toEqual(value);
  expect(parse(text, { version: '1.1' })).toEqual(value);
}

describe('emitYaml', () => {
  it('round-trips tricky strings as values, keys and list items under YAML 1.2 and 1.1', () => {
    for (const text of TRICKY)
      roundTrips({ [text]: text, list: [text, { k: text }], nested: { inner: [[text]] } });
  });

  it('round-trips random strings (deterministic)', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = 'aZ09 _-.:/#\'"\\$(){}[]*&!|>%@`,?=~\t\n\u00e9\u2028';
    for (let i = 0; i < 300; i++) {
      const text = Array.from(
        { length: Math.floor(random() * 12) },
        () => alphabet[Math.floor(random() * alphabet.length)],
      ).join('');
      roundTrips({ v: text, [`k${text}`]: [text] });
    }
  });

  it('round-trips every generated pipeline, numbers, booleans and empty collections included', () => {
    for (const env of [
      {},
      { VLLM_IMAGE: `vllm/vllm-openai:nightly-${SHA}`, VLLM_COMMIT: SHA, BENCH_ONLY: '1', NIGHTLY: '1' },
    ]) {
      for (const mode of ['verbatim', 'escaped'] as const) {
        const { pipeline, yaml } = generatePipeline({ root: REPO_ROOT, env, mode });
        expect(parse(yaml)).toEqual(JSON.parse(JSON.stringify(pipeline)));
      }
    }
    roundTrips({ a: 1, b: -1, c: 1.5, d: true, e: false, f: {}, g: [], h: [{}, [], 0] });
  });

  it('writes readable block YAML: plain where safe, quoted where not', () => {
    expect(
      emitYaml({
        steps: [
          { label: ':h200: x', agents: { queue: 'H200' }, artifact_paths: ['results/**/*'], emptyDir: {} },
        ],
      }),
    ).toBe(
      [
        'steps:',
        "  - label: ':h200: x'",
        '    agents:',
        '      queue: H200',
        '    artifact_paths:',
        '      - results/**/*',
        '    emptyDir: {}',
        '',
      ].join('\n'),
    );
    expect(yamlScalar('0')).toBe("'0'");
    expect(yamlScalar('yes')).toBe("'yes'");
    expect(yamlScalar("it's")).toBe('"it\'s"');
    expect(() => yamlScalar(Number.NaN)).toThrow('cannot emit non-finite number NaN');
  });
});
