/**
 * `renderReport(data)`: one self-contained HTML page — no script, no remote load (a CSP forbids
 * them), charts as inline SVG with a data table under each, so it reads the same offline, without
 * JavaScript and in a text browser.
 */
import { scrubText } from '@perf-eval/util';
import {
  accuracyRows,
  latencyRows,
  paretoPoints,
  throughputCurves,
  timelineRows,
  type LatencyRow,
} from './chart-data.js';
import {
  accuracyOption,
  latencyLabel,
  latencyOption,
  paretoOption,
  renderSvg,
  throughputOption,
  timelineOption,
} from './charts.js';
import {
  CONTENT_SECURITY_POLICY,
  esc,
  fmt,
  fmtPct,
  fmtShare,
  link,
  STYLE,
  statusBadge,
  table,
} from './html.js';
import type { ReportData, ReportRunInfo, ReportValidityFlag } from './types.js';

export interface RenderReportOptions {
  /** Secret values to scrub from the page, whatever field they hide in (e.g. `secretValuesOf(process.env)`). */
  secrets?: readonly string[] | undefined;
}

/** The chart kinds a report can contain; each `<figure>` carries one in `data-chart`. */
export type ChartKind = 'latency' | 'throughput' | 'pareto' | 'accuracy' | 'timeline';

const WIDTH = 1000;

function figure(kind: ChartKind, id: string, label: string, svg: string): string {
  return `<figure class="chart" id="chart-${esc(id)}" data-chart="${kind}" role="img" aria-label="${esc(label)}">\n${svg}\n</figure>`;
}

/** Δ% coloured by direction: for latency lower is better, for throughput and accuracy higher. */
function delta(value: number | undefined, higherIsBetter: boolean, text = fmtPct(value)): string {
  if (value === undefined || !Number.isFinite(value) || value === 0) return text;
  const better = higherIsBetter ? value > 0 : value < 0;
  return `<span class="${better ? 'better' : 'worse'}">${text}</span>`;
}

