// Every GPU buffer of one WebGPU backend: made here (labelled, counted, at least 16 bytes), released
// one by one or all at once by dispose(). Also the uniform buffers of per-entry records that shaders
// read one entry at a time through a dynamic offset.

import type { GpuCounters } from '../backend.js';

export class Allocator {
  readonly device: GPUDevice;
  private readonly counters: GpuCounters;
  private readonly live = new Set<GPUBuffer>();

  constructor(device: GPUDevice, counters: GpuCounters) {
    this.device = device;
    this.counters = counters;
  }

  /** A buffer of at least `bytes` (rounded up to 16), optionally filled with `data`. */
  buffer(label: string, bytes: number, usage: GPUBufferUsageFlags, data?: Float32Array | Uint32Array): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const buffer = this.device.createBuffer({ label, size, usage, mappedAtCreation: data !== undefined });
    if (data !== undefined) {
      const view =
        data instanceof Float32Array
          ? new Float32Array(buffer.getMappedRange())
          : new Uint32Array(buffer.getMappedRange());
      view.set(data);
      buffer.unmap();
    }
    this.counters.buffersCreated++;
    this.live.add(buffer);
    return buffer;
  }

  storage(label: string, bytes: number, extraUsage: GPUBufferUsageFlags = 0): GPUBuffer {
    return this.buffer(label, bytes, GPUBufferUsage.STORAGE | extraUsage);
  }

  /**
   * A uniform buffer of `entries` records a uniformStride apart, each four u32s (the structs of
   * params.wgsl): record e is `record(e)`.
   */
  uniformEntries(label: string, entries: number, record: (entry: number) => readonly number[]): GPUBuffer {
    const stride = uniformStride(this.device) / 4;
    const data = new Uint32Array(entries * stride);
    for (let e = 0; e < entries; e++) data.set(record(e), e * stride);
    return this.buffer(label, data.byteLength, GPUBufferUsage.UNIFORM, data);
  }

  release(buffer: GPUBuffer): void {
    if (this.live.delete(buffer)) buffer.destroy();
  }

  releaseAll(): void {
    for (const buffer of this.live) buffer.destroy();
    this.live.clear();
  }
}

/** Bytes between the entries of a dynamically offset uniform buffer (at least the device's alignment). */
export function uniformStride(device: GPUDevice): number {
  return Math.max(256, device.limits.minUniformBufferOffsetAlignment);
}

/**
 * A copy of `buffers` (their first `bytes` each, back to back), for work that must leave them as they
 * were (calibration, profiling): save() and restore() encode the copies; release() when the GPU is done.
 */
export class BufferBackup {
  private readonly allocator: Allocator;
  private readonly buffers: readonly GPUBuffer[];
  private readonly bytes: number;
  private readonly backup: GPUBuffer;

  constructor(allocator: Allocator, label: string, buffers: readonly GPUBuffer[], bytes: number) {
    this.allocator = allocator;
    this.buffers = buffers;
    this.bytes = bytes;
    this.backup = allocator.storage(
      `${label} (${buffers.length} x ${bytes} bytes)`,
      buffers.length * bytes,
      GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    );
  }

  save(encoder: GPUCommandEncoder): void {
    for (const [i, buffer] of this.buffers.entries()) {
      encoder.copyBufferToBuffer(buffer, 0, this.backup, i * this.bytes, this.bytes);
    }
  }

  restore(encoder: GPUCommandEncoder): void {
    for (const [i, buffer] of this.buffers.entries()) {
      encoder.copyBufferToBuffer(this.backup, i * this.bytes, buffer, 0, this.bytes);
    }
  }

  release(): void {
    this.allocator.release(this.backup);
  }
}
