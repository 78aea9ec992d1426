#!/usr/bin/env node
// Dry-run ingestion of a generated 1 GB lm-eval samples file: wall time and peak RSS.
// Usage: node packages/ingest/bench/samples-1gb.mjs [sizeInMiB]   (build first: npx tsc --build packages/ingest/tsconfig.lib.json)
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport, ingestEvalDir } from '../dist/index.js';

const TARGET_MIB = process.argv[2] === '--ingest' ? 0 : Number(process.argv[2] ?? 1024);
const RSS_TARGET_MB = 200;
const SAMPLES_NAME = 'samples_gsm8k_2026-01-01T00-00-00.jsonl';

function sampleLine(i) {
  // Shaped like lm-eval's samples_<task>_<date>.jsonl: Python json.dumps separators, non-ASCII text.
  const question =
    `Question ${i}: Natalia sold clips to ${i % 97} of her friends — Übung macht den Meister. `.repeat(8);
  const answer = `Let's think step by step. ${'She sold 48/2 = 24 clips in May. '.repeat(30)}#### ${i % 1000}`;
  return JSON.stringify({
    doc_id: i,
    doc: { question, answer: `#### ${i % 1000}` },
    target: String(i % 1000),
    arguments: {
      gen_args_0: {
        arg_0: question,
        arg_1: { until: ['Question:', '</s>'], do_sample: false, temperature: 0.0 },
      },
    },
    resps: [[answer]],
    filtered_resps: [String(i % 1000)],
    filter: 'strict-match',
    metrics: ['exact_match'],
    doc_hash: 'a'.repeat(64),
    exact_match: i % 3 === 0 ? 1.0 : 0.0,
  })
    .replaceAll('","', '", "')
    .replaceAll('":', '": ');
}

async function generate(file, bytes) {
  const out = createWriteStream(file);
  let written = 0;
  let lines = 0;
  while (written < bytes) {
    let chunk = '';
    for (let k = 0; k < 200; k++) chunk += `${sampleLine(lines++)}\n`;
    written += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return lines;
}

// Child mode: only the ingestion runs in this process, so maxRSS measures ingestion alone.
if (process.argv[2] === '--ingest') {
  await ingestChild(process.argv[3], Number(process.argv[4]));
} else {
  await main();
}

async function ingestChild(dir, expectedSamples) {
  let payloads = 0;
  let payloadBytes = 0;
  let maxPayload = 0;
  const sink = (line) => {
    payloads++;
    const bytes = Buffer.byteLength(line) - 1;
    payloadBytes += bytes;
    maxPayload = Math.max(maxPayload, bytes);
  };
  const rssBefore = process.resourceUsage().maxRSS;
  const start = performance.now();
  const report = await ingestEvalDir({
    context: { workload: 'bench-workload', env: {} },
    task: 'gsm8k',
    dir,
    samples: true,
    outboxDir: join(dir, '..', '.ingest', 'outbox'),
    transport: createTransport({ env: {} }),
    dryRun: true,
    print: () => undefined,
    writeOut: sink,
  });
  const seconds = (performance.now() - start) / 1000;
  const peakMb = process.resourceUsage().maxRSS / 1024;
  const size = (await stat(join(dir, 'model', SAMPLES_NAME))).size;
  console.log(
    `samples ingested:  ${report.samples} (expected ${expectedSamples}), ${payloads} batch payload(s), ${report.skippedLines} malformed`,
  );
  console.log(`payload bytes:     ${payloadBytes} total, largest ${maxPayload} (limit 4194304)`);
  console.log(
    `wall time:         ${seconds.toFixed(1)} s  (${(size / 2 ** 20 / seconds).toFixed(0)} MiB/s over a hash pass + a batching pass)`,
  );
  console.log(
    `peak RSS:          ${peakMb.toFixed(0)} MB  (target <= ${RSS_TARGET_MB} MB; ${(rssBefore / 1024).toFixed(0)} MB at start)  ${peakMb <= RSS_TARGET_MB ? 'OK' : 'OVER TARGET'}`,
  );
  if (report.samples !== expectedSamples || maxPayload >= 4194304) process.exitCode = 1;
}

async function main() {
  const root = await mkdtemp(join(tmpdir(), 'ingest-bench-'));
  try {
    const dir = join(root, 'results', 'bench-workload', 'gsm8k');
    await mkdir(join(dir, 'model'), { recursive: true });
    const file = join(dir, 'model', SAMPLES_NAME);
    const genStart = performance.now();
    const lines = await generate(file, TARGET_MIB * 1024 * 1024);
    const size = (await stat(file)).size;
    console.log(
      `generated ${(size / 2 ** 20).toFixed(0)} MiB, ${lines} samples in ${((performance.now() - genStart) / 1000).toFixed(1)} s: ${file}`,
    );

    // Ingest in a fresh process (dry run into a counting sink).
    let output;
    try {
      output = execFileSync(
        process.execPath,
        [new URL(import.meta.url).pathname, '--ingest', dir, String(lines)],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
    } catch (error) {
      output = String(error.stdout ?? '');
      process.exitCode = 1;
    }
    process.stdout.write(output);
    if (output.includes('OVER TARGET')) process.exitCode = 1;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
