// Inputs known ahead in the app: a CSV column marked known ahead (an input, not an output) lets the
// free-running forecast run, reads the file's future rows past the end (as the CLI's --known-ahead
// does), stops where its future values run out, and the page says how far it went and why.

import { describe, expect, it } from 'vitest';
import { backtestSettingsOf } from '../src/app/backtestSettings.js';
import { describeTable } from '../src/app/csvPicker.js';
import { noForecastReason, pastEndSentence, runSettingsFor, shownData } from '../src/app/dataView.js';
import { defaultFieldValues } from '../src/app/fields.js';
import { knownAheadOf, pastEndNote, pastEndReach } from '../src/app/knownAhead.js';
import { forecastSnapshot } from '../src/app/session.js';
import type { AppTrainOptions } from '../src/app/settings.js';
import { parseSettings } from '../src/app/settings.js';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { parseCsvText } from '../src/data/csv.js';
import type { ParamLayout } from '../src/model/layout.js';
import { runBacktest } from '../src/train/backtest.js';
import { startRun } from '../src/train/run.js';
import { loopedPopulation } from './population-loop.js';

function settingsOf(values: Record<string, string>) {
  const result = parseSettings({ ...defaultFieldValues(values.source as 'generated'), ...values });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.settings;
}

/** 40 rows of sales driven by a planned temperature, then `future` rows with the temperature only. */
function csvWith(future: number[]): string {
  const rows = Array.from({ length: 40 }, (_, i) => `${i + 1},${(20 + 5 * Math.sin(i / 3)).toFixed(3)},${100 + i}`);
  const ahead = future.map((temp, k) => `${41 + k},${temp},`);
  return ['day,temp,sales', ...rows, ...ahead].join('\n');
}

function choice(text: string, knownAhead: string[]) {
  const table = parseCsvText(text, { field: 'sales.csv', futureRows: true });
  return { table, label: 'sales.csv', inputs: ['temp', 'sales'], outputs: ['sales'], knownAhead };
}

describe('known-ahead inputs in the app', () => {
  it('counts only marked inputs that are not outputs, in input order', () => {
    expect(knownAheadOf(['sales', 'temp', 'price'], ['price', 'temp', 'sales'], ['sales'])).toEqual(['price', 'temp']);
    expect(knownAheadOf(['sales'], ['temp', 'sales'], ['sales'])).toEqual([]);
    expect(knownAheadOf([], ['temp'], ['sales'])).toEqual([]);
  });

  it('reaches as far as the shortest known-ahead column has future values, plus one step', () => {
    const levels = {
      columns: ['a', 'b'],
      values: [Float64Array.of(1, 2, 3, 4, 5), Float64Array.of(1, 2, 3, Number.NaN, 5)],
      rows: 5,
    };
    expect(pastEndReach(['a'], levels, 2, 10)).toEqual({ steps: 4, short: { column: 'a', values: 3 } });
    expect(pastEndReach(['a', 'b'], levels, 2, 10)).toEqual({ steps: 2, short: { column: 'b', values: 1 } });
    expect(pastEndReach(['a'], levels, 2, 3)).toEqual({ steps: 3, short: null });
    expect(pastEndReach([], levels, 5, 7)).toEqual({ steps: 7, short: null });
    expect(pastEndNote([], 0, { steps: 7, short: null }, 7)).toBeNull();
    expect(pastEndNote(['a'], 3, { steps: 4, short: { column: 'a', values: 3 } }, 10)).toBe(
      'The forecast past the end reads "a" (known ahead) from the file\'s 3 future rows (rows after the last whose outputs are empty), ' +
        'and stops after 4 steps of 10: each step after the first reads "a" one row further past the data\'s end, and the file gives 3 values there. ' +
        'Add its future values in rows after the last (their outputs empty) to forecast further.',
    );
    expect(pastEndNote(['a'], 3, { steps: 3, short: null }, 3)).toMatch(/: all 3 steps\.$/);
  });

  it('forecasts past the end on the future rows with the column marked, and says why not without the mark', async () => {
    const { run } = settingsOf({ source: 'csv', window: '5', batch: '4', horizon: '10' });
    const plain = shownData(runSettingsFor(run, choice(csvWith([21, 22, 23]), [])));
    expect(plain.canForecast).toBe(false);
    expect(noForecastReason(plain)).toMatch(/or mark temp known ahead where the file gives its future values/);

    const forecastOf = async (future: number[]) => {
      const settings = runSettingsFor(run, choice(csvWith(future), ['temp']));
      const view = shownData(settings);
      expect(view.canForecast).toBe(true);
      expect(view.prepared.table.rows).toBe(40);
      const started = startRun(settings);
      const snapshot = await forecastSnapshot(new CpuBackend(started.layout), started, {
        epochs: 1,
        batchSize: 4,
        learningRate: 0.01,
        reportEvery: 1,
        horizon: 10,
      });
      return { view, snapshot };
    };
    expect(describeTable(choice(csvWith([21, 22, 23]), []).table)).toBe(
      "40 rows, 3 value columns (commas, a header row); the last 3 rows have missing values: the data's future (columns marked known ahead are read there), not trained on.",
    );
    const { view, snapshot } = await forecastOf([21, 22, 23]);
    // Three future temperatures: the forecast goes 4 of the 10 steps, and the page says so.
    expect(snapshot.future).not.toBeNull();
    expect(snapshot.future?.length).toBe(4);
    expect(snapshot.forecast).not.toBeNull();
    const reach = pastEndReach(view.prepared.knownAhead, view.levels, 40, 10);
    expect(reach).toEqual({ steps: 4, short: { column: 'temp', values: 3 } });
    expect(pastEndSentence(view, 10)).toMatch(
      /"temp" \(known ahead\) from the file's 3 future rows .*stops after 4 steps of 10/,
    );
    expect(pastEndSentence(view, 4)).toMatch(/: all 4 steps\.$/);
    // The future values are read: changing them changes the steps after the first, not the first.
    const other = (await forecastOf([35, 5, 40])).snapshot.future as Float32Array;
    const first = snapshot.future as Float32Array;
    expect(other[0]).toBe(first[0]);
    expect(other[1]).not.toBe(first[1]);
  });

  it("backtests the Train view's settings with the known-ahead column read at the folds' rows", async () => {
    const { run, train } = settingsOf({ source: 'csv', window: '5', batch: '4', epochs: '2' });
    const settings = runSettingsFor(run, choice(csvWith([21, 22, 23]), ['temp']));
    const own = { folds: 2, horizon: 3, step: null, levels: [80], members: 1 };
    const open = async (layout: ParamLayout, members: number) =>
      loopedPopulation(Array.from({ length: members }, () => new CpuBackend(layout)));
    const result = await runBacktest(backtestSettingsOf(settings, train as AppTrainOptions, own), open);
    expect(result.folds).toHaveLength(2);
    for (const fold of result.folds) {
      expect(fold.forecast).toHaveLength(3);
      expect(fold.forecast?.every(Number.isFinite)).toBe(true);
    }
    // Without the mark the backtest keeps today's behaviour: no model forecasts, and the reason.
    const plain = runSettingsFor(run, choice(csvWith([21, 22, 23]), []));
    const skipped = await runBacktest(backtestSettingsOf(plain, train as AppTrainOptions, own), open);
    expect(skipped.folds.every((fold) => fold.forecast === null)).toBe(true);
    expect(JSON.stringify(skipped)).toMatch(/does not predict \\"temp\\".*known ahead/);
  });
});
