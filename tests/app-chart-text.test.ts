// What the charts say in text, without a browser: tick labels (never "0" for a small value, never
// repeated, dates over their times), the sentence when two backends' lines coincide, why there is
// no free-running forecast, the benchmark chart in words, and the tidy CSV of the charts' data.

import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { describeCoincidence, powerOfTenAbove, relativeDifference } from '../src/app/agreement.js';
import { describeBenchChart } from '../src/app/benchTable.js';
import { type BackendTrace, emptyTrace } from '../src/app/columns.js';
import { noForecastReason, runSettingsFor, shownData } from '../src/app/dataView.js';
import { SERIES_CSV_COLUMNS, seriesCsv } from '../src/app/seriesExport.js';
import {
  dateTick,
  dropRepeatedDays,
  isMonthly,
  linearTicks,
  logTick,
  monthlyTick,
  wholeRowSplits,
} from '../src/app/ticks.js';
import type { BenchResult } from '../src/bench/bench.js';
import { parseCsvText } from '../src/data/csv.js';

describe('tick labels', () => {
  it('never reads a small value on a log axis as 0', () => {
    expect([1e-4, 2e-5, 0.001, 0.05, 1, 20, 1000, 100_000, 2.5e9].map(logTick)).toEqual([
      '1e-4',
      '2e-5',
      '0.001',
      '0.05',
      '1',
      '20',
      '1,000',
      '100,000',
      '2.5e9',
    ]);
    expect(logTick(null)).toBe('');
  });

  it('gives linear ticks the digits their step needs, so neighbours differ', () => {
    expect(linearTicks([0, 0.0001, 0.0002], 0.0001)).toEqual(['0', '0.0001', '0.0002']);
    expect(linearTicks([0, 0.25, 0.5], 0.25)).toEqual(['0', '0.25', '0.5']);
    expect(linearTicks([10_000, 20_000, 100_000], 10_000)).toEqual(['10,000', '20,000', '100,000']);
    expect(linearTicks([1e-8, 1.5e-8, 2e-8], 5e-9)).toEqual(['1e-8', '1.5e-8', '2e-8']);
    expect(linearTicks([2e9, 2.5e9], 5e8)).toEqual(['2e9', '2.5e9']);
    for (const step of [1e-7, 3e-5, 0.002, 0.5, 7, 250, 1e6]) {
      const splits = [0, 1, 2, 3].map((k) => (k + 1) * step);
      const labels = linearTicks(splits, step);
      expect(new Set(labels).size, String(step)).toBe(4);
      expect(labels).not.toContain('0');
    }
  });

  it('puts a date’s time under it, drops :00 seconds and UTC, and reads monthly series by month', () => {
    expect(dateTick('2024-01-31 13:45')).toBe('2024-01-31\n13:45');
    expect(dateTick('2024-01-31T13:45:00Z')).toBe('2024-01-31\n13:45');
    expect(dateTick('2024-01-31 13:45:07 +01:00')).toBe('2024-01-31\n13:45:07 +01:00');
    expect(dateTick('2024-01-31')).toBe('2024-01-31');
    expect(isMonthly(['2004-01-01', '2004-02-01'])).toBe(true);
    expect(isMonthly(['2004-01-01', '2004-02-02'])).toBe(false);
    expect(monthlyTick('2004-03-01')).toBe('2004-03');
    expect(
      dropRepeatedDays(['2024-01-31\n13:00', '2024-01-31\n14:00', '2024-02-01\n00:00', '2024-02-01\n01:00']),
    ).toEqual(['2024-01-31\n13:00', '14:00', '2024-02-01\n00:00', '01:00']);
  });
});

