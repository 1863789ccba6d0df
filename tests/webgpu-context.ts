// Shared setup of the WebGPU test files: one device per test worker (Dawn in Node; SwiftShader where
// there is no GPU), shared by the files of that worker that are not about devices, so its pipeline
// cache (a WeakMap per device) compiles each kernel once; tests about devices (loss, destroy, limits,
// features) make their own with testGpuContext. And a wrapper that fails a test on any WebGPU error,
// captured or not. A missing adapter is a failure, not a skip: CI has SwiftShader, so no adapter there
// means something is broken.

import { beforeAll, expect } from 'vitest';
import { type GpuContext, requestGpuContext } from '../src/backends/webgpu/context.js';
import { nodeGpu } from '../src/backends/webgpu/nodeGpu.js';

export async function testGpuContext(): Promise<GpuContext> {
  const node = await nodeGpu();
  if (node === null) {
    throw new Error(
      'no WebGPU adapter: Dawn found no Vulkan driver (install chromium for SwiftShader, or a GPU driver)',
    );
  }
  const context = await requestGpuContext(node.gpu);
  if (context === null) throw new Error('the WebGPU adapter gave no device');
  return context;
}

/** Where the worker keeps its device: on globalThis, so it outlives a module graph made per file. */
const WORKER_CONTEXT = Symbol.for('webgpu-lstm/tests/worker-gpu-context');

/**
 * The worker's one device (made on first use, and again only if a file left it lost or failed). Never
 * destroy it: it lives until the worker ends. A file that needs a device of its own uses testGpuContext.
 */
export async function workerGpuContext(): Promise<GpuContext> {
  const holder = globalThis as { [WORKER_CONTEXT]?: Promise<GpuContext> };
  const current = holder[WORKER_CONTEXT];
  if (current !== undefined) {
    const context = await current;
    if (context.failure() === null) return context;
    context.destroy();
  }
  const made = testGpuContext();
  holder[WORKER_CONTEXT] = made;
  made.catch(() => {
    if (holder[WORKER_CONTEXT] === made) delete holder[WORKER_CONTEXT];
  });
  return made;
}

/**
 * The test file's device, the worker's shared one, had before its tests: call the returned function
 * inside a test (or a describe.each case's body).
 */
export function fileGpuContext(): () => GpuContext {
  let context: GpuContext | null = null;
  beforeAll(async () => {
    context = await workerGpuContext();
  });
  return () => {
    if (context === null) throw new Error('the GPU context is made in beforeAll: use it inside a test');
    return context;
  };
}

/** Runs `body` inside validation and out-of-memory error scopes; any error, scoped or uncaptured, fails. */
export async function withoutGpuErrors<T>(context: GpuContext, body: () => Promise<T>): Promise<T> {
  const uncaptured: string[] = [];
  const stop = context.onError((message) => uncaptured.push(message));
  const { device } = context;
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  let result: T;
  try {
    result = await body();
  } finally {
    const outOfMemory = await device.popErrorScope();
    const validation = await device.popErrorScope();
    stop();
    expect(validation?.message ?? null, 'WebGPU validation error').toBeNull();
    expect(outOfMemory?.message ?? null, 'WebGPU out-of-memory error').toBeNull();
    expect(uncaptured, 'uncaptured WebGPU errors').toEqual([]);
  }
  return result;
}
