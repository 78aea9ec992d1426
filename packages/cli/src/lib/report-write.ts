/**
 * Writes `report.html` for a results directory: assemble (report-data.ts), render (@perf-eval/report,
 * loaded on first use because ECharts takes a while to load), write atomically.
 */
import type { ReportRunInfo } from '@perf-eval/report';
import { writeFileAtomic } from '@perf-eval/util';
import { assembleReportData } from './report-data.js';

export interface WriteReportOptions {
  baselineDir?: string | undefined;
  /** Secret values to scrub from the page. */
  secrets?: readonly string[] | undefined;
  run?: Partial<ReportRunInfo> | undefined;
}

export async function writeReport(
  resultsDir: string,
  output: string,
  options: WriteReportOptions = {},
): Promise<{ path: string; bytes: number }> {
  const data = await assembleReportData(resultsDir, { baselineDir: options.baselineDir, run: options.run });
  const { renderReport } = await import('@perf-eval/report');
  const html = renderReport(data, { secrets: options.secrets });
  await writeFileAtomic(output, html);
  return { path: output, bytes: Buffer.byteLength(html) };
}
