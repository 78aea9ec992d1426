import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ToolError } from '@perf-eval/util';
import { FAKE_BIN, readJsonl, rejection, tempDir } from '../../test/helpers.js';
import { formatSortedJson } from './aggregate.js';
import type { BenchRunSpec } from './argv.js';
import {
  BenchCancelledError,
  BenchDatasetError,
  BenchFailedError,
  BenchIncompleteError,
  BenchResultMissingError,
  BenchSpecError,
  BenchTimeoutError,
} from './errors.js';
import { runBench } from './run.js';
import type { RunBenchOptions } from './run.js';

interface VllmCall {
  argv: string[];
  pid: number;
  hasOpenaiKey: boolean;
}

const target = { host: '127.0.0.1', port: 8123 };

function spec(overrides: Partial<BenchRunSpec> = {}): BenchRunSpec {
  return {
    runName: '1k-in-128-out-conc-2',
    model: 'facebook/opt-125m',
    dataset: 'random',
    inputLen: 1024,
    outputLen: 128,
    numPrompts: 8,
    maxConcurrency: 2,
    repetitions: 1,
    extraArgs: {},
    trustRemoteCode: false,
    ...overrides,
  };
}

async function setup(mode?: string, modeOn?: string) {
  const dir = await tempDir();
  const resultsDir = join(dir, 'results', 'opt');
  const vllmLog = join(dir, 'vllm.jsonl');
  const dockerLog = join(dir, 'docker.jsonl');
  const dockerRoot = join(dir, 'containers');
  vi.stubEnv('PATH', `${FAKE_BIN}:${process.env['PATH'] ?? ''}`);
  vi.stubEnv('FAKE_VLLM_LOG', vllmLog);
  vi.stubEnv('FAKE_DOCKER_LOG', dockerLog);
  vi.stubEnv('FAKE_DOCKER_ROOT', dockerRoot);
  vi.stubEnv('FAKE_VLLM_BENCH_MODE', mode ?? 'ok');
  vi.stubEnv('FAKE_VLLM_BENCH_MODE_ON', modeOn ?? '');
  onTestFinished(() => {
    vi.unstubAllEnvs();
  });
  const lines: string[] = [];
  const output: string[] = [];
  const options: RunBenchOptions = {
    resultsDir,
    target,
    executor: { kind: 'native' },
    print: (line) => lines.push(line),
    onOutput: (line) => output.push(line),
  };
  return {
    dir,
    resultsDir,
    dockerRoot,
    lines,
    output,
    options,
    vllmCalls: () => readJsonl<VllmCall>(vllmLog),
    dockerCalls: () => readJsonl<string[]>(dockerLog),
  };
}

const HEADER =
  '--- :stopwatch: vllm bench serve 1k-in-128-out-conc-2 (dataset=random isl=1024 osl=128 conc=2 n=8 repetitions=';

