/**
 * Fake run adapters for the run package's in-process specs: they record what they were given and
 * write the files they report, like the real ones.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchRunOutcome } from '@perf-eval/bench-runner';
import type { BfclOutcome } from '@perf-eval/bfcl-runner';
import type { LmEvalOutcome, LmEvalResults } from '@perf-eval/lmeval-runner';
import type { ServerHandle } from '@perf-eval/server-lifecycle';
import type { RunAdapters, RunReporter } from '../src/lib/execute.js';

/** What the fakes were given, in call order. */
export interface Recorded {
  calls: string[];
  errors: string[];
  stopped: number;
  bench: Parameters<RunAdapters['runBench']>[];
  lmEval: Parameters<RunAdapters['runLmEval']>[];
  bfcl: Parameters<RunAdapters['runBfcl']>[];
}

/** A reporter that keeps only the error lines. */
export function reporter(recorded: Recorded): RunReporter {
  return {
    line: () => undefined,
    group: () => undefined,
    error: (text) => void recorded.errors.push(text),
    taskStarted: () => undefined,
    taskFinished: () => undefined,
    close: () => undefined,
  };
}

/** Fakes following the adapters' contracts: they write the files they report, like the real ones. */
export function fakes(recorded: Recorded, overrides: Partial<RunAdapters> = {}): Partial<RunAdapters> {
  const server = (url: string): ServerHandle =>
    ({
      runtime: 'sim',
      url,
      pid: 1234,
      rejectOnExit: () => new Promise<never>(() => undefined),
      stop: async () => {
        recorded.stopped++;
        recorded.calls.push('stop');
      },
    }) as unknown as ServerHandle;
  return {
    startServer: async (spec) => {
      recorded.calls.push(`startServer:${spec.port}`);
      return server(`http://127.0.0.1:${spec.port}`);
    },
    runBench: async (spec, options) => {
      recorded.calls.push(`bench:${spec.runName}`);
      recorded.bench.push([spec, options]);
      const resultFile = join(options.resultsDir, `bench-${spec.runName}.json`);
      writeFileSync(resultFile, '{}');
      return {
        runName: spec.runName,
        resultFile,
        repetitionFiles: [resultFile],
        result: { completed: 4, failed: 0, output_throughput: 12.5, p99_ttft_ms: 7 },
        counts: [],
        nonFiniteKeys: [],
        durationMs: 1,
      } as unknown as BenchRunOutcome;
    },
    runSemanticEval: async (semantic) => {
      recorded.calls.push('semantic_eval');
      writeFileSync(semantic.outputPath, '{}');
      return { accuracy: 0.5, invalid_rate: 0, questions_per_second: 3 };
    },
    runLmEval: async (spec, options) => {
      recorded.calls.push(`lm_eval:${spec.task}`);
      recorded.lmEval.push([spec, options]);
      const modelDir = join(spec.outputPath, 'org__tiny');
      const resultsFile = join(modelDir, 'results_2026.json');
      const samples = join(modelDir, 'samples_gsm8k_2026.jsonl');
      const stray = join(modelDir, 'notes.txt');
      const results = {
        results: { gsm8k: { 'exact_match,strict-match': 0.25, 'exact_match_stderr,strict-match': 0.1 } },
      } as unknown as LmEvalResults;
      return {
        task: spec.task,
        resultsFile,
        samplesFiles: [samples],
        results,
        durationMs: 1,
        createdFiles: [resultsFile, samples, stray],
      } as LmEvalOutcome;
    },
    runBfcl: async (spec, options) => {
      recorded.calls.push(`bfcl:${spec.category}`);
      recorded.bfcl.push([spec, options]);
      const written = join(spec.resultsDir, `bfcl-${spec.category}`, 'results_x.json');
      return {
        category: spec.category,
        scores: [{ category: spec.category, accuracy: 0.87 }],
        writtenFiles: [written],
        manifest: '',
        durationMs: 1,
        workDir: '',
        inferenceErrors: [],
      } as BfclOutcome;
    },
    ...overrides,
  };
}

export function recorder(): Recorded {
  return { calls: [], errors: [], stopped: 0, bench: [], lmEval: [], bfcl: [] };
}
