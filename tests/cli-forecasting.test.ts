// The CLI as a forecaster uses it: `train --json` with the baselines, errors in units, the best epoch
// and the held-out part's multi-step forecasts; a model file that restores its whole setup, so
// `predict --model` needs no data options; version-1 files still load; predict's dates, bands, an
// ensemble's mean and inputs known ahead read from the data's future rows.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { predictCommand } from '../src/cli/predict.js';
import { readModelFile, toModelFile } from '../src/train/modelFile.js';
import { cli as runCli, temporaryFolder } from './helpers.js';

/** One command in this process (helpers' cli), its arguments spread. */
const cli = (...args: string[]) => runCli(args);

const tmp = temporaryFolder('webgpu-lstm-forecasting-');
const co2Model = join(tmp, 'co2.json');

describe('train --json on a bundled series at its defaults', () => {
  it('reports the parts, the best epoch, errors in ppm and the baselines, with one plain sentence', async () => {
    const run = await cli(
      'train',
      '--backend',
      'cpu',
      '--dataset',
      'co2',
      '--epochs',
      '4',
      '--json',
      '--save',
      co2Model,
    );
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    // CO2's defaults: first differences, a two-year window, 70/10/20.
    expect(out.config.window).toBe(24);
    expect(out.data).toMatchObject({ transform: 'differences', season: 12, split: 0.8, validation: 0.1, rows: 741 });
    expect(out.data.parts).toEqual({
      train: { start: 25, end: 519 },
      validation: { start: 519, end: 593 },
      test: { start: 593, end: 741 },
    });
    expect(out.data.testSamples).toBe(148);
    expect(out.validationPart).toBe('validation');
    expect(out.bestEpoch.chosenOn).toBe('validation');
    const losses = out.validationLosses.map((v: { loss: number }) => v.loss);
    expect(out.bestEpoch.epoch).toBe(losses.indexOf(Math.min(...losses)) + 1);
    expect(out.metrics.unit).toBe('ppm');
    for (const part of ['train', 'validation', 'test'] as const) {
      expect(out.metrics[part].rmse[0]).toBeGreaterThan(0);
      expect(out.metrics[part].mae[0]).toBeLessThanOrEqual(out.metrics[part].rmse[0]);
    }
    expect(out.baselines.map((b: { label: string }) => b.label)).toEqual([
      'last value',
      'seasonal naive (12)',
      'AR(24)',
    ]);
    expect(out.baselines[0].rmse[0]).toBeCloseTo(1.3676, 3);
    expect(out.summary).toMatch(
      /^Held-out RMSE [\d.]+ ppm: [\d.]+× (better|worse) than AR\(24\) \(0\.449 ppm\), the strongest baseline, (and|though) [\d.]+× (better|worse) than repeating the last value \(1\.37 ppm\); seasonal naive \(12\) 2\.41 ppm\.$/,
    );
    // Multi-step: 12 months from each of the 148 held-out rows, beside the six benchmarks.
    expect(out.horizons).toHaveLength(12);
    expect(out.horizons.map((h: { count: number }) => h.count)).toEqual(Array.from({ length: 12 }, (_, h) => 148 - h));
    expect(Object.keys(out.horizons[0].benchmarks)).toEqual([
      'naive',
      'seasonalNaive',
      'naive2',
      'drift',
      'autoregression',
      'theta',
    ]);
    expect(out.horizons[11].model.mase).toBeGreaterThan(0);
    expect(out.heldOutForecasts).toMatchObject({ column: 'CO2', horizon: 12, origins: 148, members: 1 });
    // The 74 validation rows calibrate the conformal intervals: 74 - h + 1 forecasts h steps ahead.
    expect(out.heldOutForecasts.calibrationForecasts).toEqual(Array.from({ length: 12 }, (_, h) => 74 - h));
    expect(out.heldOutForecasts.sentence).toMatch(/^Over the 148 origins of the held-out part, 12-step MASE /);
    expect(out.intervals.map((i: { level: number; method: string }) => `${i.method} ${i.level}`)).toEqual([
      'conformal 80',
      'ensemble 80',
      'conformal 95',
      'ensemble 95',
    ]);
    const conformal = out.intervals[0];
    expect(conformal.points).toBe(1710);
    expect(conformal.steps).toBe(12);
    expect(conformal.margin).toBeCloseTo(196 * Math.sqrt((0.8 * 0.2) / 148), 9);
    expect(typeof conformal.holds).toBe('boolean');
    expect(out.intervals[1].reason).toMatch(/there is 1 model/);
  });

  it('says plainly when the held-out part chose the epoch (no validation part)', async () => {
    const run = await cli(
      'train',
      '--backend',
      'cpu',
      '--dataset',
      'sp500',
      '--validation',
      '0',
      '--epochs',
      '3',
      '--json',
    );
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.validationPart).toBe('test');
    expect(out.bestEpoch.chosenOn).toBe('test');
    expect(out.summary).toMatch(/chosen on the held-out part itself .* optimistic/);
  });

  it('keeps the blog’s task as it was: levels, nothing held out, the baselines on the training windows', async () => {
    const run = await cli('train', '--backend', 'cpu', '--epochs', '3', '--json');
    const out = JSON.parse(run.stdout);
    expect(out.data).toMatchObject({ transform: 'levels', season: null, split: 1, validation: 0, testSamples: 0 });
    expect(out.bestEpoch).toBeNull();
    expect(out.baselinesOn).toBe('train');
    expect(out.baselines[1].skipped).toBe('no seasonal period');
    expect(out.summary).toMatch(/^RMSE on the training windows \(nothing is held out\) /);
    expect(out.horizons).toBeNull();
    expect(out.horizonsReason).toMatch(/^nothing is held out \(the split is 1\)/);
    expect(out.intervals).toEqual([]);
  });
});

