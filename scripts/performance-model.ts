// The paper model behind docs/PERFORMANCE.md: per kernel of a training step, FLOPs, bytes moved (L2
// and DRAM, shared memory), arithmetic intensity and a roofline-style time on a stated GPU, before and
// after issue 11's kernels, at three shapes; and cuDNN's expected time on the same GPU. Nothing here is
// measured: every number follows from the parameters below and the formulas in the doc.
//   node --import tsx scripts/performance-model.ts      (WGSL_EFFICIENCY=0.3 to try another assumption)

import { backwardTile, forwardTile, type TilingLimits } from '../src/backends/webgpu/recurrenceTiling.js';
import { trainStepFlops } from '../src/model/flops.js';
import { paramLayout } from '../src/model/layout.js';

/** A 25-TFLOP/s fp32 GPU (an A100/H100-class part without tensor cores in play). */
const GPU = {
  peak: 25e12,
  sms: 100,
  clock: 1.7e9,
  dram: 1e12,
  l2: 5e12,
  /** Tensors of a step that fit stay in L2 between kernels. */
  l2Capacity: 40e6,
  /** 32 banks x 4 bytes a clock an SM. */
  shared: 128 * 1.7e9 * 100,
  /** WebGPU's cost of one dispatch (5-10 µs measured elsewhere; SwiftShader: 17 µs). */
  dispatch: 7e-6,
  /** Cycles a barrier and a dependent global round trip cost the critical path of one step. */
  stepLatencyCycles: 400,
};
/**
 * The share of its instruction-mix bound a WGSL kernel is assumed to reach (bounds checks, no control
 * of register allocation or unrolling); cuBLAS's SGEMM is taken at 75% of peak on large products.
 */
const WGSL_EFFICIENCY = Number(process.env.WGSL_EFFICIENCY ?? 0.6);
const WEBGPU_DEFAULT_LIMITS: TilingLimits = {
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupsPerDimension: 65535,
};

interface Shape {
  name: string;
  T: number;
  H: number;
  B: number;
}

interface Kernel {
  name: string;
  dispatches: number;
  flops: number;
  /** Bytes between the SMs and L2, counted in the 32-byte sectors the loads touch. */
  l2: number;
  /** Bytes of the step's (T, B, ·) tensors that go through DRAM because they do not fit L2. */
  dram: number;
  /** Bytes of shared-memory wavefronts (128 bytes each). */
  shared: number;
  /** Multiply-adds among the inner loop's issued instructions. */
  fmaShare: number;
  /** Workgroups a dispatch: fewer than the SMs leave SMs idle. */
  workgroups: number;
  /** Instructions the critical invocation issues a dispatch (1 a clock at best): the floor of one SM. */
  serialCycles: number;
  coalescing: string;
}

/** Seconds of a kernel: dispatch overhead plus the slowest of compute, L2, DRAM, shared memory and latency. */
function seconds(k: Kernel): number {
  const active = Math.min(1, k.workgroups / GPU.sms);
  const compute = k.flops / (GPU.peak * k.fmaShare * WGSL_EFFICIENCY * active);
  const memory = Math.max(k.l2 / (GPU.l2 * active), k.dram / GPU.dram, k.shared / (GPU.shared * active));
  const latency = (k.dispatches * k.serialCycles) / GPU.clock;
  return k.dispatches * GPU.dispatch + Math.max(compute, memory, latency);
}

function sizes({ T, H, B }: Shape) {
  const I = 1;
  const O = 1;
  const G = 4 * H;
  const M = T * B;
  const S = H + I + 1;
  const P = paramLayout({ inputSize: I, hiddenSizes: [H], outputSize: O, window: T }).size;
  const gates = 4 * M * G;
  const delta = 4 * M * G;
  const c = 4 * (T + 1) * B * H;
  const inputs = 4 * (T + 1) * B * S;
  const streamed = gates + delta + c + inputs > GPU.l2Capacity;
  return { I, O, G, M, S, P, gates, delta, c, inputs, streamed };
}

/** A 32 x 32 workgroup-tiled product (matmul.wgsl), M x N over depth K; `output` bytes written. */
function tiledProduct(name: string, M: number, N: number, K: number, dram: number, coalescing: string): Kernel {
  const tiles = Math.ceil(M / 32) * Math.ceil(N / 32);
  return {
    name,
    dispatches: 1,
    flops: 2 * M * N * K,
    l2: tiles * (32 * K + K * 32) * 4 + 4 * M * N,
    dram,
    // A warp (8 x 4 threads) reads 4 + 8 distinct vec4s a depth step: 2 wavefronts for 1024 FLOP.
    shared: 0.25 * 2 * M * N * K,
    fmaShare: 16 / 18,
    workgroups: tiles,
    serialCycles: (K / 16) * (16 * 18 + 200),
    coalescing,
  };
}

