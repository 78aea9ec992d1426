import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { captureIo } from '../../test/capture-io.js';
import { run } from '../lib/main.js';

const REPO = resolve(import.meta.dirname, '../../../..');
const REAL_PROFILES = resolve(REPO, 'profiles/gpu_profiles.yaml');
const GPUS = 'H200, B200, MI300X, MI355X, SIM';
const ALLOWED =
  "['args', 'backend', 'dataset', 'input_len', 'max_concurrency', 'name', 'num_prompts', 'output_len', 'repetitions', 'speed_bench_category', 'speed_bench_dataset_subset']";
const TOOL_WARNING =
  'bfcl without --tool-call-parser in serve_args; some models may need it for function-calling';

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  /** stderr lines without the trailing summary line. */
  diagnostics: string[];
  summary: string;
}

function testdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'perf-eval-validate-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));
  copyFileSync(REAL_PROFILES, join(dir, 'profiles.yaml'));
  return dir;
}

async function runIn(cwd: string, argv: string[]): Promise<Outcome> {
  const captured = captureIo({ cwd });
  const code = await run(argv, captured.io);
  const stdout = captured.stdout();
  const stderr = captured.stderr();
  const lines = stderr.split('\n').filter((line) => line !== '');
  const summaryIndex = lines.findIndex((line) => / recipe\(s\): /.test(line));
  const summary =
    summaryIndex >= 0
      ? (lines[summaryIndex] as string)
      : (stdout.split('\n').find((l) => / recipe\(s\): /.test(l)) ?? '');
  return { code, stdout, stderr, diagnostics: lines.filter((_, i) => i !== summaryIndex), summary };
}

/** Write `text` as recipe.yaml in a fresh temp dir and run `perf-eval validate recipe.yaml --profiles <copy>`. */
async function validate(
  text: string,
  file = 'recipe.yaml',
): Promise<Outcome & { dir: string; profiles: string }> {
  const dir = testdir();
  writeFileSync(join(dir, file), text);
  const profiles = join(dir, 'profiles.yaml');
  return { ...(await runIn(dir, ['validate', file, '--profiles', profiles])), dir, profiles };
}

async function expectInvalid(text: string, diagnostics: string[]): Promise<void> {
  const out = await validate(text);
  expect(out.diagnostics).toEqual(diagnostics);
  expect(out.code).toBe(2);
  expect(out.summary).toMatch(/^1 recipe\(s\): 0 valid, 1 invalid, \d+ warning\(s\)$/);
  expect(out.stdout).toBe('');
}

async function expectValid(text: string, warnings: string[] = []): Promise<void> {
  const out = await validate(text);
  expect(out.diagnostics).toEqual(warnings);
  expect(out.code).toBe(0);
  expect(out.stdout).toBe(`ok recipe.yaml\n1 recipe(s): 1 valid, 0 invalid, ${warnings.length} warning(s)\n`);
}

// Lines 1-4. serve_args has a tool-call parser so BFCL blocks do not warn.
const H = `gpu: H200
vllm:
  model: org/m
  serve_args: --enable-auto-tool-choice --tool-call-parser hermes
`;
const BFCL = `bfcl:
  test_categories: [simple_python]
`;
// Lines 5-9; the config map starts at 7:7, later fields at line 10.
const BENCH = `${H}vllm_bench:
  configs:
    - name: a
      input_len: 1024
      output_len: 128
`;
const R = 'recipe.yaml';

