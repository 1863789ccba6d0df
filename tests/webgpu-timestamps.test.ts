// GPU time per kernel group (profileSteps, timestamp queries): on this machine's SwiftShader, which
// offers 'timestamp-query', the four groups come out positive and within the wall time of the same
// work; a profile is one submit and one readback, allocates nothing per step and leaves the
// parameters and the optimiser's state as they were (a device without the feature:
// webgpu-no-timestamps.test.ts). SwiftShader's timestamps time its CPU emulation of each pass.

import { beforeAll, describe, expect, it } from 'vitest';
import type { KernelTimes } from '../src/backends/backend.js';
import type { GpuContext } from '../src/backends/webgpu/context.js';
import { MAX_PROFILED_STEPS } from '../src/backends/webgpu/profiler.js';
import { createWebGpuBackend, type Schedule, type WebGpuBackend } from '../src/backends/webgpu/webgpuBackend.js';
import { benchCase } from '../src/bench/bench.js';
import { InputError } from '../src/model/errors.js';
import { DEFAULT_OPTIMIZER } from '../src/model/optimizer.js';
import { type Run, startRun } from '../src/train/run.js';
import { sineRunSettings } from './helpers.js';
import { withoutGpuErrors, workerGpuContext } from './webgpu-context.js';

const SEED = { seed: 7, points: 50, noise: 0.1, window: 10, hiddenSizes: [30] };
const GROUPS = ['forward', 'backward', 'weightGradients', 'update'] as const;

// The worker's shared device (it has timestamp-query where the adapter offers it, as the first test
// asserts), so the blog's pipelines the other device files built are not built again.
let context: GpuContext;
beforeAll(async () => {
  context = await workerGpuContext();
});

async function withBackend<T>(
  settings: typeof SEED,
  options: Parameters<typeof createWebGpuBackend>[2],
  body: (backend: WebGpuBackend, run: Run) => Promise<T>,
  on: GpuContext = context,
): Promise<T> {
  return withoutGpuErrors(on, async () => {
    const run = startRun(sineRunSettings(settings));
    const backend = await createWebGpuBackend(on, run.layout, options);
    try {
      backend.setParams(run.params);
      backend.setTrainingData(run.prepared.train, 8);
      await backend.trainEpoch(run.rng.permutation(new Uint32Array(run.prepared.train.count)), 0.01);
      await backend.readLosses();
      return await body(backend, run);
    } finally {
      backend.dispose();
    }
  });
}

/** profileSteps(steps) with the wall time per step around it, which holds all the GPU work it times. */
async function timedProfile(backend: WebGpuBackend, steps: number): Promise<{ times: KernelTimes; wallMs: number }> {
  const start = performance.now();
  const times = await backend.profileSteps(steps);
  const wallMs = (performance.now() - start) / Math.min(steps, MAX_PROFILED_STEPS);
  if (times === null) throw new Error('no kernel times on a device with timestamp-query');
  return { times, wallMs };
}

function expectWithinWallTime(times: KernelTimes, wallMs: number): void {
  for (const group of GROUPS) {
    expect(Number.isFinite(times[group]), group).toBe(true);
    expect(times[group], group).toBeGreaterThan(0);
  }
  const sum = GROUPS.reduce((total, group) => total + times[group], 0);
  // The GPU's clock and the CPU's may differ a little (and a browser would quantise the timestamps).
  expect(sum).toBeLessThanOrEqual(1.25 * wallMs + 0.2);
  // On SwiftShader the passes are the CPU's work, most of the wall time; a GPU's may be hidden by the
  // cost of a submit and a readback, so the lower bound holds only there.
  if (context.adapter.software) expect(sum).toBeGreaterThan(0.25 * wallMs);
}

