// Multi-step accuracy and prediction intervals as the CLI prints them, for `backtest` (its folds),
// `train` and `search` (the held-out part, src/train/heldOut.ts): the JSON of a per-step table (the
// model and the six benchmarks, a measure that cannot be computed as null with its reason beside it),
// of an interval's coverage, and the tables for people (docs/FILE-FORMATS.md, docs/FORECASTING.md).

import { BENCHMARK_KEYS, type BenchmarkKey } from '../forecast/benchmarks.js';
import type { HorizonRow, HorizonTable, Metric } from '../forecast/horizons.js';
import type { IntervalRow, IntervalTable } from '../forecast/intervals.js';
import { threeDigits } from '../train/backtest.js';
import type { HeldOutForecasts } from '../train/heldOut.js';

/** The benchmarks' names in the JSON (backtest --json's contract, and train's). */
export const BENCHMARK_JSON_NAMES: Record<BenchmarkKey, string> = {
  'last-value': 'naive',
  'seasonal-naive': 'seasonalNaive',
  naive2: 'naive2',
  drift: 'drift',
  autoregression: 'autoregression',
  theta: 'theta',
};

/** {name: number}, or {name: null, nameReason: why}. */
export function metricJson(name: string, metric: Metric): Record<string, number | string | null> {
  return metric.value === null ? { [name]: null, [`${name}Reason`]: metric.reason } : { [name]: metric.value };
}

const MEASURES = ['mae', 'rmse', 'mase', 'smape', 'owa'] as const;

function measures(row: HorizonRow): Record<string, number | string | null> {
  const out: Record<string, number | string | null> = {};
  for (const name of MEASURES) Object.assign(out, metricJson(name, row[name]));
  return out;
}

/** A benchmark's table as the JSON and the text take it. */
export interface BenchmarkColumn {
  key: BenchmarkKey;
  table: HorizonTable | null;
  skipped: string | null;
}

/** One step's row (h = 1..H; 0 for the pooled row) of the model and every benchmark. */
export function horizonJson(
  step: number,
  model: HorizonTable | null,
  modelReason: string | null,
  benchmarks: readonly BenchmarkColumn[],
) {
  const rowOf = (table: HorizonTable) => (step === 0 ? table.overall : table.steps[step - 1]);
  const named: Record<string, unknown> = {};
  for (const b of benchmarks) {
    named[BENCHMARK_JSON_NAMES[b.key]] =
      b.table === null ? null : { count: rowOf(b.table).count, ...measures(rowOf(b.table)) };
    if (b.table === null) named[`${BENCHMARK_JSON_NAMES[b.key]}Reason`] = b.skipped;
  }
  return {
    ...(step === 0 ? {} : { h: step }),
    count: model === null ? null : rowOf(model).count,
    model: model === null ? null : measures(rowOf(model)),
    ...(model === null ? { modelReason } : {}),
    benchmarks: named,
  };
}

/** Every step's row. (H) */
export function horizonsJson(
  horizon: number,
  model: HorizonTable | null,
  modelReason: string | null,
  benchmarks: readonly BenchmarkColumn[],
) {
  return Array.from({ length: horizon }, (_, h) => horizonJson(h + 1, model, modelReason, benchmarks));
}

function intervalRowJson(row: IntervalRow) {
  return {
    ...metricJson('coverage', row.coverage),
    ...metricJson('margin', row.margin),
    ...metricJson('meanWidth', row.width),
    ...metricJson('msis', row.msis),
    points: row.count,
  };
}

/** What an interval's JSON is made of, from a backtest's or a held-out part's. */
export interface IntervalReport {
  level: number;
  method: string;
  table: IntervalTable | null;
  skipped: string | null;
  holds: boolean | null;
  unmeasured: string | null;
  sentence: string;
}

/** An interval's coverage (pooled and per step) with `extra` (the folds or steps measured). */
export function intervalJson(interval: IntervalReport, extra: Record<string, unknown>) {
  const { level, method, table } = interval;
  const none = { coverage: null, margin: null, meanWidth: null, msis: null, points: 0 };
  return {
    level,
    method,
    ...(table === null ? { ...none, reason: interval.skipped } : intervalRowJson(table.overall)),
    holds: interval.holds,
    ...extra,
    unmeasured: interval.unmeasured,
    sentence: interval.sentence,
    horizons: table === null ? [] : table.steps.map((row) => ({ h: row.horizon, ...intervalRowJson(row) })),
  };
}

