/**
 * Recipe validation with upstream's wording (recipe-compat.md §3–§10) and the rewrite's stricter
 * rules (§18). Every problem of a file is collected in one pass; nothing is resolved until the
 * whole recipe is valid.
 */
import { PyFloat, pyRepr, pyStr, type PyValue } from '@perf-eval/util';
import { DiagnosticCollector, didYouMean } from './diagnostics.js';
import { BENCH_RESERVED_OPTIONS } from '@perf-eval/util';
import {
  BENCH_DATASETS,
  BFCL_CATEGORIES,
  KNOWN_KEYS,
  MAX_SWEEP_VARIANTS,
  MAX_TIMEOUT_MINUTES,
  MAX_TIMEOUT_SECONDS,
  SEMANTIC_EVAL_PLACEHOLDERS,
} from './schema.js';
import { placeholdersOf, semanticEvalTokens } from './semantic-eval.js';
import { pathSafe } from './sweep.js';
import { splitGpus } from './topology.js';
import { YAML11_ONLY_BOOLEANS, type Path } from './yaml11.js';

export type PyMap = Record<string, PyValue>;

export function isMap(value: unknown): value is PyMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof PyFloat);
}

/** A YAML int (booleans and floats are not ints; upstream let booleans through, D8). */
export function isInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

function isPositiveInt(value: unknown): value is number {
  return isInt(value) && value >= 1;
}

function isNumber(value: unknown): boolean {
  return typeof value === 'number' || value instanceof PyFloat;
}

function numberOf(value: unknown): number {
  return value instanceof PyFloat ? value.value : (value as number);
}

const isPresent = (value: unknown): boolean => value !== null && value !== undefined;

/** Upstream's truthiness of `bench_only` / `BENCH_ONLY`: `1`, `true` or `yes`, case-insensitive. */
export function isTruthyFlag(value: unknown): boolean {
  if (value === true) return true;
  if (value === null || value === undefined || value === false) return false;
  return ['1', 'true', 'yes'].includes(
    pyStr(value as PyValue)
      .trim()
      .toLowerCase(),
  );
}

/** bench `args` key normalisation: strip leading `-` and `_` (D5), then `_` → `-`. */
export function normalizeBenchArgKey(key: string): string {
  return key.replace(/^[-_]+/, '').replace(/_/g, '-');
}

export function benchRunName(name: string, concurrency: PyValue): string {
  return `${name}-conc-${pyStr(concurrency)}`;
}

// Rank buckets follow upstream's validation order (§3.1): its first error stays our first error.
const R_GPU = 1;
const R_PROFILE = 2;
const R_BLOCKS = 3;
const R_LMEVAL = 4;
const R_BFCL = 5;
const R_BENCH = 7;
const R_OTHER = 8;

export interface ValidationContext {
  /** Profile names in file order; `undefined` when the profiles file itself failed to load. */
  profileNames: readonly string[] | undefined;
  profilesPath: string;
  /** The server runtime of a GPU profile (the simulator needs no tool-call parser). */
  runtimeOf?: (gpu: string) => string | undefined;
  /** The loader env (CUDA_VISIBLE_DEVICES decides the default prefill/decode GPU split). */
  env?: Readonly<Record<string, string | undefined>>;
}

function checkUnknownKeys(
  out: DiagnosticCollector,
  map: PyMap,
  known: readonly string[],
  path: Path,
  rank: readonly number[],
): void {
  for (const key of Object.keys(map)) {
    if (known.includes(key)) continue;
    const dotted = [...path, key]
      .map((s) => (typeof s === 'number' ? `[${s}]` : s))
      .join('.')
      .replace(/\.\[/g, '[');
    out.error([...path, key], `unknown field '${dotted}'${didYouMean(key, known)}`, rank, true);
  }
}

function checkBooleanField(out: DiagnosticCollector, map: PyMap, key: string, path: Path): void {
  if (!(key in map) || !isPresent(map[key])) return;
  const value = map[key];
  if (typeof value !== 'boolean') {
    out.error([...path, key], `${key} must be true or false, got ${pyRepr(value)}`, [R_OTHER]);
    return;
  }
  const source = out.sourceOf([...path, key]);
  if (source && YAML11_ONLY_BOOLEANS.test(source)) {
    out.warn([...path, key], `${key}: '${source}' is read as ${value} (YAML 1.1); write ${value} instead`);
  }
}

function checkPositiveIntField(
  out: DiagnosticCollector,
  map: PyMap,
  key: string,
  path: Path,
  label: string,
  rank: number[],
  max?: number,
): void {
  if (!(key in map) || !isPresent(map[key])) return;
  const value = map[key];
  if (!isPositiveInt(value)) out.error([...path, key], `${label} must be a positive integer`, rank);
  else if (max !== undefined && value > max)
    out.error([...path, key], timerLimitMessage(label, value, max), rank);
}

function timerLimitMessage(label: string, value: number, max: number): string {
  return `${label} ${value} is above ${max}, the longest timeout a Node.js timer can hold (2^31-1 ms, about 24.8 days); use at most ${max}`;
}

/** Control bytes (C0, DEL, C1): an ESC in a name would be echoed to the terminal as an ANSI sequence. */
// eslint-disable-next-line no-control-regex -- matching control bytes is the point
const CONTROL_CHAR = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Why `name` cannot be a workload name (it names `<results-dir>/<name>/`, log lines and the dashboard
 * workload), or undefined. `.`/`..` and separators would leave the results directory.
 */
export function workloadNameProblem(name: string, field = 'name'): string | undefined {
  const control = CONTROL_CHAR.exec(name);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).padStart(2, '0');
    return `${field} contains the control character \\x${code} (at position ${control.index + 1}); use printable characters only (it is printed to the terminal and names results/<name>/)`;
  }
  if (name === '.' || name === '..') {
    return `${field} '${name}' would put the results outside the results directory (results/${name}/); use a real name such as 'my-model-h200'`;
  }
  if (!/^[^\s/\\]+$/.test(name))
    return `${field} must be a non-empty string without '/', '\\' or whitespace (it names results/<name>/)`;
  return undefined;
}

