import * as benchRunner from '@perf-eval/bench-runner';
import * as bfclRunner from '@perf-eval/bfcl-runner';
import * as ingest from '@perf-eval/ingest';
import * as lmevalRunner from '@perf-eval/lmeval-runner';
import * as pipeline from '@perf-eval/pipeline';
import * as results from '@perf-eval/results';
import * as run from '@perf-eval/run';
import * as serverLifecycle from '@perf-eval/server-lifecycle';
import * as toolchain from '@perf-eval/toolchain';
import * as util from '@perf-eval/util';
import * as verdicts from '@perf-eval/verdicts';
import { InterruptedError, PerfEvalError, ToolError } from '@perf-eval/util';
import type { ErrorCategory } from '@perf-eval/util';
import * as workloadSchema from '@perf-eval/workload-schema';
import { describe, expect, it } from 'vitest';
import { UsageError } from './args.js';
import { EXIT, exitCodeFor, exitCodeForSignal } from './exit-codes.js';

// Dynamic like the commands' import of it (it loads ECharts): the lint rule forbids a static one.
const report = await import('@perf-eval/report');

type Expected = ErrorCategory | 'cancellation';

/**
 * The category every error class must carry. A class missing here fails the walk below, so a new
 * error cannot silently exit 1 where it should exit 2 (or the other way round).
 */
const EXPECTED: Record<string, Expected> = {
  // util
  PerfEvalError: 'failure',
  ToolError: 'failure',
  InterruptedError: 'cancellation',
  // workload-schema
  RecipeInvalidError: 'validation',
  ProfileInvalidError: 'validation',
  RecipeNotFoundError: 'usage',
  RecipeReadError: 'usage',
  RecipeListError: 'usage',
  FileReadError: 'usage',
  TopologyPortError: 'validation',
  SemanticEvalTemplateError: 'validation',
  VariantSelectionError: 'usage',
  // server-lifecycle
  ServerExitedError: 'failure',
  ServerLaunchError: 'failure',
  ServerTimeoutError: 'failure',
  ServerModelMissingError: 'failure',
  ServerCancelledError: 'cancellation',
  DockerCommandError: 'failure',
  PortInvalidError: 'validation',
  PortInUseError: 'preflight',
  ProxyExitedError: 'failure',
  ProxyTimeoutError: 'failure',
  // bench-runner
  BenchDatasetError: 'validation',
  BenchReservedOptionError: 'validation',
  BenchSpecError: 'validation',
  BenchResultInvalidError: 'failure',
  BenchResultMissingError: 'failure',
  BenchIncompleteError: 'failure',
  BenchAggregateError: 'failure',
  BenchFailedError: 'failure',
  BenchTimeoutError: 'failure',
  BenchCancelledError: 'cancellation',
  BenchDockerError: 'failure',
  SpeedBenchOfflineError: 'preflight',
  SpeedBenchPrepError: 'failure',
  // lmeval-runner
  LmEvalFailedError: 'failure',
  LmEvalCancelledError: 'cancellation',
  LmEvalNoResultsError: 'failure',
  LmEvalParseError: 'failure',
  LmEvalTasksUnavailableError: 'preflight',
  LmEvalUnknownTaskError: 'validation',
  // bfcl-runner
  BfclFailedError: 'failure',
  BfclTimeoutError: 'failure',
  BfclCancelledError: 'cancellation',
  BfclNoScoreError: 'failure',
  BfclInferenceFailedError: 'failure',
  BfclParseError: 'failure',
  BfclUnknownCategoryError: 'validation',
  BfclDriverUnavailableError: 'preflight',
  BfclCheckError: 'preflight',
  // ingest
  IngestNoTokenError: 'preflight',
  IngestUrlInvalidError: 'preflight',
  IngestHttpError: 'failure',
  IngestNetworkError: 'failure',
  IngestAbortedError: 'cancellation',
  IngestEndpointDownError: 'failure',
  IngestSourceError: 'failure',
  IngestOutboxError: 'failure',
  IngestPlanMissingError: 'failure',
  IngestPlanInvalidError: 'validation',
  IngestFailedError: 'failure',
  // pipeline
  PipelineSelectionError: 'usage',
  PipelineRecipeError: 'validation',
  PipelineOverrideError: 'validation',
  PipelineInvalidError: 'validation',
  PipelineSchemaError: 'validation',
  PipelineFileError: 'usage',
  PipelineTopologyError: 'validation',
  // toolchain
  SetupStepError: 'failure',
  SetupPrerequisiteError: 'preflight',
  ToolsDirError: 'usage',
  // run
  PlanEnvMismatchError: 'internal',
  BaselineMissingError: 'usage',
  PreflightError: 'preflight',
  SemanticEvalFailedError: 'failure',
  SemanticEvalResultError: 'failure',
  // results
  ResultsDirError: 'usage',
  ResultsFileError: 'validation',
  HistoryFileError: 'validation',
  BuildkiteApiError: 'failure',
  BuildkiteRefError: 'usage',
  // verdicts
  GateFailedError: 'failure',
  // report
  ReportInputError: 'validation',
  // cli
  UsageError: 'usage',
};

