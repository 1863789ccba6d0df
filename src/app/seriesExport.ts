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

export function seriesCsv({ view, lanes, scale }: SeriesExport): string {
  const { prepared, positions, dates } = view;
  const { table } = prepared;
  const rows: string[][] = [];
  const at = (row: number) => [String(row + 1), String(positions[row]), dates?.[row] ?? ''];
  // Every column the model reads or predicts, in the table's order.
  const shown = table.columns.filter((name) => prepared.inputs.includes(name) || prepared.outputs.includes(name));
  for (let r = 0; r < table.rows; r++) {
    for (const name of shown) {
      rows.push(['data', '', '', ...at(r), name, String(table.values[table.columns.indexOf(name)][r])]);
    }
  }
  const O = prepared.outputs.length;
  const errorLabel = scale?.label ?? 'error';
  for (const lane of lanes) {
    const { trace } = lane;
    const epoch = lane.epoch === null ? '' : String(lane.epoch);
    /** (count, O) values for rows from..: at most up to the last row. */
    const aligned = (series: string, values: Float32Array | null, from: number) => {
      if (values === null) return;
      const count = Math.min(Math.floor(values.length / O), table.rows - from);
      for (let n = 0; n < count; n++) {
        for (let o = 0; o < O; o++) {
          rows.push([series, lane.label, epoch, ...at(from + n), prepared.outputs[o], float32Text(values[n * O + o])]);
        }
      }
    };
    aligned('prediction', trace.predictions, prepared.train.window);
    aligned('forecast', trace.forecast, trace.forecastFrom);
    // Past the end: rows R+1.. at x continuing by the last step, dated as the data's dates go on.
    const last = table.rows - 1;
    const step = last > 0 ? positions[last] - positions[last - 1] : 1;
    const ahead = (s: number) => [
      String(table.rows + s + 1),
      String(positions[last] + step * (s + 1)),
      dates ? dateAhead(dates, s + 1) : '',
    ];
    const future = trace.future;
    const steps = future === null ? 0 : Math.floor(future.length / O);
    for (let s = 0; s < steps; s++) {
      for (let o = 0; o < O; o++) {
        rows.push([
          'past the end',
          lane.label,
          epoch,
          ...ahead(s),
          prepared.outputs[o],
          float32Text((future as Float32Array)[s * O + o]),
        ]);
      }
    }
    for (const band of lane.bands ?? []) {
      for (const [side, values] of [
        ['lower', band.lower],
        ['upper', band.upper],
      ] as const) {
        for (let s = 0; s < Math.min(steps, values.length); s++) {
          if (Number.isNaN(values[s])) continue;
          rows.push([
            `past the end, ${side} ${band.level}%`,
            lane.label,
            epoch,
            ...ahead(s),
            band.column,
            String(values[s]),
          ]);
        }
      }
    }
    trace.losses.forEach((loss, i) => {
      rows.push([
        'training error',
        lane.label,
        String(i + 1),
        '',
        '',
        '',
        errorLabel,
        String(loss * (scale?.train ?? 1)),
      ]);
    });
    for (const v of trace.validation) {
      rows.push([
        'validation error',
        lane.label,
        String(v.epoch),
        '',
        '',
        '',
        errorLabel,
        String(v.loss * (scale?.validation ?? 1)),
      ]);
    }
  }
  return writeCsv(SERIES_CSV_COLUMNS, rows);
}
