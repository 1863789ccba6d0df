// SwiftShader timing of the new recurrence kernels, side by side in one run (rounds in a rotating
// order after a warm-up round; medians and spreads), at the blog's defaults (T 10, H 30, B 8, I 1, O 1):
//   npm run bench:kernels -- [rounds=7] [steps=50] [parts]
// parts: a comma list of steps, kernels, swiftshader (all three by default).
// steps: a training step of the fused kernels (rows: forward and BPTT; gradients) and the existing SGD
//   update (3 dispatches) against today's backend (WebGpuBackend, stepwise and persistent: one submit an epoch
//   of 5 steps, the per-epoch error off), and the other new paths built with the test harness; each
//   variant runs `steps` steps, its ms a step is the wall time to onSubmittedWorkDone over the steps,
//   and beside it the CPU time SwiftShader's worker threads spent (Linux: /proc/self/task), which a
//   busy machine's preemption does not inflate the way it does the wall time.
// kernels: each dispatch of those steps repeated `steps` times alone, ms a dispatch.
// swiftshader: what a workgroup barrier costs, and a vec4 read from workgroup memory against storage.
// SwiftShader runs a workgroup on one CPU thread: these say where its time goes, not a GPU's speed.

import { readdirSync, readFileSync } from 'node:fs';
import { requestGpuContext } from '../src/backends/webgpu/context.js';
import { type FusedOptions, type FusedPlan, fusedAdmission } from '../src/backends/webgpu/fusedStep.js';
import { nodeGpu } from '../src/backends/webgpu/nodeGpu.js';
import { backwardTile, forwardTile } from '../src/backends/webgpu/recurrenceTiling.js';
import { createWebGpuBackend, type Schedule } from '../src/backends/webgpu/webgpuBackend.js';
import { startRun } from '../src/train/run.js';
import { type HarnessDispatch, KernelHarness } from '../tests/webgpu-kernel-harness.js';
import {
  backwardDispatches,
  forwardDispatches,
  fusedDispatches,
  type GpuModel,
  referenceStep,
  transposeDispatch,
  updateDispatch,
  uploadModel,
} from '../tests/webgpu-kernel-model.js';

const rounds = Number(process.argv[2] ?? 7);
const steps = Number(process.argv[3] ?? 50);
const parts = new Set((process.argv[4] ?? 'steps,kernels,swiftshader').split(','));
const BLOG = { inputSize: 1, hiddenSizes: [30], outputSize: 1, window: 10 };
const BATCH = 8;
/** The software tuning's parameters an invocation of the update (kernelTuning in passes.ts). */
const UPDATE_PARAMS_PER_INVOCATION = 64;

const node = await nodeGpu();
const context = node === null ? null : await requestGpuContext(node.gpu);
if (context === null) throw new Error('no WebGPU adapter');
const { device, adapter } = context;
console.log(
  `adapter: ${adapter.vendor} ${adapter.architecture} ${adapter.description}${adapter.software ? ' (software)' : ''}`,
);
console.log(`${rounds} rounds of ${steps} steps (a warm-up round first), the blog's defaults: T 10, H 30, B 8`);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Wall and SwiftShader-worker CPU milliseconds (a step, a dispatch…). */
interface Timing {
  wall: number;
  cpu: number;
}

/** CPU ms SwiftShader's worker threads ("Thread<nn>") have used so far; NaN without /proc. */
function workerCpuMs(): number {
  try {
    let ticks = 0;
    for (const task of readdirSync('/proc/self/task')) {
      if (!readFileSync(`/proc/self/task/${task}/comm`, 'utf8').startsWith('Thread<')) continue;
      const stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    }
    // utime and stime are in clock ticks of 10 ms (USER_HZ = 100 on Linux).
    return 10 * ticks;
  } catch {
    return Number.NaN;
  }
}

/** Times `body`, which does `count` repetitions of something; per repetition. */
async function timed(count: number, body: () => Promise<void>): Promise<Timing> {
  const cpu = workerCpuMs();
  const start = performance.now();
  await body();
  return { wall: (performance.now() - start) / count, cpu: (workerCpuMs() - cpu) / count };
}