function checkScalarMap(out: DiagnosticCollector, value: PyValue, path: Path, label: string): void {
  if (!isPresent(value)) return;
  if (!isMap(value)) {
    out.error(path, `${label} must be a map`, [R_OTHER]);
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    if (isMap(item) || Array.isArray(item))
      out.error([...path, key], `${label}.${key} must be a string, number, boolean or null`, [R_OTHER]);
  }
}

function validateVllm(out: DiagnosticCollector, recipe: PyMap, context: ValidationContext): void {
  const vllm = recipe['vllm'];
  if (!isPresent(vllm)) {
    out.error(['vllm'], `missing required 'vllm' block (vllm.model is required)`, [R_OTHER]);
    return;
  }
  if (!isMap(vllm)) {
    out.error(['vllm'], `vllm must be a map`, [R_OTHER]);
    return;
  }
  checkUnknownKeys(out, vllm, KNOWN_KEYS.vllm, ['vllm'], [R_OTHER]);
  const model = vllm['model'];
  if (typeof model !== 'string' || model.trim() === '') {
    out.error(['vllm', 'model'], `vllm.model is required and must be a non-empty string`, [R_OTHER], true);
  }
  if (isPresent(vllm['image']) && (typeof vllm['image'] !== 'string' || vllm['image'] === '')) {
    out.error(['vllm', 'image'], `vllm.image must be a non-empty string`, [R_OTHER]);
  }
  if (isPresent(vllm['serve_args']) && typeof vllm['serve_args'] !== 'string') {
    out.error(['vllm', 'serve_args'], `vllm.serve_args must be a string (use a '>-' folded block)`, [
      R_OTHER,
    ]);
  }
  checkScalarMap(out, vllm['env'] as PyValue, ['vllm', 'env'], 'vllm.env');
  if ('startup_timeout_s' in vllm && !isPositiveInt(vllm['startup_timeout_s'])) {
    out.error(['vllm', 'startup_timeout_s'], `vllm.startup_timeout_s must be a positive integer`, [R_OTHER]);
  } else if (isPositiveInt(vllm['startup_timeout_s']) && vllm['startup_timeout_s'] > MAX_TIMEOUT_SECONDS) {
    out.error(
      ['vllm', 'startup_timeout_s'],
      timerLimitMessage('vllm.startup_timeout_s', vllm['startup_timeout_s'], MAX_TIMEOUT_SECONDS),
      [R_OTHER],
    );
  }
  validateTopology(out, recipe, vllm, context);
}

function checkPortField(out: DiagnosticCollector, map: PyMap, path: Path, label: string): void {
  if (!isPresent(map['port'])) return;
  if (!(isInt(map['port']) && map['port'] >= 1 && map['port'] <= 65535))
    out.error([...path, 'port'], `${label}.port must be a port number (1-65535)`, [R_OTHER]);
}

function checkNonEmptyString(
  out: DiagnosticCollector,
  map: PyMap,
  key: string,
  path: Path,
  label: string,
): void {
  if (isPresent(map[key]) && (typeof map[key] !== 'string' || (map[key] as string).trim() === '')) {
    out.error([...path, key], `${label}.${key} must be a non-empty string`, [R_OTHER]);
  }
}

/** GPU ids of a role when they are a valid list, else undefined (errors reported). */
function roleGpuIds(out: DiagnosticCollector, role: PyMap, name: string): number[] | undefined {
  const ids = role['gpu_ids'];
  if (!isPresent(ids)) return undefined;
  const path = ['vllm', name, 'gpu_ids'];
  if (!Array.isArray(ids) || ids.length === 0) {
    out.error(path, `vllm.${name}.gpu_ids must be a non-empty list of GPU indices`, [R_OTHER]);
    return undefined;
  }
  let ok = true;
  ids.forEach((id, i) => {
    if (!(isInt(id) && id >= 0)) {
      out.error(
        [...path, i],
        `vllm.${name}.gpu_ids[${i}] must be a GPU index (an integer >= 0), got ${pyRepr(id)}`,
        [R_OTHER],
      );
      ok = false;
    } else if (ids.indexOf(id) !== i) {
      out.error([...path, i], `vllm.${name}.gpu_ids lists GPU ${id} twice`, [R_OTHER]);
      ok = false;
    }
  });
  return ok ? (ids as number[]) : undefined;
}

function validateRole(out: DiagnosticCollector, role: PyMap, name: 'prefill' | 'decode'): void {
  const path = ['vllm', name];
  checkUnknownKeys(out, role, KNOWN_KEYS.vllm_role, path, [R_OTHER]);
  if (isPresent(role['serve_args']) && typeof role['serve_args'] !== 'string') {
    out.error([...path, 'serve_args'], `vllm.${name}.serve_args must be a string (use a '>-' folded block)`, [
      R_OTHER,
    ]);
  }
  checkPositiveIntField(out, role, 'num_nodes', path, `vllm.${name}.num_nodes`, [R_OTHER]);
  checkPortField(out, role, path, `vllm.${name}`);
  checkScalarMap(out, role['env'] as PyValue, [...path, 'env'], `vllm.${name}.env`);
}

