// `train`: the blog's task (noisy sine, windows predict the next value) by default, or any other
// series (generated, bundled, a CSV file), on a chosen backend, optionally going on from a saved
// model. Without --json it prints progress and a summary for a person; with --json, stdout is
// exactly one JSON object (see README, "train --json").

import type { Backend } from '../backends/backend.js';
import { CpuBackend } from '../backends/cpu/cpuBackend.js';
import type { CsvTable } from '../data/csv.js';
import { fingerprintTable } from '../data/fingerprint.js';
import { selectionPart } from '../data/split.js';
import type { ColumnRef } from '../data/windows.js';
import { paramLayout } from '../model/layout.js';
import { DEFAULT_OPTIMIZER, type LossName, type OptimizerSettings } from '../model/optimizer.js';
import type { CpuThreads } from '../settings/threads.js';
import { optimizerSettingValues, optimizerValues, SETTINGS, type SettingValues } from '../settings/training.js';
import {
  baselineErrors,
  comparisonPart,
  type Evaluation,
  evaluate,
  type Overfitting,
  overfitting,
  type PartErrors,
  predictParts,
} from '../train/evaluate.js';
import {
  checkModelFile,
  checkModelFileSize,
  type Model,
  modelFileBytes,
  type SavedOptimizer,
  type SavedShape,
} from '../train/modelFile.js';
import { type Run, type RunSettings, startRun } from '../train/run.js';
import { continuationOf, savedModel } from '../train/savedModel.js';
import type { DataOrigin, SavedTraining } from '../train/savedSetup.js';
import { type Fallback, type TrainOptions, type TrainReport, trainToEnd } from '../train/trainer.js';
import { printable } from '../util/text.js';
import { type BackendChoice, type OpenedBackend, openBackend } from './backends.js';
import { CLI_SETTINGS, commandOptions } from './commands.js';
import { type DataOptions, type Fallbacks, fallbacks, readDataOptions } from './dataOptions.js';
import { checkWritablePath, readModelOption, writeFileAtomic } from './files.js';
import { option, optionValue, type ParsedOptions, parseOptions } from './options.js';

/** Exit status when training stopped because the error became NaN or Infinity. */
export const EXIT_DIVERGED = 3;

export interface TrainSettings {
  backend: BackendChoice;
  /** The CPU backend's threads. */
  threads: CpuThreads;
  hiddenSizes: number[];
  window: number;
  batchSize: number;
  epochs: number;
  learningRate: number;
  seed: number;
  reportEvery: number;
  data: DataOptions;
  optimizer: OptimizerSettings;
  loss: LossName;
  lrDecay: number;
  /** Keep the weights of the best epoch on the validation part. */
  keepBest: boolean;
  patience: number | null;
  load: Model | undefined;
  save: string | undefined;
  json: boolean;
}

/** The training and data options of `train`, or of another command that trains (`backtest`). */
export function readTrainSettings(argv: string[], command = 'train'): TrainSettings {
  const values = parseOptions(command, argv, commandOptions(command));
  const loadPath = optionValue(values, CLI_SETTINGS.load);
  const load = loadPath === undefined ? undefined : readModelOption(loadPath, '--load');
  // Each option not given falls back to the loaded model's setting, then to the source's default.
  const given = fallbacks(values, load);
  // A loaded model fixes the shape; options may repeat it but not contradict it (startRun checks).
  const window = option(values, SETTINGS.window, load?.config.window ?? given.value('window'));
  const data = readDataOptions(values, window, load);
  if (load?.normalization !== undefined && data.normalize === undefined) data.normalize = load.normalization.method;
  return {
    backend: option(values, CLI_SETTINGS.backend),
    threads: option(values, SETTINGS.threads),
    hiddenSizes: option(values, SETTINGS.hidden, load?.config.hiddenSizes ?? given.value('hidden')),
    window,
    batchSize: given.value('batch'),
    epochs: given.value('epochs'),
    learningRate: given.value('lr'),
    seed: given.value('seed'),
    reportEvery: given.value('report'),
    data,
    ...readOptimizerOptions(values, load, given),
    keepBest: given.value('best-epoch') === 'on',
    patience: given.value('patience'),
    load,
    save: optionValue(values, CLI_SETTINGS.save),
    json: option(values, CLI_SETTINGS.json),
  };
}