describe('perf-eval validate: top level', () => {
  it('accepts a minimal recipe', async () => {
    await expectValid(H + BFCL);
  });

  it('missing gpu', async () => {
    await expectInvalid(H.replace('gpu: H200\n', '') + BFCL, [`${R}:1:1: missing required 'gpu' field`]);
  });

  it('empty gpu counts as missing', async () => {
    await expectInvalid(H.replace('gpu: H200', "gpu: ''") + BFCL, [`${R}:1:1: missing required 'gpu' field`]);
  });

  it('unknown gpu lists the profiles in file order and suggests the right case', async () => {
    const out = await validate(H.replace('gpu: H200', 'gpu: h200') + BFCL);
    expect(out.code).toBe(2);
    expect(out.diagnostics).toEqual([
      `${R}:1:6: unknown gpu 'h200' in ${out.profiles} (have ${GPUS}) (did you mean 'H200'?)`,
    ]);
    expect(out.diagnostics[0]).toContain('(have H200, B200, MI300X, MI355X');
  });

  it('no blocks', async () => {
    await expectInvalid(H, [`${R}:1:1: workload must define at least one of lm_eval, vllm_bench, or bfcl`]);
  });

  it('empty blocks count as absent', async () => {
    await expectInvalid(`${H}bfcl: {}\nvllm_bench:\n  configs: []\n`, [
      `${R}:1:1: workload must define at least one of lm_eval, vllm_bench, or bfcl`,
    ]);
  });

  it('unknown top-level key with did-you-mean (D6)', async () => {
    await expectInvalid(`gpu: H200\nnigthly: true\n${H.slice('gpu: H200\n'.length)}${BFCL}`, [
      `${R}:2:1: unknown field 'nigthly' (did you mean 'nightly'?)`,
    ]);
  });

  it('unknown vllm key with did-you-mean (D6); BFCL then also warns about the missing parser', async () => {
    await expectInvalid(`gpu: H200\nvllm:\n  model: org/m\n  serve_arg: --x\n${BFCL}`, [
      `${R}:4:3: unknown field 'vllm.serve_arg' (did you mean 'serve_args'?)`,
      `${R}:5:1: warning: ${TOOL_WARNING}`,
    ]);
  });

  it('unknown vllm_bench and metadata keys', async () => {
    await expectInvalid(`${H}vllm_bench:\n  metadata:\n    devise: x\n  config: []\n${BFCL}`, [
      `${R}:7:5: unknown field 'vllm_bench.metadata.devise' (did you mean 'device'?)`,
      `${R}:8:3: unknown field 'vllm_bench.config' (did you mean 'configs'?)`,
    ]);
  });

  it('missing vllm.model (D11)', async () => {
    await expectInvalid(`gpu: H200\nvllm:\n  serve_args: --tool-call-parser hermes\n${BFCL}`, [
      `${R}:2:1: vllm.model is required and must be a non-empty string`,
    ]);
  });

  it('missing vllm block', async () => {
    await expectInvalid(`gpu: H200\n${BFCL}`, [
      `${R}:1:1: missing required 'vllm' block (vllm.model is required)`,
      `${R}:2:1: warning: ${TOOL_WARNING}`,
    ]);
  });

  it('nightly: "true" (a string) is rejected (D15)', async () => {
    await expectInvalid(`gpu: H200\nnightly: "true"\n${H.slice(10)}${BFCL}`, [
      `${R}:2:10: nightly must be true or false, got 'true'`,
    ]);
  });

  it('nightly: yes is accepted with a YAML 1.1 warning', async () => {
    await expectValid(`gpu: H200\nnightly: yes\n${H.slice(10)}${BFCL}`, [
      `${R}:2:10: warning: nightly: 'yes' is read as true (YAML 1.1); write true instead`,
    ]);
  });

  it('bench_only must be a boolean (D15)', async () => {
    await expectInvalid(`gpu: H200\nbench_only: 1\n${H.slice(10)}${BFCL}`, [
      `${R}:2:13: bench_only must be true or false, got 1`,
    ]);
    await expectInvalid(`gpu: H200\nbench_only: "yes"\n${H.slice(10)}${BFCL}`, [
      `${R}:2:13: bench_only must be true or false, got 'yes'`,
    ]);
  });

  it('num_gpus: 0 (D13)', async () => {
    await expectInvalid(`gpu: H200\nnum_gpus: 0\n${H.slice(10)}${BFCL}`, [
      `${R}:2:11: num_gpus must be a positive integer`,
    ]);
  });

  it('timeout_in_minutes: -5 (D13)', async () => {
    await expectInvalid(`gpu: H200\ntimeout_in_minutes: -5\n${H.slice(10)}${BFCL}`, [
      `${R}:2:21: timeout_in_minutes must be a positive integer`,
    ]);
  });

  it("name with '/' is rejected (D11)", async () => {
    await expectInvalid(`name: a/b\n${H}${BFCL}`, [
      `${R}:1:7: name must be a non-empty string without '/', '\\' or whitespace (it names results/<name>/)`,
    ]);
  });

  it.each(['..', '.'])("name '%s' is rejected: results would leave --results-dir", async (name) => {
    await expectInvalid(`name: '${name}'\n${H}${BFCL}`, [
      `${R}:1:7: name '${name}' would put the results outside the results directory (results/${name}/); use a real name such as 'my-model-h200'`,
    ]);
  });

  it('a name with an ANSI escape is rejected without echoing the escape', async () => {
    const out = await validate(`name: "evil\\e[31mred"\n${H}${BFCL}`);
    expect(out.diagnostics).toEqual([
      `${R}:1:7: name contains the control character \\x1b (at position 5); use printable characters only (it is printed to the terminal and names results/<name>/)`,
    ]);
    expect(out.stderr).not.toContain('\u001b');
    expect(out.code).toBe(2);
  });

  it("a file named '..yaml' without name: is rejected (its stem would be the name)", async () => {
    const out = await validate(`${H}${BFCL}`, '..yaml');
    expect(out.diagnostics).toEqual([
      `..yaml:1:1: the default name (the file name '..yaml' without its extension) '.' would put the results outside the results directory (results/./); use a real name such as 'my-model-h200'; or set name:`,
    ]);
  });

  it('timer values above what a Node.js timer holds are rejected with the limit', async () => {
    const limit = 'the longest timeout a Node.js timer can hold (2^31-1 ms, about 24.8 days)';
    await expectInvalid(`gpu: H200\ntimeout_in_minutes: 35792\n${H.slice(10)}${BFCL}`, [
      `${R}:2:21: timeout_in_minutes 35792 is above 35791, ${limit}; use at most 35791`,
    ]);
    await expectInvalid(`${H}  startup_timeout_s: 2147484\n${BFCL}`, [
      `${R}:5:22: vllm.startup_timeout_s 2147484 is above 2147483, ${limit}; use at most 2147483`,
    ]);
    await expectInvalid(`${H}${BFCL}semantic_eval:\n  timeout_minutes: 99999999\n`, [
      expect.stringMatching(/^recipe\.yaml:\d+:20: semantic_eval\.timeout_minutes 99999999 is above 35791, /),
    ] as unknown as string[]);
    const ok = await validate(`gpu: H200\ntimeout_in_minutes: 35791\n${H.slice(10)}${BFCL}`);
    expect(ok.code).toBe(0);
  });

  it('vllm.startup_timeout_s: 0 (§19 message)', async () => {
    await expectInvalid(`${H}  startup_timeout_s: 0\n${BFCL}`, [
      `${R}:5:22: vllm.startup_timeout_s must be a positive integer`,
    ]);
  });

  it('vllm.env values must be scalars', async () => {
    await expectInvalid(`${H}  env:\n    A: [1]\n${BFCL}`, [
      `${R}:6:8: vllm.env.A must be a string, number, boolean or null`,
    ]);
  });
});