describe('runBench, native executor (fake vllm)', () => {
  it('single repetition writes bench-<run>.json directly and prints the §12.7 lines', async () => {
    const t = await setup();
    const outcome = await runBench(spec(), t.options);
    const file = join(t.resultsDir, 'bench-1k-in-128-out-conc-2.json');
    expect(outcome.runName).toBe('1k-in-128-out-conc-2');
    expect(outcome.resultFile).toBe(file);
    expect(outcome.repetitionFiles).toEqual([file]);
    expect(outcome.counts).toEqual([{ completed: 8, failed: 0, expected: 8 }]);
    expect(outcome.result.completed).toBe(8);
    expect(outcome.result.max_concurrency).toBe(2);
    expect(outcome.result.model_id).toBe('facebook/opt-125m');
    expect(outcome.nonFiniteKeys).toEqual([]);
    expect(t.lines).toEqual([`${HEADER}1)`, `  saved ${file}`]);
    expect(t.output).toContain('============ Serving Benchmark Result ============');
    const calls = await t.vllmCalls();
    expect(calls.map((call) => call.argv)).toEqual([
      [
        'bench',
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        '8123',
        '--model',
        'facebook/opt-125m',
        '--dataset-name',
        'random',
        '--num-prompts',
        '8',
        '--max-concurrency',
        '2',
        '--random-input-len',
        '1024',
        '--random-output-len',
        '128',
        '--ignore-eos',
        '--save-result',
        '--result-filename',
        resolve(file),
      ],
    ]);
    // The raw single-line file from vllm is left as written.
    const text = await readFile(file, 'utf8');
    expect(text.startsWith('{"date": "20260816-160853", "endpoint_type": "openai"')).toBe(true);
  });

  it('3 repetitions: per-run files, median aggregate sorted with 2-space indent, exact console lines', async () => {
    const t = await setup();
    const outcome = await runBench(
      spec({ repetitions: 3, backend: 'openai-chat', extraArgs: { 'num-warmups': 2 } }),
      t.options,
    );
    const runFiles = [1, 2, 3].map((r) => join(t.resultsDir, `bench-1k-in-128-out-conc-2-run-${r}.json`));
    const file = join(t.resultsDir, 'bench-1k-in-128-out-conc-2.json');
    expect(t.lines).toEqual([
      `${HEADER}3)`,
      '  repetition 1/3',
      '  repetition 2/3',
      '  repetition 3/3',
      `  median aggregate: 3 repetitions -> ${file}`,
      `  saved ${file}`,
    ]);
    expect(outcome.repetitionFiles).toEqual(runFiles);
    expect(outcome.counts).toHaveLength(3);
    const calls = await t.vllmCalls();
    expect(calls.map((call) => call.argv.slice(2, 8))).toEqual(
      Array(3).fill([
        '--backend',
        'openai-chat',
        '--base-url',
        'http://127.0.0.1:8123',
        '--endpoint',
        '/v1/chat/completions',
      ]),
    );
    expect(calls.map((call) => call.argv.at(-1))).toEqual(runFiles.map((f) => resolve(f)));
    expect(calls[0]?.argv.slice(-5, -3)).toEqual(['--num-warmups', '2']);

    const runs = await Promise.all(
      runFiles.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as Record<string, number>),
    );
    // The fake varies metrics by invocation (×1.3, ×0.7, ×1.0): the median is run 3's value.
    expect(runs.map((r) => r['mean_ttft_ms'])).toEqual([260, 140, 200]);
    const text = await readFile(file, 'utf8');
    const aggregate = JSON.parse(text) as Record<string, unknown>;
    expect(aggregate['mean_ttft_ms']).toBe(200);
    expect(aggregate['max_concurrent_requests']).toBe(5);
    expect(aggregate['request_rate']).toBe('inf');
    expect(aggregate['date']).toBe('20260816-160853');
    expect(aggregate['aggregation_method']).toBe('median');
    expect(aggregate['aggregated_repetitions']).toBe(3);
    expect(aggregate['individual_result_files']).toEqual([
      'bench-1k-in-128-out-conc-2-run-1.json',
      'bench-1k-in-128-out-conc-2-run-2.json',
      'bench-1k-in-128-out-conc-2-run-3.json',
    ]);
    expect(Object.keys(aggregate)).toEqual([...Object.keys(aggregate)].sort());
    expect(text).toBe(formatSortedJson(aggregate).text);
    expect(text.startsWith('{\n  "aggregated_repetitions": 3,\n  "aggregation_method": "median",\n')).toBe(
      true,
    );
    expect(outcome.result).toEqual(aggregate);
  });

  it('incomplete run (all requests failed) → E_BENCH_INCOMPLETE and the file is kept', async () => {
    const t = await setup('all_failed');
    const error = await rejection<BenchIncompleteError>(runBench(spec(), t.options));
    const file = join(t.resultsDir, 'bench-1k-in-128-out-conc-2.json');
    expect(error).toBeInstanceOf(BenchIncompleteError);
    expect(error.code).toBe('E_BENCH_INCOMPLETE');
    expect(error.message).toBe(
      `vllm bench serve incomplete: completed=0 failed=8 expected=8 (result kept at ${file})`,
    );
    expect(error.file).toBe(file);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ completed: 0, failed: 8 });
    expect(t.lines).toEqual([`${HEADER}1)`]);
  });

  it('incomplete repetition 2 of 3 stops the run, keeps run-2 and writes no aggregate', async () => {
    const t = await setup('partial', '2');
    const error = await rejection<BenchIncompleteError>(runBench(spec({ repetitions: 3 }), t.options));
    expect(error).toBeInstanceOf(BenchIncompleteError);
    expect(error.message).toContain('completed=7 failed=1 expected=8');
    expect(error.file).toBe(join(t.resultsDir, 'bench-1k-in-128-out-conc-2-run-2.json'));
    expect(existsSync(join(t.resultsDir, 'bench-1k-in-128-out-conc-2-run-2.json'))).toBe(true);
    expect(existsSync(join(t.resultsDir, 'bench-1k-in-128-out-conc-2.json'))).toBe(false);
    expect(await t.vllmCalls()).toHaveLength(2);
    expect(t.lines).toEqual([`${HEADER}3)`, '  repetition 1/3', '  repetition 2/3']);
  });

  it('beforeRepetition/afterRepetition bracket every repetition, in order, also the one that fails', async () => {
    const t = await setup('partial', '2');
    const events: string[] = [];
    const error = await rejection<BenchIncompleteError>(
      runBench(spec({ repetitions: 3 }), {
        ...t.options,
        beforeRepetition: async (r) => {
          events.push(`before ${r} (calls so far: ${(await t.vllmCalls()).length})`);
        },
        afterRepetition: async (r, outcome) => {
          events.push(
            `after ${r} ${outcome.result ? `completed=${String(outcome.result.completed)}` : 'no result'}`,
          );
        },
      }),
    );
    expect(error).toBeInstanceOf(BenchIncompleteError);
    expect(events).toEqual([
      'before 1 (calls so far: 0)',
      'after 1 completed=8',
      'before 2 (calls so far: 1)',
      'after 2 no result',
    ]);
  });

  it('non-zero exit → E_BENCH_FAILED ToolError with command, exit code and output tail', async () => {
    const t = await setup('exit1');
    const error = await rejection<BenchFailedError>(runBench(spec(), t.options));
    expect(error).toBeInstanceOf(BenchFailedError);
    expect(error).toBeInstanceOf(ToolError);
    expect(error.code).toBe('E_BENCH_FAILED');
    expect(error.exitCode).toBe(1);
    expect(error.message).toMatch(
      /^vllm bench serve 1k-in-128-out-conc-2 failed with exit code 1: vllm bench serve --host 127\.0\.0\.1 --port 8123 /,
    );
    expect(error.command.slice(0, 3)).toEqual(['vllm', 'bench', 'serve']);
    expect(error.outputTail.at(-1)).toMatch(/^ValueError: Initial test run failed/);
    expect(error.outputTail).toContain('Starting initial single prompt test run...');
    expect(error.fullMessage).toContain('  | ValueError: Initial test run failed');
  });

  it('an unknown extra flag is rejected by the (fake) tool like argparse does: exit 2', async () => {
    const t = await setup();
    const error = await rejection<BenchFailedError>(
      runBench(spec({ extraArgs: { 'bogus-flag': 1 } }), t.options),
    );
    expect(error).toBeInstanceOf(BenchFailedError);
    expect(error.exitCode).toBe(2);
    expect(error.outputTail.at(-1)).toBe('vllm: error: unrecognized arguments: --bogus-flag 1');
  });

  it('abort signal terminates the process → E_BENCH_CANCELLED', async () => {
    const t = await setup('hang');
    const controller = new AbortController();
    const error = await rejection<BenchCancelledError>(
      runBench(spec(), {
        ...t.options,
        signal: controller.signal,
        onOutput: (line) => {
          if (line.startsWith('Starting initial single prompt test run')) controller.abort();
        },
      }),
    );
    expect(error).toBeInstanceOf(BenchCancelledError);
    expect(error.code).toBe('E_BENCH_CANCELLED');
    expect(error.message).toMatch(/^vllm bench serve 1k-in-128-out-conc-2 was cancelled: /);
    expect(error.signal).toBe('SIGTERM');
    const [call] = await t.vllmCalls();
    expect(() => process.kill(call?.pid as number, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });

  it('timeout terminates the process → E_BENCH_TIMEOUT', async () => {
    const t = await setup('hang');
    const error = await rejection<BenchTimeoutError>(runBench(spec(), { ...t.options, timeoutMs: 300 }));
    expect(error).toBeInstanceOf(BenchTimeoutError);
    expect(error.code).toBe('E_BENCH_TIMEOUT');
    expect(error.timedOut).toBe(true);
    expect(error.timeoutMs).toBe(300);
    expect(error.message).toMatch(/^vllm bench serve 1k-in-128-out-conc-2 timed out after 300 ms: /);
    // execa settles only once the child has exited; it was ended by the timeout's SIGTERM.
    expect(error.signal).toBe('SIGTERM');
  });

  it('bare NaN/Infinity in the result: file rewritten with null, warning printed (D29)', async () => {
    const t = await setup('nan');
    const outcome = await runBench(spec(), t.options);
    const file = join(t.resultsDir, 'bench-1k-in-128-out-conc-2.json');
    const text = await readFile(file, 'utf8');
    expect(text).not.toMatch(/NaN|Infinity/);
    const parsed = JSON.parse(text) as Record<string, unknown>;
    expect([parsed['burstiness'], parsed['std_ttft_ms'], parsed['p99_itl_ms']]).toEqual([null, null, null]);
    expect(parsed['mean_ttft_ms']).toBe(260);
    expect(outcome.nonFiniteKeys).toEqual([
      `${file}: burstiness`,
      `${file}: std_ttft_ms`,
      `${file}: p99_itl_ms`,
    ]);
    expect(t.lines).toContain(
      `  warning: ${file} had non-finite values, written as null: burstiness, std_ttft_ms, p99_itl_ms`,
    );
  });

  it('exit 0 without a result file → E_BENCH_RESULT_MISSING (a stale file is removed first)', async () => {
    const t = await setup('no_file');
    await mkdir(t.resultsDir, { recursive: true });
    const file = join(t.resultsDir, 'bench-1k-in-128-out-conc-2.json');
    await writeFile(file, '{"completed": 8, "failed": 0}');
    const error = await rejection<BenchResultMissingError>(runBench(spec(), t.options));
    expect(error).toBeInstanceOf(BenchResultMissingError);
    expect(error.code).toBe('E_BENCH_RESULT_MISSING');
    expect(error.message).toBe(`vllm bench serve exited 0 but wrote no result file: ${file}`);
  });

  it('a missing executable → E_BENCH_FAILED "could not be started (ENOENT)"', async () => {
    const t = await setup();
    const error = await rejection<BenchFailedError>(
      runBench(spec(), {
        ...t.options,
        executor: { kind: 'native', command: [join(t.dir, 'no-such-vllm')] },
      }),
    );
    expect(error).toBeInstanceOf(BenchFailedError);
    expect(error.message).toMatch(/could not be started \(ENOENT\)/);
  });

  it('secrets never reach the error, its command or its tail', async () => {
    const t = await setup('exit1');
    const secret = 'sk-very-secret-token-123';
    const error = await rejection<BenchFailedError>(
      runBench(spec({ extraArgs: { header: [`Authorization=Bearer ${secret}`] } }), {
        ...t.options,
        env: { OPENAI_API_KEY: secret },
      }),
    );
    expect(error).toBeInstanceOf(BenchFailedError);
    expect(error.fullMessage).not.toContain(secret);
    expect(JSON.stringify(error.command)).not.toContain(secret);
    expect(String((error.cause as Error).message)).not.toContain(secret);
    expect(t.output.join('\n')).not.toContain(secret);
    // The fake echoes its parsed args (Namespace line), so the secret did reach the tool.
    expect((await t.vllmCalls())[0]?.hasOpenaiKey).toBe(true);
  });

  it('invalid specs are rejected before anything runs or prints', async () => {
    const t = await setup();
    await expect(runBench(spec({ repetitions: 2 }), t.options)).rejects.toThrow(
      new BenchSpecError('1k-in-128-out-conc-2', 'repetitions', 'must be a positive odd integer'),
    );
    await expect(runBench(spec({ dataset: 'sharegpt' }), t.options)).rejects.toBeInstanceOf(
      BenchDatasetError,
    );
    await expect(runBench(spec({ runName: '../x' }), t.options)).rejects.toBeInstanceOf(BenchSpecError);
    await expect(runBench(spec({ numPrompts: 0 }), t.options)).rejects.toBeInstanceOf(BenchSpecError);
    expect(t.lines).toEqual([]);
    expect(await t.vllmCalls()).toEqual([]);
  });
});