function readOptimizerOptions(
  values: ParsedOptions,
  load: Model | undefined,
  given: Fallbacks,
): Pick<TrainSettings, 'optimizer' | 'loss' | 'lrDecay'> {
  // A loaded model's optimizer is the default, so --load goes on as it was trained.
  const base = load?.optimizer?.settings ?? { ...DEFAULT_OPTIMIZER, name: given.value('optimizer') };
  return {
    optimizer: {
      name: option(values, SETTINGS.optimizer, base.name),
      ...optimizerValues((key, setting) => option(values, setting, base[key])),
    },
    loss: option(values, SETTINGS.loss, load?.optimizer?.loss ?? given.value('loss')),
    lrDecay: given.value('lr-decay'),
  };
}

/** The run the options describe, each setting not given left to the source's default. */
export function runSettingsFor(s: Pick<TrainSettings, 'seed' | 'window' | 'hiddenSizes' | 'data'>): RunSettings {
  const { source, trainFraction, validationFraction, normalize, transform, season, defaultColumns } = s.data;
  const inputs = s.data.inputs ?? defaultColumns;
  const outputs = s.data.outputs ?? defaultColumns;
  return {
    seed: s.seed,
    source,
    window: s.window,
    hiddenSizes: s.hiddenSizes,
    ...(inputs ? { inputs } : {}),
    ...(outputs ? { outputs } : {}),
    ...(trainFraction !== undefined ? { trainFraction } : {}),
    ...(validationFraction !== undefined ? { validationFraction } : {}),
    ...(normalize ? { normalize } : {}),
    ...(transform ? { transform } : {}),
    ...(season !== undefined ? { season } : {}),
  };
}

export function runFor(s: Pick<TrainSettings, 'seed' | 'window' | 'hiddenSizes' | 'data' | 'load'>): Run {
  return startRun(runSettingsFor(s), s.load);
}

/**
 * `train` from its arguments to its output, one phase a call: read the options, open the backend,
 * train, evaluate, save, print.
 */
export async function trainCommand(argv: string[], log: (line: string) => void): Promise<void> {
  const s = readTrainSettings(argv);
  // A save that cannot work is refused now, not after the whole run (and, for size, before the
  // weights are even drawn; checkSavable checks again with the data's own columns).
  if (s.save !== undefined) {
    checkWritablePath(s.save, '--save');
    const columns = (given: ColumnRef[] | undefined) => (given ?? s.data.defaultColumns)?.length ?? 1;
    const shape = s.load?.config ?? {
      inputSize: columns(s.data.inputs),
      hiddenSizes: s.hiddenSizes,
      outputSize: columns(s.data.outputs),
      window: s.window,
    };
    checkModelFileSize(savedShape(s, paramLayout(shape).size, 0), '--save');
  }
  for (const line of s.data.notes) console.error(printable(line));
  const run = runFor(s);
  SETTINGS.batch.within({ max: run.prepared.train.count }).check(s.batchSize, '--batch');
  if (s.save !== undefined) checkSavable(s, run);
  const opened = await openBackend(s.backend, run.layout, s.batchSize, s.threads);
  if (!s.json) log(opened.note);
  const interrupted = sayWhatIsKeptOnInterrupt(s.save);
  try {
    const trained = await trainRun(s, run, opened.backend, log, interrupted.reached);
    const summary = await summarize(s, run, trained);
    if (s.save !== undefined) await saveModel(s.save, s, run, trained.result);
    if (s.json) process.stdout.write(`${JSON.stringify(jsonReport(s, run, opened, trained, summary))}\n`);
    else printSummary(s, opened.backend, trained, summary, log);
    if (trained.result.diverged !== null) {
      console.error(`error: ${trained.result.diverged.message}`);
      process.exitCode = EXIT_DIVERGED;
    }
  } finally {
    interrupted.done();
    opened.close();
  }
}

/** What bounds the size of the file this run saves: its parameters, optimizer, epochs and names. */
function savedShape(s: TrainSettings, parameters: number, names: number): SavedShape {
  return { parameters, optimizer: s.optimizer.name, epochs: (s.load?.training?.epoch ?? 0) + s.epochs, names };
}