/** Disaggregated prefill/decode, kv_transfer, proxy and num_nodes (perf-eval extensions). */
function validateTopology(
  out: DiagnosticCollector,
  recipe: PyMap,
  vllm: PyMap,
  context: ValidationContext,
): void {
  checkPositiveIntField(out, vllm, 'num_nodes', ['vllm'], 'vllm.num_nodes', [R_OTHER]);
  const roles = (['prefill', 'decode'] as const).filter((name) => isPresent(vllm[name]));
  for (const name of roles) {
    if (!isMap(vllm[name]))
      out.error(
        ['vllm', name],
        `vllm.${name} must be a map (its serve_args, gpu_ids, num_nodes, port, env)`,
        [R_OTHER],
      );
    else validateRole(out, vllm[name] as PyMap, name);
  }
  if (roles.length === 1) {
    const [set, unset] = roles[0] === 'prefill' ? ['prefill', 'decode'] : ['decode', 'prefill'];
    out.error(
      ['vllm', set as string],
      `vllm.${set} needs vllm.${unset}: disaggregated serving sets both roles`,
      [R_OTHER],
      true,
    );
  }
  for (const block of ['kv_transfer', 'proxy'] as const) {
    if (!isPresent(vllm[block])) continue;
    if (roles.length === 0) {
      out.error(
        ['vllm', block],
        `vllm.${block} needs vllm.prefill and vllm.decode (disaggregated serving)`,
        [R_OTHER],
        true,
      );
    } else if (!isMap(vllm[block])) {
      out.error(['vllm', block], `vllm.${block} must be a map`, [R_OTHER]);
    } else {
      checkUnknownKeys(out, vllm[block] as PyMap, KNOWN_KEYS[block], ['vllm', block], [R_OTHER]);
    }
  }
  const kv = isMap(vllm['kv_transfer']) ? vllm['kv_transfer'] : {};
  checkNonEmptyString(out, kv, 'connector', ['vllm', 'kv_transfer'], 'vllm.kv_transfer');
  checkPositiveIntField(out, kv, 'num_threads', ['vllm', 'kv_transfer'], 'vllm.kv_transfer.num_threads', [
    R_OTHER,
  ]);
  const proxy = isMap(vllm['proxy']) ? vllm['proxy'] : {};
  checkNonEmptyString(out, proxy, 'script', ['vllm', 'proxy'], 'vllm.proxy');
  checkNonEmptyString(out, proxy, 'python', ['vllm', 'proxy'], 'vllm.proxy');
  checkPortField(out, proxy, ['vllm', 'proxy'], 'vllm.proxy');
  const health = proxy['health_path'];
  if (isPresent(health) && !(typeof health === 'string' && health.startsWith('/'))) {
    out.error(
      ['vllm', 'proxy', 'health_path'],
      `vllm.proxy.health_path must be a path starting with '/', got ${pyRepr(health)}`,
      [R_OTHER],
    );
  }
  const prefill = vllm['prefill'];
  const decode = vllm['decode'];
  if (!isMap(prefill) || !isMap(decode)) return;

  if (isPresent(vllm['num_nodes'])) {
    out.error(
      ['vllm', 'num_nodes'],
      `vllm.num_nodes applies to the aggregated server; with prefill/decode set vllm.prefill.num_nodes and vllm.decode.num_nodes`,
      [R_OTHER],
      true,
    );
  }
  const gpu = recipe['gpu'];
  const runtime = typeof gpu === 'string' ? context.runtimeOf?.(gpu) : undefined;
  if (runtime === 'docker') {
    out.error(
      ['vllm', 'prefill'],
      `disaggregated prefill/decode is not supported with the docker server runtime (GPU profile '${gpu as string}'); use a profile with server_runtime native or sim`,
      [R_OTHER],
      true,
    );
  }
  const ports: [string, number][] = [];
  for (const [label, map] of [
    ['proxy', proxy],
    ['prefill', prefill],
    ['decode', decode],
  ] as const) {
    const port = map['port'];
    if (!(isInt(port) && port >= 1 && port <= 65535)) continue;
    const clash = ports.find(([, other]) => other === port);
    if (clash)
      out.error(
        ['vllm', label, 'port'],
        `vllm.${label}.port ${port} is also vllm.${clash[0]}.port; each service needs its own port`,
        [R_OTHER],
      );
    ports.push([label, port]);
  }
  const prefillIds = roleGpuIds(out, prefill, 'prefill');
  const decodeIds = roleGpuIds(out, decode, 'decode');
  const idsInvalid =
    (isPresent(prefill['gpu_ids']) && !prefillIds) || (isPresent(decode['gpu_ids']) && !decodeIds);
  if (idsInvalid) return;
  const numGpus = isPositiveInt(recipe['num_gpus']) ? recipe['num_gpus'] : 1;
  const split = splitGpus({
    prefillIds,
    decodeIds,
    cudaVisibleDevices: context.env?.['CUDA_VISIBLE_DEVICES'],
    numGpus,
  });
  if ('error' in split) {
    const at =
      prefillIds && decodeIds
        ? ['vllm', 'decode', 'gpu_ids']
        : prefillIds
          ? ['vllm', 'prefill', 'gpu_ids']
          : decodeIds
            ? ['vllm', 'decode', 'gpu_ids']
            : ['vllm', 'prefill'];
    out.error(at, split.error, [R_OTHER], at.length === 2);
  }
}

function checkPlaceholders(
  out: DiagnosticCollector,
  text: string,
  path: Path,
  label: string,
  known: readonly string[],
): void {
  for (const name of placeholdersOf(text)) {
    if (known.includes(name)) continue;
    const hint = didYouMean(name, known);
    out.error(
      path,
      `${label} has unknown placeholder '{${name}}' (known: ${known.map((k) => `{${k}}`).join(', ')})${hint.replace(/'([^']+)'/, "'{$1}'")}`,
      [R_OTHER],
    );
  }
}

