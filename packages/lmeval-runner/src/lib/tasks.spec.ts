import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LmEvalTasksUnavailableError, LmEvalUnknownTaskError } from './errors.js';
import {
  assertTaskNames,
  checkTaskNames,
  listLmEvalTasks,
  parseLsTasksOutput,
  suggestTaskNames,
} from './tasks.js';
import type { ListLmEvalTasksOptions } from './tasks.js';
import { rejection, tempDir } from '../../test/helpers.js';

const BIN = resolve(import.meta.dirname, '../../test/fixtures/bin');
const FAKE_PYTHON = join(BIN, 'python-lmeval');
const FAKE_LMEVAL = join(BIN, 'lm_eval');

function setup(dir: string) {
  const pythonLog = join(dir, 'python.jsonl');
  const lmEvalLog = join(dir, 'lm_eval.jsonl');
  const options = (
    env: Record<string, string> = {},
    more: Partial<ListLmEvalTasksOptions> = {},
  ): ListLmEvalTasksOptions => ({
    python: FAKE_PYTHON,
    lmEval: [FAKE_LMEVAL],
    cacheDir: join(dir, 'cache'),
    env: { PATH: process.env['PATH'] ?? '', FAKE_PYTHON_LOG: pythonLog, FAKE_LMEVAL_LOG: lmEvalLog, ...env },
    ...more,
  });
  const calls = (log: string): string[][] =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .map((line) => (JSON.parse(line) as { argv: string[] }).argv)
      : [];
  const taskManagerCalls = () => calls(pythonLog).filter((argv) => (argv[1] ?? '').includes('TaskManager'));
  return { options, pythonLog, lmEvalLog, calls, taskManagerCalls };
}

