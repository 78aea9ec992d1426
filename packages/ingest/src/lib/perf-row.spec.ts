import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PERF_META } from '../../test/perf-meta.js';
import {
  buildPerfRow,
  formatPerfDate,
  parseBenchResult,
  perfSummaryLine,
  serializePerfRow,
} from './perf-row.js';
import type { PerfMeta } from './perf-row.js';

const FIXTURES = resolve(import.meta.dirname, '../../../../../shared/reference/fixtures/vllm_bench');

function loadBench(name: string): Record<string, unknown> {
  const file = resolve(FIXTURES, name);
  return parseBenchResult(file, readFileSync(file, 'utf8')).raw;
}

const META: PerfMeta & { image: string } = { ...PERF_META, image: 'vllm/vllm-openai:nightly-abc123' };

const FIXED_KEYS = [
  'date',
  'device',
  'conc',
  'image',
  'model',
  'framework',
  'precision',
  'spec_decoding',
  'disagg',
  'isl',
  'osl',
  'is_multinode',
  'tp',
  'ep',
  'dp_attention',
  'tput_per_gpu',
  'output_tput_per_gpu',
  'input_tput_per_gpu',
];

describe('buildPerfRow: spec worked example (recipe-compat §15.3)', () => {
  it('19578.6 / 2175.4 / tp 8 → per-GPU throughputs, seconds and interactivity', () => {
    const raw = {
      total_token_throughput: 19578.6,
      output_throughput: 2175.4,
      mean_ttft_ms: 5123.4,
      mean_tpot_ms: 45.2,
    };
    const row = buildPerfRow(raw, { ...META, tp: 8 }, {});
    expect(row['tput_per_gpu']).toBe(19578.6 / 8); // 2447.325
    expect(row['tput_per_gpu']).toBeCloseTo(2447.325, 10);
    expect(row['output_tput_per_gpu']).toBe(2175.4 / 8); // 271.925
    expect(row['output_tput_per_gpu']).toBeCloseTo(271.925, 10);
    expect(row['input_tput_per_gpu']).toBe((19578.6 - 2175.4) / 8); // 2175.4 ± fp (2175.3999999999996)
    expect(row['input_tput_per_gpu']).toBeCloseTo(2175.4, 9);
    expect(row['mean_ttft']).toBe(5123.4 / 1000); // 5.1234
    expect(row['mean_ttft']).toBeCloseTo(5.1234, 12);
    expect(row['mean_tpot']).toBe(45.2 / 1000); // 0.0452
    expect(row['mean_tpot']).toBeCloseTo(0.0452, 12);
    expect(row['mean_intvty']).toBe(1000 / 45.2); // 22.1238938…
    expect(row['mean_intvty']).toBeCloseTo(22.1238938, 6);
    expect(Object.keys(row)).toEqual([...FIXED_KEYS, 'mean_ttft', 'mean_tpot', 'mean_intvty']);
    expect(perfSummaryLine(row)).toBe('    tput_per_gpu=2447.32  mean_ttft=5.1234s  mean_tpot=0.0452s');
  });
});

