/**
 * Provisions the real tools once per e2e session with the CLI itself (`perf-eval setup <demo recipe>`),
 * cached under PERF_EVAL_TOOLS_DIR (default ~/.cache/perf-eval/tools), and prints how long it took.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BIN, DEMO, REPO } from './helpers.js';

export default async function setup(): Promise<void> {
  if (!existsSync(BIN))
    throw new Error(`e2e: ${BIN} is missing; build first (npm test, or npx nx run-many -t build)`);
  const started = Date.now();
  const verbose = process.env['E2E_VERBOSE'] === '1';
  const code = await new Promise<number | null>((settle) => {
    const child = spawn(process.execPath, [BIN, 'setup', DEMO], {
      cwd: REPO,
      stdio: ['ignore', verbose ? 'inherit' : 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      // Step headers and timings only; pip output appears on failure (stderr).
      for (const line of chunk.split('\n'))
        if (/^(---|~~~| {4}(done|up to date|using)| {2}\S+ +(provisioned|reused|path)|setup done)/.test(line))
          process.stdout.write(`e2e setup: ${line}\n`);
    });
    child.on('close', (c) => {
      if (c !== 0 && !verbose) process.stderr.write(out);
      settle(c);
    });
  });
  if (code !== 0) throw new Error(`e2e: 'perf-eval setup ${DEMO}' failed with exit code ${code}`);
  process.stdout.write(`e2e setup: provisioning took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
