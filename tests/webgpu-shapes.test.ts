// The WebGPU backend against the CPU reference on random shapes: several inputs and outputs, stacked
// layers, sizes that are not multiples of the kernels' tiles (4 rows, 4 units, 32 x 32 products,
// workgroups of 16 or 64), batch 1 and window 1. Each shape runs on every schedule (stepwise,
// persistent, fused) under both kernel tunings (SwiftShader's, and the hardware one: tiled steps, the
// coalesced persistent backward, workgroup-memory products, the fused kernels on chip), and one backend
// serves passes of several batch sizes in turn, so a pass that read another pass's leftovers would show.

import { beforeAll, describe, expect, it } from 'vitest';
import type { GradientResult } from '../src/backends/backend.js';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import type { GpuContext } from '../src/backends/webgpu/context.js';
import { SCHEDULES, TUNING_NAMES, type Variant, variantName } from '../src/backends/webgpu/tuning.js';
import { createWebGpuBackend } from '../src/backends/webgpu/webgpuBackend.js';
import { Rng } from '../src/data/rng.js';
import { initParams } from '../src/model/init.js';
import { type ModelConfig, paramLayout } from '../src/model/layout.js';
import { maxAbsDiff, tensorErrors } from './helpers.js';
import { withoutGpuErrors, workerGpuContext } from './webgpu-context.js';

/** The fixtures' tolerance (the CPU sums in float64, the GPU in float32). */
const TOL = 1e-4;

interface Shape {
  config: ModelConfig;
  /** Batch sizes used in turn on one backend. */
  batches: number[];
}

function randomShapes(count: number, rng: Rng): Shape[] {
  const shapes: Shape[] = [
    { config: { inputSize: 1, hiddenSizes: [1], outputSize: 1, window: 1 }, batches: [1, 3] },
    { config: { inputSize: 3, hiddenSizes: [7, 5], outputSize: 2, window: 1 }, batches: [1, 6, 2] },
    // A larger batch after a smaller one in the same workspace: the smaller pass's later steps lie in
    // the larger pass's step-0 region.
    { config: { inputSize: 2, hiddenSizes: [6, 5], outputSize: 1, window: 4 }, batches: [6, 2, 6] },
    { config: { inputSize: 2, hiddenSizes: [70], outputSize: 3, window: 3 }, batches: [5, 1] },
  ];
  for (let i = 0; i < count; i++) {
    const layers = 1 + rng.below(2);
    shapes.push({
      config: {
        inputSize: 1 + rng.below(4),
        hiddenSizes: Array.from({ length: layers }, () => 1 + rng.below(37)),
        outputSize: 1 + rng.below(3),
        window: 1 + rng.below(6),
      },
      batches: [1 + rng.below(9), 1 + rng.below(9)],
    });
  }
  return shapes;
}

function uniform(rng: Rng, length: number): Float32Array {
  const values = new Float32Array(length);
  for (let i = 0; i < length; i++) values[i] = 2 * rng.uniform() - 1;
  return values;
}

/** Every schedule under every tuning (a model a schedule does not take runs stepwise under that tuning). */
const VARIANTS: Variant[] = SCHEDULES.flatMap((schedule) => TUNING_NAMES.map((tuning) => ({ schedule, tuning })));

let context: GpuContext;
beforeAll(async () => {
  context = await workerGpuContext();
});

describe('webgpu against cpu on random shapes', () => {
  const shapes = randomShapes(5, new Rng(20260511));
  shapes.forEach(({ config, batches }, s) => {
    const name = `I ${config.inputSize}, H [${config.hiddenSizes}], O ${config.outputSize}, T ${config.window}, B ${batches}`;
    it(`${name}: gradients and predictions on every schedule and tuning`, async () => {
      const rng = new Rng(s + 1);
      const layout = paramLayout(config);
      const params = initParams(layout, rng);
      const { window: T, inputSize: I, outputSize: O } = config;
      const cases = batches.map((batch) => ({ batch, x: uniform(rng, batch * T * I), t: uniform(rng, batch * O) }));
      const cpu = new CpuBackend(layout);
      cpu.setParams(params);
      const expected: GradientResult[] = [];
      for (const { batch, x, t } of cases) expected.push(await cpu.gradients(x, t, batch));

      for (const variant of VARIANTS) {
        await withoutGpuErrors(context, async () => {
          const gpu = await createWebGpuBackend(context, layout, {
            schedule: variant.schedule,
            tuning: variant.tuning,
          });
          try {
            gpu.setParams(params);
            for (let c = 0; c < cases.length; c++) {
              const { batch, x, t } = cases[c];
              const what = `${variantName(variant)}, batch ${batch}`;
              const result = await gpu.gradients(x, t, batch);
              expect(Math.abs(result.loss - expected[c].loss), `${what}: loss`).toBeLessThanOrEqual(
                TOL * Math.max(1, Math.abs(expected[c].loss)),
              );
              const y = maxAbsDiff(result.y, expected[c].y);
              expect(y.diff, `${what}: y`).toBeLessThanOrEqual(TOL * Math.max(1, y.scale));
              for (const tensor of tensorErrors(layout, result.grads, expected[c].grads, TOL)) {
                expect(tensor.diff, `${what}: ${tensor.name}`).toBeLessThanOrEqual(tensor.allowed);
              }
              const predicted = await gpu.predict(x, batch);
              const out = maxAbsDiff(predicted, expected[c].y);
              expect(out.diff, `${what}: predict`).toBeLessThanOrEqual(TOL * Math.max(1, out.scale));
            }
          } finally {
            gpu.dispose();
          }
        });
      }
    });
  });
});
