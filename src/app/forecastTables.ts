// Multi-step accuracy as the app shows it, shared by the Backtest view (backtestView.ts) and the Train
// view's scored forecast (forecastScore.ts): the per-step error chart (the model and the six
// benchmarks as lines, MASE or RMSE) and the tables' cells, a number or "–" with its reason as the
// cell's title. Pure data for the chart and the tables; no DOM here.
//
// Legend: H = the horizon in steps, K = folds.

import { BENCHMARK_EXPLANATIONS, MEASURE_EXPLANATIONS, type MeasureName } from '../forecast/explain.js';
import type { HorizonRow, HorizonTable, Metric } from '../forecast/horizons.js';
import { threeDigits } from '../train/backtest.js';
import type { ChartSeries, ChartSpec, ColorRole } from './charts.js';
import type { Column, Columns } from './columns.js';

/** The measures a per-step chart or table can show. */
export const STEP_METRICS = ['mase', 'rmse'] as const;
export type StepMetric = (typeof STEP_METRICS)[number];

export const STEP_METRIC_LABEL: Record<StepMetric, string> = { mase: 'MASE', rmse: 'RMSE' };

/** A benchmark's table as the charts take it (a fold's, a summary's, or a scored forecast's). */
export interface BenchmarkLine {
  key: keyof typeof BENCHMARK_EXPLANATIONS;
  label: string;
  table: HorizonTable | null;
  skipped: string | null;
}

/** A cell: its text, and why there is no number (the cell's title) or what the number is. */
export interface Cell {
  text: string;
  title: string;
}

/** A measure's cell: three significant digits, or "–" with the reason. */
export function metricCell(metric: Metric | null | undefined, fallback = 'not measured'): Cell {
  if (metric == null) return { text: '–', title: fallback };
  if (metric.value === null) return { text: '–', title: metric.reason ?? fallback };
  return { text: threeDigits(metric.value), title: '' };
}

/** The benchmarks' colours: run colours 1.. (run-0 is the model's). */
function benchmarkColor(b: number): ColorRole {
  return `run-${(b + 1) % 10}`;
}

/** The per-step error chart: the model's line, then each benchmark's, dashed. */
export function stepErrorSpec(
  benchmarks: readonly Pick<BenchmarkLine, 'label'>[],
  metric: StepMetric,
  unit: string | null,
): ChartSpec {
  const format = (v: number) => threeDigits(v);
  const series: ChartSeries[] = [
    { label: 'model', color: 'run-0', width: 2, points: true, format },
    ...benchmarks.map(
      (b, i): ChartSeries => ({ label: b.label, color: benchmarkColor(i), dash: [6, 4], points: true, format }),
    ),
  ];
  const label =
    metric === 'mase'
      ? 'MASE (below 1 beats the in-sample seasonal naive)'
      : `RMSE${unit === null ? '' : ` (${unit})`}`;
  return {
    xLabel: 'steps ahead',
    formatX: (v) => `h = ${v}`,
    series,
    axes: [{ scale: 'y', label, shortLabel: STEP_METRIC_LABEL[metric], log: false }],
    height: 230,
  };
}

function rowValue(row: HorizonRow | undefined, metric: StepMetric): number | null {
  return row?.[metric].value ?? null;
}

/** (1 + benchmarks)(H) the per-step values: x = h, then the model, then each benchmark. */
export function stepErrorColumns(
  horizon: number,
  model: HorizonTable | null,
  benchmarks: readonly BenchmarkLine[],
  metric: StepMetric,
): Columns {
  const xs = Array.from({ length: horizon }, (_, h) => h + 1);
  const line = (table: HorizonTable | null): Column => xs.map((_, h) => rowValue(table?.steps[h], metric));
  return [xs, line(model), ...benchmarks.map((b) => line(b.table))];
}

/** The header's titles: what each measure and benchmark means (explain.ts), for the cells' tooltips. */
export function metricExplanation(metric: MeasureName): string {
  return MEASURE_EXPLANATIONS[metric];
}

export function benchmarkExplanation(key: BenchmarkLine['key']): string {
  return BENCHMARK_EXPLANATIONS[key];
}

/**
 * The strongest benchmark over all steps by MASE (RMSE where no benchmark has a MASE), with the
 * model's own value: what the Train view's sentence names. Null when no benchmark is scored.
 */
export function strongestBenchmark(
  model: HorizonTable | null,
  benchmarks: readonly BenchmarkLine[],
): { benchmark: BenchmarkLine; metric: StepMetric; theirs: number; mine: number | null } | null {
  for (const metric of STEP_METRICS) {
    let best: { benchmark: BenchmarkLine; theirs: number } | null = null;
    for (const benchmark of benchmarks) {
      const value = benchmark.table?.overall[metric].value ?? null;
      if (value !== null && (best === null || value < best.theirs)) best = { benchmark, theirs: value };
    }
    if (best !== null) return { ...best, metric, mine: model?.overall[metric].value ?? null };
  }
  return null;
}