/**
 * `horizons`, `heldOutForecasts` and `intervals` of `train --json` and `search --json`: the held-out
 * part's per-step table, what it was measured on with its sentence, and the intervals; null (with
 * `horizonsReason`) where nothing is held out.
 */
export function heldOutJson(result: HeldOutForecasts | string) {
  if (typeof result === 'string') {
    return { horizons: null, horizonsReason: result, heldOutForecasts: null, intervals: [] };
  }
  const { model, modelSkipped, benchmarks, horizon } = result;
  const owa = model?.overall.owa ?? { value: null, reason: modelSkipped };
  return {
    horizons: horizonsJson(horizon, model, modelSkipped, benchmarks),
    heldOutForecasts: {
      column: result.column,
      horizon,
      note: result.note,
      targets: result.targets,
      origins: result.origins.length,
      members: result.members,
      modelSkipped,
      overall: horizonJson(0, model, modelSkipped, benchmarks),
      ...metricJson('owa', owa),
      calibrationForecasts: result.calibration,
      sentence: result.sentence,
    },
    intervals: result.intervals.map((interval) => intervalJson(interval, { steps: interval.steps })),
  };
}

// ---- Text ----

/** Cells for people: a number, or "–" with its reason kept for the notes below the table. */
export class Cells {
  readonly reasons: string[] = [];

  of(metric: Metric | undefined | null): string {
    if (metric == null) return '–';
    if (metric.value !== null) return threeDigits(metric.value);
    if (metric.reason !== null && !this.reasons.includes(metric.reason)) this.reasons.push(metric.reason);
    return '–';
  }

  notes(): string[] {
    return this.reasons.map((reason) => `  –: ${reason}`);
  }
}

/** Rows of cells in columns, the first left-aligned, the others right-aligned. */
export function textTable(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '),
  );
}

export function shortLabel(key: BenchmarkKey): string {
  return {
    'last-value': 'naive',
    'seasonal-naive': 'sNaive',
    naive2: 'Naive2',
    drift: 'drift',
    autoregression: 'AR',
    theta: 'Theta',
  }[key];
}

/** Per step: the model's MAE, RMSE, MASE, sMAPE and OWA, then each benchmark's MASE; the pooled row last. */
export function stepTable(
  horizon: number,
  model: HorizonTable | null,
  benchmarks: readonly BenchmarkColumn[],
  cells: Cells,
): string[] {
  const ordered = BENCHMARK_KEYS.map((key) => benchmarks.find((b) => b.key === key)).filter(
    (b): b is BenchmarkColumn => b !== undefined,
  );
  const header = ['h', 'MAE', 'RMSE', 'MASE', 'sMAPE', 'OWA', ...ordered.map((b) => shortLabel(b.key))];
  const row = (label: string, pick: (table: HorizonTable) => HorizonRow) => {
    const mine = model === null ? null : pick(model);
    return [
      label,
      cells.of(mine?.mae),
      cells.of(mine?.rmse),
      cells.of(mine?.mase),
      cells.of(mine?.smape),
      cells.of(mine?.owa),
      ...ordered.map((b) =>
        b.table === null ? cells.of({ value: null, reason: b.skipped }) : cells.of(pick(b.table).mase),
      ),
    ];
  };
  const steps = Array.from({ length: horizon }, (_, h) => row(String(h + 1), (t) => t.steps[h]));
  return textTable([header, ...steps, row('all', (t) => t.overall)]);
}

/** The held-out part's multi-step lines for people: the note, the per-step table, the sentence, the intervals. */
export function heldOutText(result: HeldOutForecasts | string, unit: string | null): string[] {
  if (typeof result === 'string') return [`multi-step forecasts: none (${result})`];
  const cells = new Cells();
  const lines = [
    ...(result.note === null ? [] : [`note: ${result.note}`]),
    `forecasts of ${result.column} from each of the ${result.origins.length} held-out origins: the model's errors${unit === null ? '' : ` (${unit})`} per step, then each benchmark's MASE:`,
    ...stepTable(result.horizon, result.model, result.benchmarks, cells),
    result.sentence,
    ...result.intervals.map((interval) => interval.sentence),
  ];
  const notes = cells.notes();
  return notes.length === 0 ? lines : [...lines, 'numbers that cannot be computed:', ...notes];
}
