/**
 * The HTML report of a finished run, checked in a real browser: no console errors, no network request
 * but the file itself, every chart drawn with the numbers of the result files in the table under it,
 * and a full-page screenshot written next to the report (`report.png`).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { findChromium, loadPage } from './browser.js';

export interface ChartInPage {
  kind: string;
  id: string;
  /** Rendered width of the chart's SVG in CSS pixels (0 = not drawn). */
  svgWidth: number;
  /** Drawn shapes (paths, rects, circles) in the SVG. */
  shapes: number;
  texts: string[];
  /** The data table under the chart, cell texts per row. */
  rows: string[][];
}

/** Runs in the page (through DevTools; the page itself has no script). */
export const CHART_PROBE = `JSON.stringify([...document.querySelectorAll('figure.chart')].map((figure) => {
  const svg = figure.querySelector('svg');
  const table = document.querySelector('[data-chart-table="' + figure.id.replace(/^chart-/, '') + '"]');
  return {
    kind: figure.dataset.chart,
    id: figure.id,
    svgWidth: svg ? svg.getBoundingClientRect().width : 0,
    shapes: svg ? svg.querySelectorAll('path, rect, circle').length : 0,
    texts: svg ? [...svg.querySelectorAll('text')].map((t) => t.textContent) : [],
    rows: table ? [...table.querySelectorAll('tbody tr')].map((tr) => [...tr.cells].map((c) => c.textContent)) : [],
  };
}))`;

/** A number printed by the report (`55.68`, `93.7%`, `1024`) as a number. */
export function cellNumber(text: string | undefined): number {
  return Number.parseFloat((text ?? '').replace('%', ''));
}

/** Close to within the report's 4 significant digits. */
export function expectPrinted(text: string | undefined, value: number, label: string): void {
  const printed = cellNumber(text);
  expect(Math.abs(printed - value), `${label}: printed ${text}, file has ${value}`).toBeLessThanOrEqual(
    Math.abs(value) * 5e-4 + 1e-9,
  );
}

export interface ReportInBrowser {
  charts: ChartInPage[];
  screenshot: string;
  bytes: number;
}

export async function checkReportInBrowser(resultsDir: string): Promise<ReportInBrowser> {
  const chromium = findChromium();
  if (!chromium)
    throw new Error(
      "e2e: no chromium on PATH; install Debian's 'chromium' package (.ci/run does) or set CHROMIUM",
    );
  const report = join(resultsDir, 'report.html');
  expect(existsSync(report), report).toBe(true);
  const bytes = statSync(report).size;
  expect(bytes, 'report size').toBeLessThanOrEqual(2 * 1024 * 1024);
  const screenshot = join(resultsDir, 'report.png');
  const page = await loadPage(chromium, report, { expression: CHART_PROBE, screenshot });
  expect(page.errors, 'console errors').toEqual([]);
  expect(page.requests, 'network requests').toEqual([page.url]);
  expect(statSync(screenshot).size, 'screenshot').toBeGreaterThan(10_000);
  const charts = JSON.parse(page.value as string) as ChartInPage[];
  for (const chart of charts) {
    expect(chart.svgWidth, `${chart.id} drawn`).toBeGreaterThan(300);
    expect(chart.shapes, `${chart.id} shapes`).toBeGreaterThan(5);
    expect(chart.rows.length, `${chart.id} table`).toBeGreaterThan(0);
  }
  // The page text must not depend on the screenshot: the summary the report came from is on it.
  expect(readFileSync(report, 'utf8')).toContain('<meta http-equiv="Content-Security-Policy"');
  return { charts, screenshot, bytes };
}
