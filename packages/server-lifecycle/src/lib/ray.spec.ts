import { buildRayArgv, DEFAULT_RAY_PORT, RAY_EXECUTOR_FLAG } from './ray.js';

describe('buildRayArgv', () => {
  it('head: ray start --head --port <port> --block', () => {
    expect(buildRayArgv({ role: 'head' })).toEqual([
      'ray',
      'start',
      '--head',
      '--port',
      String(DEFAULT_RAY_PORT),
      '--block',
    ]);
    expect(buildRayArgv({ role: 'head', port: 6380, numGpus: 8, ray: '/opt/ray/bin/ray' })).toEqual([
      '/opt/ray/bin/ray',
      'start',
      '--head',
      '--port',
      '6380',
      '--num-gpus',
      '8',
      '--block',
    ]);
  });

  it('worker: ray start --address <head>:<port> --block', () => {
    expect(buildRayArgv({ role: 'worker', headAddress: '10.0.0.1' })).toEqual([
      'ray',
      'start',
      '--address',
      '10.0.0.1:6379',
      '--block',
    ]);
    expect(buildRayArgv({ role: 'worker', headAddress: 'node-a', port: 6380, numGpus: 4 })).toEqual([
      'ray',
      'start',
      '--address',
      'node-a:6380',
      '--num-gpus',
      '4',
      '--block',
    ]);
  });

  it('keeps a port already in headAddress (also bracketed IPv6)', () => {
    expect(buildRayArgv({ role: 'worker', headAddress: '10.0.0.1:7000', port: 6380 })).toContain(
      '10.0.0.1:7000',
    );
    expect(buildRayArgv({ role: 'worker', headAddress: '[fd00::1]:7000' })).toContain('[fd00::1]:7000');
    expect(buildRayArgv({ role: 'worker', headAddress: '[fd00::1]' })).toContain('[fd00::1]:6379');
  });

  it('rejects a worker without a head, bad ports, bad GPU counts and unknown roles', () => {
    expect(() => buildRayArgv({ role: 'worker' })).toThrow(
      'buildRayArgv: headAddress is required for a worker node',
    );
    expect(() => buildRayArgv({ role: 'worker', headAddress: '  ' })).toThrow('headAddress is required');
    expect(() => buildRayArgv({ role: 'head', port: 0 })).toThrow(
      'buildRayArgv: port must be an integer between 1 and 65535, got 0',
    );
    expect(() => buildRayArgv({ role: 'head', port: 6379.5 })).toThrow('port must be an integer');
    expect(() => buildRayArgv({ role: 'head', numGpus: -1 })).toThrow(
      'numGpus must be an integer between 0 and 1024, got -1',
    );
    expect(() => buildRayArgv({ role: 'both' as 'head' })).toThrow(
      "buildRayArgv: role must be 'head' or 'worker', got 'both'",
    );
  });

  it('RAY_EXECUTOR_FLAG is the vllm serve flag pair, frozen', () => {
    expect(RAY_EXECUTOR_FLAG).toEqual(['--distributed-executor-backend', 'ray']);
    expect(Object.isFrozen(RAY_EXECUTOR_FLAG)).toBe(true);
  });
});
