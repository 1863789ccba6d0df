// The library's platform in Node: WebGPU from Dawn (the `webgpu` package, which the user installs
// beside this one; without it the GPU is simply absent), and the CPU backend's threads as
// worker_threads. The CLI opens its backends on it too.

import { nodeThreadHost } from '../backends/cpu/nodeThreads.js';
import { requestGpuContext } from '../backends/webgpu/context.js';
import { nodeGpu, nodeGpuLoadFailure } from '../backends/webgpu/nodeGpu.js';
import type { Platform } from './backends.js';

export const nodePlatform: Platform = {
  openGpu: async () => {
    const gpu = await nodeGpu();
    if (gpu === null) {
      const failure = nodeGpuLoadFailure();
      if (failure !== null) return { reason: `the webgpu module did not load (${failure})` };
      return { reason: 'no WebGPU adapter (no GPU driver, and no SwiftShader: apt-get install chromium libvulkan1)' };
    }
    const context = await requestGpuContext(gpu.gpu);
    return context === null ? { reason: 'the WebGPU adapter refused to create a device' } : { context };
  },
  threadHost: nodeThreadHost,
};
