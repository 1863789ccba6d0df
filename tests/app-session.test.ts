// The app's training session (shared by the CPU worker and the WebGPU path): snapshots at each
// report carry the new errors, the validation errors, predictions and forecast in original units, and
// the weights and generator to go on from; pause waits at a report; stop ends the run; a run resumed
// from a snapshot on another backend trains exactly as one that never stopped.

import { describe, expect, it } from 'vitest';
import {
  forecastSnapshot,
  RunControl,
  resumePointOf,
  runSession,
  type Snapshot,
  Stopwatch,
  TaskSlices,
} from '../src/app/session.js';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { denormalizeOutputs } from '../src/data/normalize.js';
import { DEFAULT_OPTIMIZER } from '../src/model/optimizer.js';
import { freeRunForecast } from '../src/train/forecast.js';
import { type RunSettings, startRun } from '../src/train/run.js';
import { trainToEnd } from '../src/train/trainer.js';

const sine: RunSettings = {
  seed: 3,
  source: { kind: 'generated', spec: { kind: 'sine', points: 30, noise: 0.1 } },
  window: 5,
  hiddenSizes: [6],
};
const options = { epochs: 12, batchSize: 4, learningRate: 0.01, reportEvery: 5 };

async function collect(settings: RunSettings, trainOptions = options) {
  const run = startRun(settings);
  const snapshots: Snapshot[] = [];
  const end = await runSession(new CpuBackend(run.layout), run, trainOptions, new RunControl(), (s) =>
    snapshots.push(s),
  );
  return { run, snapshots, end };
}

