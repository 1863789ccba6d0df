// Benchmark of the WebGPU backend (Node, Dawn; SwiftShader where there is no GPU).
//   npm run bench:webgpu -- [seed | flops H B | schedules]
// seed: the blog's defaults (T 10, H 30, B 8, 101 epochs, report every 10), each variant the adapter
//       may use and auto (calibrated), steps/s (median of 5 runs, the trainer's own clock: the loop
//       with the per-epoch error, after setup and calibration).
// flops H B [steps]: GFLOP/s of training steps at hidden H, batch B (window 10, 1 input, 1 output),
//       FLOPs from src/model/flops.ts, the per-epoch error left out (evaluate: false).

import { requestGpuContext } from '../src/backends/webgpu/context.js';
import { nodeGpu } from '../src/backends/webgpu/nodeGpu.js';
import { candidateVariants, type Variant, variantName } from '../src/backends/webgpu/tuning.js';
import { createWebGpuBackend } from '../src/backends/webgpu/webgpuBackend.js';
import { trainStepFlops } from '../src/model/flops.js';
import { startRun } from '../src/train/run.js';
import { trainToEnd } from '../src/train/trainer.js';

const node = await nodeGpu();
const context = node === null ? null : await requestGpuContext(node.gpu);
if (context === null) throw new Error('no WebGPU adapter');
const { adapter } = context;
console.log(
  `adapter: ${adapter.vendor} ${adapter.architecture} ${adapter.description}${adapter.software ? ' (software)' : ''}`,
);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function seedRun(variant: Variant | 'auto', epochs: number, hidden = 30, batch = 8, points = 50) {
  const run = startRun({
    seed: 1,
    source: { kind: 'generated', spec: { kind: 'sine', points, noise: 0.1 } },
    window: 10,
    hiddenSizes: [hidden],
  });
  const backend = await createWebGpuBackend(context!, run.layout, variant === 'auto' ? {} : variant);
  backend.setParams(run.params);
  backend.setTrainingData(run.prepared.train, batch);
  await backend.calibrate();
  const before = backend.counters();
  const result = await trainToEnd(backend, run.prepared.train, run.rng, {
    epochs,
    batchSize: batch,
    learningRate: 0.01,
    reportEvery: 10,
  });
  const after = backend.counters();
  const info = {
    variant: backend.variantName(),
    dispatchesPerStep: backend.dispatchesPerStep(),
    stepsPerSecond: result.steps / result.seconds,
    submitsPerEpoch: (after.submits - before.submits) / epochs,
    readbacks: after.readbacks - before.readbacks,
    finalLoss: result.finalLoss,
  };
  backend.dispose();
  return info;
}

const mode = process.argv[2] ?? 'seed';
if (mode === 'seed') {
  for (const variant of [...candidateVariants(adapter, 'auto', 'auto'), 'auto' as const]) {
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(await seedRun(variant, 101));
    const r = runs[0];
    console.log(
      `${variant === 'auto' ? 'auto' : variantName(variant)} -> ${r.variant}: ${median(runs.map((x) => x.stepsPerSecond)).toFixed(0)} steps/s (runs: ${runs
        .map((x) => x.stepsPerSecond.toFixed(0))
        .join(
          ', ',
        )}), ${r.dispatchesPerStep} dispatches/step, ${r.submitsPerEpoch} submits/epoch, ${r.readbacks} readbacks in 101 epochs, final error ${r.finalLoss.toFixed(4)}`,
    );
  }
} else if (mode === 'flops') {
  const hidden = Number(process.argv[3] ?? 256);
  const batch = Number(process.argv[4] ?? 64);
  const steps = Number(process.argv[5] ?? 3);
  // points: exactly one minibatch an epoch; epochs without the error, so only training steps are timed.
  const run = startRun({
    seed: 1,
    source: { kind: 'generated', spec: { kind: 'sine', points: batch + 10, noise: 0.1 } },
    window: 10,
    hiddenSizes: [hidden],
  });
  const backend = await createWebGpuBackend(context, run.layout);
  backend.setParams(run.params);
  backend.setTrainingData(run.prepared.train, batch);
  await backend.calibrate();
  const order = new Uint32Array(batch);
  run.rng.permutation(order);
  await backend.trainEpoch(order, 0.001, { evaluate: false }); // warm-up
  await backend.readParams();
  const start = performance.now();
  for (let s = 0; s < steps; s++) await backend.trainEpoch(order, 0.001, { evaluate: false });
  await backend.readParams(); // waits for the steps (and reads P values back: small next to them)
  const seconds = (performance.now() - start) / 1000;
  const perStep = trainStepFlops(run.config, batch);
  console.log(
    `hidden ${hidden}, batch ${batch}, window 10, ${backend.variantName()}: ${(perStep / 1e9).toFixed(2)} GFLOP a step, ${(seconds / steps).toFixed(3)} s a step (${steps} steps), ${((perStep * steps) / seconds / 1e9).toFixed(2)} GFLOP/s`,
  );
  backend.dispose();
}
context.destroy();