function validateSemanticEval(out: DiagnosticCollector, block: PyValue): void {
  if (!isPresent(block)) return;
  if (!isMap(block)) {
    out.error(
      ['semantic_eval'],
      `semantic_eval must be a map (command, python, num_questions, timeout_minutes, output_path)`,
      [R_OTHER],
    );
    return;
  }
  checkUnknownKeys(out, block, KNOWN_KEYS.semantic_eval, ['semantic_eval'], [R_OTHER]);
  const command = block['command'];
  if (isPresent(command)) {
    if (typeof command === 'string') {
      if (semanticEvalTokens(command).length === 0)
        out.error(['semantic_eval', 'command'], `semantic_eval.command must not be empty`, [R_OTHER]);
      checkPlaceholders(
        out,
        command,
        ['semantic_eval', 'command'],
        'semantic_eval.command',
        SEMANTIC_EVAL_PLACEHOLDERS,
      );
    } else if (Array.isArray(command) && command.length > 0) {
      command.forEach((token, i) => {
        if (typeof token !== 'string' || token === '') {
          out.error(
            ['semantic_eval', 'command', i],
            `semantic_eval.command[${i}] must be a non-empty string, got ${pyRepr(token)}`,
            [R_OTHER],
          );
        } else {
          checkPlaceholders(
            out,
            token,
            ['semantic_eval', 'command', i],
            `semantic_eval.command[${i}]`,
            SEMANTIC_EVAL_PLACEHOLDERS,
          );
        }
      });
    } else {
      out.error(
        ['semantic_eval', 'command'],
        `semantic_eval.command must be a non-empty list of arguments or a string`,
        [R_OTHER],
      );
    }
    if (isPresent(block['python'])) {
      out.error(
        ['semantic_eval', 'python'],
        `semantic_eval.python only applies to the default command; put the interpreter in semantic_eval.command`,
        [R_OTHER],
        true,
      );
    }
    if (isPresent(block['num_questions'])) {
      out.error(
        ['semantic_eval', 'num_questions'],
        `semantic_eval.num_questions only applies to the default command; put --num-questions in semantic_eval.command`,
        [R_OTHER],
        true,
      );
    }
  }
  checkNonEmptyString(out, block, 'python', ['semantic_eval'], 'semantic_eval');
  checkPositiveIntField(out, block, 'num_questions', ['semantic_eval'], 'semantic_eval.num_questions', [
    R_OTHER,
  ]);
  checkPositiveIntField(
    out,
    block,
    'timeout_minutes',
    ['semantic_eval'],
    'semantic_eval.timeout_minutes',
    [R_OTHER],
    MAX_TIMEOUT_MINUTES,
  );
  const output = block['output_path'];
  if (isPresent(output)) {
    if (typeof output !== 'string' || output.trim() === '')
      out.error(['semantic_eval', 'output_path'], `semantic_eval.output_path must be a non-empty string`, [
        R_OTHER,
      ]);
    else
      checkPlaceholders(out, output, ['semantic_eval', 'output_path'], 'semantic_eval.output_path', [
        'result_dir',
      ]);
  }
}

function validateSweep(out: DiagnosticCollector, block: PyValue): void {
  if (!isPresent(block)) return;
  if (!isMap(block)) {
    out.error(['sweep'], `sweep must be a map with serve_args`, [R_OTHER]);
    return;
  }
  checkUnknownKeys(out, block, KNOWN_KEYS.sweep, ['sweep'], [R_OTHER]);
  const serveArgs = block['serve_args'];
  if (!isMap(serveArgs) || Object.keys(serveArgs).length === 0) {
    out.error(
      ['sweep', 'serve_args'],
      `sweep.serve_args must map serve flags to lists of values, e.g. {--max-num-seqs: [128, 256]}`,
      [R_OTHER],
      true,
    );
    return;
  }
  const counts: number[] = [];
  for (const [flag, values] of Object.entries(serveArgs)) {
    const path = ['sweep', 'serve_args', flag];
    const label = `sweep.serve_args['${flag}']`;
    if (!/^--[A-Za-z0-9][A-Za-z0-9._-]*$/.test(flag) || out.isNonStringKey(path)) {
      const bare = flag.replace(/^-+/, '').split('=')[0] as string;
      out.error(
        path,
        `sweep.serve_args key '${flag}' is not a serve flag; write it as '--${bare}'`,
        [R_OTHER],
        true,
      );
    }
    if (!Array.isArray(values)) {
      out.error(path, `${label} must be a list of values`, [R_OTHER]);
      continue;
    }
    if (values.length === 0) {
      out.error(path, `${label} has an empty value list`, [R_OTHER]);
      continue;
    }
    const parts = new Map<string, string>();
    values.forEach((value, i) => {
      const ok =
        (typeof value === 'string' && value.trim() !== '' && !/\s/.test(value)) ||
        typeof value === 'number' ||
        value instanceof PyFloat;
      if (!ok) {
        out.error(
          [...path, i],
          `${label}[${i}] must be a number or a non-empty string without whitespace, got ${pyRepr(value)}`,
          [R_OTHER],
        );
        return;
      }
      const text = pyStr(value);
      const part = pathSafe(text);
      const previous = parts.get(part);
      if (previous === text) out.error([...path, i], `${label} lists ${text} twice`, [R_OTHER]);
      else if (previous !== undefined)
        out.error(
          [...path, i],
          `${label} values '${previous}' and '${text}' give the same variant name part '${part}'`,
          [R_OTHER],
        );
      parts.set(part, text);
    });
    counts.push(values.length);
  }
  const total = counts.reduce((a, b) => a * b, 1);
  if (total > MAX_SWEEP_VARIANTS) {
    out.error(
      ['sweep'],
      `sweep expands to ${total} variants (${counts.join(' × ')}); at most ${MAX_SWEEP_VARIANTS} are allowed`,
      [R_OTHER],
      true,
    );
  }
}

