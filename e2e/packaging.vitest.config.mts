import { defineConfig } from 'vitest/config';

/**
 * Packaging tier (`npm run test:packaging`, part of `npm run test:e2e`): packs every package and installs the
 * tarballs into a project outside the repository. No simulator or Python tools needed; npm registry access
 * (or a warm npm cache) is.
 */
export default defineConfig({
  root: import.meta.dirname,
  cacheDir: '../node_modules/.vite/e2e-packaging',
  test: {
    name: 'packaging',
    watch: false,
    globals: true,
    environment: 'node',
    include: ['packaging.spec.ts'],
    testTimeout: 5 * 60_000,
    // npm pack (each package's prepack build) and npm install from the registry.
    hookTimeout: 15 * 60_000,
    reporters: ['default'],
  },
});
