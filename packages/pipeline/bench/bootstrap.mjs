#!/usr/bin/env node
/**
 * Benchmark: trigger -> `buildkite-agent pipeline upload` of the nightly bootstrap (issue 15 item 5,
 * gpu-time.md §4; target <= 30 s on a CPU agent like this machine), and the duration of the executable
 * step that runs beside it (the GPU steps depend on it).
 *
 * Each step runs its real script (.buildkite/bootstrap.sh, .buildkite/build-executable.sh) in a fresh
 * copy of the working tree — the files `git ls-files` lists, no node_modules, no dist/, no build
 * output — with the real `npm ci --omit=dev`, a fresh (cold) compiled-schema cache and the recording
 * fake `buildkite-agent` of test/fixtures/bin on PATH (it logs every call with a timestamp).
 * Assumptions, as on a long-lived agent: the npm cache (~/.npm) is warm; the checkout itself is not
 * timed (the agent does it before the command starts); the Buildkite schema comes from
 * ../shared instead of the pinned GitHub download (no GitHub from here). "Trigger" is the moment
 * the script starts; "upload" the moment the last `pipeline upload` call starts.
 *
 * Usage: node packages/pipeline/bench/bootstrap.mjs [--skip-executable]
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '../../..');
const fakeBin = resolve(import.meta.dirname, '../test/fixtures/bin');
const schema = resolve(root, '../shared/reference/buildkite/pipeline-schema.json');
const TARGET_S = 30;
const { values } = parseArgs({ options: { 'skip-executable': { type: 'boolean' } } });

/** A fresh checkout: the tracked (and not ignored new) files of the working tree, nothing built. */
function freshCopy(base, name) {
  const files = spawnSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], {
    cwd: root,
    encoding: 'utf8',
  })
    .stdout.split('\0')
    .filter(Boolean);
  const repo = join(base, name);
  for (const file of files) {
    const source = join(root, file);
    if (!existsSync(source)) continue;
    mkdirSync(dirname(join(repo, file)), { recursive: true });
    cpSync(source, join(repo, file));
  }
  return { repo, files: files.length };
}

/** Run a step script; resolve with its exit code, the time of every log-group line and the agent calls. */
function runStep(base, repo, script) {
  const log = join(base, `${script}.calls.jsonl`);
  const env = {
    ...process.env,
    PATH: `${fakeBin}:${process.env.PATH}`,
    FAKE_BUILDKITE_AGENT_LOG: log,
    FAKE_BUILDKITE_AGENT_STORE: join(base, 'store'),
    PERF_EVAL_BUILDKITE_SCHEMA: schema,
    PERF_EVAL_SCHEMA_CACHE_DIR: join(base, `${script}.schema-cache`),
    BUILDKITE: 'true',
    CI: 'true',
  };
  return new Promise((resolvePromise) => {
    const started = Date.now();
    const child = spawn('bash', [join(repo, '.buildkite', script)], {
      cwd: repo,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const groups = [];
    let output = '';
    let pending = '';
    child.stdout.on('data', (chunk) => {
      const now = Date.now();
      output += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines)
        if (/^(---|~~~|\+\+\+) /.test(line)) groups.push({ title: line.slice(4), at: now - started });
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => {
      const calls = existsSync(log)
        ? readFileSync(log, 'utf8')
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line))
        : [];
      resolvePromise({ code, started, ended: Date.now(), groups, calls, output });
    });
  });
}

const s = (ms) => (ms / 1000).toFixed(1);

function report(name, result, lastCallMatch) {
  const { started, ended, groups } = result;
  if (result.code !== 0) {
    console.log(`${name}: FAILED (exit ${result.code})\n${result.output.split('\n').slice(-20).join('\n')}`);
    process.exitCode = 1;
    return undefined;
  }
  const marks = [...groups, { title: '(exit)', at: ended - started }];
  for (let i = 0; i < marks.length - 1; i++)
    console.log(`    ${s(marks[i + 1].at - marks[i].at).padStart(6)} s  ${marks[i].title}`);
  const last = result.calls.filter((call) => lastCallMatch(call.argv)).at(-1);
  return last ? last.time - started : undefined;
}

const base = mkdtempSync(join(tmpdir(), 'perf-eval-bench-bootstrap-'));
try {
  const { repo, files } = freshCopy(base, 'bootstrap');
  console.log(
    `fresh copy of the working tree: ${files} files, no node_modules; npm cache warm (${process.env.npm_config_cache ?? '~/.npm'}), schema cache cold`,
  );
  console.log('bootstrap step (.buildkite/bootstrap.sh):');
  const bootstrap = await runStep(base, repo, 'bootstrap.sh');
  const upload = report('bootstrap', bootstrap, (argv) => argv[0] === 'pipeline' && argv[1] === 'upload');
  if (upload !== undefined) {
    const uploads = bootstrap.calls.filter(
      (call) => call.argv[0] === 'pipeline' && call.argv[1] === 'upload',
    ).length;
    console.log(
      `  trigger -> pipeline upload: ${s(upload)} s   (target <= ${TARGET_S} s: ${upload / 1000 <= TARGET_S ? 'ok' : 'MISSED'}; ${uploads} upload(s); before issue 15: 116-119 s)`,
    );
  }
  if (!values['skip-executable']) {
    const { repo: executableRepo } = freshCopy(base, 'executable');
    console.log(
      'executable step beside it (.buildkite/build-executable.sh), run after it here (on Buildkite: its own agent, at the same time):',
    );
    const executable = await runStep(base, executableRepo, 'build-executable.sh');
    const uploaded = report(
      'executable',
      executable,
      (argv) => argv[0] === 'artifact' && argv[1] === 'upload',
    );
    if (uploaded !== undefined && upload !== undefined) {
      console.log(
        `  trigger -> perf-eval artifact uploaded: ${s(uploaded)} s; GPU steps can start after max(upload, executable) = ${s(Math.max(upload, uploaded))} s`,
      );
    }
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
