import { defineConfig } from 'vitest/config';

/**
 * Full-stack tier: the real `vllm bench serve`, lm-eval and BFCL against the real simulator
 * (llm-d-inference-sim), through the built CLI. Needs network access once, for `perf-eval setup`
 * (PyPI + the Go module proxy; cached under PERF_EVAL_TOOLS_DIR or ~/.cache/perf-eval/tools).
 * Run from the repository root after a build: `npm run test:e2e`.
 */
export default defineConfig({
  root: import.meta.dirname,
  cacheDir: '../node_modules/.vite/e2e',
  test: {
    name: 'e2e',
    watch: false,
    globals: true,
    environment: 'node',
    include: ['**/*.e2e.spec.ts'],
    globalSetup: ['./global-setup.ts'],
    // One simulator and heavy Python tools per test on a small machine: never in parallel.
    fileParallelism: false,
    sequence: { concurrent: false },
    // A demo run takes about a minute; a stuck test fails instead of holding CI.
    testTimeout: 10 * 60_000,
    // A cold provisioning installs ~9 GB of Python packages and builds the simulator.
    hookTimeout: 90 * 60_000,
    reporters: ['default'],
  },
});