describe('buildPerfRow on real bench files', () => {
  it('er0080_bench_serve_v0.25.1.json (keys alphabetical), tp 4', () => {
    const row = buildPerfRow(loadBench('er0080_bench_serve_v0.25.1.json'), META, {});
    expect(row).toEqual({
      date: '2026-08-20 01:02:03',
      device: 'h200',
      conc: 2, // raw max_concurrency 2 wins over the run's 128
      image: 'vllm/vllm-openai:nightly-abc123',
      model: 'facebook/opt-125m', // raw model_id is truthy
      framework: 'vllm',
      precision: 'bf16',
      spec_decoding: 'false',
      disagg: 'false',
      isl: 8192,
      osl: 1024,
      is_multinode: 'false',
      tp: 4,
      ep: 1,
      dp_attention: 'false',
      tput_per_gpu: 248.6789122211242 / 4, // 62.16972805528105
      output_tput_per_gpu: 82.89297074037474 / 4, // 20.723242685093684
      input_tput_per_gpu: (248.6789122211242 - 82.89297074037474) / 4, // 41.44648537018736
      mean_itl: 11.265836941667354 / 1000,
      mean_tpot: 11.265828258331112 / 1000,
      mean_intvty: 1000 / 11.265828258331112, // 88.76400181766459
      mean_ttft: 215.53594200008774 / 1000, // 0.21553594200008774
      median_itl: 10.492878499917424 / 1000,
      median_tpot: 11.20450286665194 / 1000,
      median_intvty: 1000 / 11.20450286665194, // 89.24983213457054
      median_ttft: 55.68139649994919 / 1000,
      p99_itl: 29.815922519960626 / 1000,
      p99_tpot: 11.979541883350674 / 1000,
      p99_intvty: 1000 / 11.979541883350674, // 83.47564620896007
      p99_ttft: 734.4049174101428 / 1000,
      std_itl: 3.5142929948720183 / 1000,
      std_tpot: 0.6175290686013256 / 1000, // D17: no std_intvty
      std_ttft: 292.06819504885306 / 1000,
    });
    expect(row['tput_per_gpu']).toBeCloseTo(62.16972805528105, 12);
    expect(row['mean_intvty']).toBeCloseTo(88.76400181766459, 10);
    // Raw key order (alphabetical in this file) is kept, intvty right after its seconds key.
    expect(Object.keys(row).slice(FIXED_KEYS.length)).toEqual([
      'mean_itl',
      'mean_tpot',
      'mean_intvty',
      'mean_ttft',
      'median_itl',
      'median_tpot',
      'median_intvty',
      'median_ttft',
      'p99_itl',
      'p99_tpot',
      'p99_intvty',
      'p99_ttft',
      'std_itl',
      'std_tpot',
      'std_ttft',
    ]);
    expect(row).not.toHaveProperty('std_intvty');
    expect(perfSummaryLine(row)).toBe('    tput_per_gpu=62.17  mean_ttft=0.2155s  mean_tpot=0.0113s');
  });

  it('er0080_bench_serve_all_requests_failed_v0.25.1.json: null max_concurrency, zero metrics', () => {
    const row = buildPerfRow(
      loadBench('er0080_bench_serve_all_requests_failed_v0.25.1.json'),
      { ...META, tp: 0, conc: 8 },
      {},
    );
    expect(row['conc']).toBe(8); // max_concurrency null → the run's concurrency
    expect(row['tp']).toBe(1); // max(0, 1)
    expect(row['tput_per_gpu']).toBe(0); // 0.0 / 1
    expect(row['mean_tpot']).toBe(0); // 0.0 / 1000
    expect(row['mean_intvty']).toBe(0); // tpot 0 → 0.0, not 1000/0
    expect(row['p99_intvty']).toBe(0);
    const body = serializePerfRow(row, 'id-1');
    // Floats stay floats on the wire, ints stay ints, flags stay strings.
    expect(body).toContain('"conc":8,');
    expect(body).toContain(
      '"tp":1,"ep":1,"dp_attention":"false","tput_per_gpu":0.0,"output_tput_per_gpu":0.0,"input_tput_per_gpu":0.0,',
    );
    expect(body).toContain('"mean_tpot":0.0,"mean_intvty":0.0,');
    expect(body).toContain('"spec_decoding":"false","disagg":"false"');
    expect(body.endsWith(',"ingest_id":"id-1"}')).toBe(true);
    expect(JSON.parse(body)).toMatchObject({ conc: 8, tput_per_gpu: 0 });
  });

  it('er0080_sweep_run0_openai_e2el.json: e2el keys converted, non-_ms keys ignored, tp 1', () => {
    const row = buildPerfRow(loadBench('er0080_sweep_run0_openai_e2el.json'), { ...META, tp: 1 }, {});
    expect(row['tput_per_gpu']).toBe(281.2430388914002); // / 1
    expect(row['output_tput_per_gpu']).toBe(93.74767963046673);
    expect(row['input_tput_per_gpu']).toBe(281.2430388914002 - 93.74767963046673); // 187.49535926093347
    expect(row['mean_e2el']).toBe(340.3411977451469 / 1000);
    expect(row['p99_e2el']).toBe(876.8009717071254 / 1000);
    expect(row['median_intvty']).toBe(1000 / 8.323490332986694);
    expect(row).not.toHaveProperty('run_number');
    expect(row).not.toHaveProperty('max_num_seqs');
    expect(row).not.toHaveProperty('std_intvty');
    expect(Object.keys(row).slice(FIXED_KEYS.length)).toEqual([
      'mean_ttft',
      'median_ttft',
      'std_ttft',
      'p99_ttft',
      'mean_tpot',
      'mean_intvty',
      'median_tpot',
      'median_intvty',
      'std_tpot',
      'p99_tpot',
      'p99_intvty',
      'mean_itl',
      'median_itl',
      'std_itl',
      'p99_itl',
      'mean_e2el',
      'median_e2el',
      'std_e2el',
      'p99_e2el',
    ]);
  });

  it('nv-action legacy file: no throughputs (→ 0), null max_concurrency, model_id path', () => {
    const row = buildPerfRow(
      loadBench('nv-action_serving_llama8B_tp1_1.json'),
      { ...META, tp: 1, conc: 16 },
      {},
    );
    expect(row['model']).toBe('/root/wl/cache/modelscope/models/Meta-Llama-3-8B-Instruct');
    expect(row['conc']).toBe(16);
    expect(row['tput_per_gpu']).toBe(0);
    expect(row['input_tput_per_gpu']).toBe(0);
    expect(row['mean_tpot']).toBe(40.48013234569434 / 1000); // 0.040480132345694336
    expect(row['mean_intvty']).toBe(1000 / 40.48013234569434); // 24.703476546473418
  });
});

