import { FAILED, reportData } from '../../test/fixture-data.js';
import { CONTENT_SECURITY_POLICY } from './html.js';
import { renderReport } from './render.js';
import type { ReportData } from './types.js';

/** `<figure data-chart="…">` blocks with the table that follows each. */
function figures(html: string): Array<{ kind: string; id: string; svg: string; table: string }> {
  const out: Array<{ kind: string; id: string; svg: string; table: string }> = [];
  const re =
    /<figure class="chart" id="chart-([^"]+)" data-chart="([^"]+)"[^>]*>([\s\S]*?)<\/figure>\s*(<table[\s\S]*?<\/table>)/g;
  for (const m of html.matchAll(re))
    out.push({ id: m[1] as string, kind: m[2] as string, svg: m[3] as string, table: m[4] as string });
  return out;
}

describe('renderReport', () => {
  it('one page with a CSP, no script, no remote reference, and every chart followed by its data table', () => {
    const html = renderReport(reportData(true));
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`,
    );
    // url(#…) are in-document SVG references (clip paths), not loads.
    expect(html).not.toMatch(/<script|<link|<iframe|<img|@import|url\((?!#)/i);
    // The only URLs: SVG namespaces (not requests) and the build link (an <a>, not a load).
    const urls = [...html.matchAll(/https?:\/\/[^\s"'<)]+/g)].map((m) => m[0]);
    expect(new Set(urls)).toEqual(
      new Set([
        'http://www.w3.org/2000/svg',
        'http://www.w3.org/1999/xlink',
        'https://buildkite.com/vllm/perf-eval/builds/42',
      ]),
    );

    const charts = figures(html);
    expect(charts.map((c) => `${c.kind}:${c.id}`)).toEqual([
      'latency:latency-1',
      'latency:latency-2',
      'latency:latency-3',
      'throughput:throughput',
      'pareto:pareto',
      'accuracy:accuracy',
      'timeline:timeline',
    ]);
    for (const chart of charts) {
      expect(chart.svg, chart.id).toMatch(/^\s*<svg [^>]*viewBox="0 0 1000 \d+"/);
      expect(chart.table, chart.id).toContain(`data-chart-table="${chart.id}"`);
    }
    const latency = charts[0] as { svg: string; table: string };
    for (const label of ['TTFT p50', 'TTFT p99', 'TPOT p50', 'ITL p99']) {
      expect(latency.svg).toContain(`>${label}</text>`);
      expect(latency.table).toContain(`<td>${label}</td>`);
    }
    // new 55.68 ms vs baseline 44.92 ms (the sweep fixture): +23.9 %, worse for a latency.
    expect(latency.table).toMatch(
      /<td>TTFT p50<\/td><td class="num">55\.68<\/td><td class="num">44\.92<\/td><td class="num"><span class="worse">\+23\.9%<\/span><\/td>/,
    );
    const accuracy = charts.find((c) => c.kind === 'accuracy') as { svg: string; table: string };
    expect(accuracy.table).toContain('95.2%');
    expect(accuracy.table).toContain('94.0% – 96.4%');
    expect(accuracy.svg).toContain('BFCL simple_python');
    const timeline = charts.find((c) => c.kind === 'timeline') as { table: string };
    expect(timeline.table).toContain(
      '<td>server start</td><td>server</td><td class="num">0</td><td class="num">41.20</td>',
    );
    expect(html).toContain('H200 × 2');
    expect(html).toContain('<a href="https://buildkite.com/vllm/perf-eval/builds/42" rel="noreferrer">');
  });

  it('without a baseline: the same charts, no comparison columns, and says why there are no verdicts', () => {
    const html = renderReport(reportData(false));
    expect(figures(html).map((c) => c.kind)).toEqual([
      'latency',
      'latency',
      'latency',
      'throughput',
      'pareto',
      'accuracy',
      'timeline',
    ]);
    expect(html).not.toMatch(/baseline \(ms\)|baseline output tok\/s|baseline interval|Δ points/);
    expect(html).toContain('No baseline given (--baseline DIR)');
  });

  it('a failed, partial run shows what exists and what failed: server error with its tail, task errors, validity flags', () => {
    const data: ReportData = {
      run: { name: 'broken', status: 'failed' },
      server: {
        status: 'failed',
        error: {
          code: 'E_SERVER_EXITED',
          message: 'vLLM server exited with code 1 before it was ready',
          tail: ['ValueError: max_model_len 999999 is too large'],
        },
        diagnosis: 'max-model-len rejected',
      },
      tasks: [
        {
          id: 'bench:a-conc-2',
          kind: 'bench',
          name: 'a-conc-2',
          status: 'failed',
          error: { code: 'E_BENCH_INCOMPLETE', message: '8 of 8 requests failed' },
        },
        {
          id: 'lm_eval:gsm8k',
          kind: 'lm_eval',
          name: 'gsm8k',
          status: 'skipped',
          reason: 'server not available',
        },
      ],
      bench: [{ name: 'a-conc-2', group: 'a', concurrency: 2, metrics: FAILED }],
      accuracy: [],
      validity: [
        {
          subject: 'bench a-conc-2',
          flag: 'failed-requests',
          severity: 'invalid',
          message: '8 of 8 requests failed',
        },
      ],
    };
    const html = renderReport(data);
    expect(html).toContain('<span class="status status-failed">failed</span>');
    expect(html).toContain(
      '<code>E_SERVER_EXITED</code>: vLLM server exited with code 1 before it was ready',
    );
    expect(html).toContain('ValueError: max_model_len 999999 is too large');
    expect(html).toContain('<code>E_BENCH_INCOMPLETE</code> 8 of 8 requests failed');
    expect(html).toContain('server not available');
    expect(html).toMatch(
      /<td>bench a-conc-2<\/td><td>failed-requests<\/td><td><span class="status status-invalid">invalid<\/span><\/td><td>8 of 8 requests failed<\/td>/,
    );
    expect(html).toContain('No accuracy results.');
    expect(html).toContain('No timeline recorded for this run.');
    expect(html).toContain('No bench configs that differ only in concurrency.');
    // All-zero latencies cannot sit on a log axis: the chart has gaps, the table the zeros.
    expect(figures(html).map((c) => c.kind)).toEqual(['latency']);
  });

  it('escapes every string: names, model, errors, links (HTML injection is a bug)', () => {
    const evil = `<script>alert(1)</script>"><img src=x onerror=alert(2)>`;
    const data = reportData(true);
    const html = renderReport({
      ...data,
      run: {
        ...data.run,
        name: evil,
        model: evil,
        recipe: evil,
        image: evil,
        buildUrl: `javascript:alert(3)`,
      },
      tasks: [
        {
          id: evil,
          kind: 'bench',
          name: evil,
          status: evil,
          error: { code: evil, message: evil, tail: [evil] },
        },
      ],
      bench: data.bench.map((b) => ({ ...b, name: `${b.name}${evil}`, group: `${b.group}${evil}` })),
      accuracy: data.accuracy.map((a) => ({ ...a, task: evil })),
      timeline: (data.timeline ?? []).map((p) => ({ ...p, name: evil, kind: evil })),
      verdicts: [{ subject: evil, metric: evil, verdict: evil, detail: evil }],
      validity: [{ subject: evil, flag: evil, message: evil, severity: 'warning' }],
    });
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/href="javascript:/i);
    expect(html).toContain(
      '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;',
    );
  });

  it('scrubs secret values wherever they hide, raw or escaped', () => {
    const data = reportData(false);
    const html = renderReport(
      {
        ...data,
        tasks: [
          {
            id: 'lm_eval:x',
            kind: 'lm_eval',
            name: 'x',
            status: 'failed',
            error: {
              code: 'E_X',
              message: 'token hf_s3cr3t&abc rejected',
              tail: ['Authorization: Bearer hf_s3cr3t&abc'],
            },
          },
        ],
      },
      { secrets: ['hf_s3cr3t&abc'] },
    );
    expect(html).not.toContain('hf_s3cr3t');
    expect(html).toContain('token *** rejected');
  });

  it('stays far below 2 MB for a demo-sized run', () => {
    const bytes = Buffer.byteLength(renderReport(reportData(true)));
    expect(bytes).toBeLessThan(2 * 1024 * 1024);
  });
});
