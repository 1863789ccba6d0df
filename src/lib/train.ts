// The library's `train`: a run set up from the data (src/train/runSetup.ts: the source's defaults,
// split, normalization, seeded weights), trained by the project's trainer (src/train/trainer.ts, with
// its fallback to the CPU if a GPU device is lost) on a backend opened here or by openBackend, and
// the weights kept turned into a model file's contents (src/train/savedModel.ts). Progress comes at
// every report interval; an AbortSignal stops training at the next report, keeping the weights
// reached.

import { CpuBackend } from '../backends/cpu/cpuBackend.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import type { NormalizeMethod } from '../data/normalize.js';
import { selectionPart } from '../data/split.js';
import type { Transform } from '../data/transform.js';
import type { ColumnRef } from '../data/windows.js';
import { describeValue, InputError } from '../model/errors.js';
import { DEFAULT_OPTIMIZER, type LossName, type OptimizerName } from '../model/optimizer.js';
import type { CpuThreads } from '../settings/threads.js';
import {
  optimizerSettingValues,
  SETTINGS,
  type SettingName,
  type SettingValue,
  sourceDefault,
} from '../settings/training.js';
import type { Model } from '../train/modelFile.js';
import { defaultsKeyOf, type Run, rowPositions, startRunWith, tableOrGenerated } from '../train/runSetup.js';
import { keptTraining, savedModel } from '../train/savedModel.js';
import { type Fallback, type TrainOptions, type TrainReport, type TrainResult, trainToEnd } from '../train/trainer.js';
import { BACKEND_CHOICES, type BackendChoice, backendFor, type GpuOpening } from './backends.js';
import type { LstmData } from './data.js';
import { platform } from './platform.js';

/** A backend opened once and used by several trainings: see openBackend. */
export interface LstmBackend {
  readonly choice: BackendChoice;
  /** The GPU's description ("nvidia / ampere / …"), or null without one. */
  readonly adapter: string | null;
  /** Why there is no GPU, or null where there is one. */
  readonly noGpu: string | null;
  /** Frees the GPU device; trainings after this fail. */
  close(): void;
  /** @internal */
  readonly gpu: GpuOpening;
  /** @internal */
  readonly threads: CpuThreads;
}

/**
 * Opens a backend: `cpu`, `webgpu` (an InputError naming `backend` where there is none) or `auto`
 * (default: each training races the two at its model's shape; the CPU without a GPU). In Node, WebGPU
 * comes from the `webgpu` package where it is installed; in a browser, from navigator.gpu.
 */
export async function openBackend(
  choice: BackendChoice = 'auto',
  options: { threads?: CpuThreads } = {},
): Promise<LstmBackend> {
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new InputError('backend', `expected one of ${BACKEND_CHOICES.join(', ')}, got ${describeValue(choice)}`);
  }
  const threads = SETTINGS.threads.check(options.threads ?? 'auto', 'threads');
  const gpu: GpuOpening = choice === 'cpu' ? { reason: 'cpu was chosen' } : await platform().openGpu();
  if (choice === 'webgpu' && 'reason' in gpu) throw new InputError('backend', `webgpu is not available: ${gpu.reason}`);
  const context: GpuContext | null = 'context' in gpu ? gpu.context : null;
  const a = context?.adapter;
  return {
    choice: choice,
    adapter: a ? [a.vendor, a.architecture, a.description].filter((s) => s !== '').join(' / ') : null,
    noGpu: 'reason' in gpu ? gpu.reason : null,
    close: () => context?.destroy(),
    gpu,
    threads,
  };
}

/**
 * How to train. Each setting left out takes the data's default where it has one (a bundled series'
 * window or learning rate: docs/CLI.md, the defaults by data source), else the settings table's
 * (docs/API.md lists them).
 */
