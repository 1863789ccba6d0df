// What an epoch's probe (EpochOptions.probe) costs the WebGPU backend at the blog's defaults (T 10,
// H 30, B 8, a sine of 200 points, a report every 10 epochs): ms a report with no probe, with a probe
// of one window (the Inside view's hovered window) and of 40 windows (held-out windows for the
// connectivity), in rounds that rotate their order so a loaded machine's drift falls on all alike;
// and what each adds to the counters a report (submits, readbacks, buffers). Also probe() alone.
// On a software adapter the times say what SwiftShader costs, not what a GPU would.
//
// Usage: npm run bench:probe-webgpu -- [rounds]

import type { EpochProbe } from '../src/backends/backend.js';
import { requestGpuContext } from '../src/backends/webgpu/context.js';
import { nodeGpu } from '../src/backends/webgpu/nodeGpu.js';
import { createWebGpuBackend } from '../src/backends/webgpu/webgpuBackend.js';
import { Rng } from '../src/data/rng.js';
import { initParams } from '../src/model/init.js';
import { paramLayout } from '../src/model/layout.js';

const T = 10;
const EPOCHS_A_REPORT = 10;
const rounds = Number(process.argv[2] ?? 3);

const node = await nodeGpu();
const context = node === null ? null : await requestGpuContext(node.gpu);
if (context === null) throw new Error('no WebGPU adapter');
const layout = paramLayout({ inputSize: 1, hiddenSizes: [30], outputSize: 1, window: T });
const series = Float32Array.from({ length: 200 }, (_, i) => Math.sin(i / 5));
const count = series.length - T;
const x = new Float32Array(count * T);
const t = new Float32Array(count);
for (let n = 0; n < count; n++) {
  x.set(series.subarray(n, n + T), n * T);
  t[n] = series[n + T];
}
const backend = await createWebGpuBackend(context, layout);
backend.setParams(initParams(layout, new Rng(1)));
backend.setTrainingData({ count, window: T, inputSize: 1, outputSize: 1, x, t }, 8);
await backend.calibrate();
const order = Uint32Array.from({ length: count }, (_, i) => i);

const cases: { name: string; probe: EpochProbe | null }[] = [
  { name: 'no probe', probe: null },
  { name: 'probe of 1 window', probe: { x: x.slice(0, T), count: 1 } },
  { name: 'probe of 40 windows', probe: { x: x.slice(0, 40 * T), count: 40 } },
];

async function report(probe: EpochProbe | null): Promise<void> {
  for (let e = 1; e <= EPOCHS_A_REPORT; e++) {
    await backend.trainEpoch(order, 0.01, e === EPOCHS_A_REPORT && probe !== null ? { probe } : {});
  }
  await backend.readLosses();
}

const times = new Map<string, number[]>(cases.map(({ name }) => [name, []]));
const added = new Map<string, { submits: number; readbacks: number; buffersCreated: number }>();
for (const { probe } of cases) await report(probe); // warm-up: pipelines and buffers
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < cases.length; k++) {
    const { name, probe } = cases[(r + k) % cases.length];
    const before = backend.counters();
    const start = performance.now();
    await report(probe);
    times.get(name)?.push(performance.now() - start);
    const after = backend.counters();
    added.set(name, {
      submits: after.submits - before.submits,
      readbacks: after.readbacks - before.readbacks,
      buffersCreated: after.buffersCreated - before.buffersCreated,
    });
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const probeAlone: Record<string, number> = {};
for (const n of [1, 40]) {
  await backend.probe(x, n);
  const start = performance.now();
  for (let r = 0; r < 5; r++) await backend.probe(x, n);
  probeAlone[`probe() of ${n}`] = (performance.now() - start) / 5;
}
console.log(
  JSON.stringify(
    {
      adapter: backend.adapter,
      variant: backend.variantName(),
      msPerReport: Object.fromEntries(cases.map(({ name }) => [name, median(times.get(name) ?? [])])),
      perReport: Object.fromEntries(added),
      msProbeAlone: probeAlone,
    },
    null,
    2,
  ),
);
await backend.dispose();
context.destroy();
