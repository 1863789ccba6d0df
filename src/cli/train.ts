// `train`: the seed's task (noisy sine, windows predict the next value) by default, or any other
// series (generated, bundled, a CSV file), on a chosen backend, optionally going on from a saved
// model. Without --json it prints progress and a summary for a person; with --json, stdout is
// exactly one JSON object (see README, "train --json").

import { writeFileSync } from 'node:fs';
import { CpuBackend } from '../backends/cpu/cpuBackend.js';
import { InputError } from '../model/errors.js';
import { type Model, toModelFile } from '../model/modelFile.js';
import {
  DEFAULT_OPTIMIZER,
  LOSSES,
  type LossName,
  OPTIMIZERS,
  type OptimizerName,
  type OptimizerSettings,
} from '../model/optimizer.js';
import { LIMITS } from '../model/validate.js';
import { type Run, startRun } from '../train/run.js';
import { type Fallback, trainToEnd } from '../train/trainer.js';
import { type BackendChoice, openBackend, parseBackendChoice } from './backends.js';
import { DATA_OPTIONS, type DataChoice, readDataChoice } from './dataOptions.js';
import { readModelOption } from './files.js';
import {
  intListOption,
  intOption,
  numberOption,
  type OptionSpec,
  type ParsedOptions,
  parseOptions,
  stringOption,
} from './options.js';

/** Exit status when training stopped because the error became NaN or Infinity. */
export const EXIT_DIVERGED = 3;

export const TRAIN_OPTIONS: OptionSpec = {
  backend: { type: 'string' },
  hidden: { type: 'string' },
  window: { type: 'string' },
  batch: { type: 'string' },
  epochs: { type: 'string' },
  lr: { type: 'string' },
  seed: { type: 'string' },
  report: { type: 'string' },
  load: { type: 'string' },
  save: { type: 'string' },
  json: { type: 'boolean' },
  optimizer: { type: 'string' },
  momentum: { type: 'string' },
  beta1: { type: 'string' },
  beta2: { type: 'string' },
  epsilon: { type: 'string' },
  'clip-norm': { type: 'string' },
  'lr-decay': { type: 'string' },
  loss: { type: 'string' },
  ...DATA_OPTIONS,
};

export interface TrainSettings {
  backend: BackendChoice;
  hiddenSizes: number[];
  window: number;
  batchSize: number;
  epochs: number;
  learningRate: number;
  seed: number;
  reportEvery: number;
  data: DataChoice;
  optimizer: OptimizerSettings;
  loss: LossName;
  lrDecay: number;
  load: Model | undefined;
  save: string | undefined;
  json: boolean;
}

export function readTrainSettings(argv: string[]): TrainSettings {
  const values = parseOptions('train', argv, TRAIN_OPTIONS);
  const loadPath = stringOption(values, 'load');
  const load = loadPath === undefined ? undefined : readModelOption(loadPath, '--load');
  // A loaded model fixes the shape; options may repeat it but not contradict it (startRun checks).
  const window = intOption(values, 'window', load?.config.window ?? 10, 1, LIMITS.window);
  const data = readDataChoice(values, window);
  if (load?.normalisation !== undefined && data.normalise === undefined) data.normalise = load.normalisation.method;
  return {
    backend: parseBackendChoice(stringOption(values, 'backend')),
    hiddenSizes: intListOption(values, 'hidden', load?.config.hiddenSizes ?? [30], 1, LIMITS.hiddenSize, LIMITS.layers),
    window,
    batchSize: intOption(values, 'batch', 8, 1, 1_000_000),
    epochs: intOption(values, 'epochs', 101, 1, 1_000_000),
    learningRate: numberOption(values, 'lr', 0.01, { min: 0, max: 1e6, minExclusive: true }),
    seed: intOption(values, 'seed', 0, 0, 0xffffffff),
    reportEvery: intOption(values, 'report', 10, 1, 1_000_000),
    data,
    ...readOptimizerOptions(values, load),
    load,
    save: stringOption(values, 'save'),
    json: values.json === true,
  };
}

