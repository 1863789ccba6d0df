// The Backtest view's series chart, as pure data (the chart only draws): the scored column over the
// last part of the series, and every fold's forecast from its origin as a line of its own (the last
// MAX_FOLD_LINES folds where there are more). No DOM here.
//
// Legend: R = rows, K = folds, H = the horizon in steps.

import type { BacktestResult } from '../train/backtest.js';
import type { ChartSeries, ChartSpec } from './charts.js';
import { type Column, type Columns, formatNumber } from './columns.js';
import type { ShownData } from './dataView.js';
import { dateTick, isMonthly, monthlyTick } from './ticks.js';

/** The most folds drawn as lines of their own; the earlier ones are in the table only. */
export const MAX_FOLD_LINES = 24;

/** The first row drawn: as many rows before the first origin as the folds cover after it. */
export function firstDrawnRow(result: Pick<BacktestResult, 'rows' | 'plan'>): number {
  const first = result.plan.origins[0];
  return Math.max(0, first - (result.rows - first));
}

function drawnFolds(result: BacktestResult): number[] {
  const K = result.folds.length;
  return Array.from({ length: Math.min(K, MAX_FOLD_LINES) }, (_, i) => K - Math.min(K, MAX_FOLD_LINES) + i);
}

export function backtestSeriesSpec(shown: { result: BacktestResult; data: ShownData } | null): ChartSpec {
  const column = shown?.result.column ?? 'value';
  const series: ChartSeries[] = [
    { label: `data (${column})`, color: 'data', width: 1, points: true, format: formatNumber },
  ];
  const dates = shown?.data.dates ?? null;
  if (shown !== null) {
    for (const k of drawnFolds(shown.result)) {
      series.push({ label: `fold ${k + 1}`, color: `run-${k % 10}`, width: 2, format: formatNumber });
    }
  }
  const formatX = (v: number) => (dates !== null ? (dates[Math.round(v)] ?? String(v)) : `row ${Math.round(v) + 1}`);
  const marker =
    shown === null ? null : { x: shown.result.plan.origins[0], label: `${shown.result.folds.length} folds →` };
  return {
    xLabel: dates !== null ? 'date' : 'row',
    formatX,
    formatXTick:
      dates === null
        ? (v) => String(Math.round(v) + 1)
        : (v) => (isMonthly(dates) ? monthlyTick : dateTick)(formatX(v)),
    series,
    axes: [{ scale: 'y', label: shown?.result.unit ? `${column} (${shown.result.unit})` : column, log: false }],
    height: 270,
    marker,
  };
}

/** x = row (0-based), the data, then each drawn fold's forecast on its rows (null elsewhere). */
export function backtestSeriesColumns(result: BacktestResult, data: ShownData): Columns {
  const { prepared } = data;
  const values = prepared.table.values[prepared.table.columns.indexOf(result.column)];
  const from = firstDrawnRow(result);
  const xs = Array.from({ length: result.rows - from }, (_, i) => from + i);
  const dataColumn: Column = xs.map((row) => values[row]);
  const folds = drawnFolds(result).map((k): Column => {
    const fold = result.folds[k];
    const column: Column = new Array(xs.length).fill(null);
    fold.forecast?.forEach((value, s) => {
      const at = fold.origin + s - from;
      if (at < column.length) column[at] = value;
    });
    return column;
  });
  return [xs, dataColumn, ...folds];
}
