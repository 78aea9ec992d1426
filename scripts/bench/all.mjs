#!/usr/bin/env node
/**
 * `npm run bench`: build, then run every benchmark script one after another (they measure wall time and
 * memory, so they must not compete for the 2 cores). Each script prints its figures next to its target.
 * Usage: npm run bench [-- NAME_FILTER]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const filter = process.argv[2] ?? '';
const scripts = [];
for (const pkg of readdirSync(join(root, 'packages')).sort()) {
  const dir = join(root, 'packages', pkg, 'bench');
  const names = existsSync(dir) ? readdirSync(dir) : [];
  for (const name of names.sort()) if (name.endsWith('.mjs')) scripts.push(join(dir, name));
}
for (const name of readdirSync(import.meta.dirname).sort()) {
  if (name.endsWith('.mjs') && name !== 'all.mjs') scripts.push(join(import.meta.dirname, name));
}
const selected = scripts.filter((script) => relative(root, script).includes(filter));

console.log('--- :hammer: building');
const build = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '--outputStyle=static'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NX_DAEMON: 'false' },
});
if (build.status !== 0) process.exit(build.status ?? 1);

let failed = 0;
for (const script of selected) {
  console.log(`\n--- :stopwatch: ${relative(root, script)}`);
  const result = spawnSync(process.execPath, [script], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    console.log(`(exited ${result.status ?? result.signal})`);
  }
}
console.log(`\n${selected.length - failed}/${selected.length} benchmark scripts completed`);
process.exitCode = failed > 0 ? 1 : 0;
