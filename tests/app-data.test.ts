// The app's data path: the form's data choice (generated, bundled, the user's CSV with its chosen
// columns) becomes the RunSettings a worker trains on, and the page prepares exactly the data that
// startRun prepares (same draws, columns, split and normalisation), checked against the batch.

import { describe, expect, it } from 'vitest';
import { describeTable } from '../src/app/csvPicker.js';
import { checkAgainstData, describeData, runSettingsFor, shownData } from '../src/app/dataView.js';
import { defaultFieldValues } from '../src/app/fields.js';
import { type AppRunSettings, parseSettings } from '../src/app/settings.js';
import { parseCsvText } from '../src/data/csv.js';
import { InputError } from '../src/model/errors.js';
import { startRun } from '../src/train/run.js';

function settingsOf(values: Record<string, string>) {
  const result = parseSettings({ ...defaultFieldValues(values.source as 'generated'), ...values });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.settings;
}

const csvText = [
  'Date,close,volume,note',
  ...Array.from(
    { length: 40 },
    (_, i) => `2020-01-${String(i + 1).padStart(2, '0')},${100 + Math.sin(i) * 5},${1000 + i},x`,
  ),
].join('\n');

describe('app data', () => {
  it('prepares the blog’s task as startRun does', () => {
    const { run } = settingsOf({});
    const settings = runSettingsFor(run, null);
    const view = shownData(settings);
    const started = startRun(settings);
    expect(view.prepared.train.x).toEqual(started.prepared.train.x);
    expect(view.prepared.train.t).toEqual(started.prepared.train.t);
    expect(view.positions).toEqual(started.positions);
    expect(view.prepared.validation).toBeNull();
    expect(view.prepared.test).toBeNull();
    expect(view.canForecast).toBe(true);
    expect(describeData(view, 10)).toBe(
      'sine series: 50 rows; the model predicts sine from the 10 rows before; all of them train.',
    );
  });

  it('prepares a bundled series with its transform, three parts and normalisation, and its dates', () => {
    const { run } = settingsOf({ source: 'bundled', dataset: 'stocks', symbol: 'MSFT' });
    const settings = runSettingsFor(run, null);
    expect(settings.source).toEqual({ kind: 'bundled', name: 'stocks', options: { symbol: 'MSFT' } });
    expect(settings).toMatchObject({ transform: 'log-returns', trainFraction: 0.8, validationFraction: 0.1 });
    const view = shownData(settings);
    const started = startRun(settings);
    expect(view.prepared.normalization).toEqual(started.prepared.normalization);
    expect(view.prepared.validation?.x).toEqual(started.prepared.validation?.x);
    expect(view.prepared.test?.x).toEqual(started.prepared.test?.x);
    expect(view.prepared.boundary).toBe(98);
    expect(view.prepared.validationStart).toBe(86);
    expect(view.prepared.season).toBe(12);
    expect(view.unit).toBe('$');
    expect(view.dates?.[0]).toBe('2000-01-01');
    expect(describeData(view, 10)).toBe(
      'MSFT share price: 123 rows; the model predicts price (as log returns on the row before) from the 10 rows before; ' +
        'rows 87–98 choose the best epoch (validation); rows 99–123 are held out (test). Seasonal period: 12 rows.',
    );
  });

  it("prepares the user's CSV with the chosen columns", () => {
    const table = parseCsvText(csvText, { field: 'prices.csv' });
    expect(table.columns).toEqual(['close', 'volume']);
    const { run } = settingsOf({ source: 'csv', window: '5', batch: '4' });
    const csv = { table, label: 'prices.csv', inputs: ['close', 'volume'], outputs: ['close'] };
    const settings = runSettingsFor(run, csv);
    const view = shownData(settings);
    expect(view.prepared.inputs).toEqual(['close', 'volume']);
    expect(view.prepared.outputs).toEqual(['close']);
    expect(view.canForecast).toBe(false);
    expect(view.dates?.[2]).toBe('2020-01-03');
    expect(startRun(settings).config).toMatchObject({ inputSize: 2, outputSize: 1, window: 5 });
    expect(describeData(view, 5)).toBe(
      'prices.csv: 40 rows; the model predicts close (as differences from the row before) from close, volume from the 5 rows before; ' +
        'rows 29–32 choose the best epoch (validation); rows 33–40 are held out (test).',
    );
  });

  it('refuses a CSV run without a file, and a batch larger than the training samples', () => {
    const { run, train } = settingsOf({ source: 'csv' });
    expect(() => runSettingsFor(run, null)).toThrow(/csv: choose a CSV file first/);
    const table = parseCsvText(csvText);
    const view = shownData(runSettingsFor(run, { table, label: 'p.csv', inputs: ['close'], outputs: ['close'] }));
    // 40 rows, validation from row 28, differences (lag 1), window 10: 17 training samples.
    expect(view.prepared.train.count).toBe(17);
    let caught: unknown;
    try {
      checkAgainstData({ ...train, batchSize: 18 }, view);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as InputError).field).toBe('batch');
    expect(() => checkAgainstData({ ...train, batchSize: 17 }, view)).not.toThrow();
  });

  it("keeps a file's windows within the page's memory budget", () => {
    const rows = 600_000;
    const table = {
      ...parseCsvText('v\n1\n2\n'),
      values: [new Float64Array(rows)],
      rows,
    };
    const run: AppRunSettings = { ...settingsOf({ source: 'csv' }).run, window: 30 };
    const view = shownData(runSettingsFor(run, { table, label: 'big.csv', inputs: ['v'], outputs: ['v'] }));
    expect(() => checkAgainstData(settingsOf({}).train, view)).toThrow(
      /window: 599,969 windows of 30 rows × 1 input columns make 17,999,070 inputs; the app allows at most 16,777,216/,
    );
  });

  it('refuses a window the held-out split leaves no room for, naming the split', () => {
    const table = parseCsvText(csvText);
    const run: AppRunSettings = { ...settingsOf({ source: 'csv' }).run, window: 30, trainFraction: 0.5 };
    expect(() =>
      shownData(runSettingsFor(run, { table, label: 'p.csv', inputs: ['close'], outputs: ['close'] })),
    ).toThrow(
      /trainFraction: the training part is 16 of 40 rows, which gives no window of 30 \(and the transform's 1 row before it\)/,
    );
  });

  it('describes a parsed file, with the rows it dropped', () => {
    const table = parseCsvText('t;v\n1;2\n2;x\n3;\n4;5\n', { missing: 'drop' });
    expect(describeTable(table)).toBe(
      '2 rows, 2 value columns (semicolons, a header row); 2 rows dropped (row 3, column "v": expected a number, got "x"; row 4, column "v": the value is missing).',
    );
  });
});
