// The rolling-origin backtest (src/train/backtest.ts) on a small monthly series with the looped
// population (K CPU backends one after another, tests/population-loop.ts): each fold's seeds are
// exactly the fold trained alone, a fold sees nothing after its origin, the summary is the folds'
// average, the wins and the sentence count what they say, and the conformal calibration uses only
// forecasts made before the fold's origin.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { denormalizeValues } from '../src/data/normalize.js';
import { Rng } from '../src/data/rng.js';
import { pathLevels } from '../src/data/transform.js';
import type { ColumnTable } from '../src/data/windows.js';
import { BENCHMARK_EXPLANATIONS, MEASURE_EXPLANATIONS, METHOD_EXPLANATIONS } from '../src/forecast/explain.js';
import { type HorizonRow, type HorizonTable, known } from '../src/forecast/horizons.js';
import { InputError } from '../src/model/errors.js';
import type { ParamLayout } from '../src/model/layout.js';
import { DEFAULT_OPTIMIZER } from '../src/model/optimizer.js';
import {
  type BacktestResult,
  type BacktestSettings,
  type BenchmarkSummary,
  backtestSentence,
  checkBacktestSettings,
  defaultHorizon,
  foldOrigins,
  planFolds,
  runBacktest,
  smallestFoldRows,
  threeDigits,
} from '../src/train/backtest.js';
import { formatValue } from '../src/train/evaluate.js';
import { freeRunForecast, recursiveForecasts } from '../src/train/forecast.js';
import { type PopulationReport, singleMember } from '../src/train/population.js';
import { type RunSettings, startRun } from '../src/train/run.js';
import { trainToEnd } from '../src/train/trainer.js';
import { repoRoot } from './helpers.js';
import { loopedPopulation } from './population-loop.js';

/** 90 months of a trend with a yearly cycle and noise. */
function monthlyTable(rows = 90, change?: { from: number; by: (r: number) => number }): ColumnTable {
  const rng = new Rng(3);
  const values = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    values[r] = 300 + 0.2 * r + 3 * Math.sin((2 * Math.PI * r) / 12) + 0.3 * rng.normal();
    if (change && r >= change.from) values[r] += change.by(r);
  }
  const dates = Array.from({ length: rows }, (_, r) => {
    const month = 12 * 2000 + r;
    return `${Math.floor(month / 12)}-${String((month % 12) + 1).padStart(2, '0')}-01`;
  });
  return { columns: ['level'], values: [values], rows, dates };
}

const TRAINING: BacktestSettings['training'] = {
  epochs: 4,
  batchSize: 4,
  reportEvery: 2,
  keepBest: true,
  patience: null,
  learningRate: 0.01,
  optimizer: DEFAULT_OPTIMIZER,
  loss: 'sse',
  lrDecay: 1,
};

function settingsFor(table: ColumnTable): BacktestSettings {
  return {
    run: {
      source: { kind: 'table', table, label: 'monthly' },
      window: 5,
      hiddenSizes: [3],
      validationFraction: 0.15,
      normalize: 'z-score',
      transform: 'differences',
    },
    seed: 21,
    members: 2,
    folds: 3,
    horizon: 4,
    step: null,
    levels: [80, 95],
    training: TRAINING,
  };
}

let opened = 0;
const openLooped = async (layout: ParamLayout, members: number) => {
  opened += 1;
  return loopedPopulation(Array.from({ length: members }, () => new CpuBackend(layout)));
};

/** The run of fold k's seed alone: the rows before its origin, the backtest's data settings. */
function foldAlone(settings: BacktestSettings, origin: number, seed: number): RunSettings {
  return {
    ...settings.run,
    seed,
    rows: origin,
    trainFraction: 1,
    validationFraction: 0.15,
    season: 12,
    normalize: 'z-score',
    transform: 'differences',
  };
}

const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

