// `backtest --folds K --horizon H [--step S] [--levels 80,95] [--members M]`: a rolling-origin
// backtest (src/train/backtest.ts) with `train`'s training and data options (no --split: each fold
// holds out its own rows). Without --json it prints progress, the fold table, the per-step summary
// beside the benchmarks, one sentence and the intervals' coverage; with --json, exactly one JSON
// object (docs/FILE-FORMATS.md, "backtest --json").

import { BENCHMARK_KEYS, type BenchmarkKey } from '../forecast/benchmarks.js';
import type { ParamLayout } from '../model/layout.js';
import { BACKTEST_SETTINGS as B } from '../settings/backtest.js';
import {
  type BacktestListeners,
  type BacktestResult,
  type BacktestSettings,
  type FoldPlan,
  type FoldResult,
  runBacktest,
} from '../train/backtest.js';
import { type PopulationReport, sharedTraining } from '../train/population.js';
import { printable } from '../util/text.js';
import { PopulationOpener } from './backends.js';
import { CLI_SETTINGS, commandOptions } from './commands.js';
import {
  BENCHMARK_JSON_NAMES,
  Cells,
  horizonJson,
  horizonsJson,
  intervalJson,
  metricJson,
  shortLabel,
  stepTable,
  textTable,
} from './forecastReport.js';
import { option, parseOptions } from './options.js';
import { readTrainSettings, runSettingsFor, type TrainSettings } from './trainSettings.js';

export interface BacktestCommandSettings {
  train: TrainSettings;
  backtest: BacktestSettings;
  json: boolean;
}

export function readBacktestSettings(argv: string[]): BacktestCommandSettings {
  const values = parseOptions('backtest', argv, commandOptions('backtest'));
  const train = readTrainSettings(argv, 'backtest');
  const { seed: _seed, trainFraction: _split, ...run } = runSettingsFor(train);
  return {
    train,
    backtest: {
      run,
      seed: train.seed,
      members: option(values, B.members),
      folds: option(values, B.folds),
      horizon: option(values, B.horizon),
      step: option(values, B.step),
      levels: option(values, B.levels),
      training: { ...sharedTraining(train), learningRate: train.learningRate },
    },
    json: option(values, CLI_SETTINGS.json),
  };
}

export async function backtestCommand(argv: string[], log: (line: string) => void): Promise<void> {
  const s = readBacktestSettings(argv);
  for (const line of s.train.data.notes) console.error(printable(line));
  const opener = new PopulationOpener(s.train.backend, s.train.threads);
  const open = async (layout: ParamLayout, members: number, batch: number) => {
    const opened = await opener.open(layout, members, batch);
    if (!s.json) log(opened.note);
    return opened.population;
  };
  const listeners: BacktestListeners = s.json
    ? {}
    : {
        onPlan: (plan, data) => log(planLine(plan, data, s)),
        onReport: (report) => log(progressLine(report)),
      };
  const result = await runBacktest(s.backtest, open, listeners);
  if (s.json) log(JSON.stringify(backtestJson(result, s, opener.note)));
  else for (const line of backtestText(result)) log(line);
}

function planLine(
  plan: FoldPlan,
  data: { label: string; column: string; unit: string | null },
  s: BacktestCommandSettings,
): string {
  const seeds = s.backtest.members;
  return (
    `backtest of ${data.label} (${data.column}${data.unit === null ? '' : `, ${data.unit}`}): ` +
    `${plan.origins.length} folds of ${plan.horizon} steps, ${plan.step} rows apart, ${seeds} seed${seeds === 1 ? '' : 's'} a fold; ` +
    `hidden [${s.train.hiddenSizes.join(',')}], window ${s.train.window}, ${s.train.optimizer.name} lr ${s.train.learningRate}, ${s.train.epochs} epochs` +
    `${plan.note === null ? '' : `\nnote: ${plan.note}`}`
  );
}

function progressLine(report: PopulationReport): string {
  const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
  const last = <T>(list: T[]) => list[list.length - 1];
  const errors = report.members.map((m) => last(m.losses)).filter((v) => v !== undefined);
  const validation = report.members.map((m) => last(m.validationLosses)?.loss).filter((v) => v !== undefined);
  const width = String(report.epochs).length;
  // (Folds with validation parts compute their validation errors alone: PopulationOptions.trainingError.)
  return (
    `epoch ${String(report.epoch).padStart(width)}/${report.epochs}` +
    `${errors.length > 0 ? `  mean error ${mean(errors).toFixed(5)}` : ''}` +
    `${validation.length > 0 ? `  mean validation ${mean(validation).toFixed(5)}` : ''}  (${report.members.length} members)`
  );
}

// ---- JSON ----

