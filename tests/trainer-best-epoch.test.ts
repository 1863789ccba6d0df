// The best epoch kept without peeking: the weights of the epoch with the lowest validation error come
// back at the end (and are the backend's), patience stops a run that no longer improves, the overfitting
// note, and going on from a saved point replays the uninterrupted run.

import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { createWebGpuBackend } from '../src/backends/webgpu/webgpuBackend.js';
import { selectionPart } from '../src/data/split.js';
import { DEFAULT_OPTIMIZER } from '../src/model/optimizer.js';
import { overfitting } from '../src/train/evaluate.js';
import { type Run, type RunSettings, startRun } from '../src/train/run.js';
import { continuationOf } from '../src/train/savedModel.js';
import { type TrainOptions, type TrainReport, train, trainToEnd } from '../src/train/trainer.js';
import { fileGpuContext, withoutGpuErrors } from './webgpu-context.js';

const RUN: RunSettings = {
  seed: 5,
  source: { kind: 'generated', spec: { kind: 'random-walk', points: 80, noise: 0.05, amplitude: 10 } },
  window: 5,
  hiddenSizes: [8],
  trainFraction: 0.8,
  validationFraction: 0.1,
  normalize: 'z-score',
  transform: 'differences',
};
const OPTIONS: TrainOptions = { epochs: 40, batchSize: 4, learningRate: 0.05, reportEvery: 10 };

function validationOf(run: Run) {
  const selection = selectionPart(run.prepared);
  if (selection?.name !== 'validation') throw new Error('expected a validation part');
  return selection.data;
}

/** Every epoch's weights of a run that does not keep the best (a report after every epoch). */
async function everyEpoch(): Promise<{ params: Float32Array[]; validation: number[] }> {
  const run = startRun(RUN);
  const backend = new CpuBackend(run.layout);
  backend.setParams(run.params);
  const params: Float32Array[] = [];
  const steps = train(backend, run.prepared.train, run.rng, {
    ...OPTIONS,
    reportEvery: 1,
    validation: validationOf(run),
  });
  let report: TrainReport | undefined;
  for (;;) {
    const next = await steps.next();
    report = next.value;
    params.push(report.params.slice());
    if (next.done) break;
  }
  return { params, validation: report.validationLosses.map((v) => v.loss) };
}

/** The run trained on the CPU keeping its best epoch, with `extra` options; and the backend. */
async function keepingBest(extra: Partial<TrainOptions> = {}) {
  const run = startRun(RUN);
  const backend = new CpuBackend(run.layout);
  backend.setParams(run.params);
  const result = await trainToEnd(backend, run.prepared.train, run.rng, {
    ...OPTIONS,
    validation: validationOf(run),
    keepBest: true,
    ...extra,
  });
  return { result, backend };
}

describe('keeping the best epoch', () => {
  const gpu = fileGpuContext();

  it('returns (and leaves in the backend) the weights of the lowest validation error, training as without it', async () => {
    const reference = await everyEpoch();
    const bestEpoch = reference.validation.indexOf(Math.min(...reference.validation)) + 1;
    // The run must have gone past its best for the test to mean something.
    expect(bestEpoch).toBeLessThan(OPTIONS.epochs);

    const { result, backend } = await keepingBest();
    expect(result.best?.epoch).toBe(bestEpoch);
    expect(result.kept.epoch).toBe(bestEpoch);
    expect(result.params).toEqual(reference.params[bestEpoch - 1]);
    expect(await backend.readParams()).toEqual(reference.params[bestEpoch - 1]);
    // Choosing reads nothing the run would not have: its errors are those of the plain run.
    expect(result.validationLosses.map((v) => v.loss)).toEqual(reference.validation);
    expect(result.epoch).toBe(OPTIONS.epochs);
    expect(result.stoppedEarly).toBeNull();
  });

  it('stops once the validation error has not improved for `patience` epochs', async () => {
    const reference = await everyEpoch();
    const { result } = await keepingBest({ patience: 3 });
    // The first epoch that is 3 past the best so far.
    let best = 0;
    let stop = 0;
    for (let e = 1; e <= reference.validation.length; e++) {
      if (best === 0 || reference.validation[e - 1] < reference.validation[best - 1]) best = e;
      if (e - best >= 3) {
        stop = e;
        break;
      }
    }
    expect(stop).toBeGreaterThan(0);
    expect(result.stoppedEarly).toBe(stop);
    expect(result.losses).toHaveLength(stop);
    expect(result.params).toEqual(reference.params[best - 1]);
  });

  it('keeps the best epoch on WebGPU too: the kept weights give the best validation error', async () => {
    await withoutGpuErrors(gpu(), async () => {
      const run = startRun(RUN);
      const backend = await createWebGpuBackend(gpu(), run.layout);
      try {
        backend.setParams(run.params);
        const validation = validationOf(run);
        const result = await trainToEnd(backend, run.prepared.train, run.rng, {
          ...OPTIONS,
          validation,
          keepBest: true,
        });
        const losses = result.validationLosses.map((v) => v.loss);
        expect(result.best?.epoch).toBe(losses.indexOf(Math.min(...losses)) + 1);
        const y = await backend.predict(validation.x, validation.count);
        let sum = 0;
        for (let i = 0; i < y.length; i++) sum += (y[i] - validation.t[i]) ** 2;
        expect(0.5 * sum).toBeCloseTo(result.best!.loss, 4);
      } finally {
        await backend.dispose();
      }
    });
  });
});

