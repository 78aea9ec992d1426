import nx from '@nx/eslint-plugin';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    ignores: [
      '**/dist',
      '**/out-tsc',
      '**/test-output',
      '**/vitest.config.*.timestamp*',
      'results/**',
      'build-sea/**',
      'build-cli/**',
    ],
  },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.js', '**/*.mjs'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:schema', onlyDependOnLibsWithTags: ['type:util'] },
            { sourceTag: 'type:adapter', onlyDependOnLibsWithTags: ['type:util'] },
            { sourceTag: 'type:ingest', onlyDependOnLibsWithTags: ['type:util'] },
            { sourceTag: 'type:results', onlyDependOnLibsWithTags: ['type:util'] },
            { sourceTag: 'type:verdicts', onlyDependOnLibsWithTags: ['type:util', 'type:results'] },
            { sourceTag: 'type:pipeline', onlyDependOnLibsWithTags: ['type:schema', 'type:util'] },
            {
              sourceTag: 'type:run',
              onlyDependOnLibsWithTags: [
                'type:schema',
                'type:util',
                'type:adapter',
                'type:ingest',
                'type:results',
                'type:verdicts',
                // Preflight and tool provisioning during the server launch are part of a run.
                'type:toolchain',
              ],
            },
            {
              sourceTag: 'type:report',
              onlyDependOnLibsWithTags: ['type:util', 'type:results', 'type:verdicts'],
            },
            { sourceTag: 'type:toolchain', onlyDependOnLibsWithTags: ['type:util'] },
            {
              sourceTag: 'type:cli',
              onlyDependOnLibsWithTags: [
                'type:schema',
                'type:util',
                'type:adapter',
                'type:ingest',
                'type:pipeline',
                'type:results',
                'type:verdicts',
                'type:report',
                'type:run',
                'type:toolchain',
              ],
            },
          ],
        },
      ],
    },
  },
  {
    // Import cycles inside a package (across packages, module boundaries already forbid them).
    files: ['packages/*/src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.mts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.mts'] },
      'import-x/resolver-next': [
        createTypeScriptImportResolver({ project: 'tsconfig.base.json', noWarnOnMultipleProjects: true }),
      ],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    // The full-stack tier is not a package: it drives the built CLI from outside and reads the CLI's
    // own summary types and test harness by path, on purpose (no copies of either).
    files: ['e2e/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    files: ['**/*.json'],
    rules: {
      '@nx/dependency-checks': [
        'error',
        {
          ignoredFiles: [
            '{projectRoot}/eslint.config.{js,cjs,mjs,ts,cts,mts}',
            '{projectRoot}/vitest.config.{js,ts,mjs,mts}',
            '{projectRoot}/**/*.spec.ts',
            '{projectRoot}/test/**/*',
          ],
        },
      ],
    },
    languageOptions: { parser: await import('jsonc-eslint-parser') },
  },
];