describe('fold plans', () => {
  it('puts the origins S apart with the last fold ending the series, S = H by default', () => {
    expect(foldOrigins(100, 3, 5, 5)).toEqual([85, 90, 95]);
    expect(foldOrigins(100, 3, 5, 2)).toEqual([91, 93, 95]);
    const plan = planFolds(100, 20, { folds: 3, horizon: 5, step: null }, 12);
    expect(plan).toMatchObject({ origins: [85, 90, 95], horizon: 5, step: 5, note: null });
  });

  it('defaults to 12 steps for monthly data and 24 otherwise, shortened (and says so) where the folds do not fit', () => {
    expect(defaultHorizon(monthlyTable(30).dates)).toBe(12);
    expect(defaultHorizon(undefined)).toBe(24);
    expect(planFolds(200, 20, { folds: 8, horizon: null, step: null }, 12).horizon).toBe(12);
    const short = planFolds(100, 20, { folds: 8, horizon: null, step: null }, 12);
    expect(short.horizon).toBe(10);
    expect(short.origins[0]).toBe(20);
    expect(short.note).toMatch(/a horizon of 10 steps, not 12/);
  });

  it('refuses folds that do not fit, naming the option and the most that fit', () => {
    expect(() => planFolds(100, 20, { folds: 8, horizon: 12, step: null }, 12)).toThrow(InputError);
    expect(() => planFolds(100, 20, { folds: 8, horizon: 12, step: null }, 12)).toThrow(
      /--folds: 8 folds of 12 steps.*at most 6 folds of 12 steps/,
    );
    expect(() => planFolds(30, 20, { folds: 20, horizon: null, step: null }, 24)).toThrow(/--folds/);
  });

  it('refuses settings out of bounds by the option’s name', () => {
    const good = { folds: 8, horizon: null, step: null, levels: [80, 95], members: 1 };
    expect(() => checkBacktestSettings(good)).not.toThrow();
    expect(() => checkBacktestSettings({ ...good, folds: 0 })).toThrow(/^--folds: expected a whole number from 1/);
    expect(() => checkBacktestSettings({ ...good, horizon: 2.5 })).toThrow(/^--horizon: /);
    expect(() => checkBacktestSettings({ ...good, levels: [0.9] })).toThrow(/^--levels: /);
    expect(() => checkBacktestSettings({ ...good, members: 0 })).toThrow(/^--members: /);
  });

  it('sizes the smallest fold from the window, the transform, the validation share and the batch', () => {
    // 10% validation of r rows, a window of 5 after 1 row of differences, and 4 training windows.
    const r = smallestFoldRows(5, 1, 0.1, 4, 1000) as number;
    expect(r - Math.round(r * 0.9)).toBeGreaterThanOrEqual(1);
    expect(Math.round(r * 0.9) - 1 - 5).toBeGreaterThanOrEqual(4);
    expect(smallestFoldRows(5, 1, 0.1, 4, r - 1)).toBeNull();
  });
});