describe('listLmEvalTasks', () => {
  it('lists tasks via TaskManager and serves the second call from the cache', async () => {
    const dir = await tempDir();
    const s = setup(dir);
    const first = await listLmEvalTasks(s.options());
    expect(first.has('gsm8k')).toBe(true);
    expect(first.has('gsm8k_platinum_cot_llama')).toBe(true);
    const second = await listLmEvalTasks(s.options());
    expect([...second]).toEqual([...first]);
    expect(s.taskManagerCalls()).toHaveLength(1);
    expect(s.calls(s.pythonLog)).toHaveLength(3); // version, TaskManager, version
    expect(s.calls(s.lmEvalLog)).toHaveLength(0);
    const files = await readdir(join(dir, 'cache'));
    expect(files).toEqual([expect.stringMatching(/^lm_eval-tasks-0\.4\.13-none\.json$/)]);
    const cached = JSON.parse(readFileSync(join(dir, 'cache', files[0] as string), 'utf8')) as {
      lm_eval_version: string;
      tasks: string[];
    };
    expect(cached.lm_eval_version).toBe('0.4.13');
    expect(cached.tasks).toContain('ifeval');
  });

  it('keys the cache by lm_eval version', async () => {
    const dir = await tempDir();
    const s = setup(dir);
    await listLmEvalTasks(s.options());
    await listLmEvalTasks(s.options({ FAKE_LMEVAL_VERSION: '0.4.14' }));
    await listLmEvalTasks(s.options({ FAKE_LMEVAL_VERSION: '0.4.14' }));
    expect(s.taskManagerCalls()).toHaveLength(2);
    expect((await readdir(join(dir, 'cache'))).sort()).toEqual([
      'lm_eval-tasks-0.4.13-none.json',
      'lm_eval-tasks-0.4.14-none.json',
    ]);
  });

  it('includes tasks of includePath and re-lists when the include directory changes', async () => {
    const dir = await tempDir();
    const s = setup(dir);
    const include = join(dir, 'tasks');
    await mkdir(include);
    await writeFile(join(include, 'gsm8k_local.yaml'), 'task: gsm8k_local\ndataset_path: json\n');
    const withInclude = await listLmEvalTasks(s.options({}, { includePath: include }));
    expect(withInclude.has('gsm8k_local')).toBe(true);
    expect(s.taskManagerCalls()[0]?.[2]).toBe(include);
    await listLmEvalTasks(s.options({}, { includePath: include }));
    expect(s.taskManagerCalls()).toHaveLength(1);

    await writeFile(join(include, 'other.yaml'), 'task: other_local\n');
    const changed = await listLmEvalTasks(s.options({}, { includePath: include }));
    expect(changed.has('other_local')).toBe(true);
    expect(s.taskManagerCalls()).toHaveLength(2);

    const without = await listLmEvalTasks(s.options());
    expect(without.has('gsm8k_local')).toBe(false);
    expect(s.taskManagerCalls()[2]?.[2]).toBe('');
  });

  it('does not cache without a cacheDir', async () => {
    const dir = await tempDir();
    const s = setup(dir);
    await listLmEvalTasks(s.options({}, { cacheDir: undefined }));
    await listLmEvalTasks({ ...s.options(), cacheDir: undefined });
    expect(s.taskManagerCalls()).toHaveLength(2);
  });

  it('ignores a corrupt cache file and rewrites it', async () => {
    const dir = await tempDir();
    const s = setup(dir);
    await mkdir(join(dir, 'cache'));
    await writeFile(
      join(dir, 'cache', 'lm_eval-tasks-0.4.13-none.json'),
      '{"lm_eval_version": "0.4.13", "tas',
    );
    expect((await listLmEvalTasks(s.options())).has('gsm8k')).toBe(true);
    expect(s.taskManagerCalls()).toHaveLength(1);
    expect((await listLmEvalTasks(s.options())).has('gsm8k')).toBe(true);
    expect(s.taskManagerCalls()).toHaveLength(1);
  });

  it('falls back to parsing `lm_eval ls tasks` when TaskManager fails', async () => {
    const dir = await tempDir();
    const s = setup(dir);
    const tasks = await listLmEvalTasks(s.options({ FAKE_PYTHON_MODE: 'taskmanager_error' }));
    expect([...tasks].sort()).toEqual([
      'gsm8k',
      'gsm8k_cot',
      'gsm8k_platinum_cot_llama',
      'hellaswag',
      'ifeval',
      'mmlu',
    ]);
    expect(s.calls(s.lmEvalLog)).toEqual([['ls', 'tasks']]);
    // The version was known, so the fallback listing is cached too.
    await listLmEvalTasks(s.options({ FAKE_PYTHON_MODE: 'taskmanager_error' }));
    expect(s.calls(s.lmEvalLog)).toHaveLength(1);
  });

  it('passes --include_path to the fallback', async () => {
    const dir = await tempDir();
    const s = setup(dir);
    await listLmEvalTasks(s.options({ FAKE_PYTHON_MODE: 'taskmanager_error' }, { includePath: dir }));
    expect(s.calls(s.lmEvalLog)).toEqual([['ls', 'tasks', '--include_path', dir]]);
  });

  it('cannot list → E_LMEVAL_TASKS_UNAVAILABLE with the Python error', async () => {
    const dir = await tempDir();
    const s = setup(dir);
    const error = (await rejection(
      listLmEvalTasks(
        s.options({ FAKE_PYTHON_MODE: 'no_lmeval' }, { lmEval: [join(dir, 'missing-lm_eval')] }),
      ),
    )) as LmEvalTasksUnavailableError;
    expect(error).toBeInstanceOf(LmEvalTasksUnavailableError);
    expect(error.code).toBe('E_LMEVAL_TASKS_UNAVAILABLE');
    expect(error.message).toBe(
      'cannot validate task names: lm_eval not importable (importlib.metadata.PackageNotFoundError: No package metadata was found for lm_eval)',
    );
    expect(existsSync(join(dir, 'cache'))).toBe(false);
  });

  it('a missing python and lm_eval → E_LMEVAL_TASKS_UNAVAILABLE naming the spawn error', async () => {
    const dir = await tempDir();
    const s = setup(dir);
    const error = (await rejection(
      listLmEvalTasks(s.options({}, { python: join(dir, 'no-python'), lmEval: [join(dir, 'no-lm_eval')] })),
    )) as LmEvalTasksUnavailableError;
    expect(error.message).toBe(
      `cannot validate task names: lm_eval not importable (spawn ${join(dir, 'no-python')} ENOENT)`,
    );
  });

  it('rejects with the abort reason when cancelled', async () => {
    const dir = await tempDir();
    const s = setup(dir);
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(listLmEvalTasks(s.options({}, { signal: controller.signal }))).rejects.toThrow('stop');
  });
});

