// The recurrence kernels for real GPUs, run directly on Dawn (SwiftShader here) inside a whole training
// step (webgpu-kernel-model.ts) and compared with the CPU reference (src/backends/cpu/lstm.ts): the loss,
// the outputs, every gradient tensor, and each layer's activations and cell states, within
// 1e-4 * max(1, max|e|). Both tunings: the software one (register path; the backward reading Vᵀ from
// the refresh kernel) and the hardware one (tiled forward and backward steps), with the tiles the
// device would get and with tiles small enough to make every shape span several tiles and depth
// slices (which tiles a device gets: recurrence-tiling.test.ts). Shapes: the fixtures' and random ones (H and B not multiples of 4,
// B = 1, T = 1, several inputs and outputs, stacked layers).

import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../src/backends/webgpu/context.js';
import { backwardTile, forwardTile, tileOf } from '../src/backends/webgpu/recurrenceTiling.js';
import { Rng } from '../src/data/rng.js';
import type { ModelConfig } from '../src/model/layout.js';
import { withoutGpuErrors, workerGpuContext } from './webgpu-context.js';
import { KernelHarness, parseBindings } from './webgpu-kernel-harness.js';
import {
  type BackwardVariant,
  backwardDispatches,
  type ForwardVariant,
  forwardDispatches,
  type KernelCase,
  readResults,
  referenceStep,
  SOURCES,
  stepMismatches,
  uploadModel,
} from './webgpu-kernel-model.js';

const TOL = 1e-4;

let context: GpuContext;
beforeAll(async () => {
  context = await workerGpuContext();
});

function config(inputSize: number, hiddenSizes: number[], outputSize: number, window: number): ModelConfig {
  return { inputSize, hiddenSizes, outputSize, window };
}

/** The fixtures' shapes, edge shapes, and random ones from a seeded generator. */
function cases(): { name: string; kernelCase: KernelCase }[] {
  const named: { name: string; kernelCase: KernelCase }[] = [
    { name: 'tiny (I1 H4 T3 B2)', kernelCase: { config: config(1, [4], 1, 3), batch: 2, seed: 1 } },
    { name: "the blog's (I1 H30 T10 B8)", kernelCase: { config: config(1, [30], 1, 10), batch: 8, seed: 2 } },
    { name: 'multi (I3 H16 O2 T7 B5)', kernelCase: { config: config(3, [16], 2, 7), batch: 5, seed: 3 } },
    { name: 'stacked (I2 H12,8 T6 B4)', kernelCase: { config: config(2, [12, 8], 1, 6), batch: 4, seed: 4 } },
    { name: 'one of everything (I1 H1 T1 B1)', kernelCase: { config: config(1, [1], 1, 1), batch: 1, seed: 5 } },
    {
      name: 'mean loss, wide (I2 H70 O3 T3 B37)',
      kernelCase: { config: config(2, [70], 3, 3), batch: 37, seed: 6, meanLoss: true },
    },
  ];
  const rng = new Rng(2026);
  const pick = (low: number, high: number) => low + rng.below(high - low + 1);
  for (let n = 0; n < 4; n++) {
    const layers = pick(1, 2);
    const hiddenSizes = Array.from({ length: layers }, () => pick(1, 37));
    const kernelCase = {
      config: config(pick(1, 4), hiddenSizes, pick(1, 3), pick(1, 6)),
      batch: pick(1, 13),
      seed: 100 + n,
    };
    const { inputSize: I, hiddenSizes: H, outputSize: O, window: T } = kernelCase.config;
    named.push({ name: `random ${n} (I${I} H${H.join(',')} O${O} T${T} B${kernelCase.batch})`, kernelCase });
  }
  return named;
}

interface Tuning {
  name: string;
  forward: (batch: number) => ForwardVariant;
  backward: (batch: number) => BackwardVariant;
}