describe('coinciding lines', () => {
  it('measures the largest difference relative to the values, and names its power of ten', () => {
    expect(relativeDifference([1, 2, 4], [1, 2, 4])).toBe(0);
    expect(relativeDifference([1, 2, 4], [1, 2, 4.000004])).toBeCloseTo(1e-6, 9);
    expect(relativeDifference([1], [1, 2])).toBeNull();
    expect(relativeDifference([Number.NaN], [1])).toBeNull();
    expect(powerOfTenAbove(3.2e-7)).toBe('1e-6');
    expect(powerOfTenAbove(0)).toBeNull();
  });

  it('says so only when every pair coincides on the chart', () => {
    const names = { first: 'WebGPU', second: 'CPU' };
    expect(
      describeCoincidence(
        'predictions are',
        [
          [
            [1, 2],
            [1, 2.0000001],
          ],
        ],
        names,
      ),
    ).toBe(
      'WebGPU’s predictions are identical to the CPU’s to 1e-7 (relative), so the two lines are drawn on top of each other.',
    );
    expect(
      describeCoincidence(
        'errors are',
        [
          [
            [1, 2],
            [1, 2],
          ],
        ],
        names,
      ),
    ).toMatch(/^WebGPU’s errors are exactly equal to the CPU’s,/);
    expect(
      describeCoincidence(
        'predictions are',
        [
          [
            [1, 2],
            [1, 2.5],
          ],
        ],
        names,
      ),
    ).toBe('');
    // A pair both lanes lack (no forecast) is left out; nothing compared says nothing.
    expect(
      describeCoincidence(
        'x are',
        [
          [null, null],
          [[1], [1]],
        ],
        names,
      ),
    ).toMatch(/exactly equal/);
    expect(describeCoincidence('x are', [[[], []]], names)).toBe('');
  });
});

function csvView(text: string, inputs: string[], outputs: string[]) {
  const table = parseCsvText(text);
  return shownData(
    runSettingsFor(
      {
        seed: 0,
        data: { kind: 'csv', missing: 'refuse' },
        window: 2,
        hiddenSizes: [3],
        trainFraction: 0.75,
        validationFraction: 0,
        normalize: 'z-score',
        transform: 'levels',
        season: 'none',
      },
      { table, label: 'f.csv', inputs, outputs },
    ),
  );
}

const PRICES =
  'date,price,volume\n2024-01-01,10,5\n2024-01-02,11,6\n2024-01-03,12,4\n2024-01-04,11.5,7\n2024-01-05,13,6\n2024-01-06,12.5,8\n2024-01-07,14,5\n2024-01-08,13.5,9\n';

