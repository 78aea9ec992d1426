import { resolve } from 'node:path';
import { loadWorkloadText } from './load.js';

const PROFILES = resolve(import.meta.dirname, '../../../../profiles/gpu_profiles.yaml');
const BASE = `gpu: H200
vllm:
  model: Qwen/Qwen3-8B
lm_eval:
  tasks:
    - name: gsm8k
`;

function load(gates: string) {
  return loadWorkloadText(`${BASE}${gates}`, '/recipes/workloads/gated.yaml', {
    profilesPath: PROFILES,
    env: {},
  });
}

describe('gates', () => {
  it('resolves accuracy gates (bare task names are lm_eval tasks, rtol defaults to 0.08) and fail_on', () => {
    const result = load(`gates:
  fail_on: regression
  accuracy:
    - task: gsm8k
      metric: exact_match,strict-match
      expected: 0.78
      wilson: true
    - task: bfcl:simple_python
      metric: acc,none
      expected: 0.9
      rtol: 0.02
`);
    expect(result.errors).toEqual([]);
    expect(result.workload?.gates).toEqual({
      failOn: 'regression',
      accuracy: [
        {
          task: 'lm_eval:gsm8k',
          metric: 'exact_match,strict-match',
          expected: 0.78,
          rtol: 0.08,
          wilson: true,
        },
        { task: 'bfcl:simple_python', metric: 'acc,none', expected: 0.9, rtol: 0.02, wilson: false },
      ],
    });
  });

  it('reports bad gates with the field and line', () => {
    const result = load(`gates:
  fail_on: noise
  accuracy:
    - task: gsm8k
      expected: -1
      rtol: 2
      colour: red
`);
    expect(result.errors.map((e) => `${e.line}: ${e.message}`)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^8: gates\.fail_on must be 'regression', got 'noise'/),
        expect.stringMatching(/gates\.accuracy\[0\]\.metric must be a non-empty string, got None/),
        expect.stringMatching(/^11: gates\.accuracy\[0\]\.expected must be a number >= 0, got -1/),
        expect.stringMatching(/^12: gates\.accuracy\[0\]\.rtol must be a number between 0 and 1, got 2/),
        expect.stringMatching(/unknown field .*colour/),
      ]),
    );
  });
});
