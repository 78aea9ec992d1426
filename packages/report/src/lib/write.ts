/** Writes `report.html` for a results directory: assemble, render, write atomically. */
import { writeFileAtomic } from '@perf-eval/util';
import { assembleReportData, type AssembleReportOptions } from './assemble.js';
import { renderReport } from './render.js';

export interface WriteReportOptions extends AssembleReportOptions {
  /** Secret values to scrub from the page. */
  secrets?: readonly string[] | undefined;
}

export async function writeReport(
  resultsDir: string,
  output: string,
  options: WriteReportOptions = {},
): Promise<{ path: string; bytes: number }> {
  const data = await assembleReportData(resultsDir, { baselineDir: options.baselineDir });
  const html = renderReport(data, { secrets: options.secrets });
  await writeFileAtomic(output, html);
  return { path: output, bytes: Buffer.byteLength(html) };
}