describe('buildPerfRow details', () => {
  it('adds nightly: true after the throughputs only when NIGHTLY is exactly 1', () => {
    const raw = { mean_ttft_ms: 1 };
    expect(Object.keys(buildPerfRow(raw, META, { NIGHTLY: '1' }))).toEqual([
      ...FIXED_KEYS,
      'nightly',
      'mean_ttft',
    ]);
    expect(buildPerfRow(raw, META, { NIGHTLY: '1' })['nightly']).toBe(true);
    for (const value of ['true', 'yes', '0', ' 1', undefined])
      expect(buildPerfRow(raw, META, { NIGHTLY: value })).not.toHaveProperty('nightly');
  });

  it('falls back to vllm.model and the run concurrency for falsy raw values; defaults the date to UTC now', () => {
    const row = buildPerfRow(
      { model_id: '', max_concurrency: 0 },
      { ...META, date: undefined },
      {},
      { now: () => new Date('2026-08-20T23:04:05.678Z') },
    );
    expect(row['model']).toBe('openai/gpt-oss-120b');
    expect(row['conc']).toBe(128);
    expect(row['date']).toBe('2026-08-20 23:04:05');
    expect(formatPerfDate(new Date('2026-01-02T03:04:05Z'))).toBe('2026-01-02 03:04:05');
  });

  it('converts _ms values the way Python float() does and skips the rest', () => {
    const raw = { a_ms: '2.5', b_ms: null, c_ms: [1], d_ms: 'x', e_ms: true, f_ms: '1_000', g_tpot_ms: '4' };
    const row = buildPerfRow(raw, META, {});
    expect(row['a']).toBe(0.0025);
    expect(row['e']).toBe(0.001);
    expect(row['f']).toBe(1);
    expect(row['g_tpot']).toBe(0.004);
    expect(row['g_intvty']).toBe(250);
    for (const key of ['b', 'c', 'd']) expect(row).not.toHaveProperty(key);
  });

  it('D29: drops non-finite _ms values (and their intvty), nulls non-finite throughputs, with warnings', () => {
    const warnings: Array<[string, string]> = [];
    const raw = {
      total_token_throughput: 'inf',
      output_throughput: 'nan',
      mean_ttft_ms: 'inf',
      median_tpot_ms: '-Infinity',
      p99_tpot_ms: 12,
    };
    const row = buildPerfRow(raw, META, {}, { warn: (message, reason) => warnings.push([message, reason]) });
    expect(row['tput_per_gpu']).toBeNull();
    expect(row['output_tput_per_gpu']).toBeNull();
    expect(row['input_tput_per_gpu']).toBeNull();
    expect(row).not.toHaveProperty('mean_ttft');
    expect(row).not.toHaveProperty('median_tpot');
    expect(row).not.toHaveProperty('median_intvty');
    expect(row['p99_intvty']).toBe(1000 / 12);
    expect(warnings.map(([, reason]) => reason)).toEqual([
      'non-finite',
      'non-finite',
      'non-finite',
      'non-finite',
      'non-finite',
    ]);
    expect(warnings[3]?.[0]).toBe('mean_ttft_ms is not finite ("inf"); dropping mean_ttft');
    expect(warnings[4]?.[0]).toBe(
      'median_tpot_ms is not finite ("-Infinity"); dropping median_tpot and median_intvty',
    );
    const body = serializePerfRow(row, 'x');
    expect(body).not.toMatch(/NaN|Infinity/);
    expect(body).toContain('"tput_per_gpu":null');
  });

  it('parses bench JSON with bare NaN / Infinity tolerantly', () => {
    const { raw, nonFinite } = parseBenchResult(
      'b.json',
      '{"mean_ttft_ms": NaN, "p99_ttft_ms": Infinity, "std_ttft_ms": -Infinity, "mean_tpot_ms": 2.0, "request_rate": "inf"}',
    );
    expect(nonFinite).toBe(3);
    const row = buildPerfRow(raw, META, {});
    expect(row).not.toHaveProperty('mean_ttft');
    expect(row['mean_tpot']).toBe(0.002);
    expect(() => parseBenchResult('b.json', '[1]')).toThrow('b.json: bench result is not a JSON object');
    expect(() => parseBenchResult('b.json', '{"a":')).toThrow(/^b\.json: invalid JSON: /);
  });

  it('never lets a derived key overwrite a fixed column or become an integer-like key', () => {
    const warnings: string[] = [];
    const row = buildPerfRow(
      { conc_ms: 5, '7_ms': 1, tpot_ms: 2 },
      META,
      {},
      { warn: (message) => warnings.push(message) },
    );
    expect(row['conc']).toBe(128);
    expect(row).not.toHaveProperty('7');
    expect(row['tpot']).toBe(0.002);
    expect(row['intvty']).toBe(500);
    expect(warnings).toHaveLength(2);
  });

  it('formats the console line like Python %.2f / %.4f, including half-even exact ties and missing keys', () => {
    expect(perfSummaryLine({ tput_per_gpu: 0.125 })).toBe(
      '    tput_per_gpu=0.12  mean_ttft=0.0000s  mean_tpot=0.0000s',
    );
    expect(perfSummaryLine({ tput_per_gpu: 0.375, mean_ttft: 1.00005, mean_tpot: 2.5 })).toBe(
      '    tput_per_gpu=0.38  mean_ttft=1.0001s  mean_tpot=2.5000s',
    );
  });
});
