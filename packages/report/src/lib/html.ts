/** HTML building blocks: escaping, number formatting, tables. Every dynamic string goes through `esc`. */

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for element content and quoted attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}

/** Numbers as people read them: 4 significant digits below 1000, integers above, `—` when missing. */
export function fmt(value: number | undefined | null, unit = ''): string {
  if (value === undefined || value === null || !Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  const text =
    abs >= 1000 || Number.isInteger(value)
      ? value.toFixed(abs >= 1000 && !Number.isInteger(value) ? 1 : 0)
      : value.toPrecision(4);
  return `${text}${unit}`;
}

export function fmtPct(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return `${value > 0 ? '+' : ''}${value.toFixed(1)}%`;
}

/** 0–1 as a percentage with one decimal. */
export function fmtShare(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return `${(value * 100).toFixed(1)}%`;
}

export interface Column {
  header: string;
  /** Right-aligned numeric column. */
  numeric?: boolean;
}

/** A data table; `cells` are raw HTML (already escaped by the caller), `attrs` raw attributes of the table. */
export function table(columns: readonly Column[], rows: readonly (readonly string[])[], attrs = ''): string {
  const head = columns.map((c) => `<th${c.numeric ? ' class="num"' : ''}>${esc(c.header)}</th>`).join('');
  const body = rows
    .map(
      (row) =>
        `<tr>${row.map((cell, i) => `<td${columns[i]?.numeric ? ' class="num"' : ''}>${cell}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table class="data"${attrs ? ` ${attrs}` : ''}><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A link only for http(s) URLs; anything else (javascript:, data:, …) is shown as text. */
export function link(url: string | undefined, text?: string): string {
  if (!url) return '—';
  return /^https?:\/\//i.test(url)
    ? `<a href="${esc(url)}" rel="noreferrer">${esc(text ?? url)}</a>`
    : esc(text ?? url);
}

/** No remote loads of any kind; inline styles and data: images only. The page has no scripts. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

export const STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2937; margin: 0 auto; max-width: 1100px; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid #e5e7eb; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
.status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; vertical-align: middle; }
.status-ok { background: #dcfce7; color: #166534; } .status-failed, .status-error, .status-invalid { background: #fee2e2; color: #991b1b; }
.status-cancelled, .status-skipped, .status-warning { background: #fef3c7; color: #92400e; } .status-other { background: #e5e7eb; color: #374151; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; } dl.meta dt { color: #6b7280; } dl.meta dd { margin: 0; word-break: break-all; }
table.data { border-collapse: collapse; margin: 6px 0 16px; font-size: 13px; } table.data th, table.data td { border: 1px solid #e5e7eb; padding: 3px 8px; text-align: left; vertical-align: top; }
table.data th { background: #f9fafb; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
figure.chart { margin: 8px 0 0; } figure.chart svg { max-width: 100%; height: auto; }
pre { background: #f3f4f6; padding: 8px; overflow-x: auto; font-size: 12px; }
.note { color: #6b7280; } .better { color: #166534; } .worse { color: #991b1b; }
footer { margin-top: 40px; color: #6b7280; font-size: 12px; }
`;

export function statusBadge(status: string | undefined): string {
  const s = status ?? 'unknown';
  const cls = ['ok', 'failed', 'error', 'invalid', 'cancelled', 'skipped', 'warning'].includes(s)
    ? s
    : 'other';
  return `<span class="status status-${cls}">${esc(s)}</span>`;
}