const TUNINGS: Tuning[] = [
  {
    name: 'software, stepwise: register forward, coalesced backward, Vᵀ a value an invocation',
    forward: () => ({ kind: 'register-step', workgroup: 16 }),
    backward: () => ({ kind: 'coalesced-step', workgroup: 16, transpose: 'elements' }),
  },
  {
    name: 'persistent: register forward, coalesced backward, Vᵀ by tiles',
    forward: () => ({ kind: 'register-persistent', workgroup: 64 }),
    backward: () => ({ kind: 'coalesced-persistent', workgroup: 64, transpose: 'tiles' }),
  },
  {
    name: "hardware: tiled steps, this device's tiles",
    forward: (batch) => ({ kind: 'tiled', tile: (hidden) => forwardTile(batch, hidden, context.limits) }),
    backward: (batch) => ({ kind: 'tiled', tile: (hidden) => backwardTile(batch, hidden, context.limits) }),
  },
  {
    name: 'hardware: tiled steps, small tiles (many tiles and depth slices)',
    forward: (batch) => ({ kind: 'tiled', tile: (hidden) => tileOf('forward', batch, hidden, small) }),
    backward: (batch) => ({ kind: 'tiled', tile: (hidden) => tileOf('backward', batch, hidden, small) }),
  },
];
const small = { rows: 4, units: 4, depth: 4 };

async function runStep(kernelCase: KernelCase, tuning: Tuning) {
  const reference = referenceStep(kernelCase);
  const harness = new KernelHarness(context.device);
  try {
    const results = await withoutGpuErrors(context, async () => {
      const model = uploadModel(harness, reference);
      await harness.run([
        ...forwardDispatches(model, tuning.forward(kernelCase.batch)),
        ...backwardDispatches(model, tuning.backward(kernelCase.batch)),
      ]);
      return readResults(model);
    });
    return { reference, results };
  } finally {
    harness.destroy();
  }
}

describe('recurrence kernels against the CPU reference, a whole training step', () => {
  for (const tuning of TUNINGS) {
    describe(tuning.name, () => {
      for (const { name, kernelCase } of cases()) {
        it(name, async () => {
          const { reference, results } = await runStep(kernelCase, tuning);
          expect(stepMismatches(reference, results, TOL)).toEqual([]);
        });
      }
    });
  }
});

describe('bindings of the new kernels, as the backend will bind them by name', () => {
  const expected: Record<string, string[]> = {
    transpose: ['params: read', 'recurrentTransposed: write', 'transposeLayers: read'],
    coalescedBackward: [
      'params: read',
      'gates: read',
      'c: read',
      'dyAbove: read',
      'delta: write',
      'dc: write',
      'batchPass: dynamic',
      'step: dynamic',
      'recurrentTransposed: read',
    ],
    tiledForward: [
      'params: read',
      'gates: write',
      'c: write',
      'inputs: write',
      'above: write',
      'batchPass: dynamic',
      'step: dynamic',
    ],
    tiledBackward: [
      'params: read',
      'gates: read',
      'c: read',
      'dyAbove: read',
      'delta: write',
      'dc: write',
      'batchPass: dynamic',
      'step: dynamic',
    ],
    fusedRows: [
      'params: read',
      'samples: read',
      'order: read',
      'targets: read',
      'gates: write',
      'c: write',
      'inputs: write',
      'outputs: write',
      'batchPass: dynamic',
    ],
    fusedGradients: ['inputs: read', 'gates: read', 'outputs: write', 'grads: write', 'batchPass: dynamic'],
  };
  for (const [kernel, bindings] of Object.entries(expected)) {
    it(kernel, () => {
      const parsed = parseBindings(SOURCES[kernel as keyof typeof SOURCES].join('\n')).map(
        ({ name, type, dynamic }) =>
          `${name}: ${dynamic ? 'dynamic' : type === 'read-only-storage' ? 'read' : type === 'storage' ? 'write' : 'uniform'}`,
      );
      expect(parsed).toEqual(bindings);
    });
  }
});
