/**
 * Charts as inline SVG, drawn by Apache ECharts' server-side SVG renderer (no DOM, no canvas, no
 * browser). Only the chart types and components used here are registered, which keeps the CLI bundle
 * smaller than the full `echarts` entry. Every builder takes the rows from chart-data.ts, so the
 * picture and the table under it come from the same numbers.
 */
import type {
  CustomSeriesRenderItemAPI,
  CustomSeriesRenderItemParams,
  CustomSeriesRenderItemReturn,
} from 'echarts';
import { BarChart, CustomChart, LineChart, ScatterChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TitleComponent } from 'echarts/components';
import { init, use, type EChartsCoreOption } from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import type { AccuracyRow, LatencyRow, ParetoPoint, ThroughputCurve, Timeline } from './chart-data.js';

use([
  BarChart,
  CustomChart,
  LineChart,
  ScatterChart,
  GridComponent,
  LegendComponent,
  TitleComponent,
  SVGRenderer,
]);

export const COLORS = {
  new: '#2563eb',
  baseline: '#9ca3af',
  /** One colour per group / phase kind, in order. */
  palette: ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#dc2626', '#0891b2', '#ca8a04', '#db2777'],
  kinds: {
    server: '#64748b',
    bench: '#2563eb',
    semantic_eval: '#0891b2',
    lm_eval: '#16a34a',
    bfcl: '#9333ea',
    ingest: '#ca8a04',
    idle: '#e5e7eb',
  } as Record<string, string>,
} as const;

const TEXT = { fontFamily: 'system-ui, sans-serif', fontSize: 12, color: '#1f2937' };

export interface ChartSize {
  width: number;
  height: number;
}