/**
 * A stand-in for any required constructor argument: a string, a number, an empty list and an object
 * at once, so every constructor can build its message. Defaulted parameters (the options) stay unset.
 */
function anyArgument(): unknown {
  // A function target so the stand-in is also callable (`problems.reduce(...)`).
  const target = function () {
    return undefined;
  } as unknown as Record<PropertyKey, unknown>;
  const proxy: unknown = new Proxy(target, {
    get(_target, key) {
      if (key === Symbol.toPrimitive) return (hint: string) => (hint === 'number' ? 1 : 'x');
      if (key === Symbol.iterator) return () => [][Symbol.iterator]();
      if (key === 'length') return 0;
      if (key === 'then') return undefined;
      return proxy;
    },
    apply: () => proxy,
  });
  return proxy;
}

type ErrorClass = new (...args: unknown[]) => PerfEvalError;

function errorClassesOf(modules: Record<string, unknown>[]): Map<string, ErrorClass> {
  const classes = new Map<string, ErrorClass>();
  for (const module of modules) {
    for (const value of Object.values(module)) {
      if (
        typeof value === 'function' &&
        (value === PerfEvalError || value.prototype instanceof PerfEvalError)
      )
        classes.set(value.name, value as ErrorClass);
    }
  }
  return classes;
}

const CLI_CLASSES = { UsageError };

/** Every package's exports, and the CLI's own error classes. */
const MODULES = [
  util,
  workloadSchema,
  serverLifecycle,
  benchRunner,
  lmevalRunner,
  bfclRunner,
  ingest,
  pipeline,
  toolchain,
  run,
  results,
  verdicts,
  report,
  CLI_CLASSES,
];

describe('error categories', () => {
  const classes = errorClassesOf(MODULES);

  it('finds the error classes of every package', () => {
    expect(classes.size).toBeGreaterThanOrEqual(60);
    expect(classes.get('ToolError')).toBe(ToolError);
  });

  it.each([...classes])('%s carries its category', (name, ErrorClass) => {
    const expected = EXPECTED[name];
    expect(
      expected,
      `${name} has no expected category in this test: decide one and set it in its constructor`,
    ).toBeDefined();
    const args = Array.from({ length: ErrorClass.length }, anyArgument);
    if (name === 'InterruptedError') args[0] = 'SIGTERM';
    const error = new ErrorClass(...args);
    if (expected === 'cancellation') expect(error.category).toBe('terminated');
    else expect(error.category).toBe(expected);
  });
});

describe('cancellation', () => {
  it('carries the category of the signal that stopped the work, through the cause chain', () => {
    const sigint = new InterruptedError('SIGINT');
    expect(sigint).toMatchObject({ code: 'E_INTERRUPTED', category: 'interrupted' });
    expect(new InterruptedError('SIGTERM')).toMatchObject({ code: 'E_TERMINATED', category: 'terminated' });
    const execaLike = Object.assign(new Error('Command was canceled'), { cause: sigint });
    const context = { command: ['lm_eval'] };
    expect(new lmevalRunner.LmEvalCancelledError('gsm8k', context, { cause: execaLike }).category).toBe(
      'interrupted',
    );
    expect(new benchRunner.BenchCancelledError('r', 'cancelled', context, { cause: sigint }).category).toBe(
      'interrupted',
    );
    expect(new bfclRunner.BfclCancelledError('simple_python', context, { cause: execaLike }).category).toBe(
      'interrupted',
    );
    expect(new serverLifecycle.ServerCancelledError({ cause: sigint }).category).toBe('interrupted');
    expect(new ingest.IngestAbortedError('http://127.0.0.1:1', { cause: sigint }).category).toBe(
      'interrupted',
    );
    expect(new serverLifecycle.ServerCancelledError({ cause: new Error('teardown') }).category).toBe(
      'terminated',
    );
    expect(util.cancellationCategory(undefined)).toBe('terminated');
  });
});

describe('exitCodeFor', () => {
  it('maps categories, and only categories, to exit codes', () => {
    const of = (category: ErrorCategory) => exitCodeFor(new PerfEvalError('E_ANY', 'x', { category }));
    expect(of('usage')).toEqual({ code: EXIT.usage, internal: false });
    expect(of('validation')).toEqual({ code: 2, internal: false });
    expect(of('preflight')).toEqual({ code: 2, internal: false });
    expect(of('failure')).toEqual({ code: 1, internal: false });
    expect(of('interrupted')).toEqual({ code: 130, internal: false });
    expect(of('terminated')).toEqual({ code: 143, internal: false });
    expect(of('internal')).toEqual({ code: 1, internal: true });
    // A code that looks like a validation code does not decide anything by itself.
    expect(exitCodeFor(new PerfEvalError('E_RECIPE_SOMETHING', 'x'))).toEqual({ code: 1, internal: false });
    expect(exitCodeFor(new TypeError('bug'))).toEqual({ code: 1, internal: true });
    expect(exitCodeFor(new InterruptedError('SIGHUP')).code).toBe(143);
  });

  it('maps signals to 130 / 143', () => {
    expect(exitCodeForSignal('SIGINT')).toBe(130);
    expect(exitCodeForSignal('SIGTERM')).toBe(143);
    expect(exitCodeForSignal('SIGHUP')).toBe(143);
  });
});
