// The fused small-model kernels (shaders/lstm_fused_rows.wgsl, lstm_fused_gradients.wgsl), run directly
// on Dawn (SwiftShader here) and compared with the CPU reference (src/backends/cpu/lstm.ts) within
// 1e-4 * max(1, max|e|): a gradients pass (the loss, the outputs, every gradient tensor, the cell
// states) and an evaluation pass (the loss, the outputs, the activations and cell states). Each shape
// runs on chip with the deltas staged (a 32 KB device) and read back (a 16 KB one), off chip (the
// software tuning), with one and several row quads a workgroup, several items an invocation, and one,
// two and eight units an item (on chip, as the hardware tuning runs it, one: SwiftShader's workgroup
// memory makes on-chip cases the slowest here).

import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../src/backends/webgpu/context.js';
import { type FusedLimits, type FusedOptions, fusedAdmission } from '../src/backends/webgpu/fusedStep.js';
import { kernelTuning } from '../src/backends/webgpu/tuning.js';
import { Rng } from '../src/data/rng.js';
import { paramLayout } from '../src/model/layout.js';
import { withoutGpuErrors, workerGpuContext } from './webgpu-context.js';
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
  context = await workerGpuContext();
});

function cases(): { name: string; kernelCase: KernelCase }[] {
  const named: { name: string; kernelCase: KernelCase }[] = [
    {
      name: "the blog's (I1 H30 T10 B8)",
      kernelCase: { config: { inputSize: 1, hiddenSizes: [30], outputSize: 1, window: 10 }, batch: 8, seed: 11 },
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

function device(storage: number): FusedLimits {
  return {
    maxComputeWorkgroupStorageSize: storage,
    maxComputeInvocationsPerWorkgroup: 256,
    maxStorageBuffersPerShaderStage: 8,
  };
}

const TUNINGS: { name: string; limits: FusedLimits; options: FusedOptions }[] = [
  { name: 'on chip, 32 KB: deltas staged, a quad a workgroup', limits: device(32768), options: {} },
  {
    name: 'on chip, 16 KB: deltas read back, two quads a workgroup, several items a lane',
    limits: device(16384),
    options: { groupQuads: 2, maxWorkgroup: 16 },
  },
  {
    name: 'off chip (software): a quad a workgroup, eight units an item, sums of 8 product rows an item',
    limits: device(32768),
    options: { onChip: false, maxWorkgroup: 4, units: 8, gradientRows: 8, gradientWorkgroup: 16 },
  },
  {
    name: 'off chip: two quads a workgroup, two units an item, several items a lane',
    limits: device(32768),
    options: { onChip: false, groupQuads: 2, maxWorkgroup: 8, units: 2 },
  },
  {
    name: 'off chip, paired (software, populations): two quads an item, eight units, a pair a workgroup',
    limits: device(32768),
    options: { onChip: false, paired: true, maxWorkgroup: 4, units: 8, gradientRows: 8, gradientWorkgroup: 16 },
  },
  {
    name: 'off chip, paired: two pairs a workgroup, four units an item, several items a lane',
    limits: device(32768),
    options: { onChip: false, paired: true, groupQuads: 4, maxWorkgroup: 8, units: 4 },
  },
];

describe('fused kernels against the CPU reference', () => {
  for (const tuning of TUNINGS) {
    describe(tuning.name, () => {
      for (const { name, kernelCase } of cases()) {
        it(name, async () => {
          const layout = paramLayout(kernelCase.config);
          const admission = fusedAdmission(layout, kernelCase.batch, tuning.limits, {
            ...tuning.options,
            ignoreFlopBound: true,
          });
          if (!admission.admitted) throw new Error(`not admitted: ${admission.reason}`);
          const { plan } = admission;
          expect(plan.onChip).toBe(tuning.options.onChip ?? true);
          expect(plan.units).toBe(tuning.options.units ?? 1);
          expect(plan.paired).toBe(tuning.options.paired ?? false);
          if (tuning.limits.maxComputeWorkgroupStorageSize === 32768 && plan.onChip)
            expect(plan.stageDeltas).toBe(true);
          const reference = referenceStep(kernelCase);
          const harness = new KernelHarness(context.device);
          try {
            const [gradients, evaluation] = await withoutGpuErrors(context, async () => {
              const model = uploadModel(harness, reference);
              await harness.run(fusedDispatches(model, plan));
              const afterGradients = await readResults(model);
              await harness.run(fusedDispatches(model, plan, { withLoss: true, withGradients: false }));
              return [afterGradients, await readResults(model)];
            });
            expect(stepMismatches(reference, gradients, TOL, { gradients: true, activations: false })).toEqual([]);
            expect(stepMismatches(reference, evaluation, TOL, { gradients: false, activations: true })).toEqual([]);
          } finally {
            harness.destroy();
          }
        });
      }
    });
  }

  it("at the blog's size a 16 KB device reads the deltas back; one quad a workgroup gives 2 workgroups", () => {
    const layout = paramLayout({ inputSize: 1, hiddenSizes: [30], outputSize: 1, window: 10 });
    const admission = fusedAdmission(layout, 8, device(16384));
    expect(admission).toMatchObject({
      admitted: true,
      plan: { stageDeltas: false, rowGroups: 2, workgroup: 32, itemsPerLane: 1 },
    });
  });

  it('the software tuning gives an item eight units and sizes workgroups in groups of 4 invocations, not warps of 32', () => {
    const software = kernelTuning('software', 256);
    const options = { onChip: software.fusedOnChip, units: software.fusedUnits, warp: software.fusedWarp };
    const plan = (H: number, maxWorkgroup = software.fusedWorkgroup) => {
      const layout = paramLayout({ inputSize: 1, hiddenSizes: [H], outputSize: 1, window: 10 });
      const admission = fusedAdmission(layout, 8, device(32768), { ...options, maxWorkgroup });
      if (!admission.admitted) throw new Error(admission.reason);
      return admission.plan;
    };
    // The blog's 30 units: 4 items of eight units a quad, 4 invocations (was 32 with one unit an item).
    expect(plan(30)).toMatchObject({ units: 8, workgroup: 4, itemsPerLane: 1, rowGroups: 2 });
    expect(plan(7)).toMatchObject({ workgroup: 4, itemsPerLane: 1 });
    // More items than invocations: several a lane, still whole groups of 4.
    expect(plan(60, 4)).toMatchObject({ workgroup: 4, itemsPerLane: 2 });
    expect(plan(100)).toMatchObject({ workgroup: 16, itemsPerLane: 1 });
    expect(software).toMatchObject({ fusedGradientRows: 8, fusedGradientWorkgroup: 16 });
    expect(kernelTuning('hardware', 256)).toMatchObject({ fusedUnits: 1, fusedWarp: 32, fusedGradientRows: 4 });
  });

  it('a population on the software tuning pairs the quads: one workgroup of 4 a member at the blog size', () => {
    const software = kernelTuning('software', 256);
    expect(software.fusedPairedMembers).toBe(2);
    expect(kernelTuning('hardware', 256).fusedPairedMembers).toBe(Number.POSITIVE_INFINITY);
    const layout = paramLayout({ inputSize: 1, hiddenSizes: [30], outputSize: 1, window: 10 });
    const options = { onChip: false, units: 8, warp: 4, maxWorkgroup: software.fusedWorkgroup, paired: true } as const;
    // Both quads of the batch in one item: 4 items of 8 rows x 8 units, the same 4 invocations.
    expect(fusedAdmission(layout, 8, device(32768), options)).toMatchObject({
      admitted: true,
      plan: { paired: true, groupQuads: 2, rowGroups: 1, workgroup: 4, itemsPerLane: 1 },
    });
    // The error's 40 rows: 5 pairs; 3 quads: two groups, the second's second quad past the batch.
    expect(fusedAdmission(layout, 40, device(32768), options)).toMatchObject({ plan: { rowGroups: 5 } });
    expect(fusedAdmission(layout, 9, device(32768), options)).toMatchObject({ plan: { rowGroups: 2, groupQuads: 2 } });
    expect(fusedAdmission(layout, 8, device(32768), { paired: true })).toEqual({
      admitted: false,
      reason: 'two quads an item are off chip only',
    });
  });
});