function update(P: number): Kernel {
  return {
    name: 'optimizer update (SGD)',
    dispatches: 1,
    flops: 2 * P,
    l2: 12 * P,
    dram: 0,
    shared: 0,
    fmaShare: 1 / 4,
    workgroups: Math.ceil(P / 64),
    serialCycles: 200,
    coalescing: 'p, g along the flat layout: coalesced',
  };
}

function dense(shape: Shape): Kernel {
  const { H, B } = shape;
  return {
    name: 'dense + loss + dense backward (1 workgroup)',
    dispatches: 1,
    flops: 6 * B * H,
    l2: 4 * (2 * B * H + H + 4 * B),
    dram: 0,
    shared: 0,
    fmaShare: 1 / 3,
    workgroups: 1,
    serialCycles: Math.ceil((B * H) / 64) * 3 * 4 + 600,
    coalescing: 'y_T rows read per output: broadcast; tiny',
  };
}

/** The input projection of every step at once, as both tunings do it. */
function projection(shape: Shape): Kernel {
  const z = sizes(shape);
  return tiledProduct(
    'input projection (tiled product)',
    z.M,
    z.G,
    z.I,
    z.streamed ? z.gates : 0,
    'x: 4 rows a thread; W, gates along rows: coalesced',
  );
}

/** dW, dV, db over all steps at once, as both tunings do it. */
function weightGradients(shape: Shape): Kernel {
  const z = sizes(shape);
  return tiledProduct(
    'weight gradients (tiled product)',
    z.S,
    z.G,
    z.M,
    z.streamed ? z.inputs + z.delta : 0,
    '[y, x, 1] 4 rows a thread, delta along rows: coalesced',
  );
}

/** The previous hardware tuning: tiled products, the register recurrence (persistent wherever the batch's state fit one workgroup). */
function before(shape: Shape): Kernel[] {
  const { T, H, B } = shape;
  const z = sizes(shape);
  const forwardItems = Math.ceil(B / 4) * H;
  const persistent = forwardItems <= 8 * 256;
  const steps = persistent ? 1 : T;
  const perStep = 2 * B * H * z.G;
  const stateTraffic = 2 * 4 * B * z.G + 2 * 4 * B * H + 4 * B * H;
  const rowQuads = Math.ceil(B / 4);
  const backwardItems = rowQuads * Math.ceil(H / 4);
  const schedule = persistent ? 'persistent, 1 workgroup' : `stepwise, ${T} dispatches`;
  return [
    projection(shape),
    {
      name: `forward recurrence, register path (${schedule})`,
      dispatches: steps,
      flops: T * perStep,
      // Every 4-row item reads all of its unit's V column: V is read ceil(B/4) times a step.
      l2: T * (rowQuads * 4 * H * z.G + (forwardItems / 32) * 16 * H + stateTraffic),
      dram: z.streamed ? 2 * z.gates + z.c + z.inputs : 0,
      shared: 0,
      fmaShare: 16 / 24,
      workgroups: persistent ? 1 : Math.ceil(forwardItems / 64),
      // Persistent: one workgroup of up to 256 takes every item; stepwise: an item an invocation.
      serialCycles: persistent
        ? T * (Math.ceil(forwardItems / 256) * H * 24 + GPU.stepLatencyCycles)
        : H * 24 + GPU.stepLatencyCycles,
      coalescing: 'V: consecutive units, 128-byte runs; y: one address a warp (broadcast)',
    },
    dense(shape),
    {
      name: `backward recurrence, register path (${schedule})`,
      dispatches: steps,
      flops: T * perStep,
      // Each invocation walks 4 rows of V: a warp touches 128 sectors a load and uses 4 bytes of
      // each, 1/8 of what it moves (the sectors' other floats come back on later iterations, if L1
      // still holds them: this counts them as moved again).
      l2: T * (8 * backwardItems * 4 * z.G * 4 + 2 * 4 * B * z.G + 3 * 4 * B * H),
      dram: z.streamed ? z.gates + z.delta + z.c : 0,
      shared: 0,
      fmaShare: 16 / 24,
      workgroups: persistent ? 1 : Math.ceil(backwardItems / 64),
      serialCycles: persistent
        ? T * (Math.ceil(backwardItems / 256) * z.G * 24 + GPU.stepLatencyCycles)
        : z.G * 24 + GPU.stepLatencyCycles,
      coalescing: 'V: 4 rows a thread, rows 4H apart: 1/8 of each 32-byte sector used; delta: broadcast',
    },
    weightGradients(shape),
    update(z.P),
  ];
}