export interface TrainSettings {
  /** A backend from openBackend, or a choice opened (and closed) for this training; default 'auto'. */
  backend?: LstmBackend | BackendChoice;
  /** Time steps per window; default 10. */
  window?: number;
  /** Hidden units of each stacked LSTM layer; default [30]. */
  hiddenSizes?: readonly number[];
  /** Default 101. */
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Default 'sgd' (the blog's). */
  optimizer?: OptimizerName;
  loss?: LossName;
  /** The seed of the weights and the minibatch orders: the same seed gives the same run on every backend. */
  seed?: number;
  /** Epochs between progress reports (and GPU readbacks); default 10. */
  reportEvery?: number;
  /** Input and output columns by name or index; default every column in, every column (not known ahead) out. */
  inputs?: ColumnRef[];
  outputs?: ColumnRef[];
  /** Inputs whose future values are known (read, not predicted, when forecasting). */
  knownAhead?: ColumnRef[];
  /** Shares of the rows before the test part and in the validation part; defaults depend on the data. */
  trainFraction?: number;
  validationFraction?: number;
  normalize?: NormalizeMethod;
  transform?: Transform;
  /** Keep the weights of the epoch with the lowest validation error; default false. */
  keepBest?: boolean;
  /** Called at every report. */
  onProgress?: (progress: TrainProgress) => void;
  /** Stops training at the next report; the result holds the weights reached. */
  signal?: AbortSignal;
}

export interface TrainProgress {
  epoch: number;
  epochs: number;
  /** The last epoch's training error. */
  loss: number;
  /** The last validation error, or null without a validation part. */
  validationLoss: number | null;
  seconds: number;
}

export interface Trained {
  /** The model file's contents: weights kept, normalization, data setup, settings, training so far. */
  model: Model;
  /** Per-epoch training errors. */
  losses: number[];
  validationLosses: { epoch: number; loss: number }[];
  /** 'done', 'aborted' (the signal), 'stopped early' (keepBest's patience) or 'diverged' (the error became NaN). */
  ended: 'done' | 'aborted' | 'stopped early' | 'diverged';
  /** Which backend trained, and why (for `auto`), on what. */
  note: string;
  seconds: number;
}

/** Thrown by onReport to end training at a report; never leaves `train`. */
class Aborted extends Error {
  constructor(readonly report: TrainReport) {
    super('aborted');
  }
}

/** Trains a model on `data`; see TrainSettings for the options and their defaults. */
export async function train(data: LstmData, settings: TrainSettings = {}): Promise<Trained> {
  const run = setUp(data, settings);
  const options = trainOptions(data, run, settings);
  const given = settings.backend;
  const handle = typeof given === 'object' && given !== null ? given : await openBackend(given ?? 'auto');
  try {
    const opened = await backendFor(handle.gpu, handle.choice, run.layout, options.batchSize, {
      threads: handle.threads,
      host: platform().threadHost,
    });
    try {
      opened.backend.setParams(run.params);
      const { result, ended } = await trainAbortably(run, opened.backend, options, settings);
      const model = modelOf(data, run, options, result, settings);
      return {
        model,
        losses: result.losses,
        validationLosses: result.validationLosses,
        ended,
        note: opened.note,
        seconds: result.seconds,
      };
    } finally {
      opened.close();
    }
  } finally {
    if (handle !== given) handle.close();
  }
}

/** A setting's default for this data: the source's (a bundled series' window, say), else the table's. */
function defaultsOf(data: LstmData) {
  const key = defaultsKeyOf(data.source);
  return <K extends SettingName>(name: K): SettingValue<K> => sourceDefault(name, key);
}

/** The run: the data's table (a bundled series' as already read), its defaults, split and weights. */
function setUp(data: LstmData, s: TrainSettings): Run {
  const byData = defaultsOf(data);
  const read = (source: LstmData['source'], rng: Parameters<typeof tableOrGenerated>[1]) =>
    source.kind === 'bundled'
      ? { table: data.table, positions: rowPositions(data.table.rows), label: data.label, unit: data.unit }
      : tableOrGenerated(source, rng);
  const optional = <T>(value: T | undefined, check: (v: T) => T) => (value === undefined ? undefined : check(value));
  const settings = {
    seed: SETTINGS.seed.check(s.seed ?? byData('seed'), 'seed'),
    source: data.source,
    window: SETTINGS.window.check(s.window ?? byData('window'), 'window'),
    hiddenSizes: SETTINGS.hidden.check(s.hiddenSizes ? [...s.hiddenSizes] : byData('hidden'), 'hiddenSizes'),
    trainFraction: optional(s.trainFraction, (v) => SETTINGS.split.check(v, 'trainFraction')),
    validationFraction: optional(s.validationFraction, (v) => SETTINGS.validation.check(v, 'validationFraction')),
    normalize: optional(s.normalize, (v) => SETTINGS.normalise.check(v, 'normalize')),
    transform: optional(s.transform, (v) => SETTINGS.transform.check(v, 'transform')),
  };
  const defined = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) as typeof settings;
  return startRunWith(read, {
    ...defined,
    ...(s.inputs ? { inputs: s.inputs } : {}),
    ...(s.outputs ? { outputs: s.outputs } : {}),
    ...(s.knownAhead ? { knownAhead: s.knownAhead } : {}),
  });
}

