// `auto`: the decision from a race's timings (injected, so deterministic), the memory per adapter,
// shape and batch, one half of a race as the app times it, and one real race on this machine's adapter
// through the CLI's opener and `train --json`: the pick is the faster measured backend anywhere; that
// the CPU wins at the blog's defaults is asserted only on a software adapter (SwiftShader).

import { describe, expect, it } from 'vitest';
import type { AdapterDescription } from '../src/backends/backend.js';
import { createCpuBackend, createCpuPopulation } from '../src/backends/cpu/createCpuBackend.js';
import { nodeThreadHost } from '../src/backends/cpu/nodeThreads.js';
import { chooseBackend, decideBackend, raceBackends, timeRacer } from '../src/backends/race.js';
import { nodeGpu } from '../src/backends/webgpu/nodeGpu.js';
import { openBackend } from '../src/cli/backends.js';
import { paramLayout } from '../src/model/layout.js';
import { cli } from './helpers.js';

const SOFTWARE: AdapterDescription = { vendor: 'google', architecture: 'swiftshader', description: '', software: true };
const GPU: AdapterDescription = { vendor: 'nvidia', architecture: 'hopper', description: 'H200', software: false };
const BLOG = { inputSize: 1, hiddenSizes: [30], outputSize: 1, window: 10 };

describe('auto: the decision', () => {
  it('takes the faster backend and says by how much, on what, at which shape', async () => {
    const slowGpu = decideBackend({ cpu: 0.04, webgpu: 1 }, SOFTWARE, BLOG, 8);
    expect(slowGpu.backend).toBe('cpu');
    expect(slowGpu.ratio).toBeCloseTo(25, 9);
    expect(slowGpu.reason).toBe('auto: cpu, 25× faster than webgpu on this software adapter at hidden 30, batch 8');
    const fastGpu = decideBackend({ cpu: 30, webgpu: 2 }, GPU, { ...BLOG, hiddenSizes: [512, 256] }, 256);
    expect(fastGpu.backend).toBe('webgpu');
    expect(fastGpu.ratio).toBeCloseTo(15, 9);
    expect(fastGpu.reason).toBe('auto: webgpu, 15× faster than cpu on this GPU at hidden 512,256, batch 256');
    expect(decideBackend({ cpu: 2, webgpu: 1.5 }, GPU, BLOG, 8).reason).toContain('webgpu, 1.3× faster than cpu');
    // A tie goes to the CPU (exact, and no device to hold).
    expect(decideBackend({ cpu: 1, webgpu: 1 }, GPU, BLOG, 8).backend).toBe('cpu');
  });

  it('races once per adapter, shape and batch', async () => {
    const layout = paramLayout({ ...BLOG, hiddenSizes: [7] });
    let races = 0;
    const race = async () => {
      races++;
      return { cpu: 3, webgpu: 1 };
    };
    const first = await chooseBackend(GPU, layout, 4, race);
    expect(first.backend).toBe('webgpu');
    expect(await chooseBackend(GPU, layout, 4, race)).toBe(first);
    expect(races).toBe(1);
    await chooseBackend(GPU, layout, 5, race);
    await chooseBackend(SOFTWARE, layout, 4, race);
    await chooseBackend(GPU, paramLayout({ ...BLOG, hiddenSizes: [8] }), 4, race);
    expect(races).toBe(4);
    // A population's members are part of its shape: 64 members race apart from one.
    const population = await chooseBackend(GPU, layout, 4, race, 64);
    expect(races).toBe(5);
    expect(population.reason).toBe('auto: webgpu, 3.0× faster than cpu on this GPU at hidden 7, batch 4, 64 members');
    expect(await chooseBackend(GPU, layout, 4, race, 64)).toBe(population);
    expect(races).toBe(5);
  });

  it('times a population at its shape: every member trains in each timed epoch', async () => {
    const cpu = await createCpuPopulation(paramLayout(BLOG), 3, { threads: 1, host: nodeThreadHost });
    try {
      const epochs: number[][] = [];
      const trainMembers = cpu.trainMembers.bind(cpu);
      cpu.trainMembers = (epoch, ...rest) => {
        epochs.push(epoch.orders.map((order) => order.length));
        return trainMembers(epoch, ...rest);
      };
      await timeRacer(cpu, 4, 0);
      expect(epochs).toEqual([
        [8, 8, 8],
        [8, 8, 8],
      ]);
    } finally {
      await cpu.dispose();
    }
  });
});

