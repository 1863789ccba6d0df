// Per-epoch errors on their way back to the CPU. Each epoch's submit ends with a copy of its error
// (4 bytes) into the next slot of a mappable staging chunk; readLosses maps the used chunks once per
// report interval. Chunks are made when the interval outgrows them and kept for later intervals, so
// in steady state nothing is allocated and there is one readback per report.

import type { GpuCounters } from '../backend.js';
import type { Allocator } from './passes.js';

const SLOTS_PER_CHUNK = 256;

export class LossReadback {
  private readonly allocator: Allocator;
  private readonly counters: GpuCounters;
  private readonly chunks: GPUBuffer[] = [];
  private pending = 0;
  private mapping = false;

  constructor(allocator: Allocator, counters: GpuCounters) {
    this.allocator = allocator;
    this.counters = counters;
    this.grow();
  }

  /** True while readLosses waits for a map: the chunks cannot be written then. */
  busy(): boolean {
    return this.mapping;
  }

  /** Encodes the copy of `source`'s 4 bytes at `offset` into the next free slot. */
  encodeCopy(encoder: GPUCommandEncoder, source: GPUBuffer, offset: number): void {
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