describe('perf-eval validate: lm_eval', () => {
  it('unsupported task fields: sorted, with the backticked `model_args:` ending', async () => {
    await expectInvalid(
      `${H}lm_eval:\n  tasks:\n    - name: gsm8k\n      num_fewshot: 5\n      limitt: 3\n      batch_size: 8\n`,
      [
        `${R}:10:7: task 'gsm8k' has unsupported top-level fields ['batch_size', 'limitt']; move them under \`model_args:\``,
      ],
    );
  });

  it('task without name (D12)', async () => {
    await expectInvalid(`${H}lm_eval:\n  tasks:\n    - num_fewshot: 5\n`, [
      `${R}:7:7: lm_eval.tasks[0] is missing required field 'name'`,
    ]);
  });

  it('duplicate task names (D33)', async () => {
    await expectInvalid(
      `${H}lm_eval:\n  tasks:\n    - name: gsm8k\n    - name: gsm8k\n      num_fewshot: 3\n`,
      [
        `${R}:8:13: duplicate lm_eval task 'gsm8k' (also tasks[0]); each task runs once, its results go to results/<name>/gsm8k/`,
      ],
    );
  });

  it('num_fewshot: null is accepted (treated as 0, D23)', async () => {
    await expectValid(`${H}lm_eval:\n  tasks:\n    - name: gsm8k\n      num_fewshot: null\n`);
  });

  it('num_fewshot -1 and "five" are rejected (D13)', async () => {
    await expectInvalid(
      `${H}lm_eval:\n  tasks:\n    - name: gsm8k\n      num_fewshot: -1\n    - name: mmlu\n      num_fewshot: five\n`,
      [
        `${R}:8:20: task 'gsm8k' num_fewshot must be an integer >= 0`,
        `${R}:10:20: task 'mmlu' num_fewshot must be an integer >= 0`,
      ],
    );
  });

  it('lm_eval without tasks only warns when another block exists (D31)', async () => {
    await expectValid(`${H}lm_eval:\n  model_args: {timeout: 6000}\n${BFCL}`, [
      `${R}:5:1: warning: lm_eval block has no tasks; it will be ignored`,
    ]);
    await expectValid(`${H}lm_eval:\n  tasks: []\n${BFCL}`, [
      `${R}:5:1: warning: lm_eval block has no tasks; it will be ignored`,
    ]);
  });

  it('lm_eval without tasks and no other block is an error', async () => {
    await expectInvalid(`${H}lm_eval:\n  model_args: {timeout: 6000}\n`, [
      `${R}:1:1: workload must define at least one of lm_eval, vllm_bench, or bfcl`,
      `${R}:5:1: warning: lm_eval block has no tasks; it will be ignored`,
    ]);
  });
});

