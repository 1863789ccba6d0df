// The CPU backend's threads in Node: worker_threads, each running a few lines of plain JavaScript
// (no TypeScript loader needed in the worker) that instantiate the kernels on the shared memory and
// enter threadMain. Workers are unref'd, so a forgotten backend never keeps Node alive; dispose()
// ends them. (A browser's threads run the same few lines, in cpuThread.ts.) Also: relaxed SIMD for
// Node 20, whose V8 has it behind a flag.

import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { relaxedSimdValidates } from './fastLstm.js';
import type { CpuThreadHost, ThreadHandle, ThreadStart } from './threads.js';

const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, index } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory, now: () => performance.now() } }).exports;
parentPort.postMessage('ready');
try {
  kernels.threadMain(index);
} catch (err) {
  kernels.fail();
  throw err;
}
`;

/** Workers started and not yet exited. */
const alive = new Set<Worker>();

/** How many of the CPU backend's worker threads are alive in this process (none after every dispose()). */
export function liveNodeThreads(): number {
  return alive.size;
}

export const nodeThreadHost: CpuThreadHost = {
  cores: availableParallelism(),
  problem: () => null,
  spawn: (start: ThreadStart) =>
    new Promise<ThreadHandle>((resolve, reject) => {
      const worker = new Worker(THREAD_SOURCE, {
        eval: true,
        workerData: start,
        execArgv: [],
        name: `cpu thread ${start.index}`,
      });
      worker.unref();
      alive.add(worker);
      worker.once('exit', () => alive.delete(worker));
      worker.once('message', () => resolve({ terminate: () => void worker.terminate() }));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the thread exited (${code}) before it started`)));
    }),
};

/**
 * Lets the kernels use relaxed SIMD's fused multiply-add in Node 20 (V8 11.3 has it behind
 * --experimental-wasm-relaxed-simd; later Node versions have it on, and this changes nothing).
 * Call before the first CPU backend is made: the kernels' variant is chosen once.
 */
export function allowRelaxedSimd(): void {
  if (!relaxedSimdValidates()) setFlagsFromString('--experimental-wasm-relaxed-simd');
}
