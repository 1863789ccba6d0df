// Calibration: which variant of a training step (a schedule under a kernel tuning, tuning.ts) trains
// fastest on this device, for a model shape, batch and sample count, found by timing real epochs of
// each variant the training data admits, and remembered per device.

import type { GpuWait } from './context.js';
import { type Variant, variantName } from './tuning.js';

/** Timed rounds at most (after one warm-up round), one epoch of each variant a round. */
const MAX_ROUNDS = 5;
/** Wall time after which no further round starts, once every variant still racing has MIN_ROUNDS. */
const BUDGET_MS = 400;
/**
 * Timed rounds every variant still racing gets whatever the budget: where one epoch outlasts the
 * budget (a large population on a software adapter), a single round would let one busy moment of a
 * shared machine decide alone.
 */
const MIN_ROUNDS = 2;
/** A variant this many times slower than the fastest after a round is timed no more. */
const CLEARLY_SLOWER = 2;
/**
 * Variants within this factor of the fastest count as equally fast, and the one with the fewest
 * dispatches a step wins: a dispatch costs more on a real GPU than a software adapter's timings show
 * (docs/PERFORMANCE.md), and the noise of a shared machine is about this large.
 */
export const TIE = 1.1;
/** Dispatches a step, in order: fused (3) < persistent (6) < stepwise (2T + 4). */
const DISPATCH_RANK: Record<Variant['schedule'], number> = { fused: 0, persistent: 1, stepwise: 2 };

/** What calibration found. */
export interface Calibration {
  variant: Variant;
  /** Best milliseconds an epoch of each variant timed, by variantName; empty where only one was admitted. */
  msPerEpoch: Record<string, number>;
  /** Wall time calibration took (0 where nothing was timed). */
  ms: number;
}

/** What timing the variants needs of the backend. */
export interface VariantTimer {
  queue: GPUQueue;
  /** Awaits a promise of the device's (the context's wait). */
  wait: GpuWait;
  /** One command buffer of an epoch of the training data on `variant`. */
  encodeEpoch(variant: Variant): GPUCommandBuffer;
  submit(commands: GPUCommandBuffer): void;
}

/** Calibrations per device and (shape, batch, samples, the variants asked for). */
const calibrations = new WeakMap<GPUDevice, Map<string, Calibration>>();

export function calibrationKey(shape: unknown, batch: number, samples: number, variants: readonly Variant[]): string {
  return JSON.stringify([shape, batch, samples, variants.map(variantName)]);
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
 * Times an epoch of each variant (a warm-up round, then rounds alternating between the variants still
 * in the race, so that a busy moment on a shared machine does not decide alone; a variant clearly
 * slower than the fastest drops out), within a short budget, and returns the fastest. The caller keeps
 * and restores the parameters around it.
 */
export async function timeVariants(timer: VariantTimer, variants: readonly Variant[]): Promise<Calibration> {
  const start = performance.now();
  const best = new Map(variants.map((variant) => [variant, Infinity]));
  let racing = [...variants];
  for (let round = 0; round <= MAX_ROUNDS && racing.length > 1; round++) {
    for (const variant of racing) {
      const commands = timer.encodeEpoch(variant);
      const begun = performance.now();
      timer.submit(commands);
      await timer.wait(timer.queue.onSubmittedWorkDone());
      if (round > 0) best.set(variant, Math.min(best.get(variant) ?? Infinity, performance.now() - begun));
    }
    if (round === 0) continue;
    const fastest = Math.min(...racing.map((variant) => best.get(variant) ?? Infinity));
    racing = racing.filter((variant) => (best.get(variant) ?? Infinity) <= CLEARLY_SLOWER * fastest);
    if (round >= MIN_ROUNDS && performance.now() - start > BUDGET_MS) break;
  }
  const msPerEpoch: Record<string, number> = {};
  for (const [variant, ms] of best) if (Number.isFinite(ms)) msPerEpoch[variantName(variant)] = ms;
  return { variant: choose(best, variants), msPerEpoch, ms: performance.now() - start };
}

/** The fastest variant, or among those within TIE of it the one with the fewest dispatches a step. */
export function choose(best: ReadonlyMap<Variant, number>, variants: readonly Variant[]): Variant {
  const fastest = Math.min(...variants.map((variant) => best.get(variant) ?? Infinity));
  if (!Number.isFinite(fastest)) return variants[0];
  const ties = variants.filter((variant) => (best.get(variant) ?? Infinity) <= TIE * fastest);
  return ties.reduce((a, b) =>
    DISPATCH_RANK[b.schedule] < DISPATCH_RANK[a.schedule] ||
    (DISPATCH_RANK[b.schedule] === DISPATCH_RANK[a.schedule] && (best.get(b) ?? Infinity) < (best.get(a) ?? Infinity))
      ? b
      : a,
  );
}