describe('perf-eval validate: vllm_bench (§9.2)', () => {
  const ok = '      num_prompts: 1\n      max_concurrency: 1\n';

  it('#1 unknown config fields list the allowed fields exactly', async () => {
    await expectInvalid(`${BENCH}${ok}      foo: 1\n      bar: 2\n`, [
      `${R}:13:7: vllm_bench config 'a' has unsupported fields ['bar', 'foo']; allowed: ${ALLOWED}`,
    ]);
  });

  it('#2 missing required fields, in upstream order, with name None', async () => {
    await expectInvalid(`${H}vllm_bench:\n  configs:\n    - input_len: 1\n      output_len: 1\n`, [
      `${R}:7:7: vllm_bench config None missing required field 'name'`,
      `${R}:7:7: vllm_bench config None missing required field 'num_prompts'`,
      `${R}:7:7: vllm_bench config None missing required field 'max_concurrency'`,
    ]);
  });

  it('#2 a null required field counts as missing', async () => {
    await expectInvalid(`${BENCH}      num_prompts: 1\n      max_concurrency: null\n`, [
      `${R}:7:7: vllm_bench config 'a' missing required field 'max_concurrency'`,
    ]);
  });

  it.each(['2', '0', '-1', 'true', '3.0', 'null', '"3"'])('#3 repetitions: %s', async (value) => {
    await expectInvalid(`${BENCH}${ok}      repetitions: ${value}\n`, [
      `${R}:12:20: vllm_bench config 'a' repetitions must be a positive odd integer`,
    ]);
  });

  it('#3 repetitions 1 and 5 are fine', async () => {
    await expectValid(`${BENCH}${ok}      repetitions: 5\n`);
  });

  it('#4 args not a map', async () => {
    await expectInvalid(`${BENCH}${ok}      args: [1, 2]\n`, [
      `${R}:12:13: vllm_bench config 'a' args must be a map`,
    ]);
  });

  it('#5 args keys that normalise to nothing', async () => {
    await expectInvalid(`${BENCH}${ok}      args:\n        --: 1\n        __: 2\n`, [
      `${R}:13:9: vllm_bench config 'a' args keys must be non-empty strings`,
      `${R}:14:9: vllm_bench config 'a' args keys must be non-empty strings`,
    ]);
  });

  it('#5 non-string args keys (an int or a YAML 1.1 boolean key) are rejected like upstream', async () => {
    // PyYAML loads `1:` as int 1 and `on:` as True; upstream's isinstance(key, str) check rejects both.
    await expectInvalid(`${BENCH}${ok}      args:\n        1: 2\n        on: 3\n`, [
      `${R}:13:9: vllm_bench config 'a' args keys must be non-empty strings`,
      `${R}:14:9: vllm_bench config 'a' args keys must be non-empty strings`,
    ]);
  });

  it('#6 reserved options, including the D5 underscore bypass', async () => {
    await expectInvalid(
      `${BENCH}${ok}      args:\n        port: 1\n        --num_prompts: 2\n        __max_concurrency: 3\n`,
      [
        `${R}:13:9: vllm_bench config 'a' args cannot override wrapper-owned option --port`,
        `${R}:14:9: vllm_bench config 'a' args cannot override wrapper-owned option --num-prompts`,
        `${R}:15:9: vllm_bench config 'a' args cannot override wrapper-owned option --max-concurrency`,
      ],
    );
  });

  it('#7 duplicate option after normalisation', async () => {
    await expectInvalid(`${BENCH}${ok}      args:\n        num_warmups: 1\n        num-warmups: 2\n`, [
      `${R}:14:9: vllm_bench config 'a' args contains duplicate option --num-warmups after normalization`,
    ]);
  });

  it('#8 empty max_concurrency list', async () => {
    await expectInvalid(`${BENCH}      num_prompts: 1\n      max_concurrency: []\n`, [
      `${R}:11:24: vllm_bench config 'a' has an empty max_concurrency list`,
    ]);
  });

  it('#9 num_prompts list without a max_concurrency list', async () => {
    await expectInvalid(`${BENCH}      num_prompts: [1, 2]\n      max_concurrency: 1\n`, [
      `${R}:10:20: vllm_bench config 'a' num_prompts may only be a list when max_concurrency is a list`,
    ]);
  });

  it('#10 list length mismatch', async () => {
    await expectInvalid(`${BENCH}      num_prompts: [1, 2]\n      max_concurrency: [1, 2, 3]\n`, [
      `${R}:10:20: vllm_bench config 'a' num_prompts list has 2 entries but max_concurrency has 3`,
    ]);
  });

  it.each(['true', '0', '-3', '1.0', '[1, 0]'])('#11 num_prompts: %s (D8)', async (value) => {
    const conc = value.startsWith('[') ? '[1, 2]' : '1';
    await expectInvalid(`${BENCH}      num_prompts: ${value}\n      max_concurrency: ${conc}\n`, [
      `${R}:10:20: vllm_bench config 'a' num_prompts must be a positive integer (or a list of them matching max_concurrency)`,
    ]);
  });

  it('#12 duplicate run names across configs', async () => {
    await expectInvalid(
      `${BENCH}      num_prompts: 1\n      max_concurrency: [1, 2]\n    - name: a\n      input_len: 1\n      output_len: 1\n      num_prompts: 1\n      max_concurrency: 2\n`,
      [`${R}:12:13: duplicate vllm_bench config name 'a-conc-2'`],
    );
  });

  it('max_concurrency [1, "x"] (D27)', async () => {
    await expectInvalid(`${BENCH}      num_prompts: 1\n      max_concurrency: [1, "x"]\n`, [
      `${R}:11:28: vllm_bench config 'a' max_concurrency values must be positive integers, got 'x'`,
    ]);
  });

  it('input_len "8k" (D13)', async () => {
    await expectInvalid(BENCH.replace('input_len: 1024', 'input_len: "8k"') + ok, [
      `${R}:8:18: vllm_bench config 'a' input_len must be a positive integer`,
    ]);
  });

  it('dataset sharegpt (D14)', async () => {
    await expectInvalid(`${BENCH}${ok}      dataset: sharegpt\n`, [
      `${R}:12:16: vllm_bench config 'a' has unsupported dataset 'sharegpt' (expected one of random, speed_bench)`,
    ]);
  });

  it('speed_bench_* keys with dataset random only warn (D14)', async () => {
    await expectValid(`${BENCH}${ok}      speed_bench_category: low_entropy\n`, [
      `${R}:12:7: warning: vllm_bench config 'a' sets speed_bench_category but dataset is 'random'; it is ignored`,
    ]);
  });

  it('errors of several configs come in list order', async () => {
    await expectInvalid(
      `${BENCH}      num_prompts: 0\n      max_concurrency: 1\n    - name: b\n      input_len: 1\n      output_len: 1\n      num_prompts: 1\n      max_concurrency: 1\n      repetitions: 2\n`,
      [
        `${R}:10:20: vllm_bench config 'a' num_prompts must be a positive integer (or a list of them matching max_concurrency)`,
        `${R}:17:20: vllm_bench config 'b' repetitions must be a positive odd integer`,
      ],
    );
  });
});