/** Exit status after Ctrl-C: 128 + SIGINT, what a shell reports. */
const EXIT_INTERRUPTED = 130;

/**
 * Until `done()`, Ctrl-C (SIGINT) ends the run at the next report with one line saying how far it got
 * and that nothing of it was saved (the file `--save` names, if any, is as it was: saves are atomic
 * and come last). `reached(epoch)` records the last epoch reported.
 */
function sayWhatIsKeptOnInterrupt(save: string | undefined): { reached(epoch: number): void; done(): void } {
  let epoch = 0;
  const onInterrupt = () => {
    const where = epoch > 0 ? ` after epoch ${epoch}` : ' before the first report';
    const kept =
      save === undefined
        ? 'nothing was saved (give --save FILE to keep the model)'
        : `the run's progress was not saved; ${printable(save)} is as it was before the run`;
    process.stderr.write(`interrupted${where}: ${kept}\n`);
    process.exit(EXIT_INTERRUPTED);
  };
  process.once('SIGINT', onInterrupt);
  return {
    reached: (e) => {
      epoch = e;
    },
    done: () => process.off('SIGINT', onInterrupt),
  };
}

/**
 * Refuses, before any training, a save that could not be read back: a model file too large (bounded
 * from the parameter count, the optimizer and the epochs), or a field the reader refuses (a checked
 * dry run of the file with the starting weights).
 */
function checkSavable(s: TrainSettings, run: Run): void {
  const names = [run.label, ...run.prepared.inputs, ...run.prepared.outputs].reduce(
    (sum, name) => sum + name.length,
    0,
  );
  checkModelFileSize(
    {
      parameters: run.layout.size,
      optimizer: s.optimizer.name,
      epochs: (s.load?.training?.epoch ?? 0) + s.epochs,
      names,
    },
    '--save',
  );
  checkModelFile(
    modelToSave(s, run, run.params, undefined, { epoch: 0, losses: [], validationLosses: [], rng: run.rng.state() }),
  );
}

type TrainedResult = Awaited<ReturnType<typeof trainToEnd>>;

/** What training gave: the trainer's result and the epochs it numbered. */
interface Trained {
  result: TrainedResult;
  firstEpoch: number;
  lastEpoch: number;
  /** The part that chose the best epoch (validation, else test), or null. */
  selection: ReturnType<typeof selectionPart>;
}

/**
 * Trains `backend` from the run's weights (or the loaded model's epoch on), logging progress for a
 * person; `reached` hears each reported epoch.
 */
async function trainRun(
  s: TrainSettings,
  run: Run,
  backend: Backend,
  log: (line: string) => void,
  reached: (epoch: number) => void,
): Promise<Trained> {
  backend.setParams(run.params);
  // A version-2 model goes on from the epoch of its weights: --epochs more, numbered on from there.
  const saved = s.load?.training;
  const continueFrom = saved && continuationOf(saved, run.params, s.keepBest);
  const firstEpoch = (continueFrom?.epoch ?? 0) + 1;
  const lastEpoch = firstEpoch - 1 + s.epochs;
  const selection = selectionPart(run.prepared);
  if (!s.json) log(startLine(s, run, firstEpoch, lastEpoch));
  const fallback: Fallback | undefined =
    backend.name === 'webgpu'
      ? {
          create: () => new CpuBackend(run.layout),
          onSwitch: (message) => console.error(`warning: ${message} on the cpu backend`),
        }
      : undefined;
  const options: TrainOptions = {
    epochs: lastEpoch,
    batchSize: s.batchSize,
    learningRate: s.learningRate,
    reportEvery: s.reportEvery,
    validation: selection?.data ?? null,
    optimizer: s.optimizer,
    loss: s.loss,
    lrDecay: s.lrDecay,
    keepBest: s.keepBest,
    patience: s.patience,
    ...(s.load?.optimizer && s.load.optimizer.name === s.optimizer.name
      ? { initialOptimizerState: s.load.optimizer }
      : {}),
    ...(continueFrom ? { continueFrom } : {}),
  };
  const onReport = (report: TrainReport) => {
    reached(report.epoch);
    if (!s.json) log(progressLine(report, lastEpoch));
    // The event loop turns once a report: a Ctrl-C is heard here (the epochs themselves never yield).
    return new Promise<void>((resolve) => setImmediate(resolve));
  };
  const result = await trainToEnd(backend, run.prepared.train, run.rng, options, onReport, fallback);
  return { result, firstEpoch, lastEpoch, selection };
}

