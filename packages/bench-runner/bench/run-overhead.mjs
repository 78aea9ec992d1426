// Wall time of runBench around a near-instant fake `vllm` (process spawn + parse + validate + aggregate),
// i.e. the wrapper's own overhead per repetition. Usage: node bench/run-overhead.mjs [repetitions=5]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runBench } from '../dist/index.js';

const repetitions = Number(process.argv[2] ?? 5);
const bin = resolve(import.meta.dirname, '../test/fixtures/bin');
const dir = await mkdtemp(join(tmpdir(), 'bench-runner-bench-'));
const spec = {
  runName: 'overhead-conc-1',
  model: 'm',
  dataset: 'random',
  inputLen: 16,
  outputLen: 16,
  numPrompts: 4,
  maxConcurrency: 1,
  repetitions,
  extraArgs: {},
  trustRemoteCode: false,
};
try {
  const baseline = performance.now();
  const { execa } = await import('execa');
  await execa(join(bin, 'vllm'), ['--version']);
  const spawnMs = performance.now() - baseline;
  const start = performance.now();
  await runBench(spec, {
    resultsDir: join(dir, 'results'),
    target: { host: '127.0.0.1', port: 8000 },
    executor: { kind: 'native', command: [join(bin, 'vllm')] },
    print: () => undefined,
  });
  const totalMs = performance.now() - start;
  const perRep = totalMs / repetitions;
  const row = (label, value, target) =>
    console.log(`${label.padEnd(44)} ${value.padStart(12)}   target ${target}`);
  row('bare spawn of the fake vllm (node start)', `${spawnMs.toFixed(0)} ms`, 'reference');
  row(
    `runBench, ${repetitions} repetitions + median`,
    `${totalMs.toFixed(0)} ms`,
    `< ${repetitions * 500} ms`,
  );
  row('per repetition', `${perRep.toFixed(0)} ms`, '< 500 ms');
  row(
    'wrapper overhead per repetition (≈ per-rep − spawn)',
    `${Math.max(0, perRep - spawnMs).toFixed(0)} ms`,
    '< 100 ms',
  );
  row('peak RSS', `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`, '< 150 MB');
} finally {
  await rm(dir, { recursive: true, force: true });
}
