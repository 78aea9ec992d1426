// Parse / sanitise / aggregate cost on a large `--save-detailed` result (per-request arrays).
// Usage: node bench/parse-aggregate.mjs [requests=20000] [tokensPerRequest=128]   (after `tsc --build tsconfig.lib.json`)
import { performance } from 'node:perf_hooks';
import { aggregateMedian, formatSortedJson, parseBenchResult, sanitizeBenchJson } from '../dist/index.js';

const requests = Number(process.argv[2] ?? 20000);
const tokens = Number(process.argv[3] ?? 128);

function detailedResult(seed) {
  const r = (i) => ((i * 2654435761 + seed) % 1000) / 10;
  const parts = [
    `"date": "20260816-160853", "backend": "vllm", "model_id": "m", "tokenizer_id": "m", "num_prompts": ${requests}`,
    `"request_rate": "inf", "burstiness": Infinity, "max_concurrency": 256, "duration": ${100 + seed}.5`,
    `"completed": ${requests}, "failed": 0, "request_throughput": 1.5, "output_throughput": 2.5, "total_token_throughput": 3.5`,
    `"mean_ttft_ms": ${200 + seed}.25, "std_ttft_ms": NaN`,
    `"input_lens": [${Array.from({ length: requests }, () => 1024).join(', ')}]`,
    `"ttfts": [${Array.from({ length: requests }, (_, i) => r(i)).join(', ')}]`,
    `"itls": [${Array.from({ length: requests }, (_, i) => `[${Array.from({ length: tokens }, (_, j) => r(i + j)).join(', ')}]`).join(', ')}]`,
    `"generated_texts": [${Array.from({ length: requests }, () => '"NaN is not Infinity"').join(', ')}]`,
  ];
  return `{${parts.join(', ')}}`;
}

const time = (label, fn) => {
  const start = performance.now();
  const value = fn();
  return [value, performance.now() - start];
};

const texts = [0, 1, 2].map(detailedResult);
const mb = texts[0].length / 1e6;
const [parsed, parseMs] = time('parse', () => parseBenchResult(texts[0], 'a.json'));
const [, sanitizeMs] = time('sanitize', () => sanitizeBenchJson(texts[0]));
const others = texts.slice(1).map((text) => parseBenchResult(text).result);
const [aggregate, aggregateMs] = time('aggregate', () =>
  aggregateMedian([parsed.result, ...others], ['a.json', 'b.json', 'c.json']),
);
const [formatted, formatMs] = time('format', () => formatSortedJson(aggregate));
const rssMb = process.resourceUsage().maxRSS / 1024;

const row = (label, value, target) =>
  console.log(`${label.padEnd(44)} ${value.padStart(12)}   target ${target}`);
console.log(
  `input: ${requests} requests × ${tokens} ITLs = ${mb.toFixed(1)} MB per file, non-finite keys ${parsed.nonFiniteKeys.join(',')}`,
);
row('parseBenchResult (1 file)', `${parseMs.toFixed(0)} ms`, '< 1500 ms');
row('parse throughput', `${(mb / (parseMs / 1000)).toFixed(0)} MB/s`, '> 40 MB/s');
row('sanitizeBenchJson (rewrite text)', `${sanitizeMs.toFixed(0)} ms`, '< 1000 ms');
row('aggregateMedian (3 files)', `${aggregateMs.toFixed(1)} ms`, '< 100 ms');
row(
  'formatSortedJson (aggregate)',
  `${formatMs.toFixed(0)} ms (${(formatted.text.length / 1e6).toFixed(1)} MB)`,
  '< 2000 ms',
);
row('peak RSS (3 files parsed + aggregate)', `${rssMb.toFixed(0)} MB`, '< 1024 MB');
