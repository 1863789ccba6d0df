// How work reaches the GPU: recorded into slices of about SLICE_MS of GPU time (SliceRecorder, cutting
// between dispatches), and submitted so that little is ever in flight (SubmitPacer), which is what
// lets a stop end the GPU's work within about a second. docs/ARCHITECTURE.md says why and how.

import type { GpuCounters } from '../backend.js';
import type { GpuWait } from './context.js';
import type { DispatchTarget } from './dispatchPlan.js';

/** GPU time a slice of an epoch aims at, by default. */
export const SLICE_MS = 250;
/** Estimated GPU time that single-slice submissions may queue before one waits for the device. */
const BACKLOG_MS = 1000;
/**
 * What a device is assumed to do at the least, FLOPs a millisecond: low, so that a costly first epoch
 * is cut finely, and a floor under what is measured (below).
 */
const PRIOR_FLOPS_PER_MS = { software: 5e5, gpu: 1e7 };
/**
 * Measurements the rate slices are cut by is the best of. A shared machine, or kernels compiled at
 * first use, make single measurements slow, never fast: the best of the recent ones is the device's.
 */
const RECENT_RATES = 8;

/** One command buffer and the FLOPs it holds. */
export interface Slice {
  commands: GPUCommandBuffer;
  flops: number;
}

/**
 * Records dispatches into compute passes, opening a new command buffer whenever a slice would exceed
 * `budget` FLOPs; a small dispatch (a tenth of the budget at most) joins the slice before it anyway,
 * rather than be a slice (a submit and a wait) of its own.
 */
export class SliceRecorder implements DispatchTarget {
  private readonly device: GPUDevice;
  private readonly label: string;
  private readonly budget: number;
  private readonly slices: Slice[] = [];
  private encoder: GPUCommandEncoder;
  private compute: GPUComputePassEncoder | null = null;
  private flops = 0;

  /** `budget` Infinity records one slice. */
  constructor(device: GPUDevice, label: string, budget: number) {
    this.device = device;
    this.label = label;
    this.budget = budget;
    this.encoder = device.createCommandEncoder({ label });
  }

  pass(flops: number): GPUComputePassEncoder {
    if (this.compute !== null && this.flops + flops > this.budget && flops > 0.1 * this.budget) this.cut();
    return this.join(flops);
  }

  /**
   * A target whose dispatches join the slice being recorded whatever they cost: work that must ride
   * in the same command buffer as what came before it (an epoch's probe adds no submit).
   */
  joining(): DispatchTarget {
    return { pass: (flops) => this.join(flops) };
  }

  /** Ends the recording; `tail` encodes what follows the last compute pass (copies). */
  finish(tail?: (encoder: GPUCommandEncoder) => void): Slice[] {
    this.compute?.end();
    this.compute = null;
    tail?.(this.encoder);
    this.slices.push({ commands: this.encoder.finish(), flops: this.flops });
    return this.slices;
  }

  private join(flops: number): GPUComputePassEncoder {
    this.flops += flops;
    this.compute ??= this.encoder.beginComputePass({ label: this.label });
    return this.compute;
  }

  private cut(): void {
    this.compute?.end();
    this.compute = null;
    this.slices.push({ commands: this.encoder.finish(), flops: this.flops });
    this.encoder = this.device.createCommandEncoder({ label: `${this.label} (slice ${this.slices.length + 1})` });
    this.flops = 0;
  }
}

export class SubmitPacer {
  private readonly queue: GPUQueue;
  private readonly counters: GpuCounters;
  private readonly wait: GpuWait;
  private readonly sliceMs: number;
  private readonly prior: number;
  /** The last RECENT_RATES measured rates, FLOPs a millisecond. */
  private readonly recent: number[] = [];
  /** What slices are cut by: the best recent rate, at least the prior. */
  private sliceRate: number;
  /** What the backlog of cheap epochs is estimated by: the rate measured last (the prior before any). */
  private lastRate: number;
  /** When the work submitted so far should be done, by the estimate (performance.now() ms). */
  private busyUntil = 0;
  /** FLOPs submitted since the device was last seen idle, and when the first of them was submitted. */
  private flopsSinceIdle = 0;
  private firstSubmitSinceIdle = 0;