/** The line that opens a run for a person: the model, the training and the data. */
function startLine(s: TrainSettings, run: Run, firstEpoch: number, lastEpoch: number): string {
  const { prepared } = run;
  const parts = [
    prepared.validation ? `${prepared.validation.count} validation` : '',
    prepared.test ? `${prepared.test.count} held out` : '',
  ].filter((part) => part !== '');
  return (
    `training hidden [${s.hiddenSizes.join(',')}], window ${s.window}, batch ${s.batchSize}, ${s.optimizer.name} lr ${s.learningRate}, ` +
    `epochs ${firstEpoch}–${lastEpoch} on ${prepared.train.count} samples of ${run.label}` +
    `${parts.length > 0 ? ` (${parts.join(', ')})` : ''}, ${prepared.transform.kind} (seed ${s.seed})${s.load ? ', from the loaded model' : ''}`
  );
}

/** One report's line: the epoch, its error (and validation error) and the rate. */
function progressLine(report: TrainReport, lastEpoch: number): string {
  const v = report.validationLosses[report.validationLosses.length - 1];
  return (
    `epoch ${String(report.epoch).padStart(String(lastEpoch).length)}/${lastEpoch}  error ${report.losses[report.losses.length - 1].toFixed(5)}  ` +
    `${v ? `validation ${v.loss.toFixed(5)}  ` : ''}${Math.round(report.steps / report.seconds)} steps/s`
  );
}

/** What a run comes to: its rates, the errors of the weights kept against the baselines, its best epoch. */
interface Summary {
  stepsPerSecond: number;
  msPerEpoch: number;
  evaluation: Evaluation;
  best: { epoch: number; validationLoss: number; chosenOn: 'validation' | 'test' } | null;
  overfit: Overfitting | null;
  /** What the CPU backend ran on (its thread count is measured once the data is set, so known only now). */
  cpu: CpuBackend | null;
  /** A warning where the best epoch was chosen on the held-out part itself, else ''. */
  peeked: string;
}

/** Evaluates the weights kept (the best epoch's, with keepBest: they are in the result's backend now). */
async function summarize(s: TrainSettings, run: Run, trained: Trained): Promise<Summary> {
  const { result, firstEpoch, selection } = trained;
  const { prepared } = run;
  const epochsRun = result.epoch - firstEpoch + 1;
  const evaluation = evaluate(
    prepared,
    await predictParts(result.backend, prepared),
    baselineErrors(prepared, comparisonPart(prepared), s.loss),
    run.unit,
  );
  const best =
    result.best === null || selection === null
      ? null
      : { epoch: result.best.epoch, validationLoss: result.best.loss, chosenOn: selection.name };
  return {
    stepsPerSecond: (epochsRun * Math.floor(prepared.train.count / s.batchSize)) / result.seconds,
    msPerEpoch: (1000 * result.seconds) / epochsRun,
    evaluation,
    best,
    overfit: overfitting(result.losses, result.validationLosses),
    cpu: result.backend instanceof CpuBackend ? result.backend : null,
    peeked:
      best?.chosenOn === 'test'
        ? ' The best epoch was chosen on the held-out part itself (there is no validation part), so its error there is optimistic.'
        : '',
  };
}

/** Writes the model file: the weights kept, the data's setup, the settings and where training stopped. */
async function saveModel(path: string, s: TrainSettings, run: Run, result: TrainedResult): Promise<void> {
  const params = await result.backend.readParams();
  const { kept } = result;
  const model = modelToSave(
    s,
    run,
    params,
    kept.optimizerState ? { ...kept.optimizerState, settings: s.optimizer, loss: s.loss } : undefined,
    {
      epoch: kept.epoch,
      losses: result.losses.slice(0, kept.epoch),
      validationLosses: result.validationLosses.filter((v) => v.epoch <= kept.epoch),
      rng: kept.rng.state(),
    },
  );
  writeFileAtomic(path, modelFileBytes(model, '--save').chunks(), '--save');
}

