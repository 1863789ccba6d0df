// The CPU backend on several threads (src/backends/cpu/threads.ts and kernels.wat's drivers). Any
// split of rows (claimed in chunks), gate columns and parameters gives exactly the one-thread result,
// since every row's and every column's sums run in the same order on whichever thread takes them; the
// reference bounds both. Threads end on dispose(), a thread that fails is an error and not a hang, and
// the choice of thread count falls back to one, with the reason, where threads cannot run.

import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { DisposedError } from '../src/backends/backend.js';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { createCpuBackend } from '../src/backends/cpu/createCpuBackend.js';
import { FastLstm, rebalanceWeights } from '../src/backends/cpu/fastLstm.js';
import { KERNEL_MEMORY } from '../src/backends/cpu/kernelMemory.js';
import { liveNodeThreads, nodeThreadHost } from '../src/backends/cpu/nodeThreads.js';
import { type CpuThreadHost, CpuThreadPool, measureThreads } from '../src/backends/cpu/threads.js';
import { Rng } from '../src/data/rng.js';
import { InputError } from '../src/model/errors.js';
import { paramLayout } from '../src/model/layout.js';
import { DEFAULT_OPTIMIZER } from '../src/model/optimizer.js';
import { checkThreads, MAX_THREADS } from '../src/settings/threads.js';
import { CPU_CASES, expectClose, FAST_TOL, randomCases, randomDataset, randomProblem } from './cpu-cases.js';
import { tensorErrors } from './helpers.js';

const pools: CpuThreadPool[] = [];
afterAll(() => {
  for (const pool of pools) pool.dispose();
});