/** A repetition of `dispatches` encoded `count` times in one compute pass and one submit. */
async function timeDispatches(harness: KernelHarness, dispatches: HarnessDispatch[], count: number): Promise<Timing> {
  const encoder = device.createCommandEncoder();
  const compute = encoder.beginComputePass();
  for (let s = 0; s < count; s++) harness.encode(compute, dispatches);
  compute.end();
  const commands = encoder.finish();
  return timed(count, async () => {
    device.queue.submit([commands]);
    await device.queue.onSubmittedWorkDone();
  });
}

/** Medians and the spread of the wall time, as a table's cells. */
function cells(timings: Timing[]): string {
  const walls = timings.map((t) => t.wall);
  return `${median(walls).toFixed(3)} | ${Math.min(...walls).toFixed(3)}-${Math.max(...walls).toFixed(3)} | ${median(timings.map((t) => t.cpu)).toFixed(3)}`;
}

interface Variant {
  name: string;
  dispatchesPerStep: number;
  /** A training step, over `steps` steps. */
  run(): Promise<Timing>;
}

async function backendVariant(schedule: Schedule): Promise<Variant> {
  const run = startRun({
    seed: 1,
    source: { kind: 'generated', spec: { kind: 'sine', points: 50, noise: 0.1 } },
    window: 10,
    hiddenSizes: [30],
  });
  const backend = await createWebGpuBackend(context!, run.layout, { schedule });
  backend.setParams(run.params);
  backend.setTrainingData(run.prepared.train, BATCH);
  const stepsPerEpoch = Math.floor(run.prepared.train.count / BATCH);
  const epochs = Math.ceil(steps / stepsPerEpoch);
  const orders = Array.from({ length: epochs }, () => run.rng.permutation(new Uint32Array(run.prepared.train.count)));
  return {
    name: `today's backend, ${schedule}`,
    dispatchesPerStep: backend.dispatchesPerStep() ?? Number.NaN,
    run: () =>
      timed(epochs * stepsPerEpoch, async () => {
        for (const order of orders) backend.trainEpoch(order, 0.01, { evaluate: false });
        await backend.finish();
      }),
  };
}

function harnessVariant(name: string, harness: KernelHarness, dispatches: HarnessDispatch[]): Variant {
  return { name, dispatchesPerStep: dispatches.length, run: () => timeDispatches(harness, dispatches, steps) };
}

function fusedPlan(storage: number, options: FusedOptions): FusedPlan {
  const model = referenceStep({ config: BLOG, batch: BATCH, seed: 1 });
  const admission = fusedAdmission(
    model.layout,
    BATCH,
    {
      maxComputeWorkgroupStorageSize: storage,
      maxComputeInvocationsPerWorkgroup: context!.limits.maxComputeInvocationsPerWorkgroup,
      maxStorageBuffersPerShaderStage: context!.limits.maxStorageBuffersPerShaderStage,
    },
    options,
  );
  if (!admission.admitted) throw new Error(`fused path not admitted: ${admission.reason}`);
  return admission.plan;
}

const harness = new KernelHarness(device);
const newModel = (): GpuModel => uploadModel(harness, referenceStep({ config: BLOG, batch: BATCH, seed: 1 }));
const update = (model: GpuModel) => updateDispatch(model, UPDATE_PARAMS_PER_INVOCATION);
const storage = context.limits.maxComputeWorkgroupStorageSize;
const fusedPlans = [
  fusedPlan(storage, {}),
  fusedPlan(storage, { onChip: false, maxWorkgroup: 8 }),
  fusedPlan(storage, { onChip: false, maxWorkgroup: 16 }),
  fusedPlan(storage, { onChip: false, maxWorkgroup: 16, groupQuads: 2 }),
];
const TRAIN = { withLoss: false, withGradients: true };
const describePlan = (plan: FusedPlan) =>
  `fused, ${plan.onChip ? 'on chip' : 'off chip'}, ${plan.rowGroups} workgroups of ${plan.workgroup} (${plan.itemsPerLane} items each)${plan.stageDeltas ? ', deltas staged' : ''}`;
const tiles = {
  forward: () => forwardTile(BATCH, 30, context!.limits),
  backward: () => backwardTile(BATCH, 30, context!.limits),
};

