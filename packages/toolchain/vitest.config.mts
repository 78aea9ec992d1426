import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: import.meta.dirname,
  // Sibling packages resolve to their TypeScript sources (the "@perf-eval/source" export condition), so a
  // package's tests run on their own (`npx vitest run` here) without a build of the packages it imports.
  ssr: { resolve: { conditions: ['@perf-eval/source', ...defaultServerConditions] } },
  cacheDir: '../../node_modules/.vite/packages/toolchain',
  test: {
    name: 'toolchain',
    watch: false,
    globals: true,
    environment: 'node',
    include: ['{src,tests}/**/*.{test,spec}.{ts,mts}'],
    testTimeout: 30000,
    passWithNoTests: true,
    coverage: { provider: 'v8', reportsDirectory: './test-output/vitest/coverage' },
  },
});