describe('a backtest on a small monthly series', () => {
  const table = monthlyTable();
  const settings = settingsFor(table);
  let result: BacktestResult;
  beforeAll(async () => {
    result = await runBacktest(settings, openLooped);
  });

  it('plans 3 folds of 4 steps ending the series, each fitted on the rows before its origin', () => {
    expect(result.plan.origins).toEqual([78, 82, 86]);
    expect(result.folds.map((f) => f.trainRows)).toEqual([78, 82, 86]);
    expect(result.folds.map((f) => f.originDate)).toEqual(['2006-07-01', '2006-11-01', '2007-03-01']);
    expect(result.seeds).toEqual([21, 22]);
    expect(result.modelSkipped).toBeNull();
  });

  it("gives each fold's seeds exactly the fold trained alone, and forecasts it recursively", async () => {
    for (const [k, fold] of result.folds.entries()) {
      for (const [j, seed] of result.seeds.entries()) {
        const run = startRun(foldAlone(settings, fold.origin, seed));
        const backend = new CpuBackend(run.layout);
        backend.setParams(run.params);
        const alone = await trainToEnd(backend, run.prepared.train, run.rng, {
          ...TRAINING,
          validation: run.prepared.validation,
        });
        const where = `fold ${k + 1}, seed ${seed}`;
        expect(fold.members[j].params, where).toEqual(alone.params);
        expect(fold.members[j].keptEpoch, where).toBe(alone.kept.epoch);
        const [[own]] = await recursiveForecasts(
          singleMember(alone.backend),
          [{ prepared: run.prepared, origins: [fold.origin] }],
          result.plan.horizon,
        );
        expect(fold.memberForecasts[j], where).toEqual(own.forecast);
        await alone.backend.dispose();
      }
    }
  });

  it("computes its folds' validation errors alone (it never reads their training errors), the same folds", async () => {
    const reports: PopulationReport[] = [];
    const again = await runBacktest(settings, openLooped, { onReport: (report) => reports.push(report) });
    expect(reports.length).toBeGreaterThan(0);
    for (const report of reports) {
      for (const member of report.members) {
        expect(member.losses).toEqual([]);
        // (A report's lists are the member's own, and grow with the epochs after it.)
        expect(member.validationLosses.length).toBeGreaterThanOrEqual(member.epoch);
      }
    }
    expect(again.folds.map((f) => f.members.map((m) => m.params))).toEqual(
      result.folds.map((f) => f.members.map((m) => m.params)),
    );
  });

  it('the recursive forecast is the free-running forecast of the reference kernels, undone to levels', () => {
    const fold = result.folds[2];
    const run = startRun(foldAlone(settings, fold.origin, 21));
    const { prepared } = run;
    const window = Float32Array.from(prepared.normalized.values[0].subarray(fold.origin - 5, fold.origin));
    const outputs = freeRunForecast(run.layout, fold.members[0].params, window, result.plan.horizon);
    const levels = pathLevels(
      prepared.transform,
      prepared.table.values[0],
      fold.origin,
      denormalizeValues(prepared.normalization, 'level', outputs),
    );
    for (let h = 0; h < levels.length; h++) {
      expect(Math.abs((fold.memberForecasts[0][h] - levels[h]) / levels[h])).toBeLessThan(1e-5);
    }
  });

  it('the forecast is the mean of the seeds, and the benchmarks forecast from the same origin', () => {
    for (const fold of result.folds) {
      const forecast = fold.forecast as Float64Array;
      for (let h = 0; h < forecast.length; h++) {
        expect(forecast[h]).toBeCloseTo(mean(fold.memberForecasts.map((f) => f[h])), 12);
      }
      for (const benchmark of fold.benchmarks) {
        expect(benchmark.forecasts?.map((f) => f.origin) ?? [fold.origin]).toEqual([fold.origin]);
      }
      expect(fold.model?.steps.map((s) => s.count)).toEqual([1, 1, 1, 1]);
    }
  });

  it('sees nothing after a fold’s origin: other values there change nothing about the fold', async () => {
    const origin = result.plan.origins[1];
    const changed = monthlyTable(90, { from: origin, by: (r) => 4 * Math.cos(r) });
    const other = await runBacktest(settingsFor(changed), openLooped);
    for (const k of [0, 1]) {
      const [was, now] = [result.folds[k], other.folds[k]];
      expect(
        now.members.map((m) => m.params),
        `fold ${k + 1}`,
      ).toEqual(was.members.map((m) => m.params));
      expect(now.memberForecasts).toEqual(was.memberForecasts);
      expect(now.calibration).toEqual(was.calibration);
      expect(now.benchmarks.map((b) => b.forecasts)).toEqual(was.benchmarks.map((b) => b.forecasts));
    }
    // Fold 3 reads the changed rows as its validation part and as the window it forecasts from.
    expect(other.folds[2].memberForecasts[0]).not.toEqual(result.folds[2].memberForecasts[0]);
  });

  it('summarises each step as the average over the folds (RMSE as their root mean square)', () => {
    const K = result.folds.length;
    const tables = (pick: (fold: BacktestResult['folds'][number]) => HorizonTable | null) =>
      result.folds.map((fold) => pick(fold) as HorizonTable);
    const check = (summary: HorizonTable, folds: HorizonTable[]) => {
      const rows = (h: number) => folds.map((t) => (h < 0 ? t.overall : t.steps[h]));
      for (let h = -1; h < result.plan.horizon; h++) {
        const row: HorizonRow = h < 0 ? summary.overall : summary.steps[h];
        const of = (name: 'mae' | 'mase' | 'smape') => rows(h).map((r) => r[name].value as number);
        expect(row.count).toBe(h < 0 ? K * result.plan.horizon : K);
        for (const name of ['mae', 'mase', 'smape'] as const) expect(row[name].value).toBeCloseTo(mean(of(name)), 10);
        const squares = rows(h).map((r) => (r.rmse.value as number) ** 2);
        if (h >= 0) expect(row.rmse.value).toBeCloseTo(Math.sqrt(mean(squares)), 10);
      }
    };
    check(
      result.summary.model as HorizonTable,
      tables((fold) => fold.model),
    );
    const theta = result.summary.benchmarks.find((b) => b.key === 'theta')?.table as HorizonTable;
    check(
      theta,
      tables((fold) => fold.benchmarks.find((b) => b.key === 'theta')?.table ?? null),
    );
  });

  it('counts a fold as won only where its MASE over the steps is lower, and says so', () => {
    for (const key of ['last-value', 'naive2', 'theta'] as const) {
      const won = result.folds.filter(
        (fold) =>
          (fold.model?.overall.mase.value as number) <
          (fold.benchmarks.find((b) => b.key === key)?.table?.overall.mase.value as number),
      ).length;
      expect(result.summary.wins[key]).toEqual({ wins: won, folds: 3 });
    }
    const { sentence, wins } = result.summary;
    const mase = result.summary.model?.overall.mase.value as number;
    expect(sentence).toMatch(/^Over 3 folds, 4-step MASE /);
    expect(sentence).toContain(`it wins ${wins.naive2?.wins} of 3 folds against Naive2`);
    expect(sentence).toContain(`MASE ${mase.toPrecision(3)} against`);
  });

  it('calibrates fold k on the forecasts made before its origin by folds 1..k, never on its own rows', () => {
    const [first, second] = result.folds;
    const V0 = first.origin - first.validationRows;
    const V1 = second.origin - second.validationRows;
    for (let h = 1; h <= result.plan.horizon; h++) {
      // Fold 1: its validation origins whose row h steps ahead is still in its validation part.
      expect(first.calibration[h - 1]).toBe(first.validationRows - h + 1);
      // Fold 2: the same of its own, fold 1's validation origins and fold 1's origin, rows before o_2.
      const fromFirst =
        Math.min(first.validationRows, second.origin - h + 1 - V0) + (first.origin + h - 1 < second.origin ? 1 : 0);
      expect(second.calibration[h - 1]).toBe(second.origin - Math.max(V1, 0) - h + 1 + fromFirst);
    }
    for (const interval of result.intervals.filter((i) => i.method === 'conformal')) {
      expect(interval.table?.overall.count).toBe(interval.folds.length * result.plan.horizon);
      expect(interval.sentence).toMatch(new RegExp(`^${interval.level}% conformal interval: `));
    }
    const ensemble = result.intervals.find((i) => i.method === 'ensemble' && i.level === 80);
    expect(ensemble?.folds).toEqual([1, 2, 3]);
    expect(ensemble?.table?.overall.count).toBe(12);
  });
});