describe('kernel times from timestamp queries', () => {
  it("this machine's adapter offers timestamp-query and the device has it", () => {
    expect(context.timestamps).toBe(true);
    expect(context.device.features.has('timestamp-query')).toBe(true);
  });

  for (const schedule of ['stepwise', 'persistent'] as Schedule[]) {
    it(`${schedule} at the blog’s defaults: four positive times within the wall time; one submit, one readback, weights kept`, async () => {
      await withBackend(SEED, { schedule }, async (backend) => {
        const perStep = backend.dispatchesPerStep();
        const params = await backend.readParams();
        const first = await timedProfile(backend, 32);
        expectWithinWallTime(first.times, first.wallMs);

        // Then: one submit and one readback, no buffer but the backup of the weights (the query set,
        // the resolve buffer and a large enough readback buffer were made by the first profile).
        const before = backend.counters();
        const second = await timedProfile(backend, 16);
        const after = backend.counters();
        expectWithinWallTime(second.times, second.wallMs);
        expect(after.submits - before.submits).toBe(1);
        expect(after.readbacks - before.readbacks).toBe(1);
        expect(after.buffersCreated - before.buffersCreated).toBe(1);
        expect(after.dispatches - before.dispatches).toBe(16 * (perStep ?? 0));
        // Profiling leaves training as it was: the weights and the dispatches of an epoch's step.
        expect(Array.from(await backend.readParams())).toEqual(Array.from(params));
        expect(backend.dispatchesPerStep()).toBe(perStep);
      });
    });
  }

  it('two layers with Adam and clipping: the gradient norm is in the update; the optimiser state is kept', async () => {
    const twoLayers = { ...SEED, hiddenSizes: [16, 24] };
    await withBackend(twoLayers, {}, async (backend, run) => {
      backend.setOptimizer({ ...DEFAULT_OPTIMIZER, name: 'adam', clipNorm: 1 }, 'mse');
      const order = run.rng.permutation(new Uint32Array(run.prepared.train.count));
      await backend.trainEpoch(order, 0.01);
      await backend.readLosses();
      const params = await backend.readParams();
      const state = await backend.readOptimizerState();
      const { times, wallMs } = await timedProfile(backend, 16);
      expectWithinWallTime(times, wallMs);
      expect(Array.from(await backend.readParams())).toEqual(Array.from(params));
      const kept = await backend.readOptimizerState();
      expect(kept.step).toBe(state.step);
      expect(Array.from(kept.slots)).toEqual(Array.from(state.slots));
      // Training goes on as before after a profile.
      await backend.trainEpoch(order, 0.01);
      expect((await backend.readLosses()).train.every(Number.isFinite)).toBe(true);
    });
  });

  it(`measures at most ${MAX_PROFILED_STEPS} steps and refuses a step count that is not a whole number`, async () => {
    await withBackend(SEED, { schedule: 'stepwise' }, async (backend) => {
      const perStep = backend.dispatchesPerStep() ?? 0;
      const before = backend.counters().dispatches;
      const { times, wallMs } = await timedProfile(backend, 10 * MAX_PROFILED_STEPS);
      expect(backend.counters().dispatches - before).toBe(MAX_PROFILED_STEPS * perStep);
      expectWithinWallTime(times, wallMs);
      await expect(backend.profileSteps(0)).rejects.toThrow(InputError);
      await expect(backend.profileSteps(1.5)).rejects.toThrow(/steps: expected a whole number/);
    });
  });

  it('the benchmark reports the split for a WebGPU case', async () => {
    const result = await withoutGpuErrors(context, () =>
      benchCase(
        (layout) => createWebGpuBackend(context, layout),
        { backend: 'webgpu', hidden: 32, batch: 8, window: 10 },
        { steps: 8, repetitions: 3, budgetSeconds: 10 },
      ),
    );
    expect(result.skipped).toBeNull();
    const kernelMs = result.kernelMs;
    expect(kernelMs).toBeDefined();
    // The fused variant takes BPTT inside its rows kernel (the forward group): no backward group of its own.
    const fused = result.variant?.startsWith('fused') ?? false;
    for (const group of GROUPS) {
      if (fused && group === 'backward') expect(kernelMs?.[group], group).toBe(0);
      else expect(kernelMs?.[group], group).toBeGreaterThan(0);
    }
    // Profiled steps pay a pass per group, timed steps do not: the same order of time, not the same.
    const sum = GROUPS.reduce((total, group) => total + (kernelMs?.[group] ?? 0), 0);
    expect(sum).toBeLessThan(2 * result.msPerStepMax + 0.2);
  });
});