  constructor(queue: GPUQueue, counters: GpuCounters, options: { wait: GpuWait; software: boolean; sliceMs: number }) {
    this.queue = queue;
    this.counters = counters;
    this.wait = options.wait;
    this.sliceMs = options.sliceMs;
    this.prior = options.software ? PRIOR_FLOPS_PER_MS.software : PRIOR_FLOPS_PER_MS.gpu;
    this.sliceRate = this.prior;
    this.lastRate = this.prior;
  }

  /** FLOPs a slice may hold: sliceMs at the rate measured so far. */
  sliceFlops(): number {
    return this.sliceMs * this.sliceRate;
  }

  /**
   * Submits a cheap epoch's one slice now, unless the work already queued would then exceed
   * BACKLOG_MS by the estimate; returns whether it did (false: nothing submitted, use submit()).
   */
  submitAtOnce(slices: readonly Slice[]): boolean {
    if (slices.length !== 1 || this.mustWait(slices[0], 1)) return false;
    this.submitNow(slices[0], this.lastRate);
    return true;
  }

  /**
   * Submits `slices` in order, each (of several) only once the device has finished everything before
   * it, calling `check` after each wait (it throws to stop: the backend was disposed, the device
   * lost): at most one slice is in flight, and a stop waits for that one only. `finished` is told the
   * FLOPs of this call's slices the device has finished, after each wait.
   */
  async submit(slices: readonly Slice[], check: () => void, finished?: (flops: number) => void): Promise<void> {
    let submitted = 0;
    for (const slice of slices) {
      if (this.mustWait(slice, slices.length)) {
        await this.waitFor(() => this.queue.onSubmittedWorkDone());
        check();
        if (submitted > 0) finished?.(submitted);
      }
      submitted += slice.flops;
      this.submitNow(slice, this.sliceRate);
    }
  }

  /**
   * Submits `slice` with no wait (a readback's: its caller waits for it next), expecting it to take
   * its FLOPs at `rate` (by default the last measured).
   */
  submitNow(slice: Slice, rate = this.lastRate): void {
    const now = performance.now();
    if (this.flopsSinceIdle === 0) this.firstSubmitSinceIdle = now;
    this.queue.submit([slice.commands]);
    this.counters.submits++;
    this.flopsSinceIdle += slice.flops;
    this.busyUntil = Math.max(now, this.busyUntil) + slice.flops / rate;
  }

  /**
   * Waits for `done` (a map or onSubmittedWorkDone that settles when the device has finished the work
   * submitted so far) and learns the device's rate from how long the work took.
   */
  async waitFor<T>(done: () => Promise<T>): Promise<T> {
    const result = await this.wait(done());
    this.idle();
    return result;
  }

  /** Resolves when the device has finished the work submitted so far; never rejects. */
  settle(): Promise<void> {
    return this.wait(this.queue.onSubmittedWorkDone()).then(
      () => this.idle(),
      () => undefined,
    );
  }

  /** Whether `slice`, one of `count`, must wait for the device: it may be busy, and the slice is one of several or would queue too much. */
  private mustWait(slice: Slice, count: number): boolean {
    if (this.flopsSinceIdle === 0) return false;
    const backlog = Math.max(0, this.busyUntil - performance.now());
    return count > 1 || backlog + slice.flops / this.lastRate > BACKLOG_MS;
  }

  /** The device has finished everything submitted: the time since the first submission is its work's. */
  private idle(): void {
    const ms = performance.now() - this.firstSubmitSinceIdle;
    if (this.flopsSinceIdle > 0 && ms > 0) {
      this.lastRate = this.flopsSinceIdle / ms;
      this.recent.push(this.lastRate);
      if (this.recent.length > RECENT_RATES) this.recent.shift();
      this.sliceRate = Math.max(this.prior, ...this.recent);
    }
    this.flopsSinceIdle = 0;
    this.busyUntil = 0;
  }
}