function validateLmEvalOptions(out: DiagnosticCollector, map: PyMap, path: Path, rank: number[]): void {
  checkBooleanField(out, map, 'chat', path);
  if (
    isPresent(map['include_path']) &&
    (typeof map['include_path'] !== 'string' || map['include_path'] === '')
  ) {
    out.error([...path, 'include_path'], `include_path must be a non-empty string`, rank);
  }
  const limit = map['limit'];
  if (
    isPresent(limit) &&
    !(isNumber(limit) && numberOf(limit) > 0 && (isInt(limit) || numberOf(limit) < 1))
  ) {
    out.error([...path, 'limit'], `limit must be a positive integer or a fraction between 0 and 1`, rank);
  }
  if (isPresent(map['seed']) && !isInt(map['seed']))
    out.error([...path, 'seed'], `seed must be an integer`, rank);
  const gen = map['gen_kwargs'];
  if (isPresent(gen) && !(typeof gen === 'string' && gen !== '') && !isMap(gen)) {
    out.error([...path, 'gen_kwargs'], `gen_kwargs must be a 'k=v,…' string or a map`, rank);
  }
}

function validateLmEval(out: DiagnosticCollector, block: PyValue): void {
  if (!isPresent(block)) return;
  if (!isMap(block)) {
    out.error(['lm_eval'], `lm_eval must be a map`, [R_LMEVAL]);
    return;
  }
  checkUnknownKeys(out, block, KNOWN_KEYS.lm_eval, ['lm_eval'], [R_LMEVAL]);
  if (isPresent(block['model_args']) && !isMap(block['model_args'])) {
    out.error(['lm_eval', 'model_args'], `lm_eval.model_args must be a map`, [R_LMEVAL]);
  }
  validateLmEvalOptions(out, block, ['lm_eval'], [R_LMEVAL]);
  const tasks = block['tasks'];
  if (!isPresent(tasks) || (Array.isArray(tasks) && tasks.length === 0)) {
    out.warn(['lm_eval'], `lm_eval block has no tasks; it will be ignored`, true);
    return;
  }
  if (!Array.isArray(tasks)) {
    out.error(['lm_eval', 'tasks'], `lm_eval.tasks must be a list`, [R_LMEVAL]);
    return;
  }
  const seen = new Map<string, number>();
  tasks.forEach((task, i) => {
    const path = ['lm_eval', 'tasks', i] as const;
    if (!isMap(task)) {
      out.error(path, `lm_eval.tasks[${i}] must be a map with a 'name'`, [R_LMEVAL, i]);
      return;
    }
    const unknown = Object.keys(task)
      .filter((key) => !KNOWN_KEYS.lm_eval_task.includes(key))
      .sort();
    if (unknown.length > 0) {
      out.error(
        [...path, unknown[0] as string],
        `task ${pyRepr((task['name'] ?? null) as PyValue)} has unsupported top-level fields ${pyRepr(unknown)}; move them under \`model_args:\``,
        [R_LMEVAL, i, 0],
        true,
      );
    }
    const name = task['name'];
    if (!isPresent(name)) {
      out.error(path, `lm_eval.tasks[${i}] is missing required field 'name'`, [R_LMEVAL, i, 1]);
    } else if (typeof name !== 'string' || name.trim() === '') {
      out.error([...path, 'name'], `lm_eval.tasks[${i}].name must be a non-empty string`, [R_LMEVAL, i, 1]);
    } else if (seen.has(name)) {
      out.error(
        [...path, 'name'],
        `duplicate lm_eval task '${name}' (also tasks[${seen.get(name)}]); each task runs once, its results go to results/<name>/${name}/`,
        [R_LMEVAL, i, 2],
      );
    } else {
      seen.set(name, i);
    }
    const fewshot = task['num_fewshot'];
    if (isPresent(fewshot) && !(isInt(fewshot) && fewshot >= 0)) {
      out.error(
        [...path, 'num_fewshot'],
        `task ${pyRepr(name as PyValue)} num_fewshot must be an integer >= 0`,
        [R_LMEVAL, i, 3],
      );
    }
    if (isPresent(task['model_args']) && !isMap(task['model_args'])) {
      out.error([...path, 'model_args'], `task ${pyRepr(name as PyValue)} model_args must be a map`, [
        R_LMEVAL,
        i,
        4,
      ]);
    }
    validateLmEvalOptions(out, task, path, [R_LMEVAL, i, 5]);
  });
}