const fusedModel = newModel();
const variants: Variant[] = [
  await backendVariant('stepwise'),
  await backendVariant('persistent'),
  ...fusedPlans.map((plan) =>
    harnessVariant(describePlan(plan), harness, [...fusedDispatches(fusedModel, plan, TRAIN), update(fusedModel)]),
  ),
];
const todayModel = newModel();
const persistentKernels = [
  ...forwardDispatches(todayModel, { kind: 'register-persistent', workgroup: 64 }),
  ...backwardDispatches(todayModel, { kind: 'register-persistent', workgroup: 64 }),
];
const stepwiseBackward = backwardDispatches(todayModel, { kind: 'register-step', workgroup: 16 });
const softwareModel = newModel();
const hardwareModel = newModel();
variants.push(
  harnessVariant("harness: today's kernels, persistent", harness, [...persistentKernels, update(todayModel)]),
  harnessVariant('harness: software stepwise, coalesced backward (+ Vᵀ)', harness, [
    ...forwardDispatches(softwareModel, { kind: 'register-step', workgroup: 16 }),
    ...backwardDispatches(softwareModel, { kind: 'coalesced-step', workgroup: 16, transpose: 'elements' }),
    update(softwareModel),
  ]),
  harnessVariant('harness: software persistent, coalesced backward (+ Vᵀ)', harness, [
    ...forwardDispatches(softwareModel, { kind: 'register-persistent', workgroup: 64 }),
    ...backwardDispatches(softwareModel, { kind: 'coalesced-persistent', workgroup: 64, transpose: 'elements' }),
    update(softwareModel),
  ]),
  harnessVariant('harness: hardware tiled steps', harness, [
    ...forwardDispatches(hardwareModel, { kind: 'tiled', tile: tiles.forward }),
    ...backwardDispatches(hardwareModel, { kind: 'tiled', tile: tiles.backward }),
    update(hardwareModel),
  ]),
);

if (parts.has('steps')) {
  const results = new Map<string, Timing[]>(variants.map((variant) => [variant.name, []]));
  for (let round = 0; round <= rounds; round++) {
    for (let i = 0; i < variants.length; i++) {
      const variant = variants[(i + round) % variants.length];
      const timing = await variant.run();
      if (round > 0) results.get(variant.name)!.push(timing);
    }
  }
  const wall = (name: string) => median(results.get(name)!.map((t) => t.wall));
  const baseline = wall("today's backend, stepwise");
  const baselinePersistent = wall("today's backend, persistent");
  console.log(
    '\nstep | dispatches a step | median wall ms a step | spread | median worker CPU ms a step | steps/s (wall) | vs stepwise | vs persistent',
  );
  for (const variant of variants) {
    const ms = wall(variant.name);
    console.log(
      `${variant.name} | ${variant.dispatchesPerStep} | ${cells(results.get(variant.name)!)} | ${(1000 / ms).toFixed(0)} | ${(baseline / ms).toFixed(2)}x | ${(baselinePersistent / ms).toFixed(2)}x`,
    );
  }
}

// Where the time goes: each dispatch alone.
if (parts.has('kernels')) {
  const singles: { name: string; dispatches: HarnessDispatch[] }[] = [
    ...fusedPlans.flatMap((plan) => {
      const [rows, gradients] = fusedDispatches(fusedModel, plan, TRAIN);
      return [
        { name: `${describePlan(plan)}: rows (forward and BPTT)`, dispatches: [rows] },
        { name: `${describePlan(plan)}: gradients`, dispatches: [gradients] },
      ];
    }),
    { name: 'SGD update', dispatches: [update(fusedModel)] },
    { name: "today's input projection", dispatches: [persistentKernels[0]] },
    { name: "today's persistent forward", dispatches: [persistentKernels[1]] },
    { name: "today's dense (train)", dispatches: [persistentKernels[2]] },
    { name: "today's persistent backward", dispatches: [persistentKernels[3]] },
    { name: "today's backward, one step (stepwise)", dispatches: [stepwiseBackward[0]] },
    { name: "today's weight gradients", dispatches: [persistentKernels[persistentKernels.length - 1]] },
    {
      name: 'coalesced backward, persistent',
      dispatches: [
        backwardDispatches(softwareModel, { kind: 'coalesced-persistent', workgroup: 64, transpose: 'elements' }).find(
          (d) => d.kernel.label === 'coalesced backward',
        )!,
      ],
    },
    { name: 'Vᵀ refresh, 32 x 32 tiles', dispatches: [transposeDispatch(softwareModel, 'tiles')] },
    { name: 'Vᵀ refresh, a value an invocation', dispatches: [transposeDispatch(softwareModel, 'elements')] },
  ];
  const perKernel = new Map<string, Timing[]>(singles.map((single) => [single.name, []]));
  for (let round = 0; round <= rounds; round++) {
    for (const single of singles) {
      const timing = await timeDispatches(harness, single.dispatches, steps);
      if (round > 0) perKernel.get(single.name)!.push(timing);
    }
  }
  console.log('\nkernel | median wall ms a dispatch | spread | median worker CPU ms a dispatch');
  for (const [name, timings] of perKernel) console.log(`${name} | ${cells(timings)}`);
}

