// The app's training session (shared by the CPU worker and the WebGPU path): snapshots at each
// report carry the new errors, predictions and forecast; pause waits at a report; stop ends the run.

import { describe, expect, it } from 'vitest';
import { RunControl, runSession, type Snapshot, Stopwatch } from '../src/app/session.js';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { freeRunForecast } from '../src/train/forecast.js';
import { startSineRun } from '../src/train/setup.js';
import { trainToEnd } from '../src/train/trainer.js';

const run = { seed: 3, points: 30, noise: 0.1, window: 5, hiddenSizes: [6] };
const options = { epochs: 12, batchSize: 4, learningRate: 0.01, reportEvery: 5 };

describe('app session', () => {
  it('reports every interval with the same errors as the trainer, and a forecast from the trained weights', async () => {
    const start = startSineRun(run);
    const backend = new CpuBackend(start.layout);
    const snapshots: Snapshot[] = [];
    const end = await runSession(backend, start, options, new RunControl(), (s) => snapshots.push(s));
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

    const reference = startSineRun(run);
    const other = new CpuBackend(reference.layout);
    other.setParams(reference.params);
    const result = await trainToEnd(other, reference.task.data, reference.rng, options);
    expect(snapshots.flatMap((s) => s.newLosses)).toEqual(result.losses);
    const params = await other.readParams();
    expect(last.forecast).toEqual(freeRunForecast(reference.layout, params, reference.task.data.x.subarray(0, 5), 25));
    expect(last.predictions).toEqual(await other.predict(reference.task.data.x, reference.task.data.count));
  });

  it('pauses at a report, resumes, and stops', async () => {
    const start = startSineRun(run);
    let paused = 0;
    const control = new RunControl(() => paused++);
    const epochs: number[] = [];
    control.pause();
    const done = runSession(new CpuBackend(start.layout), start, options, control, (s) => epochs.push(s.epoch));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(epochs).toEqual([5]);
    expect(paused).toBe(1);
    control.resume();
    control.pause();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(epochs).toEqual([5, 10]);
    control.stop();
    expect((await done).outcome).toBe('stopped');
    expect(epochs).toEqual([5, 10]);
  });

  it("ends a diverging run with the trainer's message and the last finite weights", async () => {
    const start = startSineRun(run);
    const snapshots: Snapshot[] = [];
    const end = await runSession(
      new CpuBackend(start.layout),
      start,
      { ...options, learningRate: 1e6, reportEvery: 1 },
      new RunControl(),
      (s) => snapshots.push(s),
    );
    expect(end.outcome).toBe('diverged');
    expect(end.message).toMatch(/diverged at epoch \d+.*lower learning rate/);
    const last = snapshots[snapshots.length - 1];
    expect(last.done).toBe(true);
    expect(last.forecast.every(Number.isFinite)).toBe(true);
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
});
