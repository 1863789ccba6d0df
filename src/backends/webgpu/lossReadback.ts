// Per-epoch errors on their way back to the CPU. Each epoch's submit ends with a copy of its error
// (4 bytes) into the next slot of a mappable staging chunk; readLosses maps the used chunks once per
// report interval. Chunks are made when the interval outgrows them and kept for later intervals, so
// in steady state nothing is allocated and there is one readback per report.
//
// Paced waiting: Dawn in Node resolves a map by polling in a setImmediate loop, which keeps a CPU core
// busy for as long as the GPU works; on SwiftShader that core is one the GPU needed. Where the context
// says the runtime waits that way, read() first sleeps through most of the time the queued epochs
// should take (measured on earlier intervals), then maps.

import type { GpuCounters } from '../backend.js';
import type { Allocator } from './passes.js';

const SLOTS_PER_CHUNK = 256;
/** Share of the expected remaining GPU time slept before mapping (the rest is polled). */
const PACED_SHARE = 0.85;

export class LossReadback {
  private readonly allocator: Allocator;
  private readonly counters: GpuCounters;
  private readonly chunks: GPUBuffer[] = [];
  private pending = 0;
  private mapping = false;
  private readonly paced: boolean;
  /** When the first epoch of this interval was queued. */
  private intervalStart = 0;
  /** Milliseconds an epoch took, from the last interval; null before one was read. */
  private msPerEpoch: number | null = null;

  constructor(allocator: Allocator, counters: GpuCounters, paced: boolean) {
    this.allocator = allocator;
    this.counters = counters;
    this.paced = paced;
    this.grow();
  }

  /** True while readLosses waits for a map: the chunks cannot be written then. */
  busy(): boolean {
    return this.mapping;
  }

  /** Encodes the copy of `source`'s 4 bytes at `offset` into the next free slot. */
  encodeCopy(encoder: GPUCommandEncoder, source: GPUBuffer, offset: number): void {
    if (this.pending === 0) this.intervalStart = performance.now();
    const chunk = Math.floor(this.pending / SLOTS_PER_CHUNK);
    if (chunk === this.chunks.length) this.grow();
    encoder.copyBufferToBuffer(source, offset, this.chunks[chunk], (this.pending % SLOTS_PER_CHUNK) * 4, 4);
    this.pending++;
  }

  /** The values copied since the last read, oldest first. */
  async read(): Promise<number[]> {
    const count = this.pending;
    if (count === 0) return [];
    const used = this.chunks.slice(0, Math.ceil(count / SLOTS_PER_CHUNK));
    this.mapping = true;
    try {
      if (this.paced && this.msPerEpoch !== null) {
        const due = this.intervalStart + count * this.msPerEpoch;
        const sleep = PACED_SHARE * (due - performance.now());
        if (sleep > 1) await new Promise((resolve) => setTimeout(resolve, sleep));
      }
      await Promise.all(
        used.map((chunk, c) => {
          this.counters.readbacks++;
          return chunk.mapAsync(GPUMapMode.READ, 0, 4 * Math.min(SLOTS_PER_CHUNK, count - c * SLOTS_PER_CHUNK));
        }),
      );
      const values: number[] = [];
      used.forEach((chunk, c) => {
        const slots = Math.min(SLOTS_PER_CHUNK, count - c * SLOTS_PER_CHUNK);
        for (const value of new Float32Array(chunk.getMappedRange(0, 4 * slots))) values.push(value);
        chunk.unmap();
      });
      this.msPerEpoch = (performance.now() - this.intervalStart) / count;
      this.pending = 0;
      return values;
    } finally {
      this.mapping = false;
    }
  }

  private grow(): void {
    this.chunks.push(
      this.allocator.buffer(
        `epoch errors ${this.chunks.length}`,
        4 * SLOTS_PER_CHUNK,
        GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      ),
    );
  }
}