/** Renders one option to an SVG string; the instance is disposed even when rendering throws. */
export function renderSvg(option: EChartsCoreOption, size: ChartSize): string {
  const chart = init(null, null, { renderer: 'svg', ssr: true, width: size.width, height: size.height });
  try {
    chart.setOption({ animation: false, textStyle: TEXT, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

const LATENCY_LABEL: Record<string, string> = { ttft: 'TTFT', tpot: 'TPOT', itl: 'ITL', e2el: 'E2EL' };

export function latencyLabel(row: Pick<LatencyRow, 'metric' | 'percentile'>): string {
  return `${LATENCY_LABEL[row.metric] ?? row.metric} p${row.percentile}`;
}

/** Zero or missing values cannot sit on a log axis; they are gaps (the table shows them). */
function logValue(value: number | undefined): number | null {
  return value !== undefined && value > 0 ? value : null;
}

/** Grouped bars per (metric, percentile), new vs baseline, on a log axis (TTFT and ITL differ by orders of magnitude). */
export function latencyOption(
  title: string,
  rows: readonly LatencyRow[],
  withBaseline: boolean,
): EChartsCoreOption {
  const series: Array<{
    name: string;
    type: string;
    data: Array<number | null>;
    itemStyle: { color: string };
  }> = [
    { name: 'new', type: 'bar', data: rows.map((r) => logValue(r.value)), itemStyle: { color: COLORS.new } },
  ];
  if (withBaseline)
    series.push({
      name: 'baseline',
      type: 'bar',
      data: rows.map((r) => logValue(r.baseline)),
      itemStyle: { color: COLORS.baseline },
    });
  return {
    title: { text: title, left: 'center', top: 4, textStyle: { fontSize: 14 } },
    legend: { top: 30, data: series.map((s) => s.name) },
    grid: { left: 70, right: 20, top: 70, bottom: 40 },
    xAxis: { type: 'category', data: rows.map(latencyLabel), axisLabel: { interval: 0, fontSize: 11 } },
    yAxis: { type: 'log', name: 'ms (log scale)', nameTextStyle: { align: 'left' } },
    series,
  };
}

/** Output tokens/s against max concurrency, one line per config group; the baseline dashed. */
export function throughputOption(
  curves: readonly ThroughputCurve[],
  withBaseline: boolean,
): EChartsCoreOption {
  const series: Record<string, unknown>[] = [];
  curves.forEach((curve, i) => {
    const color = COLORS.palette[i % COLORS.palette.length];
    series.push({
      name: curve.group,
      type: 'line',
      symbol: 'circle',
      symbolSize: 7,
      data: curve.points.map((p) => [p.concurrency, p.outputThroughput ?? null]),
      itemStyle: { color },
      lineStyle: { color, width: 2 },
    });
    if (withBaseline && curve.points.some((p) => p.baselineOutputThroughput !== undefined)) {
      series.push({
        name: `${curve.group} (baseline)`,
        type: 'line',
        symbol: 'emptyCircle',
        symbolSize: 7,
        data: curve.points.map((p) => [p.concurrency, p.baselineOutputThroughput ?? null]),
        itemStyle: { color },
        lineStyle: { color, width: 2, type: 'dashed' },
      });
    }
  });
  return {
    title: { text: 'Output throughput vs concurrency', left: 'center', top: 4, textStyle: { fontSize: 14 } },
    legend: { top: 30 },
    grid: { left: 80, right: 30, top: 70, bottom: 50 },
    xAxis: {
      type: 'log',
      logBase: 2,
      name: 'max concurrency',
      nameLocation: 'middle',
      nameGap: 28,
      minorSplitLine: { show: false },
    },
    yAxis: { type: 'value', name: 'output tokens/s', scale: true },
    series,
  };
}

/** tokens/s/user (x) vs tokens/s/GPU (y), one polyline per group and run, points labelled with the concurrency. */
export function paretoOption(points: readonly ParetoPoint[], groups: readonly string[]): EChartsCoreOption {
  const series: Record<string, unknown>[] = [];
  groups.forEach((group, i) => {
    const color = COLORS.palette[i % COLORS.palette.length];
    for (const run of ['new', 'baseline'] as const) {
      const mine = points
        .filter((p) => p.group === group && p.run === run)
        .sort((a, b) => (a.concurrency ?? 0) - (b.concurrency ?? 0));
      if (mine.length === 0) continue;
      series.push({
        name: run === 'new' ? group : `${group} (baseline)`,
        type: 'line',
        symbol: run === 'new' ? 'circle' : 'emptyCircle',
        symbolSize: 8,
        data: mine.map((p) => ({
          value: [p.tokensPerUser, p.tokensPerGpu],
          label: {
            show: p.concurrency !== undefined,
            formatter: `c=${p.concurrency ?? ''}`,
            position: 'top',
            fontSize: 10,
          },
        })),
        itemStyle: { color },
        lineStyle: { color, width: 1.5, type: run === 'new' ? 'solid' : 'dashed' },
      });
    }
  });
  return {
    title: {
      text: 'Tokens/s per user vs tokens/s per GPU',
      left: 'center',
      top: 4,
      textStyle: { fontSize: 14 },
    },
    legend: { top: 30 },
    grid: { left: 80, right: 40, top: 70, bottom: 50 },
    xAxis: {
      type: 'value',
      name: 'output tokens/s per user',
      nameLocation: 'middle',
      nameGap: 28,
      scale: true,
    },
    yAxis: { type: 'value', name: 'output tokens/s per GPU', scale: true },
    series,
  };
}

/** Point ± interval, drawn by a custom series; `offset` separates new and baseline on one row. */
function whiskerSeries(
  name: string,
  color: string,
  offset: number,
  data: Array<[number, number, number, number] | null>,
): Record<string, unknown> {
  return {
    name,
    type: 'custom',
    itemStyle: { color },
    encode: { x: 0, y: 1 },
    data: data.map((d) => d ?? [null, null, null, null]),
    renderItem: (
      _params: CustomSeriesRenderItemParams,
      api: CustomSeriesRenderItemAPI,
    ): CustomSeriesRenderItemReturn => {
      const value = api.value(0);
      if (typeof value !== 'number' || !Number.isFinite(value)) return null;
      const row = api.value(1) as number;
      const low = api.value(2) as number;
      const high = api.value(3) as number;
      const [cx, cy] = api.coord([value, row]) as [number, number];
      const y = cy + offset;
      const fill = api.visual('color') as string;
      const children: Record<string, unknown>[] = [];
      if (Number.isFinite(low) && Number.isFinite(high)) {
        const [x1] = api.coord([low, row]) as [number, number];
        const [x2] = api.coord([high, row]) as [number, number];
        children.push({
          type: 'line',
          shape: { x1, y1: y, x2, y2: y },
          style: { stroke: fill, lineWidth: 2 },
        });
        for (const x of [x1, x2])
          children.push({
            type: 'line',
            shape: { x1: x, y1: y - 4, x2: x, y2: y + 4 },
            style: { stroke: fill, lineWidth: 2 },
          });
      }
      children.push({
        type: 'circle',
        shape: { cx, cy: y, r: 5 },
        style: { fill, stroke: '#fff', lineWidth: 1 },
      });
      return { type: 'group', children } as unknown as CustomSeriesRenderItemReturn;
    },
  };
}

/** Accuracy per task/category with its 95 % interval, new vs baseline, on a 0–100 % axis. */
export function accuracyOption(rows: readonly AccuracyRow[], withBaseline: boolean): EChartsCoreOption {
  const point = (
    value: number | undefined,
    low: number | undefined,
    high: number | undefined,
    i: number,
  ): [number, number, number, number] | null =>
    value === undefined ? null : [value, i, low ?? Number.NaN, high ?? Number.NaN];
  const series = [
    whiskerSeries(
      'new',
      COLORS.new,
      withBaseline ? -6 : 0,
      rows.map((r, i) => point(r.value, r.interval?.low, r.interval?.high, i)),
    ),
  ];
  if (withBaseline)
    series.push(
      whiskerSeries(
        'baseline',
        COLORS.baseline,
        6,
        rows.map((r, i) => point(r.baseline, r.baselineInterval?.low, r.baselineInterval?.high, i)),
      ),
    );
  return {
    title: {
      text: 'Accuracy with 95 % confidence intervals',
      left: 'center',
      top: 4,
      textStyle: { fontSize: 14 },
    },
    legend: { top: 30, data: series.map((s) => s.name as string) },
    grid: { left: 290, right: 30, top: 70, bottom: 40 },
    xAxis: {
      type: 'value',
      min: 0,
      max: 1,
      axisLabel: { formatter: (v: number) => `${Math.round(v * 100)}%` },
    },
    yAxis: {
      type: 'category',
      inverse: true,
      data: rows.map((r) => r.label),
      axisLabel: { width: 270, overflow: 'truncate', fontSize: 11 },
    },
    series,
  };
}

/** Gantt bars of the step's phases, one row per phase, coloured by kind, x in seconds since the start. */
export function timelineOption(timeline: Timeline): EChartsCoreOption {
  const kinds = [...new Set(timeline.rows.map((r) => r.kind))];
  const series = kinds.map((kind, k) => ({
    name: kind,
    type: 'custom',
    itemStyle: { color: COLORS.kinds[kind] ?? COLORS.palette[k % COLORS.palette.length] },
    encode: { x: [1, 2], y: 0 },
    data: timeline.rows.map((r, i) => (r.kind === kind ? [i, r.startS, r.endS] : [i, null, null])),
    renderItem: (
      _params: CustomSeriesRenderItemParams,
      api: CustomSeriesRenderItemAPI,
    ): CustomSeriesRenderItemReturn => {
      const row = api.value(0) as number;
      const start = api.value(1);
      const end = api.value(2);
      if (
        typeof start !== 'number' ||
        typeof end !== 'number' ||
        !Number.isFinite(start) ||
        !Number.isFinite(end)
      )
        return null;
      const [x1, y] = api.coord([start, row]) as [number, number];
      const [x2] = api.coord([end, row]) as [number, number];
      const height = (api.size?.([0, 1]) as number[] | undefined)?.[1] ?? 20;
      const barHeight = Math.max(6, height * 0.6);
      return {
        type: 'rect',
        shape: { x: x1, y: y - barHeight / 2, width: Math.max(2, x2 - x1), height: barHeight },
        style: { fill: api.visual('color') as string },
      } as CustomSeriesRenderItemReturn;
    },
  }));
  return {
    title: { text: 'Timeline of the step', left: 'center', top: 4, textStyle: { fontSize: 14 } },
    legend: { top: 30, data: kinds },
    grid: { left: 290, right: 30, top: 70, bottom: 45 },
    xAxis: { type: 'value', min: 0, name: 'seconds since start', nameLocation: 'middle', nameGap: 26 },
    yAxis: {
      type: 'category',
      inverse: true,
      data: timeline.rows.map((r) => r.name),
      axisLabel: { width: 270, overflow: 'truncate', fontSize: 11 },
    },
    series,
  };
}