function runInfo(run: ReportRunInfo): string {
  const rows: Array<[string, string]> = [
    ['recipe', esc(run.recipe ?? '—')],
    ['model', esc(run.model ?? '—')],
    ['GPU', run.gpu ? `${esc(run.gpu)}${run.numGpus !== undefined ? ` × ${esc(run.numGpus)}` : ''}` : '—'],
    ['image', esc(run.image || '—')],
    ['vLLM commit', esc(run.vllmCommit || '—')],
    ['build', link(run.buildUrl)],
  ];
  if (run.runtime) rows.push(['runtime', esc(run.runtime)]);
  if (run.variant) rows.push(['sweep variant', esc(run.variant)]);
  rows.push(['status', statusBadge(run.status)]);
  if (run.startedAt) rows.push(['started', esc(run.startedAt)]);
  if (run.finishedAt) rows.push(['finished', esc(run.finishedAt)]);
  if (run.durationS !== undefined) rows.push(['duration', `${fmt(run.durationS)} s`]);
  return `<dl class="meta">${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

function verdictSection(data: ReportData): string {
  const verdicts = data.verdicts ?? [];
  let body: string;
  if (verdicts.length > 0) {
    body = table(
      [
        { header: 'subject' },
        { header: 'metric' },
        { header: 'verdict' },
        { header: 'baseline', numeric: true },
        { header: 'new', numeric: true },
        { header: 'change', numeric: true },
        { header: 'detail' },
      ],
      verdicts.map((v) => [
        esc(v.subject),
        esc(v.metric),
        statusBadge(v.verdict),
        fmt(v.baseline),
        fmt(v.current),
        fmtPct(v.changePct),
        esc(v.detail ?? ''),
      ]),
      'id="verdicts"',
    );
  } else {
    body = `<p class="note">${data.baseline ? 'No verdicts were computed for this baseline.' : 'No baseline given (--baseline DIR): nothing to compare, so no verdicts.'}</p>`;
  }
  return `<section id="section-verdicts"><h2>Verdicts</h2>${body}</section>`;
}

function tasksSection(data: ReportData): string {
  const parts = [`<section id="section-tasks"><h2>Tasks</h2>`];
  const server = data.server;
  if (server) {
    parts.push(
      `<p>server ${statusBadge(server.status)}${server.readyAfterS !== undefined ? ` ready after ${fmt(server.readyAfterS)} s` : ''}${server.diagnosis ? ` — ${esc(server.diagnosis)}` : ''}</p>`,
    );
    if (server.error) {
      parts.push(
        `<p><strong>server error</strong> <code>${esc(server.error.code)}</code>: ${esc(server.error.message)}</p>`,
      );
      if (server.error.tail?.length) parts.push(`<pre>${esc(server.error.tail.slice(-30).join('\n'))}</pre>`);
    }
  }
  if (data.tasks.length === 0) {
    parts.push('<p class="note">No task started.</p>');
  } else {
    parts.push(
      table(
        [
          { header: 'task' },
          { header: 'status' },
          { header: 'time', numeric: true },
          { header: 'error or reason' },
        ],
        data.tasks.map((t) => [
          esc(t.id),
          statusBadge(t.status),
          t.durationS !== undefined ? `${fmt(t.durationS)} s` : '—',
          t.error
            ? `<code>${esc(t.error.code)}</code> ${esc(t.error.message)}${t.error.tail?.length ? `<pre>${esc(t.error.tail.slice(-15).join('\n'))}</pre>` : ''}`
            : esc(t.reason ?? ''),
        ]),
        'id="tasks"',
      ),
    );
  }
  parts.push('</section>');
  return parts.join('\n');
}

function validitySection(flags: readonly ReportValidityFlag[]): string {
  const body =
    flags.length === 0
      ? '<p class="note">No validity problems found in the results.</p>'
      : table(
          [{ header: 'subject' }, { header: 'flag' }, { header: 'severity' }, { header: 'what it means' }],
          flags.map((f) => [esc(f.subject), esc(f.flag), statusBadge(f.severity), esc(f.message)]),
          'id="validity"',
        );
  return `<section id="section-validity"><h2>Validity</h2>${body}</section>`;
}

function latencyTable(id: string, rows: readonly LatencyRow[], withBaseline: boolean): string {
  const columns = [{ header: 'metric' }, { header: 'new (ms)', numeric: true }];
  if (withBaseline)
    columns.push({ header: 'baseline (ms)', numeric: true }, { header: 'change', numeric: true });
  return table(
    columns,
    rows.map((r) => {
      const cells = [esc(latencyLabel(r)), fmt(r.value)];
      if (withBaseline) cells.push(fmt(r.baseline), delta(r.changePct, false));
      return cells;
    }),
    `data-chart-table="${esc(id)}"`,
  );
}

function latencySection(data: ReportData, withBaseline: boolean): string {
  const parts = ['<section id="section-latency"><h2>Latency percentiles</h2>'];
  if (data.bench.length === 0) parts.push('<p class="note">No bench results.</p>');
  data.bench.forEach((result, i) => {
    const rows = latencyRows(result);
    const id = `latency-${i + 1}`;
    parts.push(`<h3>${esc(result.name)}</h3>`);
    if (rows.length === 0) {
      parts.push('<p class="note">The result has no latency percentiles.</p>');
      return;
    }
    const hasBaseline = withBaseline && rows.some((r) => r.baseline !== undefined);
    parts.push(
      figure(
        'latency',
        id,
        `latency percentiles of ${result.name}`,
        renderSvg(latencyOption(`Latency percentiles — ${result.name}`, rows, hasBaseline), {
          width: WIDTH,
          height: 340,
        }),
      ),
    );
    parts.push(latencyTable(id, rows, hasBaseline));
  });
  parts.push('</section>');
  return parts.join('\n');
}

function throughputSection(data: ReportData, withBaseline: boolean): string {
  const curves = throughputCurves(data.bench);
  const parts = ['<section id="section-throughput"><h2>Throughput vs concurrency</h2>'];
  if (curves.length === 0) {
    parts.push('<p class="note">No bench configs that differ only in concurrency.</p>');
  } else {
    const hasBaseline =
      withBaseline && curves.some((c) => c.points.some((p) => p.baselineOutputThroughput !== undefined));
    parts.push(
      figure(
        'throughput',
        'throughput',
        'output throughput against concurrency',
        renderSvg(throughputOption(curves, hasBaseline), { width: WIDTH, height: 380 }),
      ),
    );
    const columns = [
      { header: 'config' },
      { header: 'concurrency', numeric: true },
      { header: 'output tok/s', numeric: true },
      { header: 'requests/s', numeric: true },
    ];
    if (hasBaseline)
      columns.push({ header: 'baseline output tok/s', numeric: true }, { header: 'change', numeric: true });
    const rows = curves.flatMap((c) =>
      c.points.map((p) => {
        const cells = [esc(c.group), fmt(p.concurrency), fmt(p.outputThroughput), fmt(p.requestThroughput)];
        if (hasBaseline) cells.push(fmt(p.baselineOutputThroughput), delta(p.changePct, true));
        return cells;
      }),
    );
    parts.push(table(columns, rows, 'data-chart-table="throughput"'));
  }
  parts.push('</section>');
  return parts.join('\n');
}

function paretoSection(data: ReportData): string {
  const points = paretoPoints(data.bench, data.run.numGpus);
  const parts = ['<section id="section-pareto"><h2>Tokens/s per user vs tokens/s per GPU</h2>'];
  if (points.length === 0) {
    parts.push('<p class="note">No bench result with an output throughput.</p>');
  } else {
    const groups = [...new Set(points.map((p) => p.group))];
    parts.push(
      `<p class="note">Per user: output tokens/s ÷ max concurrency (1000 ÷ median TPOT for an unbounded run); per GPU: output tokens/s ÷ ${esc(data.run.numGpus ?? 1)} GPU(s)${data.run.numGpus === undefined ? ' (GPU count unknown, 1 assumed)' : ''}. Up and to the right is better; ★ marks the points no other point of the same run beats on both axes.</p>`,
    );
    parts.push(
      figure(
        'pareto',
        'pareto',
        'tokens per second per user against tokens per second per GPU',
        renderSvg(paretoOption(points, groups), { width: WIDTH, height: 400 }),
      ),
    );
    parts.push(
      table(
        [
          { header: 'run' },
          { header: 'config' },
          { header: 'concurrency', numeric: true },
          { header: 'tok/s/user', numeric: true },
          { header: 'tok/s/GPU', numeric: true },
          { header: 'Pareto-optimal' },
        ],
        points.map((p) => [
          esc(p.run),
          esc(p.name),
          fmt(p.concurrency),
          fmt(p.tokensPerUser),
          fmt(p.tokensPerGpu),
          p.optimal ? '★' : '',
        ]),
        'data-chart-table="pareto"',
      ),
    );
  }
  parts.push('</section>');
  return parts.join('\n');
}

function accuracySection(data: ReportData, withBaseline: boolean): string {
  const rows = accuracyRows(data.accuracy);
  const parts = ['<section id="section-accuracy"><h2>Accuracy</h2>'];
  if (rows.length === 0) {
    parts.push('<p class="note">No accuracy results.</p>');
  } else {
    const hasBaseline = withBaseline && rows.some((r) => r.baseline !== undefined);
    parts.push(
      '<p class="note">95 % intervals: value ± 1.96 × lm-eval\'s standard error when it reports one, else the Wilson score interval over the number of scored samples; none when neither is known. z = |Δ| ÷ √(se₁² + se₂²).</p>',
    );
    parts.push(
      figure(
        'accuracy',
        'accuracy',
        'accuracy per task with confidence intervals',
        renderSvg(accuracyOption(rows, hasBaseline), {
          width: WIDTH,
          height: Math.max(200, 110 + rows.length * (hasBaseline ? 34 : 26)),
        }),
      ),
    );
    const ci = (i: { low: number; high: number; method: string } | undefined): string =>
      i ? `${fmtShare(i.low)} – ${fmtShare(i.high)} <span class="note">(${esc(i.method)})</span>` : '—';
    const columns = [
      { header: 'source' },
      { header: 'task · metric' },
      { header: 'new', numeric: true },
      { header: '95 % interval' },
    ];
    if (hasBaseline)
      columns.push(
        { header: 'baseline', numeric: true },
        { header: 'baseline interval' },
        { header: 'Δ points', numeric: true },
        { header: 'z', numeric: true },
      );
    parts.push(
      table(
        columns,
        rows.map((r) => {
          const cells = [esc(r.source), esc(r.label), fmtShare(r.value), ci(r.interval)];
          if (hasBaseline)
            cells.push(
              fmtShare(r.baseline),
              ci(r.baselineInterval),
              delta(
                r.deltaPoints,
                true,
                r.deltaPoints === undefined
                  ? '—'
                  : `${r.deltaPoints > 0 ? '+' : ''}${r.deltaPoints.toFixed(1)}`,
              ),
              fmt(r.z),
            );
          return cells;
        }),
        'data-chart-table="accuracy"',
      ),
    );
  }
  parts.push('</section>');
  return parts.join('\n');
}

function timelineSection(data: ReportData): string {
  const timeline = timelineRows(data.timeline);
  const parts = ['<section id="section-timeline"><h2>Timeline</h2>'];
  if (!timeline || timeline.rows.length === 0) {
    parts.push('<p class="note">No timeline recorded for this run.</p>');
  } else {
    parts.push(
      figure(
        'timeline',
        'timeline',
        'timeline of the step',
        renderSvg(timelineOption(timeline), {
          width: WIDTH,
          height: Math.max(180, 110 + timeline.rows.length * 26),
        }),
      ),
    );
    parts.push(
      table(
        [
          { header: 'phase' },
          { header: 'kind' },
          { header: 'start (s)', numeric: true },
          { header: 'end (s)', numeric: true },
          { header: 'duration (s)', numeric: true },
        ],
        timeline.rows.map((r) => [esc(r.name), esc(r.kind), fmt(r.startS), fmt(r.endS), fmt(r.durationS)]),
        'data-chart-table="timeline"',
      ),
    );
  }
  if (timeline?.invalid.length)
    parts.push(
      `<p class="note">Left out (unreadable times or end before start): ${timeline.invalid.map(esc).join(', ')}</p>`,
    );
  parts.push('</section>');
  return parts.join('\n');
}

/** The whole report page. Pure: the same data gives the same page (except `generatedAt` when unset). */
export function renderReport(data: ReportData, options: RenderReportOptions = {}): string {
  const withBaseline = data.baseline !== undefined;
  const title = `perf-eval report — ${data.run.name}`;
  const baselineBlock = data.baseline
    ? `<h3>Baseline: ${esc(data.baseline.name)}</h3>${runInfo(data.baseline)}`
    : '';
  const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${esc(title)} ${statusBadge(data.run.status)}</h1></header>
<section id="section-run"><h2>Run</h2>${runInfo(data.run)}${baselineBlock}</section>
${verdictSection(data)}
${tasksSection(data)}
${validitySection(data.validity ?? [])}
${latencySection(data, withBaseline)}
${throughputSection(data, withBaseline)}
${paretoSection(data)}
${accuracySection(data, withBaseline)}
${timelineSection(data)}
<footer>Generated by perf-eval report at ${esc(data.generatedAt ?? new Date().toISOString())}. Charts: Apache ECharts (SVG rendered in Node); every chart has its numbers in the table under it.</footer>
</body>
</html>
`;
  // A secret may sit in the page escaped (`&` → `&amp;`), so both spellings are scrubbed.
  const secrets = (options.secrets ?? []).flatMap((secret) => [secret, esc(secret)]);
  return secrets.length > 0 ? scrubText(html, secrets) : html;
}