function readOptimizerOptions(
  values: ParsedOptions,
  load: Model | undefined,
): Pick<TrainSettings, 'optimizer' | 'loss' | 'lrDecay'> {
  // A loaded model's optimiser is the default, so --load goes on as it was trained.
  const base = load?.optimizer?.settings ?? DEFAULT_OPTIMIZER;
  const name = stringOption(values, 'optimizer') ?? base.name;
  if (!(OPTIMIZERS as readonly string[]).includes(name)) {
    throw new InputError('--optimizer', `expected one of ${OPTIMIZERS.join(', ')}, got "${name}"`);
  }
  const loss = stringOption(values, 'loss') ?? load?.optimizer?.loss ?? 'sse';
  if (!(LOSSES as readonly string[]).includes(loss)) {
    throw new InputError('--loss', `expected one of ${LOSSES.join(', ')}, got "${loss}"`);
  }
  const fraction = { min: 0, max: 0.999999999 };
  const clip = numberOption(values, 'clip-norm', Number.NaN, { min: 0, max: 1e12, minExclusive: true });
  return {
    optimizer: {
      name: name as OptimizerName,
      momentum: numberOption(values, 'momentum', base.momentum, fraction),
      beta1: numberOption(values, 'beta1', base.beta1, fraction),
      beta2: numberOption(values, 'beta2', base.beta2, fraction),
      epsilon: numberOption(values, 'epsilon', base.epsilon, { min: 0, max: 1, minExclusive: true }),
      clipNorm: Number.isNaN(clip) ? base.clipNorm : clip,
    },
    loss: loss as LossName,
    lrDecay: numberOption(values, 'lr-decay', 1, { min: 0, max: 1, minExclusive: true }),
  };
}

export function runFor(s: Pick<TrainSettings, 'seed' | 'window' | 'hiddenSizes' | 'data' | 'load'>): Run {
  const { source, inputs, outputs, trainFraction, normalise } = s.data;
  return startRun(
    {
      seed: s.seed,
      source,
      window: s.window,
      hiddenSizes: s.hiddenSizes,
      ...(inputs ? { inputs } : {}),
      ...(outputs ? { outputs } : {}),
      ...(trainFraction !== undefined ? { trainFraction } : {}),
      ...(normalise ? { normalise } : {}),
    },
    s.load,
  );
}