/** Waits (up to 5 s) until at most `count` worker threads are alive: Node ends a terminated worker soon, not at once. */
async function threadsDownTo(count: number): Promise<number> {
  const deadline = Date.now() + 5000;
  while (liveNodeThreads() > count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return liveNodeThreads();
}

async function pool(size: number): Promise<CpuThreadPool> {
  const started = await CpuThreadPool.start(size, nodeThreadHost);
  pools.push(started);
  return started;
}

describe('threaded fast kernels', () => {
  const cases = [...CPU_CASES, ...randomCases(12, 77)];
  for (const size of [2, 3]) {
    it(`${size} threads: loss, outputs and every gradient exactly as on one thread, on ${cases.length} shapes`, async () => {
      const threads = await pool(size);
      for (const [index, c] of cases.entries()) {
        const { batch, ...config } = c;
        const { layout, params, x, t } = randomProblem(config, batch, 500 + index);
        const one = new CpuBackend(layout);
        const several = new CpuBackend(layout, { pool: threads, threads: size });
        const reference = new CpuBackend(layout, { kernels: 'reference' });
        for (const backend of [one, several, reference]) backend.setParams(params);
        expect(several.threads).toBe(size);
        const want = await one.gradients(x, t, batch);
        const got = await several.gradients(x, t, batch);
        const shape = `H=[${config.hiddenSizes}] T=${config.window} B=${batch}`;
        expect(got.loss, shape).toBe(want.loss);
        expect(Array.from(got.y), shape).toEqual(Array.from(want.y));
        expect(Array.from(got.grads), shape).toEqual(Array.from(want.grads));
        const exact = await reference.gradients(x, t, batch);
        for (const tensor of tensorErrors(layout, got.grads, exact.grads, FAST_TOL)) {
          expect(tensor.diff, `${shape} ${tensor.name}`).toBeLessThanOrEqual(tensor.allowed);
        }
        // Forward only, on more rows than the gradients used (a larger engine on the same memory).
        const rows = batch + 5;
        const more = randomProblem(config, rows, 900 + index);
        expect(Array.from(await several.predict(more.x, rows)), shape).toEqual(
          Array.from(await one.predict(more.x, rows)),
        );
      }
    });
  }

  it('claims every batch row once in the forward pass and in BPTT, on any batch size', async () => {
    const threads = await pool(3);
    const config = { inputSize: 2, hiddenSizes: [13, 6], outputSize: 1, window: 3 };
    const rowsTaken = new Int32Array(threads.memory.buffer, KERNEL_MEMORY.busyRows, threads.size);
    const claimed = () => rowsTaken.reduce((sum, rows) => sum + rows, 0);
    for (const batch of [1, 3, 4, 29, 64, 97]) {
      const { layout, params, x, t } = randomProblem(config, batch, 60 + batch);
      const engine = new FastLstm(layout, batch, DEFAULT_OPTIMIZER, { pool: threads });
      engine.setParams(params);
      engine.loadBatch(x, t, null, 0, batch);
      engine.forward(batch);
      expect(claimed(), `forward, batch ${batch}`).toBe(batch);
      engine.loss(batch, 1);
      engine.backward(batch);
      expect(claimed(), `BPTT, batch ${batch}`).toBe(batch);
    }
  });

  it('uneven share weights split the work unevenly, and the results stay exactly one thread’s', async () => {
    const threads = await pool(3);
    const config = { inputSize: 2, hiddenSizes: [37, 9], outputSize: 1, window: 4 };
    const batch = 29;
    const { layout, params, x, t } = randomProblem(config, batch, 41);
    const one = new FastLstm(layout, batch);
    const several = new FastLstm(layout, batch, DEFAULT_OPTIMIZER, { pool: threads });
    const results = (engine: FastLstm) => {
      engine.setParams(params);
      engine.loadBatch(x, t, null, 0, batch);
      engine.forward(batch);
      const loss = engine.loss(batch, 1);
      engine.backward(batch);
      const grads = new Float32Array(layout.size);
      engine.readGrads(grads);
      return { loss, grads: Array.from(grads) };
    };
    const want = results(one);
    for (const weights of [
      [1, 1, 1],
      [5, 1, 0.25],
      [0.1, 0.1, 9],
      [1, 1e-3, 1],
    ]) {
      several.setWeights(weights);
      expect(results(several), `weights ${weights}`).toEqual(want);
    }
    expect(() => several.setWeights([1, 0, 1])).toThrow(/3 positive numbers/);
    expect(() => several.setWeights([1, 1])).toThrow(/3 positive numbers/);
  });

  it('threads splitting the hidden units give exactly one thread’s results, on any weights and steps', async () => {
    const cases = [
      { inputSize: 3, hiddenSizes: [16], outputSize: 1, window: 4, batch: 5 },
      { inputSize: 2, hiddenSizes: [24, 8, 40], outputSize: 2, window: 3, batch: 7 }, // three layers
      { inputSize: 1, hiddenSizes: [66, 64], outputSize: 1, window: 5, batch: 1 }, // 66 pads to 72
      { inputSize: 5, hiddenSizes: [8], outputSize: 3, window: 2, batch: 9 }, // a thread with no units
      { inputSize: 2, hiddenSizes: [300], outputSize: 1, window: 2, batch: 3 }, // products over several panels
    ];
    for (const size of [2, 3]) {
      const threads = await pool(size);
      for (const [index, c] of cases.entries()) {
        const { batch, ...config } = c;
        const { layout, params, x, t } = randomProblem(config, batch, 700 + index);
        const one = new FastLstm(layout, batch);
        const several = new FastLstm(layout, batch, DEFAULT_OPTIMIZER, { pool: threads });
        several.splitUnits = true;
        expect(several.splitUnits).toBe(true);
        const run = (engine: FastLstm) => {
          engine.setParams(params);
          const steps = [];
          for (let step = 0; step < 2; step++) {
            engine.loadBatch(x, t, null, 0, batch);
            engine.forward(batch);
            const loss = engine.loss(batch, 1);
            engine.backward(batch);
            const grads = new Float32Array(layout.size);
            engine.readGrads(grads);
            steps.push({ loss, grads: Array.from(grads) });
            engine.update(0.01);
          }
          return steps;
        };
        const want = run(one);
        const shape = `${size} threads, H=[${config.hiddenSizes}] T=${config.window} B=${batch}`;
        expect(run(several), shape).toEqual(want);
        several.setWeights(size === 2 ? [3, 0.2] : [0.2, 4, 1]);
        expect(run(several), `${shape}, uneven weights`).toEqual(want);
      }
    }
  });

  it('splits the units only on several threads and where a layer’s weights are large', async () => {
    const threads = await pool(2);
    const engine = (hiddenSizes: number[]) =>
      new FastLstm(paramLayout({ inputSize: 1, hiddenSizes, outputSize: 1, window: 2 }), 2, DEFAULT_OPTIMIZER, {
        pool: threads,
      });
    const large = engine([1024]);
    expect(large.splitUnits).toBe(true);
    large.threads = 1;
    expect(large.splitUnits).toBe(false);
    large.splitUnits = true;
    expect(large.splitUnits).toBe(false);
    const small = engine([30]);
    expect(small.splitUnits).toBe(false);
    small.splitUnits = true;
    expect(small.splitUnits).toBe(true);
    expect(() => {
      engine([30, 10]).splitUnits = true;
    }).toThrow(/multiple of 8/);
  });

  it('moves the share weights toward the threads’ measured speeds, never starving one', () => {
    const weights = new Float32Array([1, 1, 1, 1]);
    // Equal rows; thread 1 took twice as long, so it is half as fast as the others.
    rebalanceWeights(weights, [16, 16, 16, 16], [10, 20, 10, 10], 3);
    expect(weights[0]).toBeCloseTo(weights[2], 6);
    expect(weights[1]).toBeLessThan(weights[0]);
    expect(weights[0] + weights[1] + weights[2]).toBeCloseTo(3, 5);
    expect(weights[3]).toBe(1);
    // Repeated, the weights settle where every thread's share takes the same time: speeds 2:1:2.
    for (let pass = 0; pass < 30; pass++) {
      const rows = [0, 1, 2].map((i) => (64 * weights[i]) / 3);
      rebalanceWeights(weights, rows, [rows[0] / 2, rows[1] / 1, rows[2] / 2], 3);
    }
    expect(weights[0] / weights[1]).toBeCloseTo(2, 3);
    // A pass too short to time moves nothing.
    const settled = Array.from(weights);
    rebalanceWeights(weights, [16, 16, 16], [0.1, 10, 10], 3);
    expect(Array.from(weights)).toEqual(settled);

    // A thread held up again and again keeps a share (MIN_WEIGHT of the mean)...
    const two = new Float32Array([1, 1]);
    for (let pass = 0; pass < 40; pass++) rebalanceWeights(two, [32, 32], [5, 5000], 2);
    expect(two[1]).toBeGreaterThan(0.05);
    expect(two[0] + two[1]).toBeCloseTo(2, 5);
    // ...and one that got no rows (a small batch) moves back toward the mean, then follows its speed.
    rebalanceWeights(two, [64, 0], [5, 0], 2);
    const back = two[1];
    expect(back).toBeGreaterThan(0.1);
    for (let pass = 0; pass < 30; pass++) rebalanceWeights(two, [32, 32], [5, 5], 2);
    expect(two[0]).toBeCloseTo(1, 3);
    expect(two[1]).toBeCloseTo(1, 3);
  });

  it('trains epochs with each optimiser exactly as one thread does (the update split by ranges)', async () => {
    const threads = await pool(3);
    const config = { inputSize: 2, hiddenSizes: [21, 10], outputSize: 2, window: 5 };
    const { layout, params } = randomProblem(config, 1, 3);
    const data = randomDataset(config, 37, 4);
    for (const name of ['sgd', 'momentum', 'adam'] as const) {
      const optimizer = { ...DEFAULT_OPTIMIZER, name, clipNorm: name === 'adam' ? 0.5 : null };
      const backends = [new CpuBackend(layout), new CpuBackend(layout, { pool: threads, threads: 3 })];
      const rng = new Rng(9);
      const order = new Uint32Array(data.count);
      for (const backend of backends) {
        backend.setParams(params);
        backend.setOptimizer(optimizer, 'mse');
        backend.setTrainingData(data, 6);
      }
      for (let epoch = 0; epoch < 3; epoch++) {
        rng.permutation(order);
        for (const backend of backends) await backend.trainEpoch(order, 0.01);
      }
      const [want, got] = await Promise.all(backends.map((b) => b.readLosses()));
      expect(got, name).toEqual(want);
      const [wantParams, gotParams] = await Promise.all(backends.map((b) => b.readParams()));
      expect(Array.from(gotParams), name).toEqual(Array.from(wantParams));
      const [wantState, gotState] = await Promise.all(backends.map((b) => b.readOptimizerState()));
      expect(Array.from(gotState.slots), name).toEqual(Array.from(wantState.slots));
      expectClose(gotParams, params, 1, `${name} moved the parameters a little`);
      expect(Array.from(gotParams)).not.toEqual(Array.from(params));
    }
  });

  it('measures a thread count from 1 to the pool size once per shape and batch, and keeps it', async () => {
    const threads = await pool(2);
    const config = { inputSize: 1, hiddenSizes: [30], outputSize: 1, window: 10 };
    const layout = paramLayout(config);
    const data = randomDataset(config, 40, 5);
    const engine = new FastLstm(layout, 8, DEFAULT_OPTIMIZER, { pool: threads });
    const chosen = measureThreads(engine, data.x, data.t, data.count, 8);
    expect(chosen).toBeGreaterThanOrEqual(1);
    expect(chosen).toBeLessThanOrEqual(2);
    expect(engine.threads).toBe(chosen);
    engine.threads = 3 - chosen;
    // Cached: the same answer at once, and the engine set back to it.
    const start = performance.now();
    expect(measureThreads(engine, data.x, data.t, data.count, 8)).toBe(chosen);
    expect(performance.now() - start).toBeLessThan(50);
    expect(engine.threads).toBe(chosen);
    expect(() => {
      engine.threads = 3;
    }).toThrow(/threads: expected a whole number from 1 to 2, got 3/);
  });

  it('takes at least two threads where one step is long, checking whether the last halves help', async () => {
    const threads = await pool(4);
    const config = { inputSize: 1, hiddenSizes: [24], outputSize: 1, window: 4 };
    const data = randomDataset(config, 16, 7);
    const engine = new FastLstm(paramLayout(config), 16, DEFAULT_OPTIMIZER, { pool: threads });
    // Every step counts as long here (threshold 0 ms): all 4 threads are timed against 2.
    expect([2, 4]).toContain(measureThreads(engine, data.x, data.t, data.count, 16, 0));
  });

  it("a backend with threads 'auto' measures its count when it gets its training data", async () => {
    const config = { inputSize: 1, hiddenSizes: [40], outputSize: 1, window: 6 };
    const backend = await createCpuBackend(paramLayout(config), {
      threads: 'auto',
      host: { ...nodeThreadHost, cores: 2 },
    });
    expect(backend.threadsNote).toBeNull();
    expect(backend.threads).toBe(2); // every thread until measured
    backend.setTrainingData(randomDataset(config, 64, 6), 16);
    expect([1, 2]).toContain(backend.threads);
    backend.dispose();
  });
});

describe('thread lifecycle', () => {
  it('dispose() ends every worker thread, and later calls are refused as on every backend', async () => {
    // Only the open pools' threads are alive; every disposed backend's have ended.
    const before = await threadsDownTo(pools.reduce((n, p) => n + p.size - 1, 0));
    const config = { inputSize: 1, hiddenSizes: [12], outputSize: 1, window: 4 };
    const { layout, params, x, t } = randomProblem(config, 6, 8);
    const backend = await createCpuBackend(layout, { threads: 3, host: nodeThreadHost });
    expect(liveNodeThreads()).toBe(before + 2);
    backend.setParams(params);
    const threaded = await backend.gradients(x, t, 6);
    expect(threaded.grads.every(Number.isFinite)).toBe(true);
    await backend.dispose();
    expect(await threadsDownTo(before)).toBe(before);
    await expect(backend.gradients(x, t, 6)).rejects.toThrow(DisposedError);
  });

  it('a thread that fails makes the next call throw instead of waiting for it forever', async () => {
    // A host whose thread reports itself started, then fails instead of entering threadMain.
    const failing: CpuThreadHost = {
      cores: 2,
      problem: () => null,
      spawn: (start) =>
        new Promise((resolve) => {
          const worker = new Worker(
            `const { parentPort, workerData: { module, memory } } = require('node:worker_threads');
             const kernels = new WebAssembly.Instance(module, { env: { memory, now: () => 0 } }).exports;
             parentPort.postMessage('ready');
             kernels.fail();`,
            { eval: true, workerData: start, execArgv: [] },
          );
          worker.unref();
          worker.once('message', () => resolve({ terminate: () => void worker.terminate() }));
        }),
    };
    const config = { inputSize: 1, hiddenSizes: [8], outputSize: 1, window: 3 };
    const { layout, params, x, t } = randomProblem(config, 4, 9);
    const backend = await createCpuBackend(layout, { threads: 2, host: failing });
    backend.setParams(params);
    await expect(backend.gradients(x, t, 4)).rejects.toThrow(/a thread of the CPU backend failed/);
    backend.dispose();
  });

  it('one thread, and why, where threads cannot run; bad counts are refused', async () => {
    const layout = paramLayout({ inputSize: 1, hiddenSizes: [4], outputSize: 1, window: 2 });
    const notIsolated: CpuThreadHost = { ...nodeThreadHost, problem: () => 'this page is not cross-origin isolated' };
    const cases = [
      [await createCpuBackend(layout, { threads: 4, host: notIsolated }), /one thread: .*not cross-origin isolated/],
      [await createCpuBackend(layout, { threads: 4 }), /one thread: no way to start threads here/],
      [await createCpuBackend(layout, { threads: 4, kernels: 'reference', host: nodeThreadHost }), /reference kernels/],
      [await createCpuBackend(layout, { threads: 1, host: nodeThreadHost }), null],
      [await createCpuBackend(layout, { threads: 'auto', host: { ...nodeThreadHost, cores: 1 } }), null],
    ] as const;
    for (const [backend, note] of cases) {
      expect(backend.threads).toBe(1);
      if (note === null) expect(backend.threadsNote).toBeNull();
      else expect(backend.threadsNote).toMatch(note);
      backend.dispose();
    }
    for (const bad of [0, 17, 2.5, -1, 'many', Number.NaN]) {
      expect(() => checkThreads(bad)).toThrow(InputError);
      expect(() => checkThreads(bad)).toThrow(`threads: expected auto or a whole number from 1 to ${MAX_THREADS}`);
    }
    expect(checkThreads(16)).toBe(16);
    expect(checkThreads('auto')).toBe('auto');
  });
});