// SwiftShader's costs: barriers, and workgroup memory against storage, in one workgroup of 64.
if (parts.has('swiftshader')) {
  const BARRIERS = 1000;
  const PROBE_REPEATS = 20;
  const READS = 900;
  const probes = `
@group(0) @binding(0) var<storage, read_write> data: array<vec4f>;
var<workgroup> cache: array<vec4f, ${READS}>;
@compute @workgroup_size(64) fn empty() {}
@compute @workgroup_size(64) fn barriers() { for (var i = 0u; i < ${BARRIERS}u; i++) { workgroupBarrier(); } }
@compute @workgroup_size(64) fn storage_barriers() { for (var i = 0u; i < ${BARRIERS}u; i++) { storageBarrier(); } }
@compute @workgroup_size(64) fn shared_reads(@builtin(local_invocation_index) lane: u32) {
  for (var i = lane; i < ${READS}u; i += 64u) { cache[i] = data[i]; }
  workgroupBarrier();
  var sum = vec4f();
  for (var r = 0u; r < 10u; r++) { for (var k = 0u; k < ${READS / 30}u; k++) { sum += cache[k * 30u + lane % 30u]; } }
  data[${READS}u + lane] = sum;
}
@compute @workgroup_size(64) fn storage_reads(@builtin(local_invocation_index) lane: u32) {
  var sum = vec4f();
  for (var r = 0u; r < 10u; r++) { for (var k = 0u; k < ${READS / 30}u; k++) { sum += data[k * 30u + lane % 30u]; } }
  data[${READS}u + lane] = sum;
}`;
  const probeModule = device.createShaderModule({ code: probes });
  const probeLayout = device.createBindGroupLayout({
    entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } }],
  });
  const probeData = harness.storage('probe data', 4 * (READS + 64));
  const probeGroup = device.createBindGroup({
    layout: probeLayout,
    entries: [{ binding: 0, resource: { buffer: probeData } }],
  });
  const probeKernel = (entryPoint: string): HarnessDispatch => ({
    kernel: {
      label: entryPoint,
      pipeline: device.createComputePipeline({
        layout: device.createPipelineLayout({ bindGroupLayouts: [probeLayout] }),
        compute: { module: probeModule, entryPoint },
      }),
      layout: probeLayout,
      bindings: [],
    },
    bindGroup: probeGroup,
    workgroups: [1, 1],
  });
  const probeNames = ['empty', 'barriers', 'storage_barriers', 'shared_reads', 'storage_reads'];
  const probeTimes = new Map<string, Timing[]>(probeNames.map((name) => [name, []]));
  for (let round = 0; round <= rounds; round++) {
    for (const name of probeNames) {
      const timing = await timeDispatches(harness, [probeKernel(name)], PROBE_REPEATS);
      if (round > 0) probeTimes.get(name)!.push(timing);
    }
  }
  const probe = (name: string, of: keyof Timing) => median(probeTimes.get(name)!.map((t) => t[of]));
  const readsPerInvocation = 10 * (READS / 30);
  console.log('\nSwiftShader, one workgroup of 64 invocations (medians; wall, then worker CPU):');
  for (const of of ['wall', 'cpu'] as const) {
    const empty = probe('empty', of);
    const per = (name: string, count: number) => ((1e6 * (probe(name, of) - empty)) / count).toFixed(1);
    console.log(
      `${of}: empty dispatch ${(1000 * empty).toFixed(1)} µs; workgroupBarrier ${per('barriers', BARRIERS)} ns; storageBarrier ${per('storage_barriers', BARRIERS)} ns; a vec4 read by 64 invocations: workgroup memory ${per('shared_reads', readsPerInvocation)} ns (staging included), storage ${per('storage_reads', readsPerInvocation)} ns`,
    );
  }
}

harness.destroy();
context.destroy();
