/**
 * `semantic_eval:`: a command run after the benchmark on the same server (default: vLLM's
 * `tests/evals/gsm8k/gsm8k_eval.py`, as CloudAI does). Resolution keeps an argv template with
 * `{placeholder}`s; `renderSemanticEval` fills it in at run time.
 */
import { isAbsolute, join } from 'node:path';
import { PerfEvalError } from '@perf-eval/util';
import { SEMANTIC_EVAL_PLACEHOLDERS } from './schema.js';
import { splitServeArgs } from './perf.js';
import { vllmSourcePath } from './topology.js';

export const DEFAULT_SEMANTIC_EVAL_SCRIPT = 'tests/evals/gsm8k/gsm8k_eval.py';
export const DEFAULT_SEMANTIC_EVAL_QUESTIONS = 200;
export const DEFAULT_SEMANTIC_EVAL_TIMEOUT_MINUTES = 30;
export const DEFAULT_SEMANTIC_EVAL_OUTPUT = '{result_dir}/semantic_eval.json';

export interface ResolvedSemanticEval {
  /** argv template; tokens may hold {model} {host} {port} {url} {output_path} {result_dir}. */
  command: string[];
  /** Result file template: may hold {result_dir}; a relative path is under the results dir. */
  outputPath: string;
  timeoutMinutes: number;
  /** True when `command` is the built-in gsm8k_eval.py command. */
  defaultCommand: boolean;
}

export interface SemanticEvalValues {
  /** The model name clients send (the served model name). */
  model: string;
  /** Host without scheme, e.g. `localhost`. */
  host: string;
  port: number;
  /** Base URL, e.g. `http://localhost:8000`. */
  url: string;
  resultDir: string;
  /** Default: the template's outputPath under resultDir. */
  outputPath?: string;
}

/** A template holds a placeholder that is not one of SEMANTIC_EVAL_PLACEHOLDERS (hand-built templates only). */
export class SemanticEvalTemplateError extends PerfEvalError {
  constructor(
    readonly placeholder: string,
    readonly token: string,
  ) {
    super(
      'E_RECIPE_TEMPLATE',
      `semantic_eval token '${token}' has unknown placeholder '{${placeholder}}' (known: ${SEMANTIC_EVAL_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`,
      { category: 'validation' },
    );
  }
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Placeholder names used in `text` (`{"json":1}` is not a placeholder: names are identifiers). */
export function placeholdersOf(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((match) => match[1] as string);
}

/** `command` as argv tokens: a list as given, a string split on whitespace (no shell). */
export function semanticEvalTokens(command: string | readonly string[]): string[] {
  return typeof command === 'string' ? splitServeArgs(command) : [...command];
}

/** The built-in command: `<python> <VLLM_SOURCE_DIR>/tests/evals/gsm8k/gsm8k_eval.py --host http://{host} …`. */
export function defaultSemanticEvalCommand(options: {
  python?: string | undefined;
  numQuestions?: number | undefined;
  env: Readonly<Record<string, string | undefined>>;
}): string[] {
  return [
    options.python ?? 'python3',
    vllmSourcePath(DEFAULT_SEMANTIC_EVAL_SCRIPT, options.env),
    '--host',
    'http://{host}',
    '--port',
    '{port}',
    '--num-questions',
    String(options.numQuestions ?? DEFAULT_SEMANTIC_EVAL_QUESTIONS),
    '--save-results',
    '{output_path}',
  ];
}

/** The result file: `{result_dir}` substituted; a relative template is taken under `resultDir`. */
export function semanticEvalOutputPath(
  template: Pick<ResolvedSemanticEval, 'outputPath'>,
  resultDir: string,
): string {
  if (template.outputPath.includes('{result_dir}'))
    return template.outputPath.replaceAll('{result_dir}', resultDir);
  return isAbsolute(template.outputPath) ? template.outputPath : join(resultDir, template.outputPath);
}

/** The argv to run: every placeholder filled in. Throws `SemanticEvalTemplateError` on an unknown one. */
export function renderSemanticEval(
  template: Pick<ResolvedSemanticEval, 'command' | 'outputPath'>,
  values: SemanticEvalValues,
): string[] {
  const table: Record<string, string> = {
    model: values.model,
    host: values.host,
    port: String(values.port),
    url: values.url,
    output_path: values.outputPath ?? semanticEvalOutputPath(template, values.resultDir),
    result_dir: values.resultDir,
  };
  return template.command.map((token) =>
    token.replace(PLACEHOLDER, (_, name: string) => {
      const value = Object.hasOwn(table, name) ? table[name] : undefined;
      if (value === undefined) throw new SemanticEvalTemplateError(name, token);
      return value;
    }),
  );
}