describe('a model file that restores its whole setup', () => {
  it('keeps the data’s origin and fingerprint, the transform, every setting and the training so far', async () => {
    const file = JSON.parse(readFileSync(co2Model, 'utf8'));
    expect(file.version).toBe(3);
    expect(file.data).toMatchObject({
      source: 'bundled co2',
      transform: 'differences',
      season: 12,
      trainFraction: 0.8,
      validationFraction: 0.1,
      origin: { kind: 'bundled' },
      fingerprint: { rows: 741 },
    });
    expect(file.settings).toMatchObject({
      source: 'bundled',
      dataset: 'co2',
      window: 24,
      'best-epoch': 'on',
      season: 'auto',
    });
    const model = readModelFile(file);
    // The training so far: present, past its first epoch, one loss per epoch.
    expect(model.training).toBeDefined();
    expect(model.training!.epoch).toBeGreaterThan(0);
    expect(model.training!.losses).toHaveLength(model.training!.epoch);
  });

  it('predict --model with no data options forecasts the model’s own data, past its end, in ppm', async () => {
    const own = await cli('predict', '--model', co2Model, '--horizon', '6');
    expect(own.status, own.stderr).toBe(0);
    const given = await cli('predict', '--model', co2Model, '--dataset', 'co2', '--steps', '6');
    expect(given.stdout).toBe(own.stdout);
    const lines = own.stdout.trim().split('\n');
    expect(lines[0]).toBe('step,date,CO2');
    expect(lines).toHaveLength(7);
    // The months after the data's last (April 2020).
    expect(lines.slice(1).map((line) => line.split(',')[1])).toEqual([
      '2020-05-01',
      '2020-06-01',
      '2020-07-01',
      '2020-08-01',
      '2020-09-01',
      '2020-10-01',
    ]);
    // Differences added to the last level (416.18 ppm, April 2020): the path stays near it.
    for (const line of lines.slice(1)) {
      const value = Number(line.split(',')[2]);
      expect(Math.abs(value - 416.18)).toBeLessThan(10);
    }
    const refused = await cli('predict', '--model', co2Model, '--transform', 'levels');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/--transform: the model predicts differences, not levels/);
  });

  it('goes on training from the epoch it was saved at, on its own data', async () => {
    const saved = readModelFile(JSON.parse(readFileSync(co2Model, 'utf8')));
    const run = await cli('train', '--backend', 'cpu', '--load', co2Model, '--epochs', '2', '--json');
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.data.source).toBe('bundled co2');
    expect(out.firstEpoch).toBe(saved.training!.epoch + 1);
    expect(out.losses).toHaveLength(saved.training!.epoch + 2);
  });

  it('still reads a version-1 file, which says nothing of transforms: levels', async () => {
    // Version 2's nested weights, as a version-1 file holds them.
    const v2 = toModelFile(readModelFile(JSON.parse(readFileSync(co2Model, 'utf8'))), 2);
    const { settings: _settings, training: _training, ...rest } = v2;
    const v1 = {
      ...rest,
      version: 1,
      data: { source: v2.data?.source, inputs: v2.data?.inputs, outputs: v2.data?.outputs, trainFraction: 0.8 },
    };
    const path = join(tmp, 'v1.json');
    writeFileSync(path, JSON.stringify(v1));
    const model = readModelFile(v1);
    expect(model.settings).toBeUndefined();
    expect(model.data?.transform).toBeUndefined();
    const predicted = await cli('predict', '--model', path, '--dataset', 'co2', '--steps', '2');
    expect(predicted.status, predicted.stderr).toBe(0);
    expect(predicted.stdout.trim().split('\n')).toHaveLength(3);
  });

  it('asks for a CSV it cannot find by the name it was trained on', async () => {
    const csv = join(tmp, 'series.csv');
    writeFileSync(
      csv,
      `date,value\n${Array.from({ length: 48 }, (_, i) => `${2000 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}-01,${10 + i + Math.sin(i)}`).join('\n')}\n`,
    );
    const model = join(tmp, 'csv-model.json');
    expect(
      (await cli('train', '--backend', 'cpu', '--data', csv, '--window', '4', '--epochs', '2', '--save', model)).status,
    ).toBe(0);
    const file = JSON.parse(readFileSync(model, 'utf8'));
    expect(file.data.origin).toEqual({ kind: 'csv', fileName: csv, dateColumn: 'date' });
    expect(file.data.season).toBe(12);
    expect((await cli('predict', '--model', model, '--steps', '2')).status).toBe(0);
    file.data.origin.fileName = join(tmp, 'gone.csv');
    const moved = join(tmp, 'moved.json');
    writeFileSync(moved, JSON.stringify(file));
    const missing = await cli('predict', '--model', moved);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(
      /--data: the model was trained on ".*gone\.csv", which cannot be read here .*give --data FILE/,
    );
  });

  it('reads its own columns by name from other data, as if they were named', async () => {
    const months = Array.from(
      { length: 48 },
      (_, i) => `${2000 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}-01`,
    );
    const csv = join(tmp, 'sales.csv');
    writeFileSync(
      csv,
      `date,sales,price\n${months.map((m, i) => `${m},${20 + i + 3 * Math.sin(i)},${5 + (i % 7)}`).join('\n')}\n`,
    );
    const model = join(tmp, 'sales-model.json');
    expect(
      (
        await cli(
          'train',
          '--backend',
          'cpu',
          '--data',
          csv,
          '--inputs',
          'sales',
          '--outputs',
          'sales',
          '--window',
          '4',
          '--epochs',
          '2',
          '--save',
          model,
        )
      ).status,
    ).toBe(0);
    // Newer data with the columns in another order and one more: no --inputs or --outputs needed.
    const newer = join(tmp, 'newer.csv');
    writeFileSync(
      newer,
      `date,price,region,sales\n${months.map((m, i) => `${m},${5 + (i % 7)},${i % 3},${21 + i + 3 * Math.sin(i)}`).join('\n')}\n`,
    );
    const named = await cli(
      'predict',
      '--model',
      model,
      '--data',
      newer,
      '--inputs',
      'sales',
      '--outputs',
      'sales',
      '--steps',
      '3',
    );
    const implied = await cli('predict', '--model', model, '--data', newer, '--steps', '3');
    expect(implied.status, implied.stderr).toBe(0);
    expect(implied.stdout).toBe(named.stdout);
    expect(implied.stdout.split('\n')[0]).toBe('step,date,sales');
    // And goes on training on them.
    const more = await cli('train', '--backend', 'cpu', '--load', model, '--data', newer, '--epochs', '1', '--json');
    expect(more.status, more.stderr).toBe(0);
    expect(JSON.parse(more.stdout).data.outputs).toEqual(['sales']);
    // Data without one of them: the choice is the user's, as before.
    const other = join(tmp, 'other.csv');
    writeFileSync(other, `date,price,cost\n${months.map((m, i) => `${m},${5 + (i % 7)},${i}`).join('\n')}\n`);
    const refused = await cli('predict', '--model', model, '--data', other);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toBe(
      'error: inputs: the model scales its columns by their statistics in training, and "price" is not one of them ("sales"); give data with those columns\n',
    );
  });
});