function validateBfcl(out: DiagnosticCollector, block: PyMap, serveArgs: string, simulated: boolean): void {
  const unknown = Object.keys(block)
    .filter((key) => !KNOWN_KEYS.bfcl.includes(key))
    .sort();
  if (unknown.length > 0) {
    out.error(
      ['bfcl', unknown[0] as string],
      `bfcl block has unsupported fields ${pyRepr(unknown)}${didYouMean(unknown[0] as string, KNOWN_KEYS.bfcl)}`,
      [R_BFCL, 1],
      true,
    );
  }
  const categories = block['test_categories'];
  if (!Array.isArray(categories) || categories.length === 0) {
    out.error(
      ['bfcl', 'test_categories'],
      `bfcl block requires at least one test_categories entry`,
      [R_BFCL, 2],
      true,
    );
  } else {
    categories.forEach((category, i) => {
      if (typeof category !== 'string' || !BFCL_CATEGORIES.includes(category)) {
        const hint = typeof category === 'string' ? didYouMean(category, BFCL_CATEGORIES) : '';
        out.error(
          ['bfcl', 'test_categories', i],
          `unknown bfcl test category ${pyRepr(category as PyValue)}${hint}`,
          [R_BFCL, 2, i],
        );
      }
    });
    const duplicates = categories.filter((c, i) => categories.indexOf(c) !== i);
    for (const duplicate of new Set(duplicates)) {
      out.error(
        ['bfcl', 'test_categories', categories.lastIndexOf(duplicate)],
        `duplicate bfcl test category ${pyRepr(duplicate)}`,
        [R_BFCL, 3],
      );
    }
  }
  if (!serveArgs.includes('--tool-call-parser') && !simulated) {
    out.warn(
      ['bfcl'],
      `bfcl without --tool-call-parser in serve_args; some models may need it for function-calling`,
      true,
    );
  }
  if ('maximum_step_limit' in block && !isPositiveInt(block['maximum_step_limit'])) {
    out.error(['bfcl', 'maximum_step_limit'], `bfcl.maximum_step_limit must be a positive integer`, [
      R_BFCL,
      4,
    ]);
  }
  if ('max_test_cases' in block) {
    const cases = block['max_test_cases'];
    if (isMap(cases)) {
      for (const [category, value] of Object.entries(cases)) {
        if (!BFCL_CATEGORIES.includes(category)) {
          out.error(
            ['bfcl', 'max_test_cases', category],
            `unknown bfcl max_test_cases category '${category}'${didYouMean(category, BFCL_CATEGORIES)}`,
            [R_BFCL, 5],
            true,
          );
        } else if (!isPositiveInt(value)) {
          out.error(
            ['bfcl', 'max_test_cases', category],
            `bfcl.max_test_cases['${category}'] must be a positive integer`,
            [R_BFCL, 5],
          );
        }
      }
    } else if (isInt(cases)) {
      if (cases < 1)
        out.error(['bfcl', 'max_test_cases'], `bfcl.max_test_cases must be a positive integer`, [R_BFCL, 5]);
    } else {
      out.error(
        ['bfcl', 'max_test_cases'],
        `bfcl.max_test_cases must be a positive integer or category map`,
        [R_BFCL, 5],
      );
    }
  }
  checkPositiveIntField(out, block, 'num_threads', ['bfcl'], 'bfcl.num_threads', [R_BFCL, 6]);
  const temperature = block['temperature'];
  if (
    isPresent(temperature) &&
    !(isNumber(temperature) && Number.isFinite(numberOf(temperature)) && numberOf(temperature) >= 0)
  ) {
    out.error(['bfcl', 'temperature'], `bfcl.temperature must be a finite number >= 0`, [R_BFCL, 7]);
  }
}

const BENCH_ALLOWED_UPSTREAM = [...KNOWN_KEYS.bench_config].sort();
const REQUIRED_BENCH = ['name', 'input_len', 'output_len', 'num_prompts', 'max_concurrency'] as const;