describe('auto: the budget of a race', () => {
  it('starts after the warm-ups: a racer that compiles its pipelines in its warm-up still gets timed rounds', async () => {
    const layout = paramLayout(BLOG);
    const fast = await createCpuBackend(layout, { threads: 1, host: nodeThreadHost });
    const slowStart = await createCpuBackend(layout, { threads: 1, host: nodeThreadHost });
    try {
      let epochs = 0;
      const trainMembers = slowStart.trainMembers.bind(slowStart);
      slowStart.trainMembers = async (epoch, ...rest) => {
        // The first epoch (the warm-up) takes longer than the whole budget, as a compile would.
        if (epochs++ === 0) await new Promise((resolve) => setTimeout(resolve, 120));
        return trainMembers(epoch, ...rest);
      };
      const times = await raceBackends(fast, slowStart, 8, 60);
      expect(Number.isFinite(times.cpu) && Number.isFinite(times.webgpu)).toBe(true);
      // The warm-up, then rounds for 60 ms: each of this model's epochs takes well under a millisecond.
      expect(epochs).toBeGreaterThan(3);
      // The warm-up's 120 ms is not in the best time a step.
      expect(times.webgpu).toBeLessThan(60);
    } finally {
      await Promise.all([fast.dispose(), slowStart.dispose()]);
    }
  });
});

describe('auto: one half of a race (the app times the CPU in its worker, WebGPU on the page)', () => {
  it('times a warm-up epoch and then epochs until its budget, at least one, and returns the best ms a step', async () => {
    const cpu = await createCpuBackend(paramLayout(BLOG), { threads: 1, host: nodeThreadHost });
    try {
      const epochs: number[] = [];
      // (A backend races as the population of one it is: its epochs are trainMembers'.)
      const trainMembers = cpu.trainMembers.bind(cpu);
      cpu.trainMembers = (epoch, ...rest) => {
        epochs.push(epoch.orders[0].length);
        return trainMembers(epoch, ...rest);
      };
      const best = await timeRacer(cpu, 8, 0);
      expect(Number.isFinite(best) && best > 0).toBe(true);
      // A zero budget: the warm-up and one timed epoch, each of the race's two minibatches of 8.
      expect(epochs).toEqual([16, 16]);
      epochs.length = 0;
      await timeRacer(cpu, 4, 50);
      expect(epochs.length).toBeGreaterThan(2);
      expect(new Set(epochs)).toEqual(new Set([8]));
    } finally {
      await cpu.dispose();
    }
  });
});

describe('auto: a real race on this adapter', () => {
  /** Only on a software adapter is the winner known in advance: the CPU, at the blog's size. */
  const softwareAdapter = async () => (await nodeGpu())?.swiftShader === true;

  it('chooses the faster measured backend at the blog defaults (the cpu on SwiftShader), naming both and a ratio', async () => {
    const opened = await openBackend('auto', paramLayout(BLOG), 8);
    try {
      const { auto } = opened;
      expect(auto).not.toBeNull();
      if (auto === null) return;
      expect(auto.msPerStep.cpu).toBeGreaterThan(0);
      expect(auto.msPerStep.webgpu).toBeGreaterThan(0);
      expect(auto.reason).toMatch(
        /^auto: (cpu|webgpu), \d+(\.\d)?× faster than (cpu|webgpu) on this .* at hidden 30, batch 8$/,
      );
      // The program's contract on any adapter: the pick is the faster of the two measured times.
      const faster = auto.msPerStep.cpu <= auto.msPerStep.webgpu ? 'cpu' : 'webgpu';
      const slower = faster === 'cpu' ? 'webgpu' : 'cpu';
      expect(auto.backend).toBe(faster);
      expect(opened.backend.name).toBe(faster);
      expect(auto.reason).toContain(`auto: ${faster}, `);
      expect(auto.reason).toContain(`faster than ${slower}`);
      expect(opened.note).toBe(`backend: ${faster} (${auto.reason})`);
      if (await softwareAdapter()) {
        // Only on a software adapter (SwiftShader, as on GPU-less machines): the CPU wins at this size.
        expect(auto.reason).toContain('software adapter');
        expect(auto.backend).toBe('cpu');
      }
    } finally {
      opened.close();
    }
  });

  it('train --json carries the choice and the measured ratio', async () => {
    const { status, stdout, stderr } = await cli(['train', '--epochs', '2', '--json']);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const out = JSON.parse(stdout);
    const { cpu, webgpu } = out.auto.msPerStep;
    const faster = cpu <= webgpu ? 'cpu' : 'webgpu';
    expect(out.backend).toBe(faster);
    expect(out.auto.backend).toBe(faster);
    expect(out.auto.ratio).toBeGreaterThanOrEqual(1);
    expect(out.auto.reason).toMatch(
      new RegExp(`^auto: ${faster}, [\\d.]+× faster than ${faster === 'cpu' ? 'webgpu' : 'cpu'}`),
    );
    expect(Object.keys(out.auto.msPerStep).sort()).toEqual(['cpu', 'webgpu']);
    // Only on a software adapter (SwiftShader): the CPU wins at the blog's defaults.
    if (await softwareAdapter()) expect(out.backend).toBe('cpu');
  });
});
