// The Backtest view's pure parts: its fields read through the backtest's settings table, the
// backtest they make of the Train view's settings, and what its charts draw of a real (small)
// backtest on the bundled CO2 series: every fold's forecast on its own rows, and the per-step error
// of the model beside each benchmark's.

import { beforeAll, describe, expect, it } from 'vitest';
import { backtestSeriesColumns, backtestSeriesSpec, firstDrawnRow } from '../src/app/backtestSeries.js';
import { backtestSettingsOf, parseBacktestFields } from '../src/app/backtestSettings.js';
import { type ExplicitRunSettings, type ShownData, shownData } from '../src/app/dataView.js';
import { stepErrorColumns, stepErrorSpec, strongestBenchmark } from '../src/app/forecastTables.js';
import type { AppTrainOptions } from '../src/app/settings.js';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import type { ParamLayout } from '../src/model/layout.js';
import { DEFAULT_OPTIMIZER } from '../src/model/optimizer.js';
import { type BacktestResult, runBacktest } from '../src/train/backtest.js';
import { loopedPopulation } from './population-loop.js';

const RUN: ExplicitRunSettings = {
  seed: 3,
  source: { kind: 'bundled', name: 'co2', options: {} },
  window: 12,
  hiddenSizes: [4],
  trainFraction: 0.8,
  validationFraction: 0.1,
  normalize: 'z-score',
  transform: 'differences',
  season: 'auto',
};

const TRAIN = {
  epochs: 2,
  batchSize: 16,
  reportEvery: 1,
  keepBest: true,
  patience: null,
  learningRate: 0.01,
  optimizer: DEFAULT_OPTIMIZER,
  loss: 'sse',
  lrDecay: 1,
  threads: 1,
  horizon: 12,
} as AppTrainOptions;

const FIELDS = { folds: '3', horizon: '6', step: 'auto', levels: '80,95', members: '1' };

describe('the Backtest view’s fields', () => {
  it('reads them through the backtest’s settings, auto as the default', () => {
    const parsed = parseBacktestFields(FIELDS);
    expect(parsed).toEqual({ ok: true, own: { folds: 3, horizon: 6, step: null, levels: [80, 95], members: 1 } });
  });

  it('names every field at fault with what is valid', () => {
    const parsed = parseBacktestFields({ folds: '0', horizon: 'soon', step: '2', levels: '80,150', members: 'x' });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(Object.keys(parsed.errors).sort()).toEqual(['folds', 'horizon', 'levels', 'members']);
    expect(parsed.errors.horizon).toMatch(/auto or a whole number from 1/);
    expect(parsed.errors.levels).toMatch(/percentages above 1 and below 100/);
  });

  it('backtests the Train view’s data, model and training, the split left to the folds', () => {
    const parsed = parseBacktestFields(FIELDS);
    if (!parsed.ok) throw new Error('fields');
    const settings = backtestSettingsOf(RUN, TRAIN, parsed.own);
    expect(settings.seed).toBe(3);
    expect(settings.run).not.toHaveProperty('trainFraction');
    expect(settings.run).not.toHaveProperty('seed');
    expect(settings.run.validationFraction).toBe(0.1);
    expect(settings.training).toMatchObject({ epochs: 2, batchSize: 16, keepBest: true, learningRate: 0.01 });
  });
});

describe('what the Backtest view draws of a backtest on CO2', () => {
  let result: BacktestResult;
  let data: ShownData;
  beforeAll(async () => {
    const parsed = parseBacktestFields(FIELDS);
    if (!parsed.ok) throw new Error('fields');
    const open = async (layout: ParamLayout, members: number) =>
      loopedPopulation(Array.from({ length: members }, () => new CpuBackend(layout)));
    result = await runBacktest(backtestSettingsOf(RUN, TRAIN, parsed.own), open);
    data = shownData(RUN);
  });

  it('draws the data from as far before the first origin as the folds reach after it, and each fold on its own rows', () => {
    const columns = backtestSeriesColumns(result, data);
    const spec = backtestSeriesSpec({ result, data });
    expect(spec.series.slice(1).map((s) => s.label)).toEqual(['fold 1', 'fold 2', 'fold 3']);
    const from = firstDrawnRow(result);
    expect(from).toBe(result.plan.origins[0] - (result.rows - result.plan.origins[0]));
    expect(columns[0][0]).toBe(from);
    for (const [k, fold] of result.folds.entries()) {
      const column = columns[k + 2];
      const drawn = column.flatMap((v, i) => (v === null ? [] : [i + from]));
      expect(drawn).toEqual(Array.from({ length: 6 }, (_, s) => fold.origin + s));
      expect(column[fold.origin - from]).toBeCloseTo(fold.forecast![0], 9);
    }
    expect(spec.marker?.x).toBe(result.plan.origins[0]);
  });

  it('draws the model’s and every benchmark’s error per step, MASE or RMSE, as the summary has them', () => {
    for (const metric of ['mase', 'rmse'] as const) {
      const columns = stepErrorColumns(6, result.summary.model, result.summary.benchmarks, metric);
      expect(columns[0]).toEqual([1, 2, 3, 4, 5, 6]);
      expect(columns).toHaveLength(2 + 6);
      expect(columns[1][2]).toBe(result.summary.model!.steps[2][metric].value);
      expect(columns[2 + 5][5]).toBe(result.summary.benchmarks[5].table!.steps[5][metric].value);
    }
    const spec = stepErrorSpec(result.summary.benchmarks, 'mase', 'ppm');
    expect(spec.series.map((s) => s.label)).toEqual(['model', ...result.summary.benchmarks.map((b) => b.label)]);
  });

  it('names the benchmark with the lowest MASE as the strongest', () => {
    const strongest = strongestBenchmark(result.summary.model, result.summary.benchmarks)!;
    const lowest = Math.min(
      ...result.summary.benchmarks.map((b) => b.table?.overall.mase.value ?? Number.POSITIVE_INFINITY),
    );
    expect(strongest.metric).toBe('mase');
    expect(strongest.theirs).toBe(lowest);
    expect(strongest.mine).toBe(result.summary.model!.overall.mase.value);
  });
});
