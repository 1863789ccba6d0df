// Shared setup of the WebGPU test files: one device per file (Dawn in Node; SwiftShader where there is
// no GPU), and a wrapper that fails a test on any WebGPU error, captured or not. A missing adapter is a
// failure, not a skip: CI has SwiftShader, so no adapter there means something is broken.

import { afterAll, beforeAll, expect } from 'vitest';
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

/**
 * The test file's one device, made before its tests and destroyed after them: call the returned
 * function inside a test (or a describe.each case's body).
 */
export function fileGpuContext(): () => GpuContext {
  let context: GpuContext | null = null;
  beforeAll(async () => {
    context = await testGpuContext();
  });
  afterAll(() => context?.destroy());
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