describe('parseLsTasksOutput', () => {
  it('reads the first column of every table and skips headers and separators', () => {
    const text = [
      '',
      '|                      Group                      |              Config Location              |',
      '|-------------------------------------------------|-------------------------------------------|',
      '|AraDiCE                                          |lm_eval/tasks/aradice/aradice.yaml         |',
      '|mmlu                                             |lm_eval/tasks/mmlu/default/_mmlu.yaml      |',
      '',
      '|                      Tag                       |',
      '|------------------------------------------------|',
      '|ai2_arc                                         |',
      '',
      '|                Task                  |       Config Location      |     Output Type     |',
      '|--------------------------------------|----------------------------|---------------------|',
      '|20_newsgroups                         |lm_eval/tasks/unitxt/x.yaml |                     |',
      '|gsm8k                                 |lm_eval/tasks/gsm8k/g.yaml  |generate_until       |',
      '',
    ].join('\n');
    expect(parseLsTasksOutput(text)).toEqual(['AraDiCE', 'mmlu', 'ai2_arc', '20_newsgroups', 'gsm8k']);
  });
  it('returns nothing for output without tables', () => {
    expect(parseLsTasksOutput('Traceback (most recent call last):\nImportError: x\n')).toEqual([]);
  });
});

describe('task name checks', () => {
  const known = new Set([
    'gsm8k',
    'gsm8k_cot',
    'gsm8k_platinum_cot_llama',
    'ifeval',
    'mmlu',
    'mmlu_pro',
    'hellaswag',
  ]);

  it('returns unknown names once each with did-you-mean suggestions', () => {
    expect(
      checkTaskNames(
        ['gsm8k', 'ifevl', 'gsm8k_platinum_cot_lama', 'ifevl', 'GSM8K', 'totally_unrelated'],
        known,
      ),
    ).toEqual([
      { name: 'ifevl', suggestions: ['ifeval'] },
      { name: 'gsm8k_platinum_cot_lama', suggestions: ['gsm8k_platinum_cot_llama'] },
      { name: 'GSM8K', suggestions: ['gsm8k'] },
      { name: 'totally_unrelated', suggestions: [] },
    ]);
    expect(checkTaskNames(['gsm8k', 'mmlu'], known)).toEqual([]);
  });

  it('orders suggestions by distance then name and caps them', () => {
    expect(suggestTaskNames('mmlu_p', known)).toEqual(['mmlu', 'mmlu_pro']);
    expect(suggestTaskNames('gsm8k_c', known, 1)).toEqual(['gsm8k']);
  });

  it('assertTaskNames throws E_LMEVAL_UNKNOWN_TASK with the recipe path and suggestion', () => {
    expect(() => assertTaskNames(['gsm8k'], known, 'workloads/a.yaml')).not.toThrow();
    let error: unknown;
    try {
      assertTaskNames(['gsm8k', 'ifevl'], known, 'workloads/a.yaml');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(LmEvalUnknownTaskError);
    expect((error as LmEvalUnknownTaskError).code).toBe('E_LMEVAL_UNKNOWN_TASK');
    expect((error as LmEvalUnknownTaskError).message).toBe(
      "workloads/a.yaml: unknown lm_eval task 'ifevl' (did you mean 'ifeval'?)",
    );
    expect(() => assertTaskNames(['nothing_like_it'], known)).toThrow(
      /^unknown lm_eval task 'nothing_like_it'$/,
    );
  });
});