/** After issue 11: the fused path where admitted (the blog's size), else the tiled steps. */
function after(shape: Shape): Kernel[] {
  const { T, H, B } = shape;
  const z = sizes(shape);
  if (H <= 32 && B <= 64) return fused(shape);
  const forward = forwardTile(B, H, WEBGPU_DEFAULT_LIMITS);
  const backward = backwardTile(B, H, WEBGPU_DEFAULT_LIMITS);
  const perStep = 2 * B * H * z.G;
  const stateTraffic = 2 * 4 * B * z.G + 2 * 4 * B * H + 4 * B * H;
  const forwardGroups = forward.workgroups[0] * forward.workgroups[1];
  const backwardGroups = backward.workgroups[0] * backward.workgroups[1];
  // Shared wavefronts a warp a depth step, forward: the warp's row quads of y, its units of V (4 gates).
  const forwardWarpQuads = Math.ceil(32 / forward.units);
  const forwardWavefronts =
    Math.ceil((16 * forwardWarpQuads) / 128) + Math.ceil((16 * Math.min(32, forward.units)) / 128);
  const backwardUnitQuads = Math.min(32, backward.units / 4);
  const backwardWavefronts =
    Math.ceil((16 * Math.ceil(32 / backwardUnitQuads)) / 128) + Math.ceil((16 * backwardUnitQuads) / 128);
  return [
    projection(shape),
    {
      name: `forward recurrence, tiled (${forward.rows} rows x ${forward.units} units x ${forward.depth} deep, ${T} dispatches)`,
      dispatches: T,
      flops: T * perStep,
      l2: T * (forwardGroups * (forward.rows * H + H * 4 * forward.units) * 4 + stateTraffic),
      dram: z.streamed ? 2 * z.gates + z.c + z.inputs : 0,
      shared: T * perStep * ((forwardWavefronts * 128) / 1024),
      fmaShare: 16 / 18,
      workgroups: forwardGroups,
      serialCycles: (H / forward.depth) * (forward.depth * 18 + 300) + 300,
      coalescing:
        'y tile: 4 rows a thread along k; V tile: consecutive units: coalesced; inner loop: vec4 from workgroup memory',
    },
    dense(shape),
    {
      name: `backward recurrence, tiled (${backward.rows} rows x ${backward.units} units x ${backward.depth} deep, ${T} dispatches)`,
      dispatches: T,
      flops: T * perStep,
      l2: T * (backwardGroups * (backward.rows + backward.units) * z.G * 4 + 2 * 4 * B * z.G + 3 * 4 * B * H),
      dram: z.streamed ? z.gates + z.delta + z.c : 0,
      shared: T * perStep * ((backwardWavefronts * 128) / 1024),
      fmaShare: 16 / 18,
      workgroups: backwardGroups,
      serialCycles: (z.G / backward.depth) * (backward.depth * 18 + 300) + 300,
      coalescing:
        'delta and V tiles along their rows (consecutive m): coalesced; inner loop: vec4 from workgroup memory',
    },
    weightGradients(shape),
    update(z.P),
  ];
}

/** The fused path: a workgroup a row quad (forward + BPTT), the gradients kernel, the update. */
function fused(shape: Shape): Kernel[] {
  const { T, H, B } = shape;
  const z = sizes(shape);
  const rowGroups = Math.ceil(B / 4);
  const perStep = 2 * B * H * z.G;
  const projection = 2 * z.M * z.I * z.G;
  const productItems = Math.ceil(z.S / 4) * H;
  return [
    {
      name: `fused rows: projection, forward, dense, BPTT (${rowGroups} workgroups, V on chip)`,
      dispatches: 1,
      flops: 2 * T * perStep + projection + 4 * B * H,
      // Each workgroup stages V twice (forward and transposed); writes activations, c, y, then
      // reads them back in BPTT and writes the deltas over the activations.
      l2: rowGroups * 2 * 4 * H * z.G + 3 * z.gates + 3 * z.c + z.inputs,
      dram: 0,
      // Forward: y broadcast + V (4 wavefronts) a warp a k; BPTT: V + 4 deltas (8 wavefronts).
      shared: T * perStep * ((5 * 128) / 1024) + T * perStep * ((8 * 128) / 1024),
      fmaShare: 16 / 20,
      workgroups: rowGroups,
      // One quad of rows and one unit an invocation: every step's H-long loop is on the critical path.
      serialCycles: 2 * T * (H * 20 + 120 + GPU.stepLatencyCycles),
      coalescing: 'V staged once (consecutive units); inner loops: vec4 from workgroup memory; state rows: coalesced',
    },
    {
      name: `fused gradients: dW, dV, db, dense, (loss) (${Math.ceil((productItems + H + 2) / 64)} workgroups)`,
      dispatches: 1,
      flops: 2 * z.M * z.S * z.G + 4 * B * H,
      l2: productItems * z.M * (4 * 4 + 4 * 4) + z.S * z.G * 4,
      dram: 0,
      shared: 0,
      fmaShare: 16 / 24,
      workgroups: Math.ceil((productItems + H + 2) / 64),
      serialCycles: z.M * 24 + 200,
      coalescing: 'deltas: consecutive units, 4 gates; [y, x, 1]: broadcast',
    },
    update(z.P),
  ];
}

