// Calibration: which schedule of the recurrence (tuning.ts) trains fastest on this device, for a model
// shape, batch and sample count, found by timing real epochs of each, and remembered per device.

import { SCHEDULES, type Schedule } from './tuning.js';

/** Timed rounds (after one warm-up) and epochs in each. */
const CALIBRATION_ROUNDS = 4;
const CALIBRATION_EPOCHS = 2;

/** What calibration found. */
export interface Calibration {
  schedule: Schedule;
  /** Best milliseconds an epoch on each schedule; null where only the stepwise one applies. */
  msPerEpoch: Record<Schedule, number> | null;
}

/** What timing the schedules needs of the backend. */
export interface ScheduleTimer {
  queue: GPUQueue;
  /** True where waiting for the GPU keeps a CPU core busy (Dawn in Node). */
  waitsByPolling: boolean;
  /** One command buffer of `epochs` epochs of the training data on `schedule`. */
  encodeEpochs(schedule: Schedule, epochs: number): GPUCommandBuffer;
  submit(commands: GPUCommandBuffer): void;
}

/** Calibrations per device and (shape, batch, samples). */
const calibrations = new WeakMap<GPUDevice, Map<string, Calibration>>();

export function calibrationKey(shape: unknown, batch: number, samples: number): string {
  return JSON.stringify([shape, batch, samples]);
}

export function rememberedCalibration(device: GPUDevice, key: string): Calibration | null {
  return calibrations.get(device)?.get(key) ?? null;
}

export function rememberCalibration(device: GPUDevice, key: string, calibration: Calibration): Calibration {
  let known = calibrations.get(device);
  if (known === undefined) {
    known = new Map();
    calibrations.set(device, known);
  }
  known.set(key, calibration);
  return calibration;
}

/**
 * Times epochs of each schedule (a warm-up round, then the best of several, alternating so that a busy
 * moment on a shared machine does not decide alone) and returns the faster. The caller keeps and
 * restores the parameters around it.
 */
export async function timeSchedules(timer: ScheduleTimer): Promise<Calibration> {
  const best: Record<Schedule, number> = { stepwise: Infinity, persistent: Infinity };
  for (let round = 0; round <= CALIBRATION_ROUNDS; round++) {
    for (const schedule of SCHEDULES) {
      const commands = timer.encodeEpochs(schedule, CALIBRATION_EPOCHS);
      const start = performance.now();
      timer.submit(commands);
      // Where waiting polls a core, sleep through half the fastest epoch so far first, as training
      // does: a polled core is one a software GPU cannot use. Shorter than either takes: no bias.
      const quiet = 0.5 * Math.min(best.stepwise, best.persistent);
      if (timer.waitsByPolling && Number.isFinite(quiet)) await new Promise((resolve) => setTimeout(resolve, quiet));
      await timer.queue.onSubmittedWorkDone();
      if (round > 0) best[schedule] = Math.min(best[schedule], performance.now() - start);
    }
    // A clear winner needs no more rounds (and a slow schedule costs the most to time).
    const [fast, slow] = [Math.min(best.stepwise, best.persistent), Math.max(best.stepwise, best.persistent)];
    if (round > 1 && slow > 2 * fast) break;
  }
  const msPerEpoch = {
    stepwise: best.stepwise / CALIBRATION_EPOCHS,
    persistent: best.persistent / CALIBRATION_EPOCHS,
  };
  return { schedule: msPerEpoch.persistent < msPerEpoch.stepwise ? 'persistent' : 'stepwise', msPerEpoch };
}
