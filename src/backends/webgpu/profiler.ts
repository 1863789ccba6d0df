// GPU time per kernel group of a training step, from timestamp queries ('timestamp-query'): a
// profiled step is one compute pass per run of a kernel group (DispatchPlan.encodeProfiledStep, then
// the update in a pass of its own), each writing a timestamp at its beginning and end. The query set,
// resolve buffer and pass descriptors are made on the first profile. docs/ARCHITECTURE.md
// ("Profiling") says what the numbers are worth.
//
// Legend: S = profiled steps, Q = passes per step. Query 2k and 2k+1: pass k's beginning and end.

import type { KernelTimes } from '../backend.js';
import type { Allocator } from './allocator.js';
import type { KernelGroup } from './dispatchPlan.js';

/** Steps a profile measures at most (more are measured as this many). */
export const MAX_PROFILED_STEPS = 64;
/** The largest query set WebGPU allows. */
const MAX_QUERIES = 4096;

export class TimestampProfiler {
  /** Kernel group of each pass of a step, in encoding order. */
  readonly groups: readonly KernelGroup[];
  /** Steps one profile can hold. */
  readonly maxSteps: number;
  /** (S, Q) descriptors of every pass of every step, each writing its two timestamps. */
  readonly passes: readonly GPUComputePassDescriptor[];
  private readonly querySet: GPUQuerySet;
  /** (S, Q, 2) u64 nanoseconds */
  private readonly resolved: GPUBuffer;
  private readonly allocator: Allocator;

  constructor(allocator: Allocator, groups: readonly KernelGroup[]) {
    this.allocator = allocator;
    this.groups = groups;
    const queriesPerStep = 2 * groups.length;
    this.maxSteps = Math.max(1, Math.min(MAX_PROFILED_STEPS, Math.floor(MAX_QUERIES / queriesPerStep)));
    const count = this.maxSteps * queriesPerStep;
    this.querySet = allocator.device.createQuerySet({ label: 'kernel timestamps (S, Q, 2)', type: 'timestamp', count });
    this.resolved = allocator.buffer(
      'kernel timestamps resolved (S, Q, 2)',
      8 * count,
      GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    );
    const passes: GPUComputePassDescriptor[] = [];
    for (let s = 0; s < this.maxSteps; s++) {
      for (const [k, group] of groups.entries()) {
        const index = s * groups.length + k;
        passes.push({
          label: `profiled step ${s}: ${group}`,
          timestampWrites: {
            querySet: this.querySet,
            beginningOfPassWriteIndex: 2 * index,
            endOfPassWriteIndex: 2 * index + 1,
          },
        });
      }
    }
    this.passes = passes;
  }

  /** Bytes of the timestamps of `steps` steps. */
  bytes(steps: number): number {
    return 16 * this.groups.length * steps;
  }

  /** Resolves the timestamps of the first `steps` steps and copies them to the start of `staging`. */
  encodeResolve(encoder: GPUCommandEncoder, steps: number, staging: GPUBuffer): void {
    encoder.resolveQuerySet(this.querySet, 0, 2 * this.groups.length * steps, this.resolved, 0);
    encoder.copyBufferToBuffer(this.resolved, 0, staging, 0, this.bytes(steps));
  }

  /**
   * Mean milliseconds per step of each group, from the resolved timestamps of `steps` steps. An end
   * before its beginning (an implementation may give that across a clock reset) counts as 0.
   */
  times(timestamps: BigUint64Array, steps: number): KernelTimes {
    const ns: KernelTimes = { forward: 0, backward: 0, weightGradients: 0, update: 0 };
    for (let s = 0; s < steps; s++) {
      for (const [k, group] of this.groups.entries()) {
        const index = 2 * (s * this.groups.length + k);
        ns[group] += Math.max(0, Number(timestamps[index + 1] - timestamps[index]));
      }
    }
    const perStep = 1e-6 / steps;
    return {
      forward: ns.forward * perStep,
      backward: ns.backward * perStep,
      weightGradients: ns.weightGradients * perStep,
      update: ns.update * perStep,
    };
  }

  destroy(): void {
    this.querySet.destroy();
    this.allocator.release(this.resolved);
  }
}