describe('what the backtest says', () => {
  const row = (mase: number): HorizonRow => ({
    horizon: 0,
    count: 1,
    mae: known(1),
    rmse: known(1),
    mase: known(mase),
    smape: known(1),
    owa: known(1),
  });
  const tableOf = (mase: number): HorizonTable => ({ steps: [], overall: row(mase) });
  const benchmarks = (naive: number, naive2: number, theta: number): BenchmarkSummary[] => [
    { key: 'last-value', label: 'naive (last value)', table: tableOf(naive), skipped: null },
    { key: 'naive2', label: 'Naive2', table: tableOf(naive2), skipped: null },
    { key: 'theta', label: 'Theta', table: tableOf(theta), skipped: null },
  ];
  const wins = (naive2: number, theta: number) =>
    ({
      'last-value': null,
      'seasonal-naive': null,
      naive2: { wins: naive2, folds: 8 },
      drift: null,
      autoregression: null,
      theta: { wins: theta, folds: 8 },
    }) as const;

  it('names a loss a loss', () => {
    const sentence = backtestSentence(8, 12, tableOf(1.21), benchmarks(1.1, 1, 0.98), wins(2, 1), null);
    expect(sentence).toBe(
      'Over 8 folds, 12-step MASE 1.21 against naive 1.10, Naive2 1.00 and Theta 0.980: worse than all three on average (OWA 1.00 against Naive2); it wins 2 of 8 folds against Naive2 and 1 of 8 folds against Theta.',
    );
    expect(sentence).not.toMatch(/better than (naive|Naive2|Theta|all)/);
  });

  it('says which it beats where the model is between them', () => {
    const sentence = backtestSentence(8, 12, tableOf(0.61), benchmarks(2.1, 1, 0.5), wins(7, 2), null);
    expect(sentence).toContain('better than naive and Naive2, worse than Theta on average');
  });

  it('calls a hair’s difference a tie, not a win', () => {
    const sentence = backtestSentence(8, 12, tableOf(0.788), benchmarks(0.789, 0.789, 0.818), wins(5, 6), null);
    expect(sentence).toContain(': better than Theta, as good as naive and Naive2 on average');
  });

  it('writes numbers with three significant digits, keeping the zeros before the point', () => {
    expect([100, 120, 1.5, 0.847, 999.7, 12_345].map(formatValue)).toEqual([
      '100',
      '120',
      '1.5',
      '0.847',
      '1,000',
      '12,345',
    ]);
    expect([100, 1.5, 0.0847, 999.7].map(threeDigits)).toEqual(['100', '1.50', '0.0847', '1,000']);
  });

  it('says why when the model has no forecasts', () => {
    const sentence = backtestSentence(8, 12, null, benchmarks(2.1, 1, 0.5), wins(0, 0), 'no feedback');
    expect(sentence).toBe(
      'Over 8 folds, 12-step MASE: the model has none (no feedback); naive 2.10, Naive2 1.00 and Theta 0.500.',
    );
  });
});

