import { readdirSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { PyValue } from '@perf-eval/util';
import { loadWorkloadFile } from './load.js';
import { loadYaml11 } from './yaml11.js';

/** Repository policy lints over workloads/*.yaml (recipe-compat.md §16, end; upstream's policy tests). */
const REPO = resolve(import.meta.dirname, '../../../..');
const WORKLOADS = resolve(REPO, 'workloads');
const PROFILES = resolve(REPO, 'profiles/gpu_profiles.yaml');
const FILES = readdirSync(WORKLOADS)
  .filter((name) => name.endsWith('.yaml'))
  .sort()
  .map((name) => resolve(WORKLOADS, name));

type RawMap = Record<string, PyValue>;

function raw(file: string): RawMap {
  const loaded = loadYaml11(readFileSync(file, 'utf8'));
  expect(loaded.errors).toEqual([]);
  return loaded.data as RawMap;
}

describe('workloads/ policy', () => {
  it('holds the recipes (at least the 13 vendored ones)', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(13);
  });

  it.each(FILES.map((f) => [basename(f), f]))('%s validates with no errors', (_name, file) => {
    const result = loadWorkloadFile(file, { profilesPath: PROFILES, env: {} });
    expect(result.errors).toEqual([]);
    expect(result.workload).toBeDefined();
  });

  it.each(FILES.map((f) => [basename(f), f]))(
    '%s starts with the yaml-language-server schema modeline',
    (_name, file) => {
      const firstLine = readFileSync(file, 'utf8').split('\n')[0];
      expect(firstLine).toBe('# yaml-language-server: $schema=./workload.schema.json');
    },
  );

  const h200 = FILES.filter((file) => raw(file)['gpu'] === 'H200');
  it('there are H200 recipes to check', () => {
    expect(h200.length).toBeGreaterThan(0);
  });

  it.each(h200.map((f) => [basename(f), f]))(
    '%s: every bench config has repetitions 3 and args.num_warmups == max_concurrency',
    (_name, file) => {
      const bench = raw(file)['vllm_bench'] as RawMap | undefined;
      const configs = (bench?.['configs'] ?? []) as RawMap[];
      for (const config of configs) {
        const label = `${basename(file)} config ${String(config['name'])}`;
        expect(config['repetitions'], label).toBe(3);
        const args = (config['args'] ?? {}) as RawMap;
        expect(args['num_warmups'], label).toEqual(config['max_concurrency']);
      }
    },
  );

  it.each(['deepseek_v4_pro_5_h200', 'glm_5_1_h200'])('%s has timeout_in_minutes: 180', (stem) => {
    expect(raw(resolve(WORKLOADS, `${stem}.yaml`))['timeout_in_minutes']).toBe(180);
  });
});
