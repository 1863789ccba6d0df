// What comes back to the CPU once per report interval: each epoch's error (and its validation error,
// where a validation set is given) and the weights after the last epoch. Each epoch's work ends with
// copies of its errors into the next slot of a mappable staging chunk and of the parameters into that
// chunk's weights region (overwriting the previous epoch's); read() maps the used chunks once, and the
// trainer's readParams that follows is answered from those weights. Chunks are made when an interval
// outgrows them and kept, so in steady state nothing is allocated.
//
// Legend: P = parameter count. Chunk: [errors (SLOTS), validation errors (SLOTS), weights (P)], where
// SLOTS = SLOTS_PER_CHUNK.

import type { GpuCounters } from '../backend.js';
import type { Allocator } from './allocator.js';
import type { SubmitPacer } from './submission.js';

const SLOTS_PER_CHUNK = 256;

export interface EpochResults {
  /** The errors of the epochs copied since the last read, oldest first. */
  losses: number[];
  /** The validation errors of those of them that copied one, oldest first. */
  validationLosses: number[];
  /** (P) the weights after the last of them. */
  params: Float32Array;
}

export class EpochReadback {
  private readonly allocator: Allocator;
  private readonly counters: GpuCounters;
  private readonly paramBytes: number;
  private readonly pacer: SubmitPacer;
  private readonly chunks: GPUBuffer[] = [];
  private pending = 0;
  /** Per slot of the chunks: whether its pending epoch copied a validation error (1) or not (0). */
  private withValidation = new Uint8Array(0);
  private mapping = false;

  constructor(allocator: Allocator, counters: GpuCounters, paramCount: number, pacer: SubmitPacer) {
    this.allocator = allocator;
    this.counters = counters;
    this.paramBytes = 4 * paramCount;
    this.pacer = pacer;
    this.grow();
  }

  /** True while read() waits for a map: the chunks cannot be written then. */
  busy(): boolean {
    return this.mapping;
  }

  /**
   * Encodes the copies of an epoch's error (4 bytes of `error` at `offset`), of its validation error
   * (4 bytes of `validation.buffer` at `validation.offset`, where there is one) and of `params`.
   */
  encodeEpoch(
    encoder: GPUCommandEncoder,
    error: GPUBuffer,
    offset: number,
    params: GPUBuffer,
    validation: { buffer: GPUBuffer; offset: number } | null = null,
  ): void {
    const chunk = Math.floor(this.pending / SLOTS_PER_CHUNK);
    if (chunk === this.chunks.length) this.grow();
    const slot = (this.pending % SLOTS_PER_CHUNK) * 4;
    encoder.copyBufferToBuffer(error, offset, this.chunks[chunk], slot, 4);
    if (validation !== null) {
      encoder.copyBufferToBuffer(
        validation.buffer,
        validation.offset,
        this.chunks[chunk],
        4 * SLOTS_PER_CHUNK + slot,
        4,
      );
    }
    encoder.copyBufferToBuffer(params, 0, this.chunks[chunk], 8 * SLOTS_PER_CHUNK, this.paramBytes);
    this.withValidation[this.pending] = validation === null ? 0 : 1;
    this.pending++;
  }

  /** What the epochs queued since the last read copied; null when there were none. */
  async read(): Promise<EpochResults | null> {
    const count = this.pending;
    if (count === 0) return null;
    const used = this.chunks.slice(0, Math.ceil(count / SLOTS_PER_CHUNK));
    const last = used.length - 1;
    this.mapping = true;
    try {
      await this.pacer.waitFor(() =>
        Promise.all(
          used.map((chunk, c) => {
            this.counters.readbacks++;
            // Only the last chunk's weights are wanted.
            const bytes = c === last ? chunk.size : 8 * SLOTS_PER_CHUNK;
            return chunk.mapAsync(GPUMapMode.READ, 0, bytes);
          }),
        ),
      );
      const losses: number[] = [];
      const validationLosses: number[] = [];
      let params = new Float32Array(0);
      used.forEach((chunk, c) => {
        const first = c * SLOTS_PER_CHUNK;
        const slots = Math.min(SLOTS_PER_CHUNK, count - first);
        for (const value of new Float32Array(chunk.getMappedRange(0, 4 * slots))) losses.push(value);
        const validation = new Float32Array(chunk.getMappedRange(4 * SLOTS_PER_CHUNK, 4 * slots));
        for (let s = 0; s < slots; s++) if (this.withValidation[first + s] === 1) validationLosses.push(validation[s]);
        if (c === last) params = new Float32Array(chunk.getMappedRange(8 * SLOTS_PER_CHUNK, this.paramBytes).slice(0));
        chunk.unmap();
      });
      this.pending = 0;
      return { losses, validationLosses, params };
    } finally {
      this.mapping = false;
    }
  }

  private grow(): void {
    const flags = new Uint8Array((this.chunks.length + 1) * SLOTS_PER_CHUNK);
    flags.set(this.withValidation);
    this.withValidation = flags;
    this.chunks.push(
      this.allocator.buffer(
        `epoch errors and weights ${this.chunks.length}`,
        8 * SLOTS_PER_CHUNK + this.paramBytes,
        GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      ),
    );
  }
}
