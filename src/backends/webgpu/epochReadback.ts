// What comes back to the CPU once per report interval: each epoch's errors of every member (and their
// validation errors, where validation windows are given) and the weights after the last epoch. Each
// epoch's work ends with copies of its errors (one copy: the K losses sit side by side in a
// workspace's outputs) into the next slot of a mappable staging chunk and of the parameters into that
// chunk's weights region (overwriting the previous epoch's); read() maps the used chunks once, and the
// trainer's readParams that follows is answered from those weights. Chunks are made when an interval
// outgrows them and kept, so in steady state nothing is allocated. An epoch asked to probe windows
// (EpochOptions.probe) also copies its probe into a staging buffer of its own (made by the first such
// epoch, grown when a probe outgrows it), mapped by the same read(): one map more, no submit.
//
// Legend: K = members, P = parameter count. Chunk: [errors (SLOTS, K), validation errors (SLOTS, K),
// weights (K, P)], where SLOTS = SLOTS_PER_CHUNK.

import type { WindowProbe } from '../../model/probe.js';
import type { GpuCounters } from '../backend.js';
import type { Allocator } from './allocator.js';
import type { ProbeRun } from './probePass.js';
import type { SubmitPacer } from './submission.js';

const SLOTS_PER_CHUNK = 256;

export interface EpochResults {
  /** (K) each member's errors of the epochs copied since the last read, oldest first. */
  losses: number[][];
  /** (K) each member's validation errors of those of them that copied one for it, oldest first. */
  validationLosses: number[][];
  /** (K, P) the weights after the last of them. */
  params: Float32Array;
  /** The probe of the last of them that copied one (encodeProbe); null where none did. */
  probe: WindowProbe[] | null;
}

/** Where an epoch's K errors are: `offset` bytes into `buffer`. */
export interface ErrorsAt {
  buffer: GPUBuffer;
  offset: number;
}

export class EpochReadback {
  private readonly allocator: Allocator;
  private readonly counters: GpuCounters;
  private readonly members: number;
  private readonly paramBytes: number;
  private readonly pacer: SubmitPacer;
  private readonly chunks: GPUBuffer[] = [];
  private pending = 0;
  /** Per pending slot: whether it copied the errors over the training windows. */
  private withTraining: boolean[] = [];
  /** Per pending slot: which members' validation errors it copied (null: none). */
  private withValidation: (readonly boolean[] | null)[] = [];
  private mapping = false;
  /** Where epochs copy their probes, made by the first. */
  private probeStaging: GPUBuffer | null = null;
  /** The probe copied since the last read, if any: how its staged floats read. */
  private pendingProbe: ProbeRun | null = null;

  constructor(allocator: Allocator, counters: GpuCounters, members: number, paramCount: number, pacer: SubmitPacer) {
    this.allocator = allocator;
    this.counters = counters;
    this.members = members;
    this.paramBytes = 4 * members * paramCount;
    this.pacer = pacer;
    this.grow();
  }

  /** True while read() waits for a map: the chunks cannot be written then. */
  busy(): boolean {
    return this.mapping;
  }

  /**
   * Encodes the copies of an epoch's errors (where it computed them: null for an epoch of validation
   * errors alone), of its validation errors (where there are, for the members `validation.members`
   * says) and of `params` (K, P).
   */
  encodeEpoch(
    encoder: GPUCommandEncoder,
    errors: ErrorsAt | null,
    params: GPUBuffer,
    validation: { errors: ErrorsAt; members: readonly boolean[] } | null = null,
  ): void {
    const chunk = Math.floor(this.pending / SLOTS_PER_CHUNK);
    if (chunk === this.chunks.length) this.grow();
    const errorBytes = 4 * this.members;
    const slot = (this.pending % SLOTS_PER_CHUNK) * errorBytes;
    if (errors !== null) encoder.copyBufferToBuffer(errors.buffer, errors.offset, this.chunks[chunk], slot, errorBytes);
    if (validation !== null) {
      const { buffer, offset } = validation.errors;
      encoder.copyBufferToBuffer(buffer, offset, this.chunks[chunk], SLOTS_PER_CHUNK * errorBytes + slot, errorBytes);
    }
    encoder.copyBufferToBuffer(params, 0, this.chunks[chunk], 2 * SLOTS_PER_CHUNK * errorBytes, this.paramBytes);
    this.withTraining[this.pending] = errors !== null;
    this.withValidation[this.pending] = validation?.members ?? null;
    this.pending++;
  }