/** The other new kernels at a shape, beside the chosen path: the software tuning's backward and its Vᵀ. */
function others(shape: Shape): Kernel[] {
  const { T, H, B } = shape;
  const z = sizes(shape);
  const items = Math.ceil(B / 4) * H;
  const tiles = Math.ceil(H / 32) * Math.ceil(z.G / 32);
  return [
    {
      name: `backward recurrence, coalesced register path (stepwise, ${T} dispatches)`,
      dispatches: T,
      flops: T * 2 * B * H * z.G,
      // Each 4-row item reads its unit's column of Vᵀ whole: Vᵀ is read ceil(B/4) times a step, in full sectors.
      l2: T * (Math.ceil(B / 4) * 4 * H * z.G + (items / 32) * 16 * z.G + 2 * 4 * B * z.G + 3 * 4 * B * H),
      dram: z.streamed ? z.gates + z.delta + z.c : 0,
      shared: 0,
      fmaShare: 4 / 9,
      workgroups: Math.ceil(items / 64),
      serialCycles: z.G * 9 + GPU.stepLatencyCycles,
      coalescing: 'Vᵀ: consecutive units, 128-byte runs; delta: one address a warp (broadcast)',
    },
    {
      name: 'Vᵀ refresh (32 x 32 tiles through workgroup memory)',
      dispatches: 1,
      flops: 0,
      l2: 2 * 4 * H * z.G,
      dram: 0,
      shared: 2 * 4 * H * z.G,
      fmaShare: 1,
      workgroups: tiles,
      serialCycles: 300,
      coalescing: 'V and Vᵀ along rows: coalesced',
    },
  ];
}

/**
 * cuDNN's LSTM (fp32, TF32 off) on the same GPU, as a model: the input GEMM over all steps, a
 * recurrent SGEMM a step forward and backward at cuBLAS's efficiency for the shape, a fused pointwise
 * kernel a step each way, one weight-gradient GEMM; ~4 µs a CUDA launch, and PyTorch's own overhead.
 */
function cudnnSeconds(shape: Shape): number {
  const { T, H, B } = shape;
  const z = sizes(shape);
  const launch = 4e-6;
  const sgemm = (flops: number, efficiency: number) => Math.max(flops / (GPU.peak * efficiency), 3e-6);
  // cuBLAS SGEMM reaches ~75% of fp32 peak on large products, less on skinny ones.
  const recurrentEfficiency = B * H >= 64 * 256 ? 0.75 : 0.2;
  const perStep = 2 * B * H * z.G;
  const pointwise = Math.max((6 * 4 * B * z.G) / GPU.dram, 2e-6);
  const forward = sgemm(2 * z.M * z.I * z.G, 0.5) + T * (sgemm(perStep, recurrentEfficiency) + pointwise + 2 * launch);
  const backward = T * (sgemm(perStep, recurrentEfficiency) + pointwise + 2 * launch);
  const weights = sgemm(2 * z.M * z.S * z.G, 0.75) + launch;
  const pytorch = 150e-6;
  return forward + backward + weights + pytorch;
}

const SHAPES: Shape[] = [
  { name: "the blog's (T 10, H 30, B 8)", T: 10, H: 30, B: 8 },
  { name: 'hidden 512, batch 256, window 10', T: 10, H: 512, B: 256 },
  { name: 'hidden 1024, batch 256, window 64', T: 64, H: 1024, B: 256 },
];

