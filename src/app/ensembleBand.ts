// A population's run on the Train view's charts: the lane keeps what its snapshots brought
// (EnsembleTrace), the series chart draws the members' median (the lane's own lines) with a band of
// their 10–90% range around the one-step predictions and around the forecast (into the held-out part
// and past the end), the error chart draws the members' median error with a band from least to
// greatest; or, with one member chosen, that member's lines alone. Specifications and columns come
// in the same order (after every other series), as in chartSpecs.ts and columns.ts. No DOM here.
//
// Legend: K = members, E = epochs, R = rows of the data, H = steps past the end.

import type { ChartSeries, ChartSpec } from './charts.js';
import {
  type BackendTrace,
  type Column,
  type Columns,
  type ErrorScale,
  formatNumber,
  type SeriesView,
  seriesColumnsWithFuture,
} from './columns.js';
import type { EnsembleSnapshot, EpochLoss, MemberValues } from './ensemble.js';
import type { Snapshot } from './session.js';

/** What a lane of a population's run has gathered from its snapshots. */
export interface EnsembleTrace {
  members: number;
  seeds: number[];
  /** The latest snapshot's band. */
  low: MemberValues;
  high: MemberValues;
  /** (E) least and greatest member error at every epoch so far. */
  lossMin: number[];
  lossMax: number[];
  validationMin: EpochLoss[];
  validationMax: EpochLoss[];
  /** Each member's latest values and every error so far; null where the run sends only the band. */
  each: { values: MemberValues[]; losses: number[][]; validation: EpochLoss[][] } | null;
  diverged: number;
}

/** The trace after `snapshot` (a population's snapshot carries `ensemble`; a single run's none). */
export function addToEnsemble(trace: EnsembleTrace | null, snapshot: Snapshot): EnsembleTrace | null {
  const e: EnsembleSnapshot | undefined = snapshot.ensemble;
  if (e === undefined) return null;
  const losses = e.each?.newLosses.map((fresh, m) => [...(trace?.each?.losses[m] ?? []), ...fresh]) ?? null;
  return {
    members: e.members,
    seeds: e.seeds,
    low: e.low,
    high: e.high,
    lossMin: [...(trace?.lossMin ?? []), ...e.newLossMin],
    lossMax: [...(trace?.lossMax ?? []), ...e.newLossMax],
    validationMin: e.validationMin,
    validationMax: e.validationMax,
    each:
      e.each === null || losses === null
        ? null
        : { values: e.each.values, losses, validation: e.each.validationLosses },
    diverged: e.diverged,
  };
}

/** Member m's own lines, in place of the median's (its errors, predictions and forecasts). */
export function memberTrace(median: BackendTrace, ensemble: EnsembleTrace, m: number): BackendTrace {
  const each = ensemble.each;
  if (each === null || m < 0 || m >= each.values.length) return median;
  const values = each.values[m];
  return {
    ...median,
    losses: each.losses[m],
    validation: each.validation[m],
    predictions: values.predictions,
    forecast: values.forecast,
    future: values.future,
    best: null,
  };
}

/** A lane as the charts take it: its look, its trace (or one member's) and its band (none for one member). */
export interface ChartLane {
  backend: BackendTrace['backend'];
  label: string;
  trace: BackendTrace;
  last: { epoch: number } | null;
  ensemble?: EnsembleTrace | null;
}

/** The lanes with `member` shown alone where it is a member (null: the ensemble, median and band). */
export function lanesShowing(
  lanes: readonly {
    backend: BackendTrace['backend'];
    label: string;
    trace: BackendTrace;
    last: { epoch: number } | null;
    ensemble: EnsembleTrace | null;
  }[],
  member: number | null,
): ChartLane[] {
  return lanes.map((lane) => {
    const { backend, label, trace, last, ensemble } = lane;
    if (ensemble === null || member === null || ensemble.each === null)
      return { backend, label, trace, last, ensemble };
    return {
      backend,
      label: `${label}, member ${member} (seed ${ensemble.seeds[member]})`,
      trace: memberTrace(trace, ensemble, member),
      last,
      ensemble: null,
    };
  });
}

/** Which lanes draw a band: a key that changes when the chart's series must (the charts respec then). */
export function bandKey(lanes: readonly { ensemble?: EnsembleTrace | null }[]): string {
  return lanes.map((lane) => (lane.ensemble ? 'band' : '-')).join(',');
}

const fmt3 = (v: number) => (Math.abs(v) >= 1000 ? formatNumber(v) : v.toFixed(3));

function bandSeries(spec: ChartSpec, lanes: readonly ChartLane[], what: [string, string][]): ChartSpec {
  const series: ChartSeries[] = [...spec.series];
  const bands: NonNullable<ChartSpec['bands']> = [...(spec.bands ?? [])];
  for (const lane of lanes) {
    if (!lane.ensemble) continue;
    for (const [lower, upper] of what) {
      const look = { color: lane.backend, width: 1, dash: [1, 3], format: fmt3 };
      series.push({ ...look, label: `${lower} (${lane.label})` }, { ...look, label: `${upper} (${lane.label})` });
      // uPlot counts the x column as series 0.
      bands.push({ lower: series.length - 1, upper: series.length, color: lane.backend });
    }
  }
  return { ...spec, series, bands };
}

/** The series chart with each population lane's bands: one-step 10% and 90%, then the forecast's. */
export function withBandSeries(spec: ChartSpec, lanes: readonly ChartLane[]): ChartSpec {
  return bandSeries(spec, lanes, [
    ['10% one step', '90% one step'],
    ['10% forecast', '90% forecast'],
  ]);
}

/** The series chart's columns with the bands of withBandSeries after them. */
export function withBandColumns(
  columns: Columns,
  view: SeriesView | null,
  lanes: readonly ChartLane[],
  horizon: number,
): Columns {
  const rows = columns[0].length;
  const added: Column[] = [];
  for (const lane of lanes) {
    const e = lane.ensemble;
    if (!e) continue;
    const side = (values: MemberValues): BackendTrace => ({ ...lane.trace, ...values });
    // [xs, data, predLow, forecastLow, predHigh, forecastHigh, futureLow, futureHigh]
    const band = seriesColumnsWithFuture(view, [side(e.low), side(e.high)], horizon);
    const padded = (column: Column | undefined): Column =>
      Array.from({ length: rows }, (_, i) => (column?.[i] === undefined ? null : column[i]));
    const joined = (a: Column | undefined, b: Column | undefined): Column =>
      Array.from({ length: rows }, (_, i) => a?.[i] ?? b?.[i] ?? null);
    added.push(padded(band[2]), padded(band[4]), joined(band[3], band[6]), joined(band[5], band[7]));
  }
  return [...columns, ...added] as Columns;
}

/** The error chart with each population lane's band from the least to the greatest member error. */
export function withErrorBandSeries(spec: ChartSpec, lanes: readonly ChartLane[]): ChartSpec {
  return bandSeries(spec, lanes, [['least member error', 'greatest member error']]);
}

/** The error chart's columns with the bands of withErrorBandSeries after them. */
export function withErrorBandColumns(columns: Columns, lanes: readonly ChartLane[], scale: ErrorScale | null): Columns {
  const xs = columns[0];
  const s = scale?.train ?? 1;
  const added: Column[] = [];
  for (const lane of lanes) {
    const e = lane.ensemble;
    if (!e) continue;
    const at = (values: number[]): Column =>
      xs.map((x) => (x - 1 < values.length && Number.isFinite(values[x - 1]) ? values[x - 1] * s : null));
    added.push(at(e.lossMin), at(e.lossMax));
  }
  return [...columns, ...added] as Columns;
}