describe('perf-eval validate: bfcl (§10.1)', () => {
  const B = `${H}bfcl:\n  test_categories: [simple_python]\n`; // bfcl at 5:1, categories line 6

  it('unknown field with did-you-mean', async () => {
    await expectInvalid(`${B}  num_thread: 3\n`, [
      `${R}:7:3: bfcl block has unsupported fields ['num_thread'] (did you mean 'num_threads'?)`,
    ]);
  });

  it('several unknown fields are sorted', async () => {
    await expectInvalid(`${B}  zeta: 1\n  alpha: 2\n`, [
      `${R}:8:3: bfcl block has unsupported fields ['alpha', 'zeta']`,
    ]);
  });

  it('no categories', async () => {
    await expectInvalid(`${H}bfcl:\n  num_threads: 3\n`, [
      `${R}:5:1: bfcl block requires at least one test_categories entry`,
    ]);
    await expectInvalid(`${H}bfcl:\n  test_categories: []\n`, [
      `${R}:6:3: bfcl block requires at least one test_categories entry`,
    ]);
  });

  it('unknown category with did-you-mean; web_search is not accepted (D13)', async () => {
    await expectInvalid(`${H}bfcl:\n  test_categories: [simple_pyton, web_search]\n`, [
      `${R}:6:21: unknown bfcl test category 'simple_pyton' (did you mean 'simple_python'?)`,
      `${R}:6:35: unknown bfcl test category 'web_search'`,
    ]);
  });

  it('max_test_cases: 0', async () => {
    await expectInvalid(`${B}  max_test_cases: 0\n`, [
      `${R}:7:19: bfcl.max_test_cases must be a positive integer`,
    ]);
  });

  it('max_test_cases: true (D8)', async () => {
    await expectInvalid(`${B}  max_test_cases: true\n`, [
      `${R}:7:19: bfcl.max_test_cases must be a positive integer or category map`,
    ]);
  });

  it('max_test_cases: a string', async () => {
    await expectInvalid(`${B}  max_test_cases: "5"\n`, [
      `${R}:7:19: bfcl.max_test_cases must be a positive integer or category map`,
    ]);
  });

  it('max_test_cases map with an unknown category', async () => {
    await expectInvalid(`${B}  max_test_cases: {multi_turnn: 3}\n`, [
      `${R}:7:20: unknown bfcl max_test_cases category 'multi_turnn' (did you mean 'multi_turn'?)`,
    ]);
  });

  it('max_test_cases map with bad values (D8)', async () => {
    await expectInvalid(`${B}  max_test_cases: {multi_turn: 0, simple_python: true}\n`, [
      `${R}:7:32: bfcl.max_test_cases['multi_turn'] must be a positive integer`,
      `${R}:7:50: bfcl.max_test_cases['simple_python'] must be a positive integer`,
    ]);
  });

  it('maximum_step_limit: true (D8)', async () => {
    await expectInvalid(`${B}  maximum_step_limit: true\n`, [
      `${R}:7:23: bfcl.maximum_step_limit must be a positive integer`,
    ]);
  });

  it('temperature: -1 (D13)', async () => {
    await expectInvalid(`${B}  temperature: -1\n`, [
      `${R}:7:16: bfcl.temperature must be a finite number >= 0`,
    ]);
  });

  it('temperature: .inf (D13)', async () => {
    await expectInvalid(`${B}  temperature: .inf\n`, [
      `${R}:7:16: bfcl.temperature must be a finite number >= 0`,
    ]);
  });

  it('num_threads: 0 (D13)', async () => {
    await expectInvalid(`${B}  num_threads: 0\n`, [`${R}:7:16: bfcl.num_threads must be a positive integer`]);
  });

  it('no --tool-call-parser in serve_args only warns (§10.3)', async () => {
    await expectValid(`gpu: H200\nvllm:\n  model: org/m\n  serve_args: --max-model-len 4096\n${BFCL}`, [
      `${R}:5:1: warning: ${TOOL_WARNING}`,
    ]);
  });
});