const format = (n: number, digits = 1) => (n >= 100 ? n.toFixed(0) : n.toFixed(digits));
for (const shape of SHAPES) {
  const flops = trainStepFlops({ inputSize: 1, hiddenSizes: [shape.H], outputSize: 1, window: shape.T }, shape.B);
  console.log(`\n### ${shape.name}: ${format(flops / 1e9, 3)} GFLOP a step (src/model/flops.ts)\n`);
  for (const [label, kernels] of [
    ['before', before(shape)],
    ['after', after(shape)],
  ] as const) {
    console.log(`**${label}**\n`);
    console.log('| kernel | dispatches | MFLOP | L2 MB | DRAM MB | shared MB | FLOP/B (L2) | µs | % of peak | loads |');
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    let total = 0;
    for (const k of kernels) {
      const s = seconds(k);
      total += s;
      console.log(
        `| ${k.name} | ${k.dispatches} | ${format(k.flops / 1e6, 2)} | ${format(k.l2 / 1e6, 2)} | ${format(k.dram / 1e6)} | ${format(k.shared / 1e6)} | ${format(k.flops / k.l2, 2)} | ${format(s * 1e6)} | ${format((100 * k.flops) / (s * GPU.peak))} | ${k.coalescing} |`,
      );
    }
    const dispatches = kernels.reduce((n, k) => n + k.dispatches, 0);
    console.log(
      `\n${label}: ${dispatches} dispatches (${format(dispatches * GPU.dispatch * 1e6)} µs of overhead), ${format(total * 1e6)} µs a step, ${format(1 / total)} steps/s, ${format((100 * flops) / (total * GPU.peak))}% of peak\n`,
    );
  }
  console.log('**other new kernels at this shape** (not in the totals)\n');
  console.log('| kernel | dispatches | MFLOP | L2 MB | DRAM MB | shared MB | FLOP/B (L2) | µs | % of peak | loads |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const k of others(shape)) {
    const s = seconds(k);
    console.log(
      `| ${k.name} | ${k.dispatches} | ${format(k.flops / 1e6, 2)} | ${format(k.l2 / 1e6, 2)} | ${format(k.dram / 1e6)} | ${format(k.shared / 1e6)} | ${format(k.flops / k.l2, 2)} | ${format(s * 1e6)} | ${format((100 * k.flops) / (s * GPU.peak))} | ${k.coalescing} |`,
    );
  }
  console.log('');
  const cudnn = cudnnSeconds(shape);
  console.log(
    `cuDNN (model): ${format(cudnn * 1e6)} µs a step, ${format(1 / cudnn)} steps/s, ${format((100 * flops) / (cudnn * GPU.peak))}% of peak`,
  );
}

// ---- Populations (issue 27): K members of one shape in the same dispatches ----
// Member m's workgroups are grid z = m of each dispatch, so a step of K members is the same
// dispatches as one model's, each with K times the workgroups, FLOPs and bytes, and the same critical
// path per workgroup: the GPU fills its SMs with members instead of waiting on one model's chain.

/** One model's kernels at a shape as a population of K: K times the work in the same dispatches. */
function population(kernels: Kernel[], K: number): Kernel[] {
  return kernels.map((k) => ({
    ...k,
    flops: K * k.flops,
    l2: K * k.l2,
    dram: K * k.dram,
    shared: K * k.shared,
    workgroups: K * k.workgroups,
  }));
}

const POPULATION_SHAPES: Shape[] = [
  { name: "the blog's (T 10, H 30, B 8)", T: 10, H: 30, B: 8 },
  { name: 'hidden 128, batch 32, window 10', T: 10, H: 128, B: 32 },
];

console.log('\n## Populations (paper)\n');
console.log('| shape | K | dispatches a step | µs a population step | vs one model | member-steps/s | % of peak |');
console.log('|---|---|---|---|---|---|---|');
for (const shape of POPULATION_SHAPES) {
  const flops = trainStepFlops({ inputSize: 1, hiddenSizes: [shape.H], outputSize: 1, window: shape.T }, shape.B);
  const one = after(shape).reduce((sum, k) => sum + seconds(k), 0);
  for (const K of [1, 64, 1024]) {
    const kernels = population(after(shape), K);
    const step = kernels.reduce((sum, k) => sum + seconds(k), 0);
    const dispatches = kernels.reduce((n, k) => n + k.dispatches, 0);
    console.log(
      `| ${shape.name} | ${K} | ${dispatches} | ${format(step * 1e6)} | ${format(step / one, 2)}× | ${format(K / step)} | ${format((100 * K * flops) / (step * GPU.peak), 2)} |`,
    );
  }
}
