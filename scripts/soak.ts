// A long run that shows resource hygiene: `node --expose-gc --import tsx --import ./scripts/register-raw.mjs
// scripts/soak.ts cpu|webgpu EPOCHS`. Trains a small model for EPOCHS epochs and prints one JSON object:
// GPU counters and the JS heap after warm-up and at the end, and (WebGPU) how many buffers it created
// and how many were still alive after dispose().

import type { Backend } from '../src/backends/backend.js';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { requestGpuContext } from '../src/backends/webgpu/context.js';
import { nodeGpu } from '../src/backends/webgpu/nodeGpu.js';
import { createWebGpuBackend } from '../src/backends/webgpu/webgpuBackend.js';
import { startRun } from '../src/train/run.js';
import { train } from '../src/train/trainer.js';

const [which = 'cpu', epochsText = '1000'] = process.argv.slice(2);
const epochs = Number(epochsText);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

const heap = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const run = startRun({
  seed: 1,
  source: { kind: 'generated', spec: { kind: 'sine', points: 24, noise: 0.1 } },
  window: 4,
  hiddenSizes: [6],
});
let backend: Backend;
const liveBuffers = new Set<GPUBuffer>();
let created = 0;
let destroyContext = (): void => {};
if (which === 'webgpu') {
  const gpu = await nodeGpu();
  const context = gpu === null ? null : await requestGpuContext(gpu.gpu);
  if (context === null) throw new Error('no WebGPU adapter');
  // Count every buffer the backend creates and every one it destroys.
  const device = context.device;
  const createBuffer = device.createBuffer.bind(device);
  device.createBuffer = (descriptor: GPUBufferDescriptor): GPUBuffer => {
    const buffer = createBuffer(descriptor);
    created++;
    liveBuffers.add(buffer);
    const destroy = buffer.destroy.bind(buffer);
    buffer.destroy = () => {
      liveBuffers.delete(buffer);
      destroy();
    };
    return buffer;
  };
  backend = await createWebGpuBackend(context, run.layout);
  destroyContext = () => context.destroy();
} else {
  backend = new CpuBackend(run.layout);
}
backend.setParams(run.params);
const counters = () => backend.gpu?.counters() ?? null;

const options = { epochs, batchSize: 4, learningRate: 0.01, reportEvery: 50 };
const trainer = train(backend, run.prepared.train, run.rng, options);
let warm: { heap: number; counters: ReturnType<typeof counters>; created: number } | null = null;
let finalLoss = Number.NaN;
for (;;) {
  const next = await trainer.next();
  if (next.done) {
    finalLoss = next.value.finalLoss;
    break;
  }
  if (next.value.epoch === 100) warm = { heap: heap(), counters: counters(), created };
}
const end = { heap: heap(), counters: counters(), created };
await backend.dispose();
const aliveAfterDispose = liveBuffers.size;
destroyContext();
console.log(JSON.stringify({ backend: which, epochs, finalLoss, warm, end, aliveAfterDispose }));