describe('perf-eval validate: YAML and ordering', () => {
  it('bad indentation reports line:col', async () => {
    await expectInvalid('gpu: H200\nvllm:\n  model: m\n   serve_args: x\n', [
      `${R}:3:10: invalid YAML: Nested mappings are not allowed in compact mappings`,
      `${R}:3:10: invalid YAML: Implicit keys need to be on a single line`,
    ]);
  });

  it('duplicate YAML keys are rejected (PyYAML would keep the last)', async () => {
    await expectInvalid(`${H}${BFCL}gpu: B200\n`, [
      `${R}:7:1: invalid YAML: duplicate key 'gpu': first on line 1, again on line 7; keep one of them`,
    ]);
  });

  it('a document that is not a mapping', async () => {
    await expectInvalid('- a\n- b\n', [`${R}:1:1: a recipe must be a YAML mapping, got ['a', 'b']`]);
  });

  it("several errors are reported in one run; upstream's first error (gpu) comes first (§3.1)", async () => {
    await expectInvalid(
      `vllm:
  model: m
vllm_bench:
  configs:
    - name: a
      input_len: 1
      output_len: 1
      num_prompts: 0
      max_concurrency: 1
lm_eval:
  tasks:
    - name: x
      bad: 1
bfcl:
  test_categories: [nope]
`,
      [
        `${R}:1:1: missing required 'gpu' field`,
        `${R}:13:7: task 'x' has unsupported top-level fields ['bad']; move them under \`model_args:\``,
        `${R}:15:21: unknown bfcl test category 'nope'`,
        `${R}:8:20: vllm_bench config 'a' num_prompts must be a positive integer (or a list of them matching max_concurrency)`,
        `${R}:14:1: warning: ${TOOL_WARNING}`,
      ],
    );
  });

  it('an unknown gpu is reported before bench errors', async () => {
    const out = await validate(
      `${BENCH.replace('gpu: H200', 'gpu: A999')}      num_prompts: 1\n      max_concurrency: [1, 1]\n`,
    );
    expect(out.code).toBe(2);
    expect(out.diagnostics[0]).toMatch(new RegExp(`^${R}:1:6: unknown gpu 'A999' in `));
    expect(out.diagnostics.slice(1)).toEqual([`${R}:7:13: duplicate vllm_bench config name 'a-conc-1'`]);
  });
});

