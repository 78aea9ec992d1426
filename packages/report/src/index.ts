export { writeReport } from './lib/write.js';
export type { WriteReportOptions } from './lib/write.js';
export { assembleReportData, ReportInputError } from './lib/assemble.js';
export type { AssembleReportOptions } from './lib/assemble.js';
export { renderReport } from './lib/render.js';
export type { ChartKind, RenderReportOptions } from './lib/render.js';
export {
  accuracyRows,
  changePct,
  latencyRows,
  paretoPoints,
  throughputCurves,
  timelineRows,
} from './lib/chart-data.js';
export type {
  AccuracyRow,
  LatencyRow,
  ParetoPoint,
  ThroughputCurve,
  ThroughputPoint,
  Timeline,
  TimelineRow,
} from './lib/chart-data.js';
export { accuracyInterval, stderrInterval, wilsonInterval, Z95 } from './lib/stats.js';
export type { Interval } from './lib/stats.js';
export type {
  ReportAccuracyResult,
  ReportAccuracyValue,
  ReportBenchResult,
  ReportData,
  ReportError,
  ReportPhase,
  ReportRunInfo,
  ReportServer,
  ReportTask,
  ReportValidityFlag,
  ReportVerdict,
} from './lib/types.js';