describe('runBench, docker executor (fake docker exec + cp)', () => {
  it('3 repetitions inside the container, results copied out atomically, env forwarded by name', async () => {
    const t = await setup();
    await mkdir(join(t.dockerRoot, 'perf-eval-opt-42'), { recursive: true });
    const secret = 'sk-docker-secret-456';
    const outcome = await runBench(spec({ repetitions: 3 }), {
      ...t.options,
      executor: { kind: 'docker', container: 'perf-eval-opt-42' },
      env: { OPENAI_API_KEY: secret },
    });
    const docker = await t.dockerCalls();
    expect(docker).toHaveLength(6);
    const inner = (r: number) => [
      'vllm',
      'bench',
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '8123',
      '--model',
      'facebook/opt-125m',
      '--dataset-name',
      'random',
      '--num-prompts',
      '8',
      '--max-concurrency',
      '2',
      '--random-input-len',
      '1024',
      '--random-output-len',
      '128',
      '--ignore-eos',
      '--save-result',
      '--result-filename',
      `/tmp/bench-1k-in-128-out-conc-2-run-${r}.json`,
    ];
    for (const r of [1, 2, 3]) {
      expect(docker[(r - 1) * 2]).toEqual(['exec', '-e', 'OPENAI_API_KEY', 'perf-eval-opt-42', ...inner(r)]);
      const cp = docker[(r - 1) * 2 + 1] as string[];
      expect(cp.slice(0, 2)).toEqual([
        'cp',
        `perf-eval-opt-42:/tmp/bench-1k-in-128-out-conc-2-run-${r}.json`,
      ]);
      expect(cp[2]).toMatch(
        new RegExp(`^${t.resultsDir}/\\.bench-1k-in-128-out-conc-2-run-${r}\\.json\\.cp-`),
      );
    }
    expect(JSON.stringify(docker)).not.toContain(secret);
    expect((await t.vllmCalls()).every((call) => call.hasOpenaiKey)).toBe(true);
    // The bench wrote into the container's /tmp, and the host got copies plus the aggregate; no temp leftovers.
    expect(
      existsSync(join(t.dockerRoot, 'perf-eval-opt-42', 'tmp', 'bench-1k-in-128-out-conc-2-run-1.json')),
    ).toBe(true);
    expect((await readdir(t.resultsDir)).sort()).toEqual([
      'bench-1k-in-128-out-conc-2-run-1.json',
      'bench-1k-in-128-out-conc-2-run-2.json',
      'bench-1k-in-128-out-conc-2-run-3.json',
      'bench-1k-in-128-out-conc-2.json',
    ]);
    expect(outcome.result.aggregated_repetitions).toBe(3);
    expect(outcome.result.mean_ttft_ms).toBe(200);
    expect(t.lines.at(-1)).toBe(`  saved ${join(t.resultsDir, 'bench-1k-in-128-out-conc-2.json')}`);
  });

  it('abort during a slow bench kills the docker exec client → E_BENCH_CANCELLED, nothing copied', async () => {
    const t = await setup('slow');
    vi.stubEnv('FAKE_VLLM_SLOW_MS', '60000');
    await mkdir(join(t.dockerRoot, 'c4'), { recursive: true });
    const controller = new AbortController();
    const error = await rejection<BenchCancelledError>(
      runBench(spec(), {
        ...t.options,
        executor: { kind: 'docker', container: 'c4' },
        signal: controller.signal,
        onOutput: (line) => {
          if (line.startsWith('Namespace(')) controller.abort();
        },
      }),
    );
    expect(error).toBeInstanceOf(BenchCancelledError);
    expect(error.command.slice(0, 3)).toEqual(['docker', 'exec', 'c4']);
    expect(await t.dockerCalls()).toHaveLength(1);
    expect(await readdir(t.resultsDir)).toEqual([]);
  });

  it('a missing container fails the exec → E_BENCH_FAILED with the daemon error in the tail', async () => {
    const t = await setup();
    const error = await rejection<BenchFailedError>(
      runBench(spec(), { ...t.options, executor: { kind: 'docker', container: 'gone' } }),
    );
    expect(error).toBeInstanceOf(BenchFailedError);
    expect(error.command.slice(0, 3)).toEqual(['docker', 'exec', 'gone']);
    expect(error.outputTail).toEqual(['Error response from daemon: No such container: gone']);
  });

  it('no result in the container → E_BENCH_DOCKER from docker cp', async () => {
    const t = await setup('no_file');
    await mkdir(join(t.dockerRoot, 'c1'), { recursive: true });
    const error = await rejection<ToolError>(
      runBench(spec(), { ...t.options, executor: { kind: 'docker', container: 'c1' } }),
    );
    expect(error.code).toBe('E_BENCH_DOCKER');
    expect(error.message).toMatch(
      /^copying the result of 1k-in-128-out-conc-2 out of container c1 failed: docker cp c1:\/tmp\/bench-1k-in-128-out-conc-2\.json /,
    );
    expect(error.outputTail).toEqual([
      'Error response from daemon: Could not find the file /tmp/bench-1k-in-128-out-conc-2.json in container c1',
    ]);
    expect(await readdir(t.resultsDir)).toEqual([]);
  });
});

