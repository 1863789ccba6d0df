// `train`: the seed's task (noisy sine, windows predict the next value) on a chosen backend.
// Without --json it prints progress and a summary for a person; with --json, stdout is exactly one
// JSON object (see README, "train --json").

import { writeFileSync } from 'node:fs';
import { CpuBackend } from '../backends/cpu/cpuBackend.js';
import { toModelFile } from '../model/modelFile.js';
import { LIMITS } from '../model/validate.js';
import { startSineRun } from '../train/setup.js';
import { type Fallback, trainToEnd } from '../train/trainer.js';
import { type BackendChoice, openBackend, parseBackendChoice } from './backends.js';
import { intListOption, intOption, numberOption, type OptionSpec, parseOptions, stringOption } from './options.js';

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
  points: { type: 'string' },
  noise: { type: 'string' },
  report: { type: 'string' },
  save: { type: 'string' },
  json: { type: 'boolean' },
};

export interface TrainSettings {
  backend: BackendChoice;
  hiddenSizes: number[];
  window: number;
  batchSize: number;
  epochs: number;
  learningRate: number;
  seed: number;
  points: number;
  noise: number;
  reportEvery: number;
  save: string | undefined;
  json: boolean;
}

export function readTrainSettings(argv: string[]): TrainSettings {
  const values = parseOptions('train', argv, TRAIN_OPTIONS);
  const window = intOption(values, 'window', 10, 1, LIMITS.window);
  const points = intOption(values, 'points', 50, window + 1, 10_000_000);
  return {
    backend: parseBackendChoice(stringOption(values, 'backend')),
    hiddenSizes: intListOption(values, 'hidden', [30], 1, LIMITS.hiddenSize, LIMITS.layers),
    window,
    batchSize: intOption(values, 'batch', 8, 1, points - window),
    epochs: intOption(values, 'epochs', 101, 1, 1_000_000),
    learningRate: numberOption(values, 'lr', 0.01, { min: 0, max: 1e6, minExclusive: true }),
    seed: intOption(values, 'seed', 0, 0, 0xffffffff),
    points,
    noise: numberOption(values, 'noise', 0.1, { min: 0, max: 1e6 }),
    reportEvery: intOption(values, 'report', 10, 1, 1_000_000),
    save: stringOption(values, 'save'),
    json: values.json === true,
  };
}

export async function trainCommand(argv: string[], log: (line: string) => void): Promise<void> {
  const s = readTrainSettings(argv);
  const run = startSineRun(s);
  const { backend, note, close } = await openBackend(s.backend, run.layout);
  if (!s.json) log(note);
  try {
    backend.setParams(run.params);
    const samples = run.task.data.count;
    if (!s.json) {
      log(
        `training hidden [${s.hiddenSizes.join(',')}], window ${s.window}, batch ${s.batchSize}, lr ${s.learningRate}, ` +
          `${s.epochs} epochs on ${samples} samples (seed ${s.seed})`,
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
      run.task.data,
      run.rng,
      { epochs: s.epochs, batchSize: s.batchSize, learningRate: s.learningRate, reportEvery: s.reportEvery },
      (report) => {
        if (!s.json) {
          log(
            `epoch ${String(report.epoch).padStart(String(s.epochs).length)}/${s.epochs}  error ${report.losses[report.losses.length - 1].toFixed(5)}  ` +
              `${Math.round(report.steps / report.seconds)} steps/s`,
          );
        }
      },
      fallback,
    );
    const stepsPerSecond = result.steps / result.seconds;
    const msPerEpoch = (1000 * result.seconds) / result.epochs;
    if (s.save !== undefined) {
      const params = await result.backend.readParams();
      writeFileSync(s.save, `${JSON.stringify(toModelFile({ config: run.config, layout: run.layout, params }))}\n`);
    }
    if (s.json) {
      process.stdout.write(
        `${JSON.stringify({
          backend: result.backend.name,
          adapter: backend.adapter,
          fallback: result.switched,
          config: {
            ...run.config,
            batch: s.batchSize,
            learningRate: s.learningRate,
            epochs: s.epochs,
            seed: s.seed,
            points: s.points,
            noise: s.noise,
          },
          epochs: result.epochs,
          steps: result.steps,
          seconds: result.seconds,
          stepsPerSecond,
          msPerEpoch,
          losses: result.losses,
          finalLoss: result.finalLoss,
          diverged: result.diverged,
          gpu: backend.counters(),
          dispatchesPerStep: backend.dispatchesPerStep(),
        })}\n`,
      );
    } else {
      if (result.diverged === null)
        log(
          `done: error ${result.losses[0].toFixed(4)} -> ${result.finalLoss.toFixed(4)} in ${result.seconds.toFixed(2)} s ` +
            `(${Math.round(stepsPerSecond)} steps/s, ${msPerEpoch.toFixed(2)} ms/epoch, ${result.steps} steps)`,
        );
      const counters = backend.counters();
      if (counters !== null) {
        log(
          `gpu: ${counters.dispatches} dispatches (${backend.dispatchesPerStep()?.toFixed(2)} per step), ` +
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
