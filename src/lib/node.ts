// The library's entry point in Node: the public API (index.ts) with its backends opened on Node's
// platform (Dawn for WebGPU where the `webgpu` package is installed; worker threads for the CPU).

import { nodePlatform } from './nodePlatform.js';
import { usePlatform } from './platform.js';

usePlatform(nodePlatform);

export * from './index.js';
