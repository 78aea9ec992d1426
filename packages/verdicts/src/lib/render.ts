/** Human renderings of a `Comparison`: a terminal table (worst first) and Markdown for summary.md/annotations. */
import type { Comparison, Verdict, VerdictRow } from './compare.js';
import { VERDICTS } from './compare.js';

function num(value: number | null): string {
  if (value === null) return '—';
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 0.001 || abs >= 1e7)) return value.toExponential(3);
  return String(Number(value.toPrecision(5)));
}

function delta(row: VerdictRow): string {
  return row.deltaPct === null ? '—' : `${row.deltaPct >= 0 ? '+' : ''}${row.deltaPct.toFixed(1)}%`;
}

function label(row: VerdictRow): string {
  return row.suspected ? `${row.verdict} (suspected ${row.suspected})` : row.verdict;
}

export function countsLine(counts: Record<Verdict, number>): string {
  return VERDICTS.filter((v) => counts[v] > 0)
    .map((v) => `${counts[v]} ${v}`)
    .join(', ');
}

export interface RenderTableOptions {
  /** Every row, not only the changed ones. */
  all?: boolean;
}

/** A fixed-width table, worst first; only rows whose verdict is not `unchanged` unless `all`. */
export function renderVerdictTable(comparison: Comparison, options: RenderTableOptions = {}): string {
  const rows = options.all ? comparison.rows : comparison.rows.filter((r) => r.verdict !== 'unchanged');
  const header = ['verdict', 'task', 'metric', 'base', 'new', 'Δ', 'reason'];
  const cells = rows.map((r) => [label(r), r.task, r.metric, num(r.base), num(r.new), delta(r), r.reason]);
  const lines = [
    `compare ${comparison.base.runId} → ${comparison.new.runId}: ${countsLine(comparison.counts) || 'no values'}`,
  ];
  if (cells.length === 0) {
    lines.push(options.all ? 'no rows' : 'nothing changed (use --all to list every row)');
    return `${lines.join('\n')}\n`;
  }
  const widths = header
    .slice(0, -1)
    .map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: string[]): string =>
    c
      .map((cell, i) => (i < widths.length ? cell.padEnd(widths[i] as number) : cell))
      .join('  ')
      .trimEnd();
  lines.push('', line(header), ...cells.map(line));
  return `${lines.join('\n')}\n`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export interface RenderMarkdownOptions {
  /** Turns a NEW-side result file (relative to its results directory) into a link target, e.g. `artifact://results/x/<file>`. */
  link?: (file: string) => string;
}

/** Regressions first, then improvements, then counts of the rest; each row links its evidence file. */
export function renderVerdictMarkdown(comparison: Comparison, options: RenderMarkdownOptions = {}): string {
  const lines = [
    `#### Verdicts vs \`${comparison.base.runId}\`${comparison.base.buildUrl ? ` ([build](${comparison.base.buildUrl}))` : ''}`,
    '',
  ];
  const table = (title: string, rows: VerdictRow[]): void => {
    if (rows.length === 0) return;
    lines.push(`**${title}**`, '', '| task | metric | base | new | Δ | why |', '|---|---|---|---|---|---|');
    for (const r of rows) {
      const file = r.files.new[0] ?? r.files.base[0];
      const task = file && options.link ? `[${cell(r.task)}](${options.link(file)})` : cell(r.task);
      lines.push(
        `| ${task} | ${cell(r.metric)} | ${num(r.base)} | ${num(r.new)} | ${delta(r)} | ${cell(r.reason)} |`,
      );
    }
    lines.push('');
  };
  table(
    '❌ Regressions',
    comparison.rows.filter((r) => r.verdict === 'regression'),
  );
  table(
    '⚠️ Suspected (awaiting the next run)',
    comparison.rows.filter((r) => r.suspected),
  );
  table(
    '✅ Improvements',
    comparison.rows.filter((r) => r.verdict === 'improvement'),
  );
  const rest = VERDICTS.filter(
    (v) => v !== 'regression' && v !== 'improvement' && comparison.counts[v] > 0,
  ).map((v) => `${comparison.counts[v]} ${v}`);
  lines.push(rest.length ? rest.join(' · ') : 'no other rows');
  return `${lines.join('\n')}\n`;
}