/** The trainer's options from the settings, each choice against the settings table's bounds. */
function trainOptions(data: LstmData, run: Run, s: TrainSettings): TrainOptions & { seed: number } {
  const byData = defaultsOf(data);
  const selection = selectionPart(run.prepared);
  const name = SETTINGS.optimizer.check(s.optimizer ?? byData('optimizer'), 'optimizer');
  return {
    seed: SETTINGS.seed.check(s.seed ?? byData('seed'), 'seed'),
    epochs: SETTINGS.epochs.check(s.epochs ?? byData('epochs'), 'epochs'),
    batchSize: SETTINGS.batch
      .within({ max: run.prepared.train.count })
      .check(s.batchSize ?? Math.min(byData('batch'), run.prepared.train.count), 'batchSize'),
    learningRate: SETTINGS.lr.check(s.learningRate ?? byData('lr'), 'learningRate'),
    reportEvery: SETTINGS.report.check(s.reportEvery ?? byData('report'), 'reportEvery'),
    validation: selection?.data ?? null,
    optimizer: { ...DEFAULT_OPTIMIZER, name },
    loss: SETTINGS.loss.check(s.loss ?? byData('loss'), 'loss'),
    keepBest: s.keepBest === true,
  };
}

function progressOf(report: TrainReport): TrainProgress {
  const v = report.validationLosses[report.validationLosses.length - 1];
  return {
    epoch: report.epoch,
    epochs: report.epochs,
    loss: report.losses[report.losses.length - 1],
    validationLoss: v?.loss ?? null,
    seconds: report.seconds,
  };
}

/** trainToEnd, ended at the first report after the signal aborts, with the reached weights as the result. */
async function trainAbortably(
  run: Run,
  backend: Parameters<typeof trainToEnd>[0],
  options: TrainOptions,
  s: TrainSettings,
): Promise<{ result: TrainResult; ended: Trained['ended'] }> {
  const fallback: Fallback | undefined =
    backend.name === 'webgpu' ? { create: () => new CpuBackend(run.layout) } : undefined;
  const onReport = async (report: TrainReport) => {
    s.onProgress?.(progressOf(report));
    // A turn of the event loop, so that an abort from a timer or a page's button is heard here.
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (s.signal?.aborted && report.epoch < report.epochs) throw new Aborted(report);
  };
  try {
    const result = await trainToEnd(backend, run.prepared.train, run.rng, options, onReport, fallback);
    // The trainer hands the last epoch back as its result, not as a report.
    s.onProgress?.(progressOf(result));
    const ended = result.diverged !== null ? 'diverged' : result.stoppedEarly !== null ? 'stopped early' : 'done';
    return { result, ended };
  } catch (err) {
    if (!(err instanceof Aborted)) throw err;
    const { report } = err;
    const kept = {
      epoch: report.epoch,
      params: report.params,
      rng: report.rng,
      ...(report.optimizerState ? { optimizerState: report.optimizerState } : {}),
    };
    const finalLoss = report.losses[report.losses.length - 1] ?? Number.NaN;
    return { result: { ...report, finalLoss, diverged: null, stoppedEarly: null, kept }, ended: 'aborted' };
  }
}

/** The model file's contents for the weights kept, as the CLI's --save writes them. */
function modelOf(
  data: LstmData,
  run: Run,
  options: TrainOptions & { seed: number },
  result: TrainResult,
  s: TrainSettings,
): Model {
  const optimizer = options.optimizer ?? DEFAULT_OPTIMIZER;
  const loss = options.loss ?? 'sse';
  const kept = keptTraining(result, optimizer, loss);
  const { dataSettings } = run;
  return savedModel({
    config: run.config,
    params: result.kept.params,
    prepared: run.prepared,
    label: run.label,
    origin: data.origin,
    trainFraction: dataSettings.trainFraction,
    validationFraction: dataSettings.validationFraction,
    settings: {
      split: dataSettings.trainFraction,
      validation: dataSettings.validationFraction,
      normalise: dataSettings.normalize,
      transform: dataSettings.transform,
      window: run.config.window,
      hidden: run.config.hiddenSizes,
      batch: options.batchSize,
      epochs: options.epochs,
      lr: options.learningRate,
      ...optimizerSettingValues(optimizer),
      loss,
      'best-epoch': s.keepBest ? 'on' : 'off',
      seed: options.seed,
      report: options.reportEvery,
    },
    ...kept,
  });
}
