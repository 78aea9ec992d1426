/**
 * Property-based tests of the loader (fast-check): whatever the input — random text, YAML token soup,
 * alias bombs, deep nesting, mutated real recipes — loading returns diagnostics or a valid recipe. It
 * never throws an untyped error, never hangs and never blows the heap or the stack (a run that did
 * would time out or crash this test). Speed and memory figures: bench/hostile.mjs.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { loadWorkloadText, type LoadResult } from './load.js';
import { loadProfiles } from './profiles.js';
import { loadYaml11, MAX_NESTING_DEPTH } from './yaml11.js';

const REPO = resolve(import.meta.dirname, '../../../..');
const profiles = loadProfiles(resolve(REPO, 'profiles/gpu_profiles.yaml'));
const DEMO = readFileSync(resolve(REPO, 'workloads/demo_sim.yaml'), 'utf8');

/** Load as a recipe; a result must be either diagnostics (each with a real position) or a workload. */
function check(text: string): LoadResult {
  const result = loadWorkloadText(text, 'fuzz.yaml', { profiles, env: {} });
  if (result.workload) {
    expect(result.errors).toEqual([]);
  } else {
    expect(result.errors.length).toBeGreaterThan(0);
    for (const error of result.errors) {
      expect(error.line).toBeGreaterThanOrEqual(1);
      expect(error.col).toBeGreaterThanOrEqual(1);
      expect(error.message).not.toMatch(/\n/);
    }
  }
  return result;
}

const FRAGMENTS = [
  '&a ',
  '&b ',
  '*a',
  '*b',
  '[',
  ']',
  '{',
  '}',
  ': ',
  '- ',
  '? ',
  '\n',
  '  ',
  '<<: ',
  '<<: *a',
  '"',
  "'",
  '# c',
  ',',
  'gpu',
  'H200',
  'SIM',
  'vllm',
  'model',
  'name',
  '..',
  'x',
  '1',
  '-1',
  '0x1F',
  '1e5',
  '.inf',
  'yes',
  'null',
  '~',
  '---',
  '...',
  '|',
  '>-',
  '!!str ',
  '!!binary ',
  '!x ',
  '%YAML 1.1\n',
  '\t',
  '\u001b[31m',
  '\u0000',
  'é',
  '\ud83d\ude00',
  'timeout_in_minutes',
  '99999999',
];
const soup = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 80 }).map((parts) => parts.join(''));

describe('loader properties (fast-check)', () => {
  it('any string: diagnostics or a recipe, never a throw', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => void check(text)),
      { numRuns: 300 },
    );
  });

  it('YAML token soup: diagnostics or a recipe, never a throw', () => {
    fc.assert(
      fc.property(soup, (text) => void check(text)),
      { numRuns: 500 },
    );
  }, 120_000);

  it('a real recipe with a fragment spliced in anywhere: diagnostics or a recipe', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: DEMO.length }),
        soup,
        (at, fragment) => void check(DEMO.slice(0, at) + fragment + DEMO.slice(at)),
      ),
      { numRuns: 150 },
    );
  }, 120_000);

  it('alias bombs of any width and depth are refused or small enough to expand', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 1, max: 12 }), (width, levels) => {
        const lines = [`l0: &l0 [${Array(width).fill('"x"').join(',')}]`];
        for (let i = 1; i <= levels; i++)
          lines.push(
            `l${i}: &l${i} [${Array(width)
              .fill(`*l${i - 1}`)
              .join(',')}]`,
          );
        const loaded = loadYaml11(lines.join('\n'));
        // Expanded size: width^(levels+1) leaves; refused once past the limit.
        if (width ** (levels + 1) > 20_000)
          expect(loaded.errors[0]?.message).toMatch(/^aliases expand to more than|^nested deeper than/);
        check(lines.join('\n'));
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it('nesting of any depth and bracket mix: accepted up to the limit, refused beyond', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('[', '{a: ', '- '), { minLength: 1, maxLength: 3000 }),
        (opens) => {
          // Block "- " only nests at the start of a line; put flow openers after it.
          const block = opens.filter((o) => o === '- ');
          const flow = opens.filter((o) => o !== '- ');
          const closes = flow.map((o) => (o === '[' ? ']' : '}')).reverse();
          const text = `${block.join('')}${flow.join('')}1${closes.join('')}\n`;
          const loaded = loadYaml11(text);
          const depth = opens.length;
          if (depth > MAX_NESTING_DEPTH + 1)
            expect(loaded.errors.map((e) => e.message)).toEqual([
              expect.stringMatching(/^nested deeper than 64 levels/),
            ]);
          if (depth < MAX_NESTING_DEPTH - 1) expect(loaded.errors).toEqual([]);
        },
      ),
      { numRuns: 200 },
    );
  }, 120_000);
});
