// The probe's cost on the CPU backend at the blog's shape (inputSize 1, hidden 30, outputSize 1,
// window 10), beside one training epoch of the blog's 40 windows at batch 8 on the same backend:
//   npm run bench:probe -- [--reps 21]
// Reported per case: the median and the spread (min-max) of `reps` timed calls after 5 warm-up calls.
// The cases: one window (what the Inside view probes under the pointer), the 40 windows (the blog's
// summaries), each with and without the connectivity, and one epoch (trainEpoch with evaluate).

import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { Rng } from '../src/data/rng.js';
import { initParams } from '../src/model/init.js';
import { paramLayout } from '../src/model/layout.js';

const reps = Number(process.argv[process.argv.indexOf('--reps') + 1]) || 21;
const layout = paramLayout({ inputSize: 1, hiddenSizes: [30], outputSize: 1, window: 10 });
const rng = new Rng(1);
const windows = 40;
const x = Float32Array.from({ length: windows * 10 }, () => rng.normal());
const t = Float32Array.from({ length: windows }, () => rng.normal());
const backend = new CpuBackend(layout);
backend.setParams(initParams(layout, rng));
backend.setTrainingData({ count: windows, window: 10, inputSize: 1, outputSize: 1, x, t }, 8);
const order = Uint32Array.from({ length: windows }, (_, n) => n);

async function time(name: string, call: () => Promise<unknown>): Promise<void> {
  for (let k = 0; k < 5; k++) await call();
  const ms: number[] = [];
  for (let k = 0; k < reps; k++) {
    const start = performance.now();
    await call();
    ms.push(performance.now() - start);
  }
  ms.sort((a, b) => a - b);
  const f = (v: number) => v.toFixed(3);
  console.log(`${name.padEnd(40)} median ${f(ms[reps >> 1])} ms  (${f(ms[0])}-${f(ms[reps - 1])})`);
}

console.log(`CPU backend (${backend.kernels} kernels for training; the probe runs lstm.ts), ${reps} reps`);
await time('probe, 1 window', () => backend.probe(x, 1));
await time('probe, 1 window, no connectivity', () => backend.probe(x, 1, { connectivity: false }));
await time(`probe, ${windows} windows`, () => backend.probe(x, windows));
await time(`probe, ${windows} windows, no connectivity`, () => backend.probe(x, windows, { connectivity: false }));
await time('one epoch (5 steps of 8, with the error)', async () => {
  await backend.trainEpoch(order, 0.01);
  await backend.readLosses();
});
await backend.dispose();