/** The model file's contents for this run: `params`, the optimizer's state and the training so far. */
function modelToSave(
  s: TrainSettings,
  run: Run,
  params: Float32Array,
  optimizer: SavedOptimizer | undefined,
  training: SavedTraining,
): Model {
  return savedModel({
    config: run.config,
    params,
    prepared: run.prepared,
    label: run.label,
    origin: originOf(s.data),
    trainFraction: run.dataSettings.trainFraction,
    validationFraction: run.dataSettings.validationFraction,
    settings: savedSettings(s, run),
    ...(optimizer ? { optimizer } : {}),
    training,
  });
}

/** The one JSON object of --json (its fields are the README's "train --json"). */
function jsonReport(s: TrainSettings, run: Run, opened: OpenedBackend, trained: Trained, summary: Summary) {
  const { result, firstEpoch, selection } = trained;
  const { evaluation, best } = summary;
  const { gpu } = opened.backend;
  const finalValidation = result.validationLosses[result.validationLosses.length - 1];
  return {
    backend: result.backend.name,
    adapter: gpu?.adapter ?? null,
    auto: opened.auto,
    fallback: result.switched,
    config: jsonConfig(s, run),
    data: jsonData(run, selection),
    epochs: result.epoch,
    firstEpoch,
    steps: result.steps,
    seconds: result.seconds,
    stepsPerSecond: summary.stepsPerSecond,
    msPerEpoch: summary.msPerEpoch,
    losses: result.losses,
    finalLoss: result.finalLoss,
    validationLosses: result.validationLosses,
    finalValidationLoss: finalValidation?.loss ?? null,
    validationPart: selection?.name ?? null,
    bestEpoch: best,
    stoppedEarly: result.stoppedEarly,
    overfitting: summary.overfit,
    metrics: {
      columns: evaluation.columns,
      unit: evaluation.unit,
      train: errorsOf(evaluation.model.train),
      validation: errorsOf(evaluation.model.validation),
      test: errorsOf(evaluation.model.test),
    },
    baselinesOn: evaluation.comparedOn,
    baselines: evaluation.baselines.map(({ key, label, errors, skipped }) => ({
      key,
      label,
      rmse: errors?.rmse ?? null,
      mae: errors?.mae ?? null,
      skipped,
    })),
    summary: `${evaluation.summary}${summary.peeked}`,
    diverged: result.diverged,
    threads: summary.cpu?.threads ?? null,
    simd: summary.cpu?.simd ?? null,
    gpu: gpu?.counters() ?? null,
    dispatchesPerStep: gpu?.dispatchesPerStep() ?? null,
  };
}

/** --json's `config`: the model's shape and every training setting. */
function jsonConfig(s: TrainSettings, run: Run) {
  const { source } = s.data;
  return {
    ...run.config,
    batch: s.batchSize,
    learningRate: s.learningRate,
    optimizer: s.optimizer,
    loss: s.loss,
    lrDecay: s.lrDecay,
    epochs: s.epochs,
    seed: s.seed,
    bestEpoch: s.keepBest ? 'on' : 'off',
    patience: s.patience,
    ...(source.kind === 'generated' ? { series: source.spec } : {}),
    ...(source.kind === 'generated' ? { points: source.spec.points, noise: source.spec.noise } : {}),
  };
}

/** --json's `data`: where the data came from, how it was prepared and split, and its fingerprint. */
function jsonData(run: Run, selection: Trained['selection']) {
  const { prepared } = run;
  return {
    source: run.label,
    inputs: prepared.inputs,
    outputs: prepared.outputs,
    normalise: prepared.normalization.method,
    transform: prepared.transform.kind,
    season: prepared.season,
    split: run.dataSettings.trainFraction,
    validation: run.dataSettings.validationFraction,
    rows: prepared.table.rows,
    parts: {
      train: prepared.trainTargets,
      validation: prepared.validation ? prepared.validationTargets : null,
      test: prepared.test ? prepared.testTargets : null,
    },
    trainSamples: prepared.train.count,
    validationSamples: selection?.data.count ?? 0,
    testSamples: prepared.test?.count ?? 0,
    fingerprint: fingerprintTable(prepared.table),
  };
}

