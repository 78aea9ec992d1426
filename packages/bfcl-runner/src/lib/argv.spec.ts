import { bfclWorkDir, buildBfclArgv } from './argv.js';
import type { BfclRunSpec } from './argv.js';
import { bfclEnv } from './run.js';
import { warnMissingToolCallParser } from './warn.js';

const spec: BfclRunSpec = {
  category: 'multi_turn',
  model: 'openai/gpt-oss-120b',
  baseUrl: 'http://localhost:8123',
  numThreads: 16,
  temperature: '0.001',
  resultsDir: 'results/gpt-oss-120b-h200',
};

describe('buildBfclArgv', () => {
  it('builds the exact driver argv', () => {
    expect(buildBfclArgv(spec, { python: '/venv/bin/python', driverPath: '/cache/bfcl_driver.py' })).toEqual([
      '/venv/bin/python',
      '/cache/bfcl_driver.py',
      '--model',
      'openai/gpt-oss-120b',
      '--base-url',
      'http://localhost:8123',
      '--category',
      'multi_turn',
      '--num-threads',
      '16',
      '--temperature',
      '0.001',
      '--results-dir',
      'results/gpt-oss-120b-h200',
    ]);
  });

  it('appends the step limit and max test cases only when set', () => {
    const argv = buildBfclArgv(
      { ...spec, maximumStepLimit: 5, maxTestCases: 240, temperature: '0.0' },
      { python: 'py', driverPath: 'd.py' },
    );
    expect(argv.slice(10)).toEqual([
      '--temperature',
      '0.0',
      '--results-dir',
      'results/gpt-oss-120b-h200',
      '--maximum-step-limit',
      '5',
      '--max-test-cases',
      '240',
    ]);
    expect(
      buildBfclArgv({ ...spec, maxTestCases: 3 }, { python: 'py', driverPath: 'd.py' }).slice(-2),
    ).toEqual(['--max-test-cases', '3']);
  });
});

describe('bfclWorkDir / bfclEnv', () => {
  it('uses one absolute work dir per category (D4)', () => {
    expect(bfclWorkDir('results/x', 'live', '/work')).toBe('/work/results/x/.bfcl_work/live');
    expect(bfclWorkDir('/abs/results/x', 'simple_python', '/work')).toBe(
      '/abs/results/x/.bfcl_work/simple_python',
    );
  });

  it('sets the BFCL variables on top of the given env; bare hostname (D32); dummy key only when unset', () => {
    const env = bfclEnv(spec, { PATH: '/bin', LOCAL_SERVER_PORT: '1', EMPTY: undefined }, '/work');
    expect(env).toEqual({
      PATH: '/bin',
      BFCL_PROJECT_ROOT: '/work/results/gpt-oss-120b-h200/.bfcl_work/multi_turn',
      OPENAI_BASE_URL: 'http://localhost:8123/v1',
      OPENAI_API_KEY: 'dummy',
      LOCAL_SERVER_ENDPOINT: 'localhost',
      LOCAL_SERVER_PORT: '8123',
      PYTHONUNBUFFERED: '1',
      PYTHONIOENCODING: 'utf-8',
    });
    expect(
      bfclEnv({ ...spec, baseUrl: 'http://127.0.0.1:9000/' }, { OPENAI_API_KEY: 'sk-real' }).OPENAI_BASE_URL,
    ).toBe('http://127.0.0.1:9000/v1');
    expect(bfclEnv(spec, { OPENAI_API_KEY: 'sk-real' }).OPENAI_API_KEY).toBe('sk-real');
    expect(bfclEnv({ ...spec, baseUrl: 'http://[::1]:8000' }, {}).LOCAL_SERVER_ENDPOINT).toBe('::1');
  });
});

describe('warnMissingToolCallParser', () => {
  it('warns without --tool-call-parser', () => {
    expect(
      warnMissingToolCallParser(['--max-model-len', '8192', '--enable-auto-tool-choice'], 'workloads/x.yaml'),
    ).toBe(
      'WARNING: workloads/x.yaml: bfcl without --tool-call-parser in serve_args; some models may need it for function-calling',
    );
    expect(warnMissingToolCallParser([])).toMatch(/^WARNING: <recipe>: bfcl without --tool-call-parser/);
  });

  it('is silent with --tool-call-parser in either form', () => {
    expect(
      warnMissingToolCallParser(['--enable-auto-tool-choice', '--tool-call-parser', 'openai']),
    ).toBeUndefined();
    expect(warnMissingToolCallParser(['--tool-call-parser=hermes'])).toBeUndefined();
  });
});