describe('the series chart in words and as CSV', () => {
  it('says why there is no free-running forecast with more inputs than outputs', () => {
    expect(noForecastReason(csvView(PRICES, ['price'], ['price']))).toBeNull();
    expect(noForecastReason(csvView(PRICES, ['price', 'volume'], ['price']))).toBe(
      'No free-running forecast: the model reads price, volume but predicts only price, so a prediction cannot stand in for the next input (volume is never predicted). Choose the same columns as inputs and outputs for one, or mark volume known ahead where the file gives its future values (rows after the last whose outputs are empty).',
    );
  });

  it('writes the data, each lane’s predictions and forecast, and the errors per epoch, one value a line', () => {
    const view = csvView(PRICES, ['price'], ['price']);
    const trace: BackendTrace = {
      ...emptyTrace('cpu'),
      losses: [4, 2],
      validation: [{ epoch: 2, loss: 3 }],
      predictions: Float32Array.from([10.5, 11.5, 12, 12.25, 13, 13.25]),
      forecast: Float32Array.from([13.1, 13.2]),
      forecastFrom: 6,
    };
    const text = seriesCsv({
      view,
      lanes: [{ backend: 'cpu', label: 'CPU', trace, epoch: 2 }],
      scale: { train: 0.5, validation: 1, test: 1, label: 'error per sample' },
    });
    const rows = Papa.parse<string[]>(text.trim(), { delimiter: ',' }).data;
    expect(rows[0]).toEqual([...SERIES_CSV_COLUMNS]);
    const of = (series: string) => rows.filter((row) => row[0] === series);
    expect(of('data')).toHaveLength(8);
    expect(of('data')[0]).toEqual(['data', '', '', '1', '0', '2024-01-01', 'price', '10']);
    // Prediction n lands on row window + n + 1 (1-based); the forecast from its first row on.
    expect(of('prediction')[0]).toEqual(['prediction', 'CPU', '2', '3', '2', '2024-01-03', 'price', '10.5']);
    expect(of('prediction')).toHaveLength(6);
    expect(of('forecast').map((row) => [row[3], row[7]])).toEqual([
      ['7', '13.1'],
      ['8', '13.2'],
    ]);
    // Errors as the error chart shows them (here per sample: training × 0.5).
    expect(of('training error').map((row) => [row[2], row[6], row[7]])).toEqual([
      ['1', 'error per sample', '2'],
      ['2', 'error per sample', '1'],
    ]);
    expect(of('validation error')).toEqual([['validation error', 'CPU', '2', '', '', '', 'error per sample', '3']]);
  });

  it('writes the forecast past the end on the rows after the data, dated as its dates go on, with its bands', () => {
    const view = csvView(PRICES, ['price'], ['price']);
    const trace: BackendTrace = { ...emptyTrace('cpu'), future: Float32Array.from([14.5, 15]) };
    const bands = [
      {
        level: 80,
        column: 'price',
        lower: Float64Array.from([14, Number.NaN]),
        upper: Float64Array.from([15, Number.NaN]),
        unavailable: [null, 'too few calibration forecasts'],
      },
    ];
    const text = seriesCsv({ view, lanes: [{ backend: 'cpu', label: 'CPU', trace, epoch: 3, bands }], scale: null });
    const rows = Papa.parse<string[]>(text.trim(), { delimiter: ',' }).data;
    const of = (series: string) => rows.filter((row) => row[0] === series).map((row) => row.slice(2));
    // Daily dates go on by a day; x by the last step; rows 9 and 10 follow the data's 8.
    expect(of('past the end')).toEqual([
      ['3', '9', '8', '2024-01-09', 'price', '14.5'],
      ['3', '10', '9', '2024-01-10', 'price', '15'],
    ]);
    // A step without a band has no line.
    expect(of('past the end, lower 80%')).toEqual([['3', '9', '8', '2024-01-09', 'price', '14']]);
    expect(of('past the end, upper 80%')).toEqual([['3', '9', '8', '2024-01-09', 'price', '15']]);
  });
});

describe('the benchmark chart in words', () => {
  const result = (backend: 'cpu' | 'webgpu', hidden: number, batch: number, stepsPerSecond: number) =>
    ({ backend, hidden, batch, stepsPerSecond, skipped: null }) as BenchResult;

  it('gives each line’s rate at its smallest and largest size, per step or per sample', () => {
    const results = [result('cpu', 16, 8, 4000), result('cpu', 256, 8, 100), result('webgpu', 16, 8, 500)];
    expect(describeBenchChart(results)).toBe(
      'Training steps per second by hidden size (log axes). CPU, batch 8: 4,000 steps/s at hidden 16 to 100 steps/s at hidden 256; WebGPU, batch 8: 500 steps/s at hidden 16.',
    );
    expect(describeBenchChart(results, 'samples')).toMatch(/CPU, batch 8: 32,000 samples\/s at hidden 16/);
    expect(describeBenchChart([])).toBe('');
  });
});

describe('ticks on whole rows', () => {
  it('falls on multiples of the increment inside the range, and ends where uPlot finds no increment', () => {
    expect(wholeRowSplits(0.5, 10, 2)).toEqual([2, 4, 6, 8, 10]);
    expect(wholeRowSplits(3, 3, 1)).toEqual([3]);
    // uPlot passes 0 when no increment fits the space; a range can be empty or not finite.
    expect(wholeRowSplits(0, 2, 0)).toEqual([]);
    expect(wholeRowSplits(0, Number.NaN, 1)).toEqual([]);
    expect(wholeRowSplits(5, 1, 1)).toEqual([]);
    expect(wholeRowSplits(0, 1e9, 1)).toHaveLength(1000);
  });
});
