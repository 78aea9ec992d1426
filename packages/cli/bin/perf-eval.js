#!/usr/bin/env node
// The `perf-eval` command. npm links a workspace's bin only when its target exists at install time, and
// dist/ is built after linking (by the root `prepare` script), so the bin is this committed file, which
// loads the build. A published package always ships dist/ (its `prepack` builds it).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/bin.js', import.meta.url);
if (existsSync(entry)) {
  await import(entry.href);
} else {
  process.stderr.write(
    'perf-eval: the CLI is not built (packages/cli/dist/bin.js is missing); run `npm run build` at the repository root\n',
  );
  process.exitCode = 2;
}
