// `train`: the blog's task (noisy sine, windows predict the next value) by default, or any other
// series (generated, bundled, a CSV file), on a chosen backend, optionally going on from a saved
// model. Without --json it prints progress and a summary for a person; with --json, stdout is
// exactly one JSON object (see README, "train --json").

import { CpuBackend } from '../backends/cpu/cpuBackend.js';
import { type Model, toModelFile } from '../model/modelFile.js';
import { DEFAULT_OPTIMIZER, type LossName, type OptimizerSettings } from '../model/optimizer.js';
import { SETTINGS } from '../settings/training.js';
import { type Run, startRun } from '../train/run.js';
import { type Fallback, trainToEnd } from '../train/trainer.js';
import { type BackendChoice, openBackend } from './backends.js';
import { CLI_SETTINGS, commandOptions } from './commands.js';
import { type DataOptions, readDataOptions } from './dataOptions.js';
import { checkWritablePath, readModelOption, writeFileAtomic } from './files.js';
import { option, optionValue, type ParsedOptions, parseOptions } from './options.js';

/** Exit status when training stopped because the error became NaN or Infinity. */
export const EXIT_DIVERGED = 3;

export interface TrainSettings {
  backend: BackendChoice;
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
  load: Model | undefined;
  save: string | undefined;
  json: boolean;
}

export function readTrainSettings(argv: string[]): TrainSettings {
  const values = parseOptions('train', argv, commandOptions('train'));
  const loadPath = optionValue(values, CLI_SETTINGS.load);
  const load = loadPath === undefined ? undefined : readModelOption(loadPath, '--load');
  // A loaded model fixes the shape; options may repeat it but not contradict it (startRun checks).
  const window = option(values, SETTINGS.window, load?.config.window);
  const data = readDataOptions(values, window);
  if (load?.normalisation !== undefined && data.normalize === undefined) data.normalize = load.normalisation.method;
  return {
    backend: option(values, CLI_SETTINGS.backend),
    hiddenSizes: option(values, SETTINGS.hidden, load?.config.hiddenSizes),
    window,
    batchSize: option(values, SETTINGS.batch),
    epochs: option(values, SETTINGS.epochs),
    learningRate: option(values, SETTINGS.lr),
    seed: option(values, SETTINGS.seed),
    reportEvery: option(values, SETTINGS.report),
    data,
    ...readOptimizerOptions(values, load),
    load,
    save: optionValue(values, CLI_SETTINGS.save),
    json: option(values, CLI_SETTINGS.json),
  };
}

function readOptimizerOptions(
  values: ParsedOptions,
  load: Model | undefined,
): Pick<TrainSettings, 'optimizer' | 'loss' | 'lrDecay'> {
  // A loaded model's optimizer is the default, so --load goes on as it was trained.
  const base = load?.optimizer?.settings ?? DEFAULT_OPTIMIZER;
  return {
    optimizer: {
      name: option(values, SETTINGS.optimizer, base.name),
      momentum: option(values, SETTINGS.momentum, base.momentum),
      beta1: option(values, SETTINGS.beta1, base.beta1),
      beta2: option(values, SETTINGS.beta2, base.beta2),
      epsilon: option(values, SETTINGS.epsilon, base.epsilon),
      clipNorm: option(values, SETTINGS['clip-norm'], base.clipNorm),
    },
    loss: option(values, SETTINGS.loss, load?.optimizer?.loss),
    lrDecay: option(values, SETTINGS['lr-decay']),
  };
}

export function runFor(s: Pick<TrainSettings, 'seed' | 'window' | 'hiddenSizes' | 'data' | 'load'>): Run {
  const { source, inputs, outputs, trainFraction, normalize } = s.data;
  return startRun(
    {
      seed: s.seed,
      source,
      window: s.window,
      hiddenSizes: s.hiddenSizes,
      ...(inputs ? { inputs } : {}),
      ...(outputs ? { outputs } : {}),
      ...(trainFraction !== undefined ? { trainFraction } : {}),
      ...(normalize ? { normalize } : {}),
    },
    s.load,
  );
}

export async function trainCommand(argv: string[], log: (line: string) => void): Promise<void> {
  const s = readTrainSettings(argv);
  // A save that cannot work is refused now, not after the whole run.
  if (s.save !== undefined) checkWritablePath(s.save, '--save');
  const run = runFor(s);
  const { train: data, validation } = run.prepared;
  SETTINGS.batch.within({ max: data.count }).check(s.batchSize, '--batch');
  const { backend, note, auto, close } = await openBackend(s.backend, run.layout, s.batchSize);
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
      writeFileAtomic(s.save, `${JSON.stringify(toModelFile(model))}\n`, '--save');
    }
    const finalValidation = result.validationLosses[result.validationLosses.length - 1];
    if (s.json) {
      process.stdout.write(
        `${JSON.stringify({
          backend: result.backend.name,
          adapter: backend.gpu?.adapter ?? null,
          auto,
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
