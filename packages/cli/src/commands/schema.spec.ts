import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { captureIo } from '../../test/capture-io.js';
import { run } from '../lib/main.js';

const COMMITTED = resolve(import.meta.dirname, '../../../../workloads/workload.schema.json');

async function runSchema(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { io, stdout, stderr } = captureIo({ cwd: import.meta.dirname });
  const code = await run(['schema', ...argv], io);
  return { code, stdout: stdout(), stderr: stderr() };
}

describe('perf-eval schema', () => {
  it('prints exactly the committed workloads/workload.schema.json', async () => {
    const { code, stdout, stderr } = await runSchema([]);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(
      stdout,
      'workloads/workload.schema.json is stale: run `npm run schema:write` (after building the cli) and commit it',
    ).toBe(readFileSync(COMMITTED, 'utf8'));
  });

  it('is a strict object schema with the recipe blocks', async () => {
    const schema = JSON.parse((await runSchema([])).stdout) as {
      type: string;
      properties: Record<string, unknown>;
      additionalProperties: boolean;
      required: string[];
    };
    expect(schema.type).toBe('object');
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['gpu', 'vllm', 'lm_eval', 'vllm_bench', 'bfcl']),
    );
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(expect.arrayContaining(['gpu', 'vllm']));
  });

  it('takes no positional arguments', async () => {
    const { code, stdout, stderr } = await runSchema(['extra']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^perf-eval schema: Unexpected argument 'extra'/);
  });

  it('--help prints usage', async () => {
    const { code, stdout } = await runSchema(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: perf-eval schema/);
  });
});