function validateBenchConfig(
  out: DiagnosticCollector,
  config: PyValue,
  i: number,
  runNames: Map<string, number>,
): void {
  const path = ['vllm_bench', 'configs', i] as const;
  const rank = (check: number, sub = 0): number[] => [R_BENCH, i, check, sub];
  if (!isMap(config)) {
    out.error(path, `vllm_bench.configs[${i}] must be a map`, rank(0));
    return;
  }
  const name = (config['name'] ?? null) as PyValue;
  const label = `vllm_bench config ${pyRepr(name)}`;
  const unknown = Object.keys(config)
    .filter((key) => !KNOWN_KEYS.bench_config.includes(key))
    .sort();
  if (unknown.length > 0) {
    out.error(
      [...path, unknown[0] as string],
      `${label} has unsupported fields ${pyRepr(unknown)}; allowed: ${pyRepr(BENCH_ALLOWED_UPSTREAM)}${didYouMean(unknown[0] as string, BENCH_ALLOWED_UPSTREAM)}`,
      rank(1),
      true,
    );
  }
  for (const [j, field] of REQUIRED_BENCH.entries()) {
    if (!isPresent(config[field])) out.error(path, `${label} missing required field '${field}'`, rank(2, j));
  }
  if ('repetitions' in config) {
    const reps = config['repetitions'];
    if (!(isInt(reps) && reps >= 1 && reps % 2 === 1)) {
      out.error([...path, 'repetitions'], `${label} repetitions must be a positive odd integer`, rank(3));
    }
  }
  const args = config['args'];
  if (isPresent(args)) {
    if (!isMap(args)) {
      out.error([...path, 'args'], `${label} args must be a map`, rank(4));
    } else {
      const seen = new Set<string>();
      for (const key of Object.keys(args)) {
        const normalized = normalizeBenchArgKey(key);
        if (normalized === '' || out.isNonStringKey([...path, 'args', key])) {
          out.error([...path, 'args', key], `${label} args keys must be non-empty strings`, rank(5), true);
        } else if ((BENCH_RESERVED_OPTIONS as readonly string[]).includes(normalized)) {
          out.error(
            [...path, 'args', key],
            `${label} args cannot override wrapper-owned option --${normalized}`,
            rank(6),
            true,
          );
        } else if (seen.has(normalized)) {
          out.error(
            [...path, 'args', key],
            `${label} args contains duplicate option --${normalized} after normalization`,
            rank(7),
            true,
          );
        }
        seen.add(normalized);
      }
    }
  }
  const concurrency = config['max_concurrency'];
  const prompts = config['num_prompts'];
  if (Array.isArray(concurrency) && concurrency.length === 0) {
    out.error([...path, 'max_concurrency'], `${label} has an empty max_concurrency list`, rank(8));
  }
  if (Array.isArray(prompts) && isPresent(concurrency) && !Array.isArray(concurrency)) {
    out.error(
      [...path, 'num_prompts'],
      `${label} num_prompts may only be a list when max_concurrency is a list`,
      rank(9),
    );
  } else if (
    Array.isArray(prompts) &&
    Array.isArray(concurrency) &&
    concurrency.length > 0 &&
    prompts.length !== concurrency.length
  ) {
    out.error(
      [...path, 'num_prompts'],
      `${label} num_prompts list has ${prompts.length} entries but max_concurrency has ${concurrency.length}`,
      rank(10),
    );
  }
  if (isPresent(prompts)) {
    const values = Array.isArray(prompts) ? prompts : [prompts];
    if (values.length === 0 || !values.every(isPositiveInt)) {
      out.error(
        [...path, 'num_prompts'],
        `${label} num_prompts must be a positive integer (or a list of them matching max_concurrency)`,
        rank(11),
      );
    }
  }
  // Checks upstream did not have (D13/D14/D27) come after its own, in the same config.
  if (isPresent(name) && (typeof name !== 'string' || name.trim() === '' || /[\s/]/.test(name))) {
    out.error(
      [...path, 'name'],
      `${label} name must be a non-empty string without '/' or whitespace`,
      rank(13),
    );
  }
  for (const field of ['input_len', 'output_len'] as const) {
    if (isPresent(config[field]) && !isPositiveInt(config[field])) {
      out.error([...path, field], `${label} ${field} must be a positive integer`, rank(14));
    }
  }
  if (isPresent(concurrency)) {
    const values = Array.isArray(concurrency) ? concurrency : [concurrency];
    values.forEach((value, j) => {
      if (!isPositiveInt(value)) {
        const at = Array.isArray(concurrency)
          ? [...path, 'max_concurrency', j]
          : [...path, 'max_concurrency'];
        out.error(
          at,
          `${label} max_concurrency values must be positive integers, got ${pyRepr(value)}`,
          rank(15, j),
        );
      }
    });
    if (typeof name === 'string') {
      for (const value of values) {
        if (!isPositiveInt(value)) continue;
        const run = benchRunName(name, value);
        if (runNames.has(run)) {
          out.error([...path, 'name'], `duplicate vllm_bench config name '${run}'`, [R_BENCH, 1e6, i]);
        } else {
          runNames.set(run, i);
        }
      }
    }
  }
  const backend = config['backend'];
  if (isPresent(backend) && typeof backend !== 'string')
    out.error([...path, 'backend'], `${label} backend must be a string`, rank(16));
  const dataset = config['dataset'];
  if (isPresent(dataset) && !(BENCH_DATASETS as readonly string[]).includes(dataset as string)) {
    out.error(
      [...path, 'dataset'],
      `${label} has unsupported dataset ${pyRepr(dataset as PyValue)} (expected one of ${BENCH_DATASETS.join(', ')})`,
      rank(17),
    );
  }
  for (const field of ['speed_bench_dataset_subset', 'speed_bench_category'] as const) {
    if (!isPresent(config[field])) continue;
    if (typeof config[field] !== 'string') {
      out.error([...path, field], `${label} ${field} must be a string`, rank(18));
    } else if ((dataset ?? 'random') === 'random') {
      out.warn([...path, field], `${label} sets ${field} but dataset is 'random'; it is ignored`, true);
    }
  }
}

function validateBench(out: DiagnosticCollector, block: PyValue): void {
  if (!isPresent(block)) return;
  if (!isMap(block)) {
    out.error(['vllm_bench'], `vllm_bench must be a map`, [R_BENCH]);
    return;
  }
  checkUnknownKeys(out, block, KNOWN_KEYS.vllm_bench, ['vllm_bench'], [R_BENCH, -1]);
  const metadata = block['metadata'];
  if (isPresent(metadata)) {
    if (!isMap(metadata)) {
      out.error(['vllm_bench', 'metadata'], `vllm_bench.metadata must be a map of device, tp, precision`, [
        R_BENCH,
        -1,
      ]);
    } else {
      checkUnknownKeys(out, metadata, KNOWN_KEYS.bench_metadata, ['vllm_bench', 'metadata'], [R_BENCH, -1]);
      for (const key of ['device', 'precision'] as const) {
        if (isPresent(metadata[key]) && typeof metadata[key] !== 'string') {
          out.error(['vllm_bench', 'metadata', key], `vllm_bench.metadata.${key} must be a string`, [
            R_BENCH,
            -1,
          ]);
        }
      }
      checkPositiveIntField(out, metadata, 'tp', ['vllm_bench', 'metadata'], 'vllm_bench.metadata.tp', [
        R_BENCH,
        -1,
      ]);
    }
  }
  const configs = block['configs'];
  if (!isPresent(configs)) return;
  if (!Array.isArray(configs)) {
    out.error(['vllm_bench', 'configs'], `vllm_bench.configs must be a list`, [R_BENCH]);
    return;
  }
  const runNames = new Map<string, number>();
  configs.forEach((config, i) => validateBenchConfig(out, config, i, runNames));
}