export async function trainCommand(argv: string[], log: (line: string) => void): Promise<void> {
  const s = readTrainSettings(argv);
  const run = runFor(s);
  const { train: data, validation } = run.prepared;
  if (s.batchSize > data.count) {
    throw new InputError(
      '--batch',
      `expected a whole number from 1 to ${data.count} (the training samples), got ${s.batchSize}`,
    );
  }
  const { backend, note, close } = await openBackend(s.backend, run.layout);
  if (!s.json) log(note);
  try {
    backend.setParams(run.params);
    if (!s.json) {
      log(
        `training hidden [${s.hiddenSizes.join(',')}], window ${s.window}, batch ${s.batchSize}, ${s.optimizer.name} lr ${s.learningRate}, ` +
          `${s.epochs} epochs on ${data.count} samples of ${run.label}` +
          `${validation ? ` (${validation.count} held out)` : ''} (seed ${s.seed})${s.load ? ', from the loaded model' : ''}`,
      );
    }
    const fallback: Fallback | undefined =
      backend.name === 'webgpu'
        ? {
            create: () => new CpuBackend(run.layout),
            onSwitch: (message) => console.error(`warning: ${message} on the cpu backend`),
          }
        : undefined;
    const result = await trainToEnd(
      backend,
      data,
      run.rng,
      {
        epochs: s.epochs,
        batchSize: s.batchSize,
        learningRate: s.learningRate,
        reportEvery: s.reportEvery,
        validation,
        optimizer: s.optimizer,
        loss: s.loss,
        lrDecay: s.lrDecay,
        ...(s.load?.optimizer && s.load.optimizer.name === s.optimizer.name
          ? { initialOptimizerState: s.load.optimizer }
          : {}),
      },
      (report) => {
        if (!s.json) {
          const v = report.validationLosses[report.validationLosses.length - 1];
          log(
            `epoch ${String(report.epoch).padStart(String(s.epochs).length)}/${s.epochs}  error ${report.losses[report.losses.length - 1].toFixed(5)}  ` +
              `${v ? `validation ${v.loss.toFixed(5)}  ` : ''}${Math.round(report.steps / report.seconds)} steps/s`,
          );
        }
      },
      fallback,
    );
    const stepsPerSecond = result.steps / result.seconds;
    const msPerEpoch = (1000 * result.seconds) / result.epochs;
    if (s.save !== undefined) {
      const params = await result.backend.readParams();
      const model: Model = {
        config: run.config,
        layout: run.layout,
        params,
        normalisation: run.prepared.normalisation,
        data: {
          source: run.label,
          inputs: run.prepared.inputs,
          outputs: run.prepared.outputs,
          trainFraction: s.data.trainFraction ?? (validation ? 0.8 : 1),
        },
        ...(result.optimizerState
          ? { optimizer: { ...result.optimizerState, settings: s.optimizer, loss: s.loss } }
          : {}),
      };
      writeFileSync(s.save, `${JSON.stringify(toModelFile(model))}\n`);
    }
    const finalValidation = result.validationLosses[result.validationLosses.length - 1];
    if (s.json) {
      process.stdout.write(
        `${JSON.stringify({
          backend: result.backend.name,
          adapter: backend.gpu?.adapter ?? null,
          fallback: result.switched,
          config: {
            ...run.config,
            batch: s.batchSize,
            learningRate: s.learningRate,
            optimizer: s.optimizer,
            loss: s.loss,
            lrDecay: s.lrDecay,
            epochs: s.epochs,
            seed: s.seed,
            ...(s.data.source.kind === 'generated' ? { series: s.data.source.spec } : {}),
            ...(s.data.source.kind === 'generated'
              ? { points: s.data.source.spec.points, noise: s.data.source.spec.noise }
              : {}),
          },
          data: {
            source: run.label,
            inputs: run.prepared.inputs,
            outputs: run.prepared.outputs,
            normalise: run.prepared.normalisation.method,
            trainSamples: data.count,
            validationSamples: validation?.count ?? 0,
          },
          epochs: result.epochs,
          steps: result.steps,
          seconds: result.seconds,
          stepsPerSecond,
          msPerEpoch,
          losses: result.losses,
          finalLoss: result.finalLoss,
          validationLosses: result.validationLosses,
          finalValidationLoss: finalValidation?.loss ?? null,
          diverged: result.diverged,
          gpu: backend.gpu?.counters() ?? null,
          dispatchesPerStep: backend.gpu?.dispatchesPerStep() ?? null,
        })}\n`,
      );
    } else {
      if (result.diverged === null) {
        log(
          `done: error ${result.losses[0].toFixed(4)} -> ${result.finalLoss.toFixed(4)}` +
            `${finalValidation ? ` (validation ${finalValidation.loss.toFixed(4)})` : ''} in ${result.seconds.toFixed(2)} s ` +
            `(${Math.round(stepsPerSecond)} steps/s, ${msPerEpoch.toFixed(2)} ms/epoch, ${result.steps} steps)`,
        );
      }
      const counters = backend.gpu?.counters() ?? null;
      if (counters !== null) {
        log(
          `gpu: ${counters.dispatches} dispatches (${backend.gpu?.dispatchesPerStep()?.toFixed(2)} per step), ` +
            `${counters.submits} submits, ${counters.readbacks} readbacks, ${counters.buffersCreated} buffers`,
        );
      }
      if (s.save !== undefined) log(`model saved to ${s.save}`);
    }
    if (result.diverged !== null) {
      console.error(`error: ${result.diverged.message}`);
      process.exitCode = EXIT_DIVERGED;
    }
  } finally {
    close();
  }
}
