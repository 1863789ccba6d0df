// One WebGPU device and everything known about it: the adapter's description, the limits asked for,
// and the one place where device loss and uncaptured errors are caught and kept. requestGpuContext is
// the lazy probe: null on any failure (no `gpu` object, no adapter, requestDevice throws), never an
// exception; it asks for 'timestamp-query' where the adapter offers it (only profiling uses it).

import type { AdapterDescription } from '../backend.js';

/** The limits the WebGPU backend sizes itself against; requested up to what the adapter offers. */
export interface GpuLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  maxStorageBuffersPerShaderStage: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupsPerDimension: number;
  maxUniformBufferBindingSize: number;
  minUniformBufferOffsetAlignment: number;
  maxDynamicUniformBuffersPerPipelineLayout: number;
  maxBindGroups: number;
}

const REQUESTED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxUniformBufferBindingSize',
  'maxDynamicUniformBuffersPerPipelineLayout',
  'maxBindGroups',
] as const satisfies readonly (keyof GpuLimits)[];

/** Awaits a promise of a device's. */
export type GpuWait = <T>(promise: Promise<T>) => Promise<T>;

/** The longest a wait for Dawn in Node sleeps between two polls (ms): how late it may see the GPU done. */
const POLL_MS = 1;

/**
 * Awaits `promise`, a promise of a device's, in Node. Dawn settles such a promise only by polling from
 * a `setImmediate` loop, which keeps a CPU core busy for as long as the GPU works; on SwiftShader that
 * is a core the GPU's own threads need. So this thread sleeps POLL_MS between the loop's turns: the
 * poll still comes, at most that late, and the core is free in between.
 */
export async function pollGently<T>(promise: Promise<T>): Promise<T> {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  let settled = false;
  const pause = (): void => {
    if (settled) return;
    Atomics.wait(sleeper, 0, 0, POLL_MS);
    setImmediate(pause);
  };
  setImmediate(pause);
  try {
    return await promise;
  } finally {
    settled = true;
  }
}

export interface GpuContext {
  readonly device: GPUDevice;
  readonly adapter: AdapterDescription;
  readonly limits: GpuLimits;
  /** Resolves with the reason when the device is lost (destroy() included). */
  readonly lost: Promise<string>;
  /** Awaits a promise of the device's (onSubmittedWorkDone, a map): in Node by pollGently. */
  readonly wait: GpuWait;
  /** True where the device has 'timestamp-query': compute passes can time themselves on the GPU. */
  readonly timestamps: boolean;
  /** The first uncaptured error or the loss of the device; null while all is well. */
  failure(): string | null;
  /** Calls `listener` with every uncaptured error and with the loss of the device; returns an unsubscribe. */
  onError(listener: (message: string) => void): () => void;
  destroy(): void;
}

const SOFTWARE_ADAPTERS = /swiftshader|llvmpipe|lavapipe|softpipe|warp|basic render/i;

export function describeAdapter(info: GPUAdapterInfo): AdapterDescription {
  const fallback = (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const text = `${info.vendor} ${info.architecture} ${info.description} ${info.device}`;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    description: info.description,
    software: fallback || SOFTWARE_ADAPTERS.test(text),
  };
}

export interface GpuContextOptions {
  /** Ask for 'timestamp-query' where the adapter offers it (default true; false gives a device without it). */
  timestampQuery?: boolean;
}

/** An adapter and device on `gpu` (navigator.gpu, or nodeGpu()'s), or null on any failure. */
export async function requestGpuContext(
  gpu: GPU | undefined | null,
  options: GpuContextOptions = {},
): Promise<GpuContext | null> {
  if (gpu === undefined || gpu === null) return null;
  let device: GPUDevice;
  let adapterInfo: GPUAdapterInfo;
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (adapter === null) return null;
    adapterInfo = adapter.info;
    const requiredLimits: Record<string, number> = {};
    for (const name of REQUESTED_LIMITS) requiredLimits[name] = adapter.limits[name];
    const descriptor: GPUDeviceDescriptor = { label: 'webgpu-lstm', requiredLimits };
    if (options.timestampQuery !== false && adapter.features.has('timestamp-query')) {
      // An optional extra: a device refused with it is asked for again without.
      device = await adapter
        .requestDevice({ ...descriptor, requiredFeatures: ['timestamp-query'] })
        .catch(() => adapter.requestDevice(descriptor));
    } else {
      device = await adapter.requestDevice(descriptor);
    }
  } catch {
    return null;
  }
  return wrapDevice(device, describeAdapter(adapterInfo));
}

function wrapDevice(device: GPUDevice, adapter: AdapterDescription): GpuContext {
  const listeners = new Set<(message: string) => void>();
  let firstFailure: string | null = null;
  let destroyed = false;
  const report = (message: string): void => {
    if (firstFailure === null) firstFailure = message;
    for (const listener of listeners) listener(message);
  };
  device.addEventListener('uncapturederror', (event) => {
    const error = (event as GPUUncapturedErrorEvent).error;
    report(`${error.constructor.name}: ${error.message}`);
  });
  const lost = device.lost.then((info) => {
    const reason = `device lost (${info.reason}): ${info.message}`;
    // Our own destroy() is not a failure worth reporting.
    if (!destroyed) report(reason);
    return reason;
  });
  const limits = {} as GpuLimits;
  for (const name of REQUESTED_LIMITS) limits[name] = device.limits[name];
  limits.minUniformBufferOffsetAlignment = device.limits.minUniformBufferOffsetAlignment;
  return {
    device,
    adapter,
    limits,
    lost,
    wait: typeof process !== 'undefined' && process.versions?.node !== undefined ? pollGently : (promise) => promise,
    timestamps: device.features.has('timestamp-query'),
    failure: () => firstFailure,
    onError(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    destroy() {
      destroyed = true;
      device.destroy();
    },
  };
}