function blockIsPresent(value: PyValue, listKey: string): boolean {
  if (!isPresent(value)) return false;
  if (!isMap(value)) return true; // a malformed block is reported by its own check
  const list = value[listKey];
  if (listKey === 'test_categories') return Object.keys(value).length > 0;
  return Array.isArray(list) ? list.length > 0 : isPresent(list);
}

/** Validate a parsed recipe; diagnostics go to `out`. */
export function validateRecipe(out: DiagnosticCollector, data: PyValue, context: ValidationContext): void {
  if (!isMap(data)) {
    out.error(
      [],
      `a recipe must be a YAML mapping, got ${data === null ? 'an empty document' : pyRepr(data).slice(0, 40)}`,
      [0],
    );
    return;
  }
  const gpu = data['gpu'];
  if (!gpu) {
    out.error(['gpu'], `missing required 'gpu' field`, [R_GPU], true);
  } else if (typeof gpu !== 'string') {
    out.error(['gpu'], `gpu must be a string, got ${pyRepr(gpu)}`, [R_GPU]);
  } else if (context.profileNames && !context.profileNames.includes(gpu)) {
    out.error(
      ['gpu'],
      `unknown gpu '${gpu}' in ${context.profilesPath} (have ${context.profileNames.join(', ')})${didYouMean(gpu, context.profileNames)}`,
      [R_PROFILE],
    );
  }
  const hasBlock =
    blockIsPresent(data['lm_eval'] as PyValue, 'tasks') ||
    blockIsPresent(data['vllm_bench'] as PyValue, 'configs') ||
    blockIsPresent(data['bfcl'] as PyValue, 'test_categories');
  if (!hasBlock)
    out.error([], `workload must define at least one of lm_eval, vllm_bench, or bfcl`, [R_BLOCKS]);

  validateLmEval(out, data['lm_eval'] as PyValue);
  const vllm = data['vllm'];
  const serveArgs = isMap(vllm) && typeof vllm['serve_args'] === 'string' ? vllm['serve_args'] : '';
  const bfcl = data['bfcl'];
  if (isPresent(bfcl)) {
    if (!isMap(bfcl)) out.error(['bfcl'], `bfcl must be a map`, [R_BFCL]);
    else if (Object.keys(bfcl).length > 0)
      validateBfcl(out, bfcl, serveArgs, typeof gpu === 'string' && context.runtimeOf?.(gpu) === 'sim');
  }
  validateBench(out, data['vllm_bench'] as PyValue);

  checkUnknownKeys(out, data, KNOWN_KEYS.recipe, [], [R_OTHER]);
  const name = data['name'];
  if (isPresent(name)) {
    const problem = typeof name === 'string' ? workloadNameProblem(name) : workloadNameProblem('');
    if (problem) out.error(['name'], problem, [R_OTHER]);
  }
  checkBooleanField(out, data, 'nightly', []);
  checkBooleanField(out, data, 'bench_only', []);
  checkPositiveIntField(out, data, 'num_gpus', [], 'num_gpus', [R_OTHER]);
  checkPositiveIntField(
    out,
    data,
    'timeout_in_minutes',
    [],
    'timeout_in_minutes',
    [R_OTHER],
    MAX_TIMEOUT_MINUTES,
  );
  validateVllm(out, data, context);
  validateSemanticEval(out, data['semantic_eval'] as PyValue);
  validateSweep(out, data['sweep'] as PyValue);
  validateGates(out, data['gates'] as PyValue);
}

function validateGates(out: DiagnosticCollector, block: PyValue): void {
  if (!isPresent(block)) return;
  if (!isMap(block)) {
    out.error(['gates'], `gates must be a map (accuracy, fail_on)`, [R_OTHER]);
    return;
  }
  checkUnknownKeys(out, block, KNOWN_KEYS.gates, ['gates'], [R_OTHER]);
  const failOn = block['fail_on'];
  if (isPresent(failOn) && failOn !== 'regression')
    out.error(['gates', 'fail_on'], `gates.fail_on must be 'regression', got ${pyRepr(failOn)}`, [R_OTHER]);
  const accuracy = block['accuracy'];
  if (!isPresent(accuracy)) return;
  if (!Array.isArray(accuracy)) {
    out.error(
      ['gates', 'accuracy'],
      `gates.accuracy must be a list of {task, metric, expected, rtol, wilson}`,
      [R_OTHER],
    );
    return;
  }
  accuracy.forEach((gate, i) => {
    const path = ['gates', 'accuracy', i];
    const label = `gates.accuracy[${i}]`;
    if (!isMap(gate)) {
      out.error(path, `${label} must be a map with task, metric and expected`, [R_OTHER]);
      return;
    }
    checkUnknownKeys(out, gate, KNOWN_KEYS.accuracy_gate, path, [R_OTHER]);
    for (const key of ['task', 'metric']) {
      if (typeof gate[key] !== 'string' || gate[key] === '')
        out.error(
          [...path, key],
          `${label}.${key} must be a non-empty string, got ${pyRepr(gate[key] ?? null)}`,
          [R_OTHER],
        );
    }
    const expected = gate['expected'];
    if (!isNumber(expected) || !Number.isFinite(numberOf(expected)) || numberOf(expected) < 0)
      out.error(
        [...path, 'expected'],
        `${label}.expected must be a number >= 0, got ${pyRepr(expected ?? null)}`,
        [R_OTHER],
      );
    const rtol = gate['rtol'];
    if (isPresent(rtol) && (!isNumber(rtol) || !(numberOf(rtol) >= 0 && numberOf(rtol) <= 1)))
      out.error([...path, 'rtol'], `${label}.rtol must be a number between 0 and 1, got ${pyRepr(rtol)}`, [
        R_OTHER,
      ]);
    checkBooleanField(out, gate, 'wilson', path);
  });
}