describe('app session', () => {
  it('reports every interval with the same errors as the trainer, and a forecast from the trained weights', async () => {
    const { snapshots, end } = await collect(sine);
    expect(end).toEqual({ outcome: 'finished', message: null });
    expect(snapshots.map((s) => [s.epoch, s.newLosses.length, s.done])).toEqual([
      [5, 5, false],
      [10, 5, false],
      [12, 2, true],
    ]);
    const last = snapshots[2];
    expect(last.stepsPerEpoch).toBe(6);
    expect(last.steps).toBe(72);
    expect(last.predictions.length).toBe(25);
    expect(last.forecastFrom).toBe(5);
    expect(last.validationLosses).toEqual([]);

    const reference = startRun(sine);
    const other = new CpuBackend(reference.layout);
    other.setParams(reference.params);
    const data = reference.prepared.train;
    const result = await trainToEnd(other, data, reference.rng, options);
    expect(snapshots.flatMap((s) => s.newLosses)).toEqual(result.losses);
    const params = await other.readParams();
    expect(last.params).toEqual(params);
    // The blog's series is not normalised: original units are the model's own.
    expect(last.forecast).toEqual(freeRunForecast(reference.layout, params, data.x.subarray(0, 5), 25));
    expect(last.predictions).toEqual(await other.predict(data.x, data.count));
  });

  it('maps predictions back to original units and forecasts into the held-out part', async () => {
    const settings: RunSettings = {
      ...sine,
      source: { kind: 'generated', spec: { kind: 'random-walk', points: 60, noise: 0.05, amplitude: 10 } },
      trainFraction: 0.8,
      normalize: 'z-score',
    };
    const { run, snapshots } = await collect(settings, { ...options, reportEvery: 4 });
    const { prepared } = run;
    expect(prepared.boundary).toBe(48);
    const last = snapshots[snapshots.length - 1];
    // Rows 5..59 predicted: 43 training and 12 validation samples.
    expect(last.predictions.length).toBe(55);
    expect(last.forecastFrom).toBe(48);
    expect(last.forecast?.length).toBe(12);
    // The CPU backend measures the validation error with every epoch, not only at reports.
    expect(last.validationLosses.map((v) => v.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

    const backend = new CpuBackend(run.layout);
    backend.setParams(last.params);
    const held = await backend.predict(prepared.test!.x, prepared.test!.count);
    const original = denormalizeOutputs(prepared.normalization, prepared.outputs, held);
    expect(Array.from(last.predictions.subarray(43))).toEqual(Array.from(Float32Array.from(original)));
    // In original units the predictions sit near the data, not near 0 as normalised values would.
    const column = prepared.table.values[0];
    const gap = Math.abs(last.predictions[54] - column[59]);
    expect(gap).toBeLessThan(Math.abs(column[59]) + 20);
  });

  it('goes on from a snapshot on another backend exactly as if it had never stopped', async () => {
    const { snapshots } = await collect(sine);
    const losses: number[] = [];
    for (const s of snapshots.slice(0, 1)) losses.push(...s.newLosses);
    const resume = resumePointOf(snapshots[0], losses);
    expect(resume.epoch).toBe(5);

    const run = startRun(sine);
    const resumed: Snapshot[] = [];
    await runSession(new CpuBackend(run.layout), run, options, new RunControl(), (s) => resumed.push(s), resume);
    expect(resumed.map((s) => s.epoch)).toEqual([10, 12]);
    expect(resumed.flatMap((s) => s.newLosses)).toEqual(snapshots.slice(1).flatMap((s) => s.newLosses));
    expect(resumed[1].params).toEqual(snapshots[2].params);
    // The clock goes on from the seconds before the switch.
    expect(resumed[0].seconds).toBeGreaterThanOrEqual(resume.seconds);
  });

  it("carries the optimiser's state through a resume and from a loaded model", async () => {
    const momentum = { ...DEFAULT_OPTIMIZER, name: 'momentum' as const };
    const withMomentum = { ...options, optimizer: momentum, loss: 'sse' as const, lrDecay: 0.99 };
    const { snapshots } = await collect(sine, withMomentum);
    expect(snapshots[0].optimizerState?.name).toBe('momentum');
    const resume = resumePointOf(snapshots[0], snapshots[0].newLosses);
    const run = startRun(sine);
    const resumed: Snapshot[] = [];
    await runSession(new CpuBackend(run.layout), run, withMomentum, new RunControl(), (s) => resumed.push(s), resume);
    // With the velocity carried over, the resumed run is the uninterrupted one.
    expect(resumed.flatMap((s) => s.newLosses)).toEqual(snapshots.slice(1).flatMap((s) => s.newLosses));

    // A loaded model's state starts training where it stopped: it changes the first updates.
    const trained = { ...startRun(sine), params: snapshots[2].params };
    const fromState: Snapshot[] = [];
    const state = snapshots[2].optimizerState!;
    await runSession(
      new CpuBackend(trained.layout),
      trained,
      { ...withMomentum, initialOptimizerState: state },
      new RunControl(),
      (s) => fromState.push(s),
    );
    const again = { ...startRun(sine), params: snapshots[2].params };
    const fresh: Snapshot[] = [];
    await runSession(new CpuBackend(again.layout), again, withMomentum, new RunControl(), (s) => fresh.push(s));
    expect(fromState[0].newLosses[0]).not.toBe(fresh[0].newLosses[0]);
    expect(fromState[0].optimizerState!.step).toBe(state.step + 5 * 6);
  });

  it('pauses at a report, resumes, and stops; a run paused before it starts waits before epoch 1', async () => {
    const run = startRun(sine);
    let paused = 0;
    const control = new RunControl(() => paused++);
    const epochs: number[] = [];
    control.pause();
    const done = runSession(new CpuBackend(run.layout), run, options, control, (s) => epochs.push(s.epoch));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(epochs).toEqual([]);
    expect(paused).toBe(1);
    control.resume();
    control.pause();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(epochs).toEqual([5]);
    expect(paused).toBe(2);
    control.resume();
    control.pause();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(epochs).toEqual([5, 10]);
    control.stop();
    expect((await done).outcome).toBe('stopped');
    expect(epochs).toEqual([5, 10]);
  });

  it("ends a diverging run with the trainer's message and the last finite weights", async () => {
    const { snapshots, end } = await collect(sine, { ...options, learningRate: 1e6, reportEvery: 1 });
    expect(end.outcome).toBe('diverged');
    expect(end.message).toMatch(/diverged at epoch \d+.*lower learning rate/);
    const last = snapshots[snapshots.length - 1];
    expect(last.done).toBe(true);
    expect(last.params.every(Number.isFinite)).toBe(true);
    expect(last.forecast?.every(Number.isFinite)).toBe(true);
  });

  it('forecasts with given weights and no training (a loaded model)', async () => {
    const run = startRun(sine);
    const snapshot = await forecastSnapshot(new CpuBackend(run.layout), run, { ...options, batchSize: 4 });
    expect(snapshot).toMatchObject({ epoch: 0, epochs: 0, newLosses: [], done: true, forecastFrom: 5 });
    expect(snapshot.params).toEqual(run.params);
    expect(snapshot.forecast).toEqual(
      freeRunForecast(run.layout, run.params, run.prepared.train.x.subarray(0, 5), run.prepared.train.count),
    );
  });

  it('counts only the time it runs', async () => {
    const clock = new Stopwatch();
    clock.start();
    await new Promise((resolve) => setTimeout(resolve, 20));
    clock.stop();
    const counted = clock.read();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(clock.read()).toBe(counted);
    expect(counted).toBeGreaterThanOrEqual(15);
  });

  it('cuts work into tasks: yields at the first piece, then only once its budget has run', async () => {
    // A message posted now runs in a later task: it has run after `due()` only if due() yielded.
    const ranAfter = async (slices: TaskSlices): Promise<boolean> => {
      let ran = false;
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        ran = true;
        channel.port1.close();
      };
      channel.port2.postMessage(null);
      await slices.due();
      const result = ran;
      if (!ran) await new Promise<void>((resolve) => setTimeout(resolve, 0));
      channel.port1.close();
      return result;
    };
    const patient = new TaskSlices(60_000);
    expect(await ranAfter(patient)).toBe(true);
    expect(await ranAfter(patient)).toBe(false);
    const brief = new TaskSlices(5);
    expect(await ranAfter(brief)).toBe(true);
    const until = performance.now() + 10;
    while (performance.now() < until) {
      // busy: the budget runs out
    }
    expect(await ranAfter(brief)).toBe(true);
  });
});
