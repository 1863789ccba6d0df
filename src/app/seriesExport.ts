// The Train view's charts as one tidy CSV (one value a line; README "File formats"): the data in its
// own units, each lane's one-step predictions, free-running forecast and forecast past the end (with
// the rows' dates, src/data/futureDates.ts, and its bands where the lane has them) at its latest
// report, and each lane's error per epoch (training and validation, as the error chart shows them).
// Pure: the page offers the text as a download.
//
// Legend: R = rows, T = window, N = R - T predictions, S = forecast steps, O = output columns.

import { dateAhead } from '../data/futureDates.js';
import type { Band } from '../train/pastEnd.js';
import { writeCsv } from '../util/csvWrite.js';
import type { LaneLook } from './chartSpecs.js';
import type { BackendTrace, ErrorScale } from './columns.js';
import type { ShownData } from './dataView.js';

export const SERIES_CSV_COLUMNS = ['series', 'backend', 'epoch', 'row', 'x', 'date', 'column', 'value'] as const;

export interface SeriesExport {
  view: ShownData;
  /** `bands`: the forecast past the end's prediction bands (src/train/pastEnd.ts), where the lane has them. */
  lanes: readonly (LaneLook & { trace: BackendTrace; epoch: number | null; bands?: readonly Band[] })[];
  /** How the error chart scales the errors (null: as reported). */
  scale: ErrorScale | null;
}

/** A float32 value in the fewest digits that read back as the same float32. */
function float32Text(value: number): string {
  for (let digits = 6; digits < 9; digits++) {
    const text = value.toPrecision(digits);
    if (Math.fround(Number(text)) === value) return String(Number(text));
  }
  return String(Number(value.toPrecision(9)));
}

type Lane = SeriesExport['lanes'][number];

export function seriesCsv({ view, lanes, scale }: SeriesExport): string {
  const rows = dataRows(view);
  for (const lane of lanes) rows.push(...laneRows(view, lane), ...errorRows(lane, scale));
  return writeCsv(SERIES_CSV_COLUMNS, rows);
}

/** A row's number, x and date cells. */
function rowCells(view: ShownData, row: number): string[] {
  return [String(row + 1), String(view.positions[row]), view.dates?.[row] ?? ''];
}

/** Every column the model reads or predicts, in the table's order, a value a line. */
function dataRows(view: ShownData): string[][] {
  const { table, inputs, outputs } = view.prepared;
  const rows: string[][] = [];
  const shown = table.columns.filter((name) => inputs.includes(name) || outputs.includes(name));
  for (let r = 0; r < table.rows; r++) {
    for (const name of shown) {
      rows.push(['data', '', '', ...rowCells(view, r), name, String(table.values[table.columns.indexOf(name)][r])]);
    }
  }
  return rows;
}

/** A lane's one-step predictions, free-running forecast, forecast past the end and its bands. */
function laneRows(view: ShownData, lane: Lane): string[][] {
  const { prepared } = view;
  const { table } = prepared;
  const { trace } = lane;
  const O = prepared.outputs.length;
  const epoch = lane.epoch === null ? '' : String(lane.epoch);
  const rows: string[][] = [];
  /** (count, O) values for rows from..: at most up to the last row. */
  const aligned = (series: string, values: Float32Array | null, from: number) => {
    if (values === null) return;
    const count = Math.min(Math.floor(values.length / O), table.rows - from);
    for (let n = 0; n < count; n++) {
      for (let o = 0; o < O; o++) {
        rows.push([
          series,
          lane.label,
          epoch,
          ...rowCells(view, from + n),
          prepared.outputs[o],
          float32Text(values[n * O + o]),
        ]);
      }
    }
  };
  aligned('prediction', trace.predictions, prepared.train.window);
  aligned('forecast', trace.forecast, trace.forecastFrom);
  const future = trace.future;
  const steps = future === null ? 0 : Math.floor(future.length / O);
  for (let s = 0; s < steps; s++) {
    for (let o = 0; o < O; o++) {
      const value = float32Text((future as Float32Array)[s * O + o]);
      rows.push(['past the end', lane.label, epoch, ...aheadCells(view, s), prepared.outputs[o], value]);
    }
  }
  for (const band of lane.bands ?? []) {
    for (const [side, values] of [
      ['lower', band.lower],
      ['upper', band.upper],
    ] as const) {
      for (let s = 0; s < Math.min(steps, values.length); s++) {
        if (Number.isNaN(values[s])) continue;
        const series = `past the end, ${side} ${band.level}%`;
        rows.push([series, lane.label, epoch, ...aheadCells(view, s), band.column, String(values[s])]);
      }
    }
  }
  return rows;
}

/** Step s past the end: row R+1+s at x continuing by the last step, dated as the data's dates go on. */
function aheadCells(view: ShownData, s: number): string[] {
  const { positions, dates } = view;
  const rowCount = view.prepared.table.rows;
  const last = rowCount - 1;
  const step = last > 0 ? positions[last] - positions[last - 1] : 1;
  return [String(rowCount + s + 1), String(positions[last] + step * (s + 1)), dates ? dateAhead(dates, s + 1) : ''];
}

/** A lane's training and validation error per epoch, scaled as the error chart shows them. */
function errorRows(lane: Lane, scale: ErrorScale | null): string[][] {
  const label = scale?.label ?? 'error';
  const rows: string[][] = [];
  lane.trace.losses.forEach((loss, i) => {
    rows.push(['training error', lane.label, String(i + 1), '', '', '', label, String(loss * (scale?.train ?? 1))]);
  });
  for (const v of lane.trace.validation) {
    const value = String(v.loss * (scale?.validation ?? 1));
    rows.push(['validation error', lane.label, String(v.epoch), '', '', '', label, value]);
  }
  return rows;
}
