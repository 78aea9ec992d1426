import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FAKE_BIN, readJsonl, rejection, tempDir } from '../../test/helpers.js';
import { BenchSpecError, SpeedBenchOfflineError, SpeedBenchPrepError } from './errors.js';
import { prepareSpeedBench, resolveSpeedBenchDir } from './speed-bench.js';

const FAKE_PYTHON_DIR = resolve(import.meta.dirname, '../../test/fixtures/python');
const pathWithFakePython = `${FAKE_PYTHON_DIR}:${process.env['PATH'] ?? ''}`;

function hasPython3(): boolean {
  try {
    execFileSync('python3', ['-c', 'import json, os, sys'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('resolveSpeedBenchDir', () => {
  it('defaults to <tmpdir>/vllm-speed-bench/qualitative', () => {
    expect(resolveSpeedBenchDir({ env: {} })).toBe(join(tmpdir(), 'vllm-speed-bench', 'qualitative'));
  });

  it('honours VLLM_SPEED_BENCH_DIR, an explicit root, and appends -<category>', () => {
    expect(resolveSpeedBenchDir({ subset: 'throughput_8k', env: { VLLM_SPEED_BENCH_DIR: '/data/sb' } })).toBe(
      '/data/sb/throughput_8k',
    );
    expect(
      resolveSpeedBenchDir({
        subset: 'throughput_8k',
        category: 'coding',
        root: '/r',
        env: { VLLM_SPEED_BENCH_DIR: '/data/sb' },
      }),
    ).toBe('/r/throughput_8k-coding');
    expect(resolveSpeedBenchDir({ category: '', env: { VLLM_SPEED_BENCH_DIR: '' } })).toBe(
      join(tmpdir(), 'vllm-speed-bench', 'qualitative'),
    );
  });

  it.each([['../up'], ['a/b'], ['..']])('rejects the subset %j', (subset) => {
    expect(() => resolveSpeedBenchDir({ subset })).toThrow(BenchSpecError);
  });
});

describe('prepareSpeedBench', () => {
  it('uses an existing non-empty <dir>/<subset>.jsonl without running python', async () => {
    const root = await tempDir();
    await mkdir(join(root, 'qualitative'));
    await writeFile(join(root, 'qualitative', 'qualitative.jsonl'), '{"messages": []}\n');
    const lines: string[] = [];
    const data = await prepareSpeedBench({
      root,
      python: [join(root, 'no-python')],
      print: (line) => lines.push(line),
    });
    expect(data).toEqual({
      dir: join(root, 'qualitative'),
      file: join(root, 'qualitative', 'qualitative.jsonl'),
      prepared: false,
      copiedToContainer: false,
    });
    expect(lines).toEqual([]);
  });

  it('offline host (fake python failing like datasets without network) → E_BENCH_SPEED_BENCH_OFFLINE naming the file', async () => {
    const root = await tempDir();
    const dir = join(root, 'throughput_1k-coding');
    await mkdir(dir);
    await writeFile(join(dir, 'throughput_1k.jsonl'), ''); // empty counts as missing
    const lines: string[] = [];
    const error = await rejection<SpeedBenchOfflineError>(
      prepareSpeedBench({
        subset: 'throughput_1k',
        category: 'coding',
        root,
        processEnv: {
          PATH: pathWithFakePython,
          FAKE_PYTHON_MODE: 'offline',
          HF_TOKEN: 'hf_secret_token_value',
        },
        print: (line) => lines.push(line),
      }),
    );
    expect(lines).toEqual([`--- :arrow_down: preparing SPEED-Bench throughput_1k dataset in ${dir}`]);
    expect(error).toBeInstanceOf(SpeedBenchOfflineError);
    expect(error.code).toBe('E_BENCH_SPEED_BENCH_OFFLINE');
    expect(error.message).toBe(
      `cannot prepare SPEED-Bench data (the Hugging Face Hub is unreachable); pre-populate ${join(dir, 'throughput_1k.jsonl')} (or set VLLM_SPEED_BENCH_DIR to a directory that has it)`,
    );
    expect(error.dir).toBe(dir);
    expect(error.exitCode).toBe(1);
    expect(error.command.slice(0, 2)).toEqual(['python3', '-c']);
    expect(error.command.slice(-3)).toEqual(['throughput_1k', 'coding', join(dir, 'throughput_1k.jsonl')]);
    expect(error.outputTail.join('\n')).toContain('Temporary failure in name resolution');
  });

  it('python without the datasets module → E_BENCH_SPEED_BENCH_OFFLINE', async () => {
    const root = await tempDir();
    const error = await rejection<SpeedBenchOfflineError>(
      prepareSpeedBench({
        root,
        processEnv: { PATH: pathWithFakePython, FAKE_PYTHON_MODE: 'no_datasets' },
        print: () => undefined,
      }),
    );
    expect(error).toBeInstanceOf(SpeedBenchOfflineError);
    expect(error.reason).toBe("python module 'datasets' is not installed");
  });

  it('no python at all → E_BENCH_SPEED_BENCH_OFFLINE', async () => {
    const root = await tempDir();
    const error = await rejection<SpeedBenchOfflineError>(
      prepareSpeedBench({ root, python: [join(root, 'python3')], print: () => undefined }),
    );
    expect(error).toBeInstanceOf(SpeedBenchOfflineError);
    expect(error.reason).toMatch(/could not be started \(ENOENT\)$/);
  });

  it('prepares the JSONL when python succeeds, then copies it into the container in docker mode', async () => {
    const root = await tempDir();
    const containers = join(root, 'containers');
    await mkdir(join(containers, 'c3'), { recursive: true });
    const dockerLog = join(root, 'docker.jsonl');
    const lines: string[] = [];
    const data = await prepareSpeedBench({
      subset: 'qualitative',
      root: join(root, 'sb'),
      processEnv: {
        PATH: `${FAKE_BIN}:${pathWithFakePython}`,
        FAKE_PYTHON_MODE: 'ok',
        FAKE_DOCKER_ROOT: containers,
        FAKE_DOCKER_LOG: dockerLog,
      },
      print: (line) => lines.push(line),
      docker: { container: 'c3' },
    });
    const dir = join(root, 'sb', 'qualitative');
    expect(data).toEqual({
      dir,
      file: join(dir, 'qualitative.jsonl'),
      prepared: true,
      copiedToContainer: true,
    });
    expect(lines).toEqual([`--- :arrow_down: preparing SPEED-Bench qualitative dataset in ${dir}`]);
    expect(await readJsonl(join(dir, 'qualitative.jsonl'))).toHaveLength(2);
    expect(await readJsonl(dockerLog)).toEqual([
      ['exec', 'c3', 'mkdir', '-p', dir],
      ['cp', `${dir}/.`, `c3:${dir}/`],
    ]);
    expect(existsSync(join(containers, 'c3', dir, 'qualitative.jsonl'))).toBe(true);
  });

  describe.runIf(hasPython3())('the real python script (stub `datasets` module on PYTHONPATH)', () => {
    async function stubDatasets(root: string, body: string): Promise<string> {
      const dir = join(root, 'pystub');
      await mkdir(dir);
      await writeFile(join(dir, 'datasets.py'), body);
      return dir;
    }

    it('filters by category, maps turns to user messages, writes JSONL', async () => {
      const root = await tempDir();
      const stub = await stubDatasets(
        root,
        [
          'def load_dataset(name, subset, split):',
          '    assert (name, split) == ("nvidia/SPEED-Bench", "test"), (name, split)',
          '    return [',
          '        {"question_id": 1, "category": "coding", "turns": ["write a sort", "now in C"]},',
          '        {"question_id": 2, "category": "math", "turns": ["2+2?"]},',
          '        {"question_id": 3, "category": "coding", "turns": ["café"]},',
          '    ]',
          '',
        ].join('\n'),
      );
      const data = await prepareSpeedBench({
        subset: 'throughput_2k',
        category: 'coding',
        root,
        processEnv: { PYTHONPATH: stub },
        print: () => undefined,
      });
      expect(data.prepared).toBe(true);
      expect(await readJsonl(data.file)).toEqual([
        {
          question_id: 1,
          category: 'coding',
          messages: [
            { role: 'user', content: 'write a sort' },
            { role: 'user', content: 'now in C' },
          ],
        },
        { question_id: 3, category: 'coding', messages: [{ role: 'user', content: 'café' }] },
      ]);
    });

    it('a download failure inside load_dataset → E_BENCH_SPEED_BENCH_OFFLINE', async () => {
      const root = await tempDir();
      const stub = await stubDatasets(
        root,
        "def load_dataset(*args, **kwargs):\n    raise ConnectionError(\"Couldn't reach 'nvidia/SPEED-Bench' on the Hub (LocalEntryNotFoundError)\")\n",
      );
      const error = await rejection<SpeedBenchOfflineError>(
        prepareSpeedBench({ root, processEnv: { PYTHONPATH: stub }, print: () => undefined }),
      );
      expect(error).toBeInstanceOf(SpeedBenchOfflineError);
      expect(error.exitCode).toBe(4);
      expect(error.reason).toBe('the Hugging Face Hub is unreachable');
    });

    it('no rows for the category → E_BENCH_SPEED_BENCH_PREP, no file left behind', async () => {
      const root = await tempDir();
      const stub = await stubDatasets(
        root,
        'def load_dataset(*a, **k):\n    return [{"category": "math", "turns": ["x"]}]\n',
      );
      const error = await rejection<SpeedBenchPrepError>(
        prepareSpeedBench({
          category: 'coding',
          root,
          processEnv: { PYTHONPATH: stub },
          print: () => undefined,
        }),
      );
      expect(error).toBeInstanceOf(SpeedBenchPrepError);
      expect(error.code).toBe('E_BENCH_SPEED_BENCH_PREP');
      expect(error.message).toBe("SPEED-Bench 'qualitative' has no rows for category 'coding'");
      expect(
        await readFile(join(root, 'qualitative-coding', 'qualitative.jsonl'), 'utf8').catch(() => 'absent'),
      ).toBe('absent');
    });
  });
});