describe('perf-eval validate: files, profiles and flags', () => {
  it('nonexistent file → exit 2, not found', async () => {
    const dir = testdir();
    const out = await runIn(dir, ['validate', 'missing.yaml', '--profiles', 'profiles.yaml']);
    expect(out.code).toBe(2);
    expect(out.diagnostics).toEqual(['not found: missing.yaml']);
    expect(out.summary).toBe('1 recipe(s): 0 valid, 1 invalid, 0 warning(s)');
  });

  it('no FILES: validates workloads/*.yaml (sorted) of the current directory', async () => {
    const dir = testdir();
    mkdirSync(join(dir, 'workloads'));
    mkdirSync(join(dir, 'profiles'));
    copyFileSync(REAL_PROFILES, join(dir, 'profiles', 'gpu_profiles.yaml'));
    copyFileSync(resolve(REPO, 'workloads/glm_5_1_h200.yaml'), join(dir, 'workloads', 'glm_5_1_h200.yaml'));
    writeFileSync(join(dir, 'workloads', 'bad.yaml'), 'gpu: H200\nvllm:\n  model: m\n');
    writeFileSync(join(dir, 'workloads', 'ignored.yml'), 'not: [valid');
    const out = await runIn(dir, ['validate']);
    expect(out.code).toBe(2);
    expect(out.diagnostics).toEqual([
      'workloads/bad.yaml:1:1: workload must define at least one of lm_eval, vllm_bench, or bfcl',
    ]);
    expect(out.stdout).toBe('ok workloads/glm_5_1_h200.yaml\n');
    expect(out.summary).toBe('2 recipe(s): 1 valid, 1 invalid, 0 warning(s)');
  });

  it('no FILES and no workloads/ directory is a usage error', async () => {
    const dir = testdir();
    const out = await runIn(dir, ['validate']);
    expect(out.code).toBe(2);
    expect(out.stderr).toBe(`perf-eval validate: no FILES given and no workloads/ directory in ${dir}\n`);
  });

  it('--quiet prints nothing for valid files', async () => {
    const dir = testdir();
    writeFileSync(join(dir, 'r.yaml'), H + BFCL);
    const out = await runIn(dir, ['validate', '--quiet', 'r.yaml', '--profiles', 'profiles.yaml']);
    expect(out.code).toBe(0);
    expect(out.stderr).toBe('');
    expect(out.stdout).toBe('1 recipe(s): 1 valid, 0 invalid, 0 warning(s)\n');
  });

  it('a native profile without k8s_plugin → the §5.1 message', async () => {
    const dir = testdir();
    writeFileSync(join(dir, 'r.yaml'), H + BFCL);
    writeFileSync(join(dir, 'p.yaml'), 'H200:\n  queue: q\nX1:\n  queue: q\n  server_runtime: native\n');
    const out = await runIn(dir, ['validate', 'r.yaml', '--profiles', 'p.yaml']);
    expect(out.code).toBe(2);
    expect(out.diagnostics).toEqual([
      `${join(dir, 'p.yaml')}:3:1: profile 'X1' sets server_runtime: native but no k8s_plugin; set one explicitly (have nvidia, amd)`,
    ]);
  });

  it('an unknown k8s_plugin and a named hf_cache_volume (D28) in the profiles', async () => {
    const dir = testdir();
    writeFileSync(join(dir, 'r.yaml'), H + BFCL);
    writeFileSync(
      join(dir, 'p.yaml'),
      'H200:\n  queue: q\n  k8s_plugin: intel\n  hf_cache_volume: {name: x, emptyDir: {}}\n',
    );
    const out = await runIn(dir, ['validate', 'r.yaml', '--profiles', 'p.yaml']);
    expect(out.code).toBe(2);
    expect(out.diagnostics).toEqual([
      `${join(dir, 'p.yaml')}:3:15: unknown k8s_plugin 'intel' (have nvidia, amd)`,
      `${join(dir, 'p.yaml')}:4:21: profile 'H200' hf_cache_volume must not set 'name' (the volume is always named hf-cache)`,
    ]);
  });

  it('an unknown profile key with did-you-mean (D6)', async () => {
    const dir = testdir();
    writeFileSync(join(dir, 'r.yaml'), H + BFCL);
    writeFileSync(join(dir, 'p.yaml'), 'H200:\n  queue: q\n  hf_hom: /x\n');
    const out = await runIn(dir, ['validate', 'r.yaml', '--profiles', 'p.yaml']);
    expect(out.code).toBe(2);
    expect(out.diagnostics).toEqual([
      `${join(dir, 'p.yaml')}:3:3: unknown field 'H200.hf_hom' (did you mean 'hf_home'?)`,
    ]);
  });

  it('a missing profiles file', async () => {
    const dir = testdir();
    writeFileSync(join(dir, 'r.yaml'), H + BFCL);
    const out = await runIn(dir, ['validate', 'r.yaml', '--profiles', 'nope.yaml']);
    expect(out.code).toBe(2);
    expect(out.diagnostics).toEqual([
      `cannot read GPU profiles file ${join(dir, 'nope.yaml')}: not found; pass --profiles PATH or set PERF_EVAL_PROFILES`,
    ]);
  });

  it('an unknown flag → exit 2 usage message', async () => {
    const dir = testdir();
    const out = await runIn(dir, ['validate', '--bogus']);
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).toBe(
      "perf-eval validate: Unknown option '--bogus' (see 'perf-eval validate --help')\n",
    );
  });

  it('--profiles without a value → exit 2', async () => {
    const dir = testdir();
    const out = await runIn(dir, ['validate', 'r.yaml', '--profiles']);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/^perf-eval validate: .*--profiles/);
  });

  it('--help prints usage and exits 0', async () => {
    const dir = testdir();
    const out = await runIn(dir, ['validate', '--help']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(
      /^Usage: perf-eval validate \[FILES or DIRS\.\.\.\] \[--profiles PATH\] \[--quiet\]/,
    );
  });

  it('every recipe in workloads/ (the 13 vendored ones included) validates with the real profiles', async () => {
    const files = readdirSync(resolve(REPO, 'workloads')).filter((name) => name.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(13);
    const out = await runIn(REPO, ['validate', '--profiles', REAL_PROFILES]);
    expect(out.diagnostics.filter((l) => !l.includes(': warning: '))).toEqual([]);
    expect(out.code).toBe(0);
    expect(out.stdout.split('\n').filter((l) => l.startsWith('ok '))).toHaveLength(files.length);
  });
});
