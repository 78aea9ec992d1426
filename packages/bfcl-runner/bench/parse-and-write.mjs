// Benchmarks of the TypeScript side of a BFCL run (not run in tests): reading score/result files
// and writing the lm-eval-shaped outputs. Run after `npx tsc --build packages/bfcl-runner/tsconfig.lib.json`:
//   node packages/bfcl-runner/bench/parse-and-write.mjs
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  bfclResultFile,
  bfclScoreFile,
  collectBfclScores,
  countInferenceErrors,
  readBfclCsv,
  readBfclResultFile,
  readScoreSummary,
  scoredSubcategories,
  writeBfclResults,
} from '../dist/index.js';

const FIXTURES = resolve(import.meta.dirname, '../../../../shared/reference/fixtures/bfcl/harmony-fixes-2');
const MODEL = 'openai/gpt-oss-120b';

async function time(label, target, iterations, fn) {
  const started = performance.now();
  for (let i = 0; i < iterations; i++) await fn(i);
  const per = (performance.now() - started) / iterations;
  console.log(`${label.padEnd(58)} ${per.toFixed(3).padStart(9)} ms/op   target < ${target} ms`);
}

const work = await mkdtemp(join(tmpdir(), 'bfcl-bench-'));
try {
  await time('readScoreSummary (simple_python, 71 KB, line 1 only)', 1, 500, () =>
    readScoreSummary(join(FIXTURES, 'score/openai_gpt-oss-120b/non_live/BFCL_v4_simple_python_score.json')),
  );
  await time('readBfclResultFile (simple_python, 400 lines)', 10, 100, () =>
    readBfclResultFile(
      join(FIXTURES, 'result/openai_gpt-oss-120b/non_live/BFCL_v4_simple_python_result.json'),
    ),
  );
  await time('readBfclCsv (data_overall.csv)', 1, 500, () =>
    readBfclCsv(join(FIXTURES, 'score/data_overall.csv')),
  );

  // A synthetic `all` run: 22 leaves, each with a score file and a 1000-entry result file.
  const line = (
    await readFile(
      join(FIXTURES, 'result/openai_gpt-oss-120b/non_live/BFCL_v4_simple_python_result.json'),
      'utf8',
    )
  ).split('\n')[0];
  const leaves = scoredSubcategories('all');
  for (const leaf of leaves) {
    const score = bfclScoreFile(work, MODEL, leaf);
    await mkdir(dirname(score), { recursive: true });
    await writeFile(score, '{"accuracy": 0.5, "correct_count": 500, "total_count": 1000}\n');
    const result = bfclResultFile(work, MODEL, leaf);
    await mkdir(dirname(result), { recursive: true });
    await writeFile(result, `${line}\n`.repeat(1000));
  }
  await time('collectBfclScores(all: 22 leaves)', 20, 50, () => collectBfclScores(work, MODEL, 'all'));
  await time('countInferenceErrors(all: 22 x 1000 result lines)', 500, 5, () =>
    countInferenceErrors(work, MODEL, leaves),
  );
  const rows = await collectBfclScores(work, MODEL, 'all');
  await time('writeBfclResults(all: 23 files + manifest, atomic)', 100, 10, (i) =>
    writeBfclResults(join(work, `results-${i}`), MODEL, 'all', rows, { print: () => undefined }),
  );
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MB   target < 150 MB`);
} finally {
  await rm(work, { recursive: true, force: true });
}
