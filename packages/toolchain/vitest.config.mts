import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: import.meta.dirname,
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
