// The fused small-model kernels (shaders/lstm_fused_forward.wgsl, lstm_fused_backward.wgsl), run
// directly on Dawn (SwiftShader here): a whole forward and backward pass in two dispatches, compared
// with the CPU reference (src/backends/cpu/lstm.ts): the loss, the outputs, every gradient tensor, the
// activations and cell states, within 1e-4 * max(1, max|e|). Each shape runs with the deltas staged in
// workgroup memory (a 32 KB device) and read back from storage (a 16 KB one), and with one item and
// several items an invocation.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../src/backends/webgpu/context.js';
import { type FusedLimits, fusedAdmission } from '../src/backends/webgpu/fusedStep.js';
import { Rng } from '../src/data/rng.js';
import { paramLayout } from '../src/model/layout.js';
import { testGpuContext, withoutGpuErrors } from './webgpu-context.js';
import { KernelHarness } from './webgpu-kernel-harness.js';
import {
  fusedDispatches,
  type KernelCase,
  readResults,
  referenceStep,
  stepMismatches,
  uploadModel,
} from './webgpu-kernel-model.js';

const TOL = 1e-4;

let context: GpuContext;
beforeAll(async () => {
  context = await testGpuContext();
});
afterAll(() => context?.destroy());

function cases(): { name: string; kernelCase: KernelCase }[] {
  const named: { name: string; kernelCase: KernelCase }[] = [
    {
      name: "the blog's (I1 H30 T10 B8)",
      kernelCase: { config: { inputSize: 1, hiddenSizes: [30], outputSize: 1, window: 10 }, batch: 8, seed: 11 },
    },
    {
      name: 'tiny (I1 H4 T3 B2)',
      kernelCase: { config: { inputSize: 1, hiddenSizes: [4], outputSize: 1, window: 3 }, batch: 2, seed: 12 },
    },
    {
      name: 'multi, mean loss (I3 H16 O2 T7 B5)',
      kernelCase: {
        config: { inputSize: 3, hiddenSizes: [16], outputSize: 2, window: 7 },
        batch: 5,
        seed: 13,
        meanLoss: true,
      },
    },
    {
      name: 'one of everything (I1 H1 T1 B1)',
      kernelCase: { config: { inputSize: 1, hiddenSizes: [1], outputSize: 1, window: 1 }, batch: 1, seed: 14 },
    },
  ];
  const rng = new Rng(2027);
  const pick = (low: number, high: number) => low + rng.below(high - low + 1);
  for (let n = 0; n < 2; n++) {
    const config = { inputSize: pick(1, 4), hiddenSizes: [pick(1, 30)], outputSize: pick(1, 3), window: pick(1, 6) };
    const batch = pick(1, 13);
    named.push({
      name: `random ${n} (I${config.inputSize} H${config.hiddenSizes[0]} O${config.outputSize} T${config.window} B${batch})`,
      kernelCase: { config, batch, seed: 200 + n },
    });
  }
  return named;
}

const DEVICES: { name: string; limits: FusedLimits; maxWorkgroup?: number }[] = [
  {
    name: '32 KB, deltas staged',
    limits: {
      maxComputeWorkgroupStorageSize: 32768,
      maxComputeInvocationsPerWorkgroup: 256,
      maxStorageBuffersPerShaderStage: 8,
    },
  },
  {
    name: '16 KB, deltas from storage, several items a lane',
    limits: {
      maxComputeWorkgroupStorageSize: 16384,
      maxComputeInvocationsPerWorkgroup: 256,
      maxStorageBuffersPerShaderStage: 8,
    },
    maxWorkgroup: 16,
  },
];

describe('fused forward and backward against the CPU reference', () => {
  for (const device of DEVICES) {
    describe(device.name, () => {
      for (const { name, kernelCase } of cases()) {
        it(name, async () => {
          const admission = fusedAdmission(paramLayout(kernelCase.config), kernelCase.batch, device.limits, {
            maxWorkgroup: device.maxWorkgroup,
            ignoreFlopBound: true,
          });
          if (!admission.admitted) throw new Error(`not admitted: ${admission.reason}`);
          const { plan } = admission;
          // Each device setting exercises what it names, or the test is not testing it.
          if (device.maxWorkgroup === undefined) expect(plan.stageDeltas).toBe(true);
          const reference = referenceStep(kernelCase);
          const harness = new KernelHarness(context.device);
          try {
            const results = await withoutGpuErrors(context, async () => {
              const model = uploadModel(harness, reference);
              await harness.run(fusedDispatches(model, plan));
              return readResults(model);
            });
            expect(stepMismatches(reference, results, TOL)).toEqual([]);
          } finally {
            harness.destroy();
          }
        });
      }
    });
  }

  it("at the blog's size on a 16 KB device the deltas are read back, and items run several a lane", () => {
    const layout = paramLayout({ inputSize: 1, hiddenSizes: [30], outputSize: 1, window: 10 });
    const admission = fusedAdmission(layout, 8, DEVICES[1].limits, { maxWorkgroup: 16 });
    expect(admission.admitted && admission.plan.stageDeltas).toBe(false);
    expect(admission.admitted && admission.plan.itemsPerLane).toBe(4);
  });
});