describe('a model that cannot feed its forecasts back', () => {
  it('is not trained; the benchmarks are still scored, and the intervals say why there are none', async () => {
    const table = monthlyTable(60);
    const two: ColumnTable = {
      ...table,
      columns: ['level', 'other'],
      values: [table.values[0], table.values[0].map((v) => v / 2)],
    };
    const settings = settingsFor(two);
    settings.run = { ...settings.run, inputs: ['level', 'other'], outputs: ['level'] };
    const before = opened;
    const result = await runBacktest(settings, openLooped);
    expect(opened).toBe(before);
    expect(result.modelSkipped).toMatch(/does not predict "other"/);
    expect(result.folds.every((fold) => fold.model === null && fold.members.length === 0)).toBe(true);
    expect(result.summary.benchmarks.find((b) => b.key === 'naive2')?.table?.overall.mase.value).toBeGreaterThan(0);
    expect(result.summary.sentence).toMatch(/the model has none \(a multi-step forecast feeds/);
    expect(result.intervals.every((i) => i.table === null && i.skipped === result.modelSkipped)).toBe(true);
  });
});

describe('docs/FORECASTING.md', () => {
  it('explains every number, benchmark and interval of a backtest in explain.ts’s own words', () => {
    const text = readFileSync(join(repoRoot, 'docs', 'FORECASTING.md'), 'utf8');
    const section = text.slice(text.indexOf('## Backtests and intervals'));
    for (const line of [
      ...Object.values(MEASURE_EXPLANATIONS),
      ...Object.values(BENCHMARK_EXPLANATIONS),
      ...Object.values(METHOD_EXPLANATIONS),
    ]) {
      expect(section).toContain(`- ${line}\n`);
    }
  });

  it('and the README’s forecasting section explains each number in one line, in the same words', () => {
    const text = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const section = text.slice(text.indexOf('## Forecasting honestly'), text.indexOf('## Performance'));
    for (const line of Object.values(MEASURE_EXPLANATIONS)) expect(section).toContain(`- ${line}\n`);
  });
});
