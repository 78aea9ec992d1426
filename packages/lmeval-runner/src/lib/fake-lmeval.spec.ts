import { resolve } from 'node:path';
import { execa } from 'execa';

// The fake must keep the real lm_eval 0.4.13 contract (tool-contracts §4.2), or the runner tests prove nothing.
const FAKE_LMEVAL = resolve(import.meta.dirname, '../../test/fixtures/bin/lm_eval');
const MODEL_ARGS = 'model=m,base_url=http://127.0.0.1:1/v1/completions';

describe('fake lm_eval contract', () => {
  it('--log_samples without --output_path fails like lm-eval (ValueError, exit 1)', async () => {
    const result = await execa(
      FAKE_LMEVAL,
      ['--model', 'local-completions', '--model_args', MODEL_ARGS, '--tasks', 'gsm8k', '--log_samples'],
      { reject: false },
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      'ValueError: Specify --output_path if providing --log_samples or --predict_only',
    );
  });

  it('argparse errors exit 2: unknown flags and a non-integer --num_fewshot', async () => {
    const unknown = await execa(FAKE_LMEVAL, ['run', '--model', 'local-completions', '--bogus', '1'], {
      reject: false,
    });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('lm-eval: error: unrecognized arguments: --bogus 1');
    const fewshot = await execa(FAKE_LMEVAL, ['--tasks', 'gsm8k', '--num_fewshot', 'None'], {
      reject: false,
    });
    expect(fewshot.exitCode).toBe(2);
    expect(fewshot.stderr).toContain("argument --num_fewshot: invalid int value: 'None'");
  });

  it('local-chat-completions requires --apply_chat_template; unknown tasks fail', async () => {
    const chat = await execa(
      FAKE_LMEVAL,
      ['--model', 'local-chat-completions', '--model_args', MODEL_ARGS, '--tasks', 'gsm8k'],
      { reject: false },
    );
    expect(chat.exitCode).toBe(1);
    const task = await execa(
      FAKE_LMEVAL,
      ['--model', 'local-completions', '--model_args', MODEL_ARGS, '--tasks', 'nope'],
      { reject: false },
    );
    expect(task.exitCode).toBe(1);
    expect(task.stderr).toContain('Tasks not found: nope');
  });
});
