// Where the library finds a GPU and threads. In a browser (the default): navigator.gpu, and the CPU
// backend on the calling thread (its threads need a cross-origin isolated page and a thread that may
// block, which a page's main thread is not). The Node entry (node.ts) sets nodePlatform instead.

import { requestGpuContext } from '../backends/webgpu/context.js';
import type { Platform } from './backends.js';

export const browserPlatform: Platform = {
  openGpu: async () => {
    const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    if (gpu === undefined) return { reason: 'this browser does not offer WebGPU (navigator.gpu is missing)' };
    const context = await requestGpuContext(gpu);
    return context === null ? { reason: 'no WebGPU adapter, or the adapter refused to create a device' } : { context };
  },
  threadHost: null,
};

let current: Platform = browserPlatform;

/** The platform the library's backends open on. */
export function platform(): Platform {
  return current;
}

/** Makes `next` the platform the library's backends open on (the Node entry's first line). */
export function usePlatform(next: Platform): void {
  current = next;
}