function foldJson(fold: FoldResult, horizon: number, modelReason: string | null) {
  const benchmarks = fold.benchmarks.map((b) => ({ key: b.key, table: b.table, skipped: b.skipped }));
  return {
    origin: fold.origin,
    originDate: fold.originDate,
    trainRows: fold.trainRows,
    validationRows: fold.validationRows,
    members: fold.members.map(({ params: _weights, ...member }) => member),
    forecast: fold.forecast === null ? null : Array.from(fold.forecast),
    calibrationForecasts: fold.calibration,
    horizons: horizonsJson(horizon, fold.model, modelReason, benchmarks),
    overall: horizonJson(0, fold.model, modelReason, benchmarks),
  };
}

export function backtestJson(result: BacktestResult, s: BacktestCommandSettings, backend: string) {
  const { summary, plan } = result;
  const horizon = plan.horizon;
  const owa = summary.model?.overall.owa ?? { value: null, reason: result.modelSkipped };
  const wins: Record<string, unknown> = {};
  for (const key of BENCHMARK_KEYS) wins[BENCHMARK_JSON_NAMES[key]] = summary.wins[key];
  return {
    backend,
    data: {
      source: result.label,
      column: result.column,
      unit: result.unit,
      rows: result.rows,
      season: result.season,
    },
    config: {
      window: s.train.window,
      hidden: s.train.hiddenSizes,
      batch: s.train.batchSize,
      epochs: s.train.epochs,
      learningRate: s.train.learningRate,
      optimizer: s.train.optimizer,
      loss: s.train.loss,
      lrDecay: s.train.lrDecay,
      bestEpoch: s.train.keepBest ? 'on' : 'off',
      patience: s.train.patience,
      seeds: result.seeds,
    },
    plan: { folds: plan.origins.length, horizon, step: plan.step, origins: plan.origins, note: plan.note },
    modelSkipped: result.modelSkipped,
    folds: result.folds.map((fold) => foldJson(fold, horizon, result.modelSkipped)),
    summary: {
      horizons: horizonsJson(horizon, summary.model, result.modelSkipped, summary.benchmarks),
      overall: horizonJson(0, summary.model, result.modelSkipped, summary.benchmarks),
      ...metricJson('owa', owa),
      wins,
      sentence: summary.sentence,
    },
    intervals: result.intervals.map((interval) => intervalJson(interval, { folds: interval.folds })),
    seconds: result.seconds,
    memberSteps: result.memberSteps,
  };
}

// ---- Text ----

export function backtestText(result: BacktestResult): string[] {
  const { summary } = result;
  const cells = new Cells();
  const lines = [
    ...(result.modelSkipped === null ? [] : [`note: no model forecasts: ${result.modelSkipped}`]),
    `trained ${result.memberSteps} member-steps in ${result.seconds.training.toFixed(2)} s, forecast in ${result.seconds.forecasting.toFixed(2)} s`,
    '',
    ...foldTable(result, cells),
    '',
    ...stepsOf(result, cells),
    '',
    summary.sentence,
    ...result.intervals.map((interval) => interval.sentence),
  ];
  const notes = cells.notes();
  return notes.length === 0 ? lines : [...lines, '', 'numbers that cannot be computed:', ...notes];
}

function foldTable(result: BacktestResult, cells: Cells): string[] {
  const keys: BenchmarkKey[] = ['last-value', 'naive2', 'theta'];
  const header = ['fold', 'origin', 'rows', 'epoch', 'MASE', ...keys.map(shortLabel), 'vs Naive2'];
  const rows = result.folds.map((fold, k) => {
    const mine = fold.model?.overall.mase;
    const naive2 = fold.benchmarks.find((b) => b.key === 'naive2')?.table?.overall.mase;
    const won = mine?.value == null || naive2?.value == null ? '–' : mine.value < naive2.value ? 'won' : 'lost';
    return [
      String(k + 1),
      fold.originDate ?? `row ${fold.origin + 1}`,
      String(fold.trainRows),
      fold.members.map((m) => m.keptEpoch).join(',') || '–',
      cells.of(mine),
      ...keys.map((key) => cells.of(fold.benchmarks.find((b) => b.key === key)?.table?.overall.mase)),
      won,
    ];
  });
  return [`MASE over the ${result.plan.horizon} steps of each fold:`, ...textTable([header, ...rows])];
}

function stepsOf(result: BacktestResult, cells: Cells): string[] {
  const { summary } = result;
  return [
    `per step over the folds: the model's errors${result.unit === null ? '' : ` (${result.unit})`}, then each benchmark's MASE:`,
    ...stepTable(result.plan.horizon, summary.model, summary.benchmarks, cells),
  ];
}