describe('going on from a saved point', () => {
  it('replays the run it came from: 14 epochs in two goes are the 14 epochs in one', async () => {
    const options = {
      ...OPTIONS,
      optimizer: { ...DEFAULT_OPTIMIZER, name: 'momentum' as const },
      loss: 'sse' as const,
    };
    const whole = startRun(RUN);
    const one = new CpuBackend(whole.layout);
    one.setParams(whole.params);
    const straight = await trainToEnd(one, whole.prepared.train, whole.rng, {
      ...options,
      epochs: 14,
      validation: validationOf(whole),
    });

    const first = startRun(RUN);
    const a = new CpuBackend(first.layout);
    a.setParams(first.params);
    const part = await trainToEnd(a, first.prepared.train, first.rng, {
      ...options,
      epochs: 8,
      validation: validationOf(first),
    });
    // As a model file keeps it: the epoch, the errors so far, the generator and the optimizer's state.
    const saved = {
      epoch: part.kept.epoch,
      losses: part.losses,
      validationLosses: part.validationLosses,
      rng: part.kept.rng.state(),
    };
    const second = startRun(RUN);
    const b = new CpuBackend(second.layout);
    b.setParams(part.params);
    const goneOn = await trainToEnd(b, second.prepared.train, second.rng, {
      ...options,
      epochs: 14,
      validation: validationOf(second),
      initialOptimizerState: part.kept.optimizerState,
      continueFrom: continuationOf(saved, part.params, false),
    });
    expect(goneOn.losses).toEqual(straight.losses);
    expect(goneOn.validationLosses).toEqual(straight.validationLosses);
    expect(goneOn.params).toEqual(straight.params);
  });
});

describe('the overfitting note', () => {
  it('appears when the validation error rose since its best while the training error fell', () => {
    const losses = [10, 8, 6, 5, 4, 3];
    const rising = [5, 4, 3, 3.5, 4, 4.5].map((loss, i) => ({ epoch: i + 1, loss }));
    const note = overfitting(losses, rising);
    expect(note).toMatchObject({ bestEpoch: 3, lastEpoch: 6, validation: [3, 4.5], training: [6, 3] });
    expect(note?.message).toBe(
      "Since epoch 3 the validation error rose 50% while the training error fell 50%: the model is learning the training part's noise (overfitting).",
    );
    // A rise within noise, or a training error that rose too, is no overfitting.
    expect(
      overfitting(
        losses,
        [3, 3.1].map((loss, i) => ({ epoch: i + 5, loss })),
      ),
    ).toBeNull();
    expect(
      overfitting(
        [1, 2, 3],
        [1, 2, 3].map((loss, i) => ({ epoch: i + 1, loss })),
      ),
    ).toBeNull();
    expect(overfitting(losses, [])).toBeNull();
  });
});
