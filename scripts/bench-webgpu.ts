// Benchmark of the WebGPU backend (Node, Dawn; SwiftShader where there is no GPU).
//   npm run bench:webgpu -- [seed | flops H B | schedules]
// seed: the blog's defaults (T 10, H 30, B 8, 101 epochs, report every 10), each variant the adapter
//       may use and auto (calibrated), steps/s (median of 5 runs, the trainer's own clock: the loop
//       with the per-epoch error, after setup and calibration).
// flops H B [steps]: GFLOP/s of training steps at hidden H, batch B (window 10, 1 input, 1 output),
//       FLOPs from src/model/flops.ts, the per-epoch error left out (evaluate: false).
// members [K …] [variant]: populations of K members (default 1 16 64 256) at the blog's size, side by
//       side in one process (rounds alternating between the Ks, so that a busy moment on a shared
//       machine falls on all of them): member-steps/s (median of the rounds; each member's error every
//       epoch, read every 10, as a run does), the process's CPU time a member-step (SwiftShader's
//       threads included: what a busy machine's preemption does not inflate as it does the wall time),
//       dispatches a population step and submits an epoch.
//       `variant` is e.g. fused/software (default: calibrated). `unpaired` adds, for each K of 2 or
//       more, the same population with one quad an item of the fused rows kernel (as before paired
//       items: KernelTuning.fusedPairedMembers), in the same rounds. Then, rounds alternating again,
//       profileSteps(5) of each (training steps only, no error): the first kernel group's GPU time
//       (the fused rows kernel on the fused path) and the process's CPU time, a member-step.

import { sharedRanges } from '../src/backends/population.js';
import { requestGpuContext } from '../src/backends/webgpu/context.js';
import { nodeGpu } from '../src/backends/webgpu/nodeGpu.js';
import {
  candidateVariants,
  type Schedule,
  type TuningName,
  type Variant,
  variantName,
} from '../src/backends/webgpu/tuning.js';
import { createWebGpuBackend, createWebGpuPopulation } from '../src/backends/webgpu/webgpuBackend.js';
import { Rng } from '../src/data/rng.js';
import { trainStepFlops } from '../src/model/flops.js';
import { initParams } from '../src/model/init.js';
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

/**
 * Populations of each size in `sizes` at the blog's size (window 10, hidden 30, batch 8, the blog's
 * sine), each member with its own weights and orders, SGD at 0.01: rounds of epochs alternating
 * between the sizes; per size the median member-steps/s over the rounds.
 */
async function membersBench(sizes: number[], variant: Partial<Variant>, unpaired: boolean) {
  const run = startRun({
    seed: 1,
    source: { kind: 'generated', spec: { kind: 'sine', points: 50, noise: 0.1 } },
    window: 10,
    hiddenSizes: [30],
  });
  const batch = 8;
  const data = run.prepared.train;
  const rng = new Rng(2);
  const engines = [];
  const cases = sizes.flatMap((K) => [{ K, paired: true }, ...(unpaired && K > 1 ? [{ K, paired: false }] : [])]);
  for (const { K, paired } of cases) {
    const engine = await createWebGpuPopulation(context!, run.layout, K, { ...variant, pairedItems: paired });
    for (let m = 0; m < K; m++) engine.setMemberParams(m, initParams(run.layout, new Rng(100 + m)));
    engine.setMemberTraining(data, batch, sharedRanges(K, data.count));
    const calibration = await engine.calibrate();
    const orders = Array.from({ length: K }, () => new Uint32Array(data.count));
    const learningRates = orders.map(() => 0.01);
    const epoch = async () => {
      for (const order of orders) rng.permutation(order);
      await engine.trainMembers({ orders, learningRates });
    };
    // A warm-up: the first epochs build nothing, but let the submit pacer learn the device's rate.
    for (let e = 0; e < 3; e++) await epoch();
    await engine.readMemberLosses();
    engines.push({ K, paired, engine, epoch, calibration, rates: [] as number[], cpuMs: [] as number[], submits: 0 });
  }
  const stepsPerEpoch = Math.floor(data.count / batch);
  for (let round = 0; round < 5; round++) {
    for (const entry of engines) {
      // About the same member-steps a round at every size.
      const epochs = Math.max(2, Math.round(200 / entry.K));
      const before = entry.engine.counters().submits;
      const start = performance.now();
      const cpu = process.cpuUsage();
      for (let e = 0; e < epochs; e++) {
        await entry.epoch();
        if (e % 10 === 9 || e === epochs - 1) await entry.engine.readMemberLosses();
      }
      const seconds = (performance.now() - start) / 1000;
      const { user, system } = process.cpuUsage(cpu);
      const memberSteps = entry.K * stepsPerEpoch * epochs;
      entry.rates.push(memberSteps / seconds);
      entry.cpuMs.push((user + system) / 1000 / memberSteps);
      entry.submits = (entry.engine.counters().submits - before) / epochs;
    }
  }
  const profiles = engines.map(() => ({ rowsMs: [] as number[], cpuMs: [] as number[] }));
  for (let round = 0; round < 5; round++) {
    for (const [i, { K, engine }] of engines.entries()) {
      const cpu = process.cpuUsage();
      const kernels = await engine.profileSteps(5);
      const { user, system } = process.cpuUsage(cpu);
      if (kernels !== null) profiles[i].rowsMs.push(kernels.forward / K);
      profiles[i].cpuMs.push((user + system) / 1000 / (5 * K));
    }
  }
  const single = engines.find((entry) => entry.K === 1);
  for (const [i, { K, paired, engine, rates, cpuMs, submits }] of engines.entries()) {
    const { rowsMs, cpuMs: profiledCpu } = profiles[i];
    const kernels = `profiled steps: ${rowsMs.length > 0 ? `first kernel group ${median(rowsMs).toFixed(2)} ms, ` : ''}CPU ${median(profiledCpu).toFixed(2)} ms a member-step`;
    const rate = median(rates);
    const ratio = single === undefined ? '' : `, ${(rate / median(single.rates)).toFixed(2)}x K = 1`;
    console.log(
      `K ${K}${paired ? '' : ' (unpaired)'}, ${engine.variantName()}: ${rate.toFixed(0)} member-steps/s (rounds: ${rates.map((r) => r.toFixed(0)).join(', ')})${ratio}, CPU ${median(cpuMs).toFixed(2)} ms a member-step, ${engine.dispatchesPerStep()} dispatches a population step, ${submits.toFixed(1)} submits an epoch; ${kernels}`,
    );
    await engine.dispose();
  }
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
} else if (mode === 'members') {
  const args = process.argv.slice(3);
  const named = args.find((arg) => arg.includes('/'));
  const [schedule, tuning] = named === undefined ? [] : (named.split('/') as [Schedule, TuningName]);
  const sizes = args.filter((arg) => arg !== named && arg !== 'unpaired').map(Number);
  const variant = named === undefined ? {} : { schedule, tuning };
  await membersBench(sizes.length > 0 ? sizes : [1, 16, 64, 256], variant, args.includes('unpaired'));
}
context.destroy();