/** The summary for a person: the errors, the epoch kept, the evaluation and the GPU's counters. */
function printSummary(
  s: TrainSettings,
  backend: Backend,
  trained: Trained,
  summary: Summary,
  log: (line: string) => void,
): void {
  const { result, firstEpoch } = trained;
  const { best, cpu } = summary;
  const finalValidation = result.validationLosses[result.validationLosses.length - 1];
  if (result.diverged === null) {
    log(
      `done: error ${result.losses[firstEpoch - 1]?.toFixed(4)} -> ${result.finalLoss.toFixed(4)}` +
        `${finalValidation ? ` (validation ${finalValidation.loss.toFixed(4)})` : ''} in ${result.seconds.toFixed(2)} s ` +
        `(${Math.round(summary.stepsPerSecond)} steps/s, ${summary.msPerEpoch.toFixed(2)} ms/epoch, ${result.steps} steps` +
        `${cpu === null ? '' : `, ${cpu.threads} CPU thread${cpu.threads === 1 ? '' : 's'}`})`,
    );
  }
  if (best !== null) {
    const early =
      result.stoppedEarly === null ? '' : `; stopped early at epoch ${result.stoppedEarly} (patience ${s.patience})`;
    log(`kept the weights of epoch ${best.epoch}, the lowest ${best.chosenOn} error${early}`);
  }
  if (summary.overfit !== null) log(`note: ${summary.overfit.message}`);
  log(`${summary.evaluation.summary}${summary.peeked}`);
  const counters = backend.gpu?.counters() ?? null;
  if (counters !== null) {
    log(
      `gpu: ${counters.dispatches} dispatches (${backend.gpu?.dispatchesPerStep()?.toFixed(2)} per step), ` +
        `${counters.submits} submits, ${counters.readbacks} readbacks, ${counters.buffersCreated} buffers`,
    );
  }
  if (s.save !== undefined) log(`model saved to ${s.save}`);
}

function errorsOf(part: PartErrors | null): { rmse: number[]; mae: number[] } | null {
  return part === null ? null : { rmse: part.rmse, mae: part.mae };
}

/** Where the CLI's data came from, as the model file says it. */
function originOf(data: DataOptions): DataOrigin {
  const { source } = data;
  if (source.kind === 'table') {
    const table = source.table as Partial<CsvTable>;
    return { kind: 'csv', fileName: source.label, dateColumn: table.dateColumn ?? null };
  }
  return { kind: source.kind };
}

/** Every setting of the run, as the settings table names them (what a model file keeps). */
function savedSettings(s: TrainSettings, run: Run): Partial<SettingValues> {
  const { source } = s.data;
  const dataValues: Partial<SettingValues> =
    source.kind === 'generated'
      ? {
          source: 'generated',
          series: source.spec.kind,
          points: source.spec.points,
          noise: source.spec.noise,
          amplitude: source.spec.amplitude ?? 1,
          ...('period' in source.spec ? { period: source.spec.period } : {}),
          ...('periods' in source.spec ? { periods: source.spec.periods } : {}),
        }
      : source.kind === 'bundled'
        ? {
            source: 'bundled',
            dataset: source.name,
            ...(source.options?.symbol ? { symbol: source.options.symbol } : {}),
          }
        : { source: 'csv' };
  const { dataSettings } = run;
  return {
    ...dataValues,
    split: dataSettings.trainFraction,
    validation: dataSettings.validationFraction,
    normalise: dataSettings.normalize,
    transform: dataSettings.transform,
    season: s.data.season ?? 'auto',
    window: s.window,
    hidden: s.hiddenSizes,
    batch: s.batchSize,
    epochs: s.epochs,
    lr: s.learningRate,
    ...optimizerSettingValues(s.optimizer),
    'lr-decay': s.lrDecay,
    loss: s.loss,
    'best-epoch': s.keepBest ? 'on' : 'off',
    patience: s.patience,
    seed: s.seed,
    report: s.reportEvery,
  };
}