  /**
   * Encodes the copy of an epoch's probe (after its work and its encodeEpoch), replacing any earlier
   * since the last read; grows the probe's staging where it does not fit.
   */
  encodeProbe(encoder: GPUCommandEncoder, run: ProbeRun): void {
    if (this.probeStaging === null || this.probeStaging.size < run.bytes) {
      if (this.probeStaging !== null) this.allocator.release(this.probeStaging);
      this.probeStaging = this.allocator.buffer(
        'epoch probe readback',
        run.bytes,
        GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      );
    }
    run.copy(encoder, this.probeStaging, 0);
    this.pendingProbe = run;
  }

  /** What the epochs queued since the last read copied; null when there were none. */
  async read(): Promise<EpochResults | null> {
    const count = this.pending;
    if (count === 0) return null;
    const K = this.members;
    const errorBytes = 4 * K;
    const used = this.chunks.slice(0, Math.ceil(count / SLOTS_PER_CHUNK));
    const last = used.length - 1;
    const probe = this.pendingProbe;
    const probeStaging = probe === null ? null : this.probeStaging;
    this.mapping = true;
    try {
      await this.pacer.waitFor(() =>
        Promise.all([
          ...used.map((chunk, c) => {
            this.counters.readbacks++;
            // Only the last chunk's weights are wanted.
            const bytes = c === last ? chunk.size : 2 * SLOTS_PER_CHUNK * errorBytes;
            return chunk.mapAsync(GPUMapMode.READ, 0, bytes);
          }),
          ...(probe === null || probeStaging === null ? [] : [this.mapProbe(probeStaging, probe.bytes)]),
        ]),
      );
      let probes: WindowProbe[] | null = null;
      if (probe !== null && probeStaging !== null) {
        probes = probe.read(new Float32Array(probeStaging.getMappedRange(0, probe.bytes)));
        probeStaging.unmap();
      }
      const losses: number[][] = Array.from({ length: K }, () => []);
      const validationLosses: number[][] = Array.from({ length: K }, () => []);
      let params = new Float32Array(0);
      used.forEach((chunk, c) => {
        const first = c * SLOTS_PER_CHUNK;
        const slots = Math.min(SLOTS_PER_CHUNK, count - first);
        const errors = new Float32Array(chunk.getMappedRange(0, slots * errorBytes));
        const validation = new Float32Array(chunk.getMappedRange(SLOTS_PER_CHUNK * errorBytes, slots * errorBytes));
        for (let s = 0; s < slots; s++) {
          const members = this.withValidation[first + s];
          const training = this.withTraining[first + s];
          for (let m = 0; m < K; m++) {
            if (training) losses[m].push(errors[s * K + m]);
            if (members?.[m] === true) validationLosses[m].push(validation[s * K + m]);
          }
        }
        if (c === last) {
          params = new Float32Array(chunk.getMappedRange(2 * SLOTS_PER_CHUNK * errorBytes, this.paramBytes).slice(0));
        }
        chunk.unmap();
      });
      this.pending = 0;
      this.withTraining = [];
      this.withValidation = [];
      this.pendingProbe = null;
      return { losses, validationLosses, params, probe: probes };
    } finally {
      this.mapping = false;
    }
  }

  private mapProbe(staging: GPUBuffer, bytes: number): Promise<void> {
    this.counters.readbacks++;
    return staging.mapAsync(GPUMapMode.READ, 0, bytes);
  }

  private grow(): void {
    this.chunks.push(
      this.allocator.buffer(
        `epoch errors and weights ${this.chunks.length} (K = ${this.members})`,
        2 * SLOTS_PER_CHUNK * 4 * this.members + this.paramBytes,
        GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      ),
    );
  }
}
