import { SIM_PROFILES, TINY_SIM_RECIPE } from '../../test/tiny-sim.js';
import { loadWorkloadText } from './load.js';
import { parseProfiles } from './profiles.js';
import type { ResolvedWorkload } from './resolve.js';
import { selectVariant, VariantSelectionError } from './sweep.js';

const SWEEP = `sweep:
  serve_args:
    --max-num-seqs: [128, 256]
`;
const NAMES = ['tiny-sim--max-num-seqs-128', 'tiny-sim--max-num-seqs-256'];

function workloadOf(text: string): ResolvedWorkload {
  const { workload, errors } = loadWorkloadText(text, 'workloads/tiny.yaml', {
    profiles: parseProfiles(SIM_PROFILES, 'gpu_profiles.yaml'),
    env: {},
  });
  expect(errors).toEqual([]);
  return workload as ResolvedWorkload;
}

describe('selectVariant', () => {
  const sweep = workloadOf(`${TINY_SIM_RECIPE}${SWEEP}`);
  const plain = workloadOf(TINY_SIM_RECIPE);

  it('picks the named variant; without a name the workload itself', () => {
    const chosen = selectVariant(sweep, NAMES[1], { file: 'tiny.yaml' });
    expect(chosen.name).toBe(NAMES[1]);
    expect(chosen.server.serveArgs).toContain('256');
    expect(selectVariant(sweep, undefined, { file: 'tiny.yaml' })).toBe(sweep);
    expect(selectVariant(plain, undefined, { file: 'tiny.yaml', required: true })).toBe(plain);
  });

  it('an unknown name lists the variants; a name without a sweep says so (usage errors, exit 2)', () => {
    const unknown = () => selectVariant(sweep, 'nope', { file: 'tiny.yaml', prefix: 'perf-eval plan: ' });
    expect(unknown).toThrow(VariantSelectionError);
    expect(unknown).toThrow(
      expect.objectContaining({
        code: 'E_VARIANT_UNKNOWN',
        category: 'usage',
        problem: 'unknown',
        variants: NAMES,
        message: `perf-eval plan: unknown variant 'nope'; tiny.yaml has 2: ${NAMES.join(', ')}`,
      }),
    );
    expect(() => selectVariant(plain, 'x', { file: 'tiny.yaml' })).toThrow(
      expect.objectContaining({
        code: 'E_VARIANT_NO_SWEEP',
        category: 'usage',
        message: "--variant 'x' given but tiny.yaml has no sweep: block",
      }),
    );
  });

  it('required: a sweep recipe without a name is refused, naming every variant', () => {
    expect(() =>
      selectVariant(sweep, undefined, { file: 'tiny.yaml', prefix: 'perf-eval run: ', required: true }),
    ).toThrow(
      expect.objectContaining({
        code: 'E_VARIANT_REQUIRED',
        message:
          'perf-eval run: tiny.yaml sweeps 2 variants and each needs its own server, so each is its own run ' +
          `(one pipeline step per variant); pick one with --variant NAME:\n  ${NAMES[0]}\n  ${NAMES[1]}`,
      }),
    );
  });
});