describe('runBench with dataset speed_bench', () => {
  async function populated(root: string, name: string, subset: string) {
    await mkdir(join(root, name), { recursive: true });
    await writeFile(
      join(root, name, `${subset}.jsonl`),
      '{"messages": [{"role": "user", "content": "hi"}]}\n',
    );
  }

  it('native: uses the pre-populated <root>/<subset>-<category> directory', async () => {
    const t = await setup();
    const root = join(t.dir, 'speed');
    await populated(root, 'throughput_1k-coding', 'throughput_1k');
    const outcome = await runBench(
      spec({ dataset: 'speed_bench', speedBenchSubset: 'throughput_1k', speedBenchCategory: 'coding' }),
      { ...t.options, speedBench: { root, python: [join(t.dir, 'python-must-not-run')] } },
    );
    expect(outcome.result.completed).toBe(8);
    const [call] = await t.vllmCalls();
    expect(call?.argv.slice(14, 25)).toEqual([
      '--dataset-path',
      join(root, 'throughput_1k-coding'),
      '--speed-bench-output-len',
      '128',
      '--speed-bench-dataset-subset',
      'throughput_1k',
      '--skip-tokenizer-init',
      '--speed-bench-category',
      'coding',
      '--save-result',
      '--result-filename',
    ]);
    expect(t.lines).toEqual([
      '--- :stopwatch: vllm bench serve 1k-in-128-out-conc-2 (dataset=speed_bench isl=1024 osl=128 conc=2 n=8 repetitions=1)',
      `  saved ${join(t.resultsDir, 'bench-1k-in-128-out-conc-2.json')}`,
    ]);
  });

  it('docker: copies the directory into the container before the bench reads it', async () => {
    const t = await setup();
    await mkdir(join(t.dockerRoot, 'c2'), { recursive: true });
    const root = join(t.dir, 'speed');
    await populated(root, 'qualitative', 'qualitative');
    await runBench(spec({ dataset: 'speed_bench' }), {
      ...t.options,
      executor: { kind: 'docker', container: 'c2' },
      speedBench: { root },
    });
    const dir = join(root, 'qualitative');
    const docker = await t.dockerCalls();
    expect(docker.slice(0, 2)).toEqual([
      ['exec', 'c2', 'mkdir', '-p', dir],
      ['cp', `${dir}/.`, `c2:${dir}/`],
    ]);
    expect(docker[2]?.slice(0, 5)).toEqual(['exec', 'c2', 'vllm', 'bench', 'serve']);
    expect(existsSync(join(t.dockerRoot, 'c2', dir, 'qualitative.jsonl'))).toBe(true);
  });
});