describe('predict with bands, an ensemble and inputs known ahead', () => {
  /** 60 months of a temperature and a load it drives; the last `future` rows leave the load empty. */
  function loadCsv(future: number): string {
    const lines = Array.from({ length: 60 }, (_, r) => {
      const temp = 10 + 8 * Math.sin((2 * Math.PI * r) / 12) + Math.cos(7 * r);
      const load = 100 + 0.2 * r + 3 * temp + Math.sin(5 * r);
      const date = `${2000 + Math.floor(r / 12)}-${String((r % 12) + 1).padStart(2, '0')}-01`;
      return `${date},${temp.toFixed(3)},${r >= 60 - future ? '' : load.toFixed(3)}`;
    });
    return `date,temp,load\n${lines.join('\n')}\n`;
  }
  const csv = join(tmp, 'load.csv');
  writeFileSync(csv, loadCsv(6));
  const quick = ['--backend', 'cpu', '--data', csv, '--window', '4', '--hidden', '3', '--epochs', '2'];

  async function predict(...args: string[]): Promise<string[][]> {
    let out = '';
    await predictCommand(args, (text) => {
      out += text;
    });
    return out
      .trim()
      .split('\n')
      .map((line) => line.split(','));
  }

  it('reads a known-ahead input from the future rows, records it in the model file, and says how many rows it needs', async () => {
    const model = join(tmp, 'known.json');
    const trained = await cli('train', ...quick, '--known-ahead', 'temp', '--inputs', 'temp,load', '--save', model);
    expect(trained.status, trained.stderr).toBe(0);
    expect(trained.stderr).toMatch(/the last 6 rows of .*load\.csv have missing values: they are the data's future/);
    const file = JSON.parse(readFileSync(model, 'utf8'));
    expect(file.data).toMatchObject({ inputs: ['temp', 'load'], outputs: ['load'], knownAhead: ['temp'] });
    expect(file.data.fingerprint.rows).toBe(54);
    const rows = await predict('--model', model, '--horizon', '7', '--levels', '80');
    expect(rows[0]).toEqual(['step', 'date', 'load', 'lower_80', 'upper_80']);
    // The future rows' own dates (July to December 2004), then the next month.
    expect(rows.slice(1).map((row) => row[1])).toEqual([
      '2004-07-01',
      '2004-08-01',
      '2004-09-01',
      '2004-10-01',
      '2004-11-01',
      '2004-12-01',
      '2005-01-01',
    ]);
    for (const [, , value, lower, upper] of rows.slice(1)) {
      expect(Number(lower)).toBeLessThan(Number(value));
      expect(Number(upper)).toBeGreaterThan(Number(value));
    }
    const refused = await cli('predict', '--model', model, '--horizon', '8');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(
      /--known-ahead: a forecast of 8 steps reads the known-ahead input "temp" at the 7 rows after the data's end, and the data's 6 future rows .* give 6; .* \(--horizon 7\)/,
    );
  });

  it('names each output’s bands after it, and forecasts an ensemble as its members’ mean and spread', async () => {
    const past = join(tmp, 'past.csv');
    writeFileSync(past, loadCsv(0));
    const model = join(tmp, 'both.json');
    const args = ['--backend', 'cpu', '--data', past, '--window', '4', '--hidden', '3', '--epochs', '2'];
    expect((await cli('train', ...args, '--members', '2', '--save', model)).status).toBe(0);
    const rows = await predict('--model', model, '--horizon', '3', '--levels', '80,95');
    expect(rows[0]).toEqual([
      'step',
      'date',
      'temp',
      'load',
      'temp_lower_80',
      'temp_upper_80',
      'temp_lower_95',
      'temp_upper_95',
      'load_lower_80',
      'load_upper_80',
      'load_lower_95',
      'load_upper_95',
    ]);
    expect(rows.slice(1).map((row) => row[1])).toEqual(['2005-01-01', '2005-02-01', '2005-03-01']);
    // Two members: the mean lies inside their band at every step.
    for (const row of rows.slice(1)) {
      const [temp, load, tLow, tHigh, , , lLow, lHigh] = row.slice(2).map(Number);
      expect(temp).toBeGreaterThanOrEqual(tLow);
      expect(temp).toBeLessThanOrEqual(tHigh);
      expect(load).toBeGreaterThanOrEqual(lLow);
      expect(load).toBeLessThanOrEqual(lHigh);
    }
  });
});
