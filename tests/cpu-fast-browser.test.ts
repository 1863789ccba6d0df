// The fast CPU kernels where the app runs them: Chromium's main thread and a Web Worker, with no
// network (the WebAssembly bytes are inside the bundle). The page carries the app's kind of
// Content-Security-Policy: without 'wasm-unsafe-eval' the main thread cannot compile WebAssembly, so
// the backend must fall back to the reference kernels there and say so, while a worker (whose policy
// comes from its own response) runs the fast kernels. On a cross-origin isolated page (served with
// COOP and COEP, as `npm run dev` and `npm run preview` do) the worker runs them on two threads of its
// own, with relaxed SIMD; elsewhere on one, and says why. A population's members spread over member
// threads of the worker on any page.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { build, type Rollup } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFixture, maxAbsDiff, repoRoot, tensorErrors } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Runs in the page and in the worker: fast (default) against reference kernels on one batch. */
const ENTRY = `
import { CpuBackend, fastKernelsProblem } from ${JSON.stringify(join(repoRoot, 'src/backends/cpu/cpuBackend.ts'))};
import { browserThreadHost } from ${JSON.stringify(join(repoRoot, 'src/backends/cpu/browserThreads.ts'))};
import { createCpuBackend, createCpuPopulation } from ${JSON.stringify(join(repoRoot, 'src/backends/cpu/createCpuBackend.ts'))};
import { Rng } from ${JSON.stringify(join(repoRoot, 'src/data/rng.ts'))};
import { initParams } from ${JSON.stringify(join(repoRoot, 'src/model/init.ts'))};
import { paramLayout } from ${JSON.stringify(join(repoRoot, 'src/model/layout.ts'))};

/** Gradients of one batch of B rows on a stacked model, from two backends given the same parameters. */
async function gradientsOf(first, second, B, seed) {
  const layout = first.layout;
  const rng = new Rng(seed);
  const params = initParams(layout, rng);
  const x = Float32Array.from({ length: B * 5 * 2 }, () => rng.normal());
  const t = Float32Array.from({ length: B * 2 }, () => rng.normal());
  first.setParams(params);
  second.setParams(params);
  return [await first.gradients(x, t, B), await second.gradients(x, t, B)];
}

const layout = paramLayout({ inputSize: 2, hiddenSizes: [13, 6], outputSize: 2, window: 5 });

/**
 * The fixture's batch (given by the test, float64 reference beside it) on the backend the page picks,
 * and on the reference kernels: the chosen one's loss, outputs and gradients, and their largest gap.
 */
async function compare(fixture) {
  const fixtureLayout = paramLayout(fixture.config);
  const chosen = new CpuBackend(fixtureLayout);
  const reference = new CpuBackend(fixtureLayout, { kernels: 'reference' });
  const params = Float32Array.from(fixture.params);
  const x = Float32Array.from(fixture.x);
  const t = Float32Array.from(fixture.t);
  chosen.setParams(params);
  reference.setParams(params);
  const a = await chosen.gradients(x, t, fixture.count);
  const b = await reference.gradients(x, t, fixture.count);
  let diff = Math.abs(a.loss - b.loss);
  for (let p = 0; p < a.grads.length; p++) diff = Math.max(diff, Math.abs(a.grads[p] - b.grads[p]));
  return {
    kernels: chosen.kernels,
    problem: fastKernelsProblem(),
    diff,
    loss: a.loss,
    y: Array.from(a.y),
    grads: Array.from(a.grads),
  };
}

/** Two threads (where the page allows them) against one, on one batch: the results must be identical. */
async function compareThreads() {
  const threaded = await createCpuBackend(layout, { threads: 2, host: browserThreadHost });
  const [a, b] = await gradientsOf(threaded, new CpuBackend(layout, { simd: threaded.simd }), 9, 4);
  let identical = a.loss === b.loss;
  for (let p = 0; p < a.grads.length; p++) identical &&= a.grads[p] === b.grads[p];
  const result = { threads: threaded.threads, note: threaded.threadsNote, simd: threaded.simd, identical };
  threaded.dispose();
  return { ...result, isolated: self.crossOriginIsolated };
}

/** Three members on two threads (member threads need no isolation) against each trained alone: identical? */
async function comparePopulation() {
  const population = await createCpuPopulation(layout, 3, { threads: 2, host: browserThreadHost });
  const rng = new Rng(5);
  const data = {
    count: 12, window: 5, inputSize: 2, outputSize: 2,
    x: Float32Array.from({ length: 12 * 5 * 2 }, () => rng.normal()),
    t: Float32Array.from({ length: 12 * 2 }, () => rng.normal()),
  };
  const params = [0, 1, 2].map((m) => initParams(layout, new Rng(10 + m)));
  const order = rng.permutation(new Uint32Array(12));
  population.setMemberTraining(data, 4, [0, 1, 2].map(() => ({ start: 0, count: 12 })));
  params.forEach((p, m) => population.setMemberParams(m, p));
  await population.trainMembers({ orders: [order, order, order], learningRates: [0.01, 0.02, 0.03] });
  const together = await population.readMemberParams();
  let identical = true;
  for (const [m, p] of params.entries()) {
    const alone = new CpuBackend(layout, { simd: population.simd });
    alone.setTrainingData(data, 4);
    alone.setParams(p);
    await alone.trainEpoch(order, 0.01 * (m + 1));
    const want = await alone.readParams();
    identical &&= want.every((w, i) => Object.is(w, together[m][i]));
  }
  const result = { threads: population.threads, note: population.threadsNote, identical };
  await population.dispose();
  return { ...result, isolated: self.crossOriginIsolated };
}

if (typeof window === 'undefined') {
  const jobs = { threads: compareThreads, population: comparePopulation, compare };
  self.onmessage = async (event) => self.postMessage(await jobs[event.data.job](event.data.input));
} else {
  window.compare = compare;
  const inWorker = (job, input) =>
    new Promise((resolve, reject) => {
      const worker = new Worker(new URL('bundle.js', location.href), { type: 'module' });
      worker.onmessage = (event) => resolve(event.data);
      worker.onerror = (event) => reject(new Error(event.message));
      worker.postMessage({ job, input });
    });
  window.compareInWorker = (input) => inWorker('compare', input);
  window.compareThreadsInWorker = () => inWorker('threads');
  window.comparePopulationInWorker = () => inWorker('population');
}
`;

/** The app's policy (index.html), and the same with WebAssembly allowed. */
const APP_CSP = "default-src 'self'; script-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'";
const WASM_CSP = APP_CSP.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'");

interface Comparison {
  kernels: string;
  problem: string | null;
  /** Largest gap between the chosen kernels and the page's reference kernels. */
  diff: number;
  loss: number;
  y: number[];
  grads: number[];
}

/** The page's input: a float64 gradient fixture's model and batch, as plain arrays. */
const FIXTURE = 'stacked';
function fixtureInput() {
  const { model, batch } = loadFixture(FIXTURE);
  return {
    config: model.config,
    params: Array.from(model.params),
    x: Array.from(batch.x),
    t: Array.from(batch.t),
    count: batch.count,
  };
}

/**
 * The page's result against the float64 fixture, written apart from every engine (so the reference
 * kernels are checked too, not only against themselves): within 1e-4 * max(1, max|e|) per tensor.
 */
function expectFixtureMatch(result: Comparison) {
  const { model, expected } = loadFixture(FIXTURE);
  expect(Math.abs(result.loss - expected.loss)).toBeLessThanOrEqual(TOL * Math.max(1, Math.abs(expected.loss)));
  const y = maxAbsDiff(result.y, expected.y);
  expect(y.diff).toBeLessThanOrEqual(TOL * Math.max(1, y.scale));
  for (const tensor of tensorErrors(model.layout, result.grads, expected.grads, TOL)) {
    expect(tensor.diff, tensor.name).toBeLessThanOrEqual(tensor.allowed);
  }
}
const TOL = 1e-4;

interface ThreadComparison {
  threads: number;
  note: string | null;
  simd: string | null;
  identical: boolean;
  isolated: boolean;
}

let server: Server;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cpu-fast-browser-'));
  try {
    const entry = join(dir, 'entry.ts');
    writeFileSync(entry, ENTRY);
    const output = (await build({
      configFile: false,
      logLevel: 'silent',
      // As the app's build: asset URLs relative to the bundle, so they stay under /coi/.
      base: './',
      build: {
        write: false,
        minify: false,
        lib: { entry, formats: ['es'], fileName: 'bundle' },
      },
    })) as Rollup.RollupOutput[];
    // The bundle and the chunks it starts workers from (the CPU threads' entry).
    const files = new Map(
      output[0].output.map((file) => [`/${file.fileName}`, file.type === 'chunk' ? file.code : file.source]),
    );
    server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      // Under /coi/ every response carries what makes a page cross-origin isolated.
      const isolated = url.pathname.startsWith('/coi/');
      const headers = isolated
        ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' }
        : {};
      const file = files.get(isolated ? url.pathname.slice('/coi'.length) : url.pathname);
      if (file !== undefined) {
        response.writeHead(200, { 'content-type': 'text/javascript', ...headers });
        response.end(file);
        return;
      }
      const csp = url.searchParams.get('csp') === 'wasm' ? WASM_CSP : APP_CSP;
      response.writeHead(200, { 'content-type': 'text/html', ...headers });
      response.end(
        `<!doctype html><meta http-equiv="Content-Security-Policy" content="${csp}">` +
          '<script type="module" src="bundle.js"></script>',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://localhost:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--no-first-run'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

async function runInPage<T = Comparison>(
  csp: 'app' | 'wasm',
  where: 'compare' | 'compareInWorker' | 'compareThreadsInWorker' | 'comparePopulationInWorker',
  isolated = false,
): Promise<T> {
  const page = await browser.newPage();
  try {
    await page.goto(`${origin}${isolated ? '/coi/' : '/'}?csp=${csp}`);
    await page.waitForFunction(() => 'compare' in window);
    // The fixture goes to the comparisons of kernels; the thread and population jobs make their own data.
    const input = where === 'compare' || where === 'compareInWorker' ? fixtureInput() : null;
    const call = ([name, arg]: [string, unknown]) =>
      (window as unknown as Record<string, (a: unknown) => unknown>)[name](arg);
    return (await page.evaluate(call, [where, input] as [string, unknown])) as T;
  } finally {
    await page.close();
  }
}

describe('fast CPU kernels in Chromium', () => {
  it('run in a Web Worker and match the reference kernels', async () => {
    const result = await runInPage('app', 'compareInWorker');
    expect(result).toMatchObject({ kernels: 'fast', problem: null });
    expect(result.diff).toBeLessThan(1e-4);
    expectFixtureMatch(result);
  });

  it("run on the main thread when the page's policy allows 'wasm-unsafe-eval'", async () => {
    const result = await runInPage('wasm', 'compare');
    expect(result).toMatchObject({ kernels: 'fast', problem: null });
    expect(result.diff).toBeLessThan(1e-4);
    expectFixtureMatch(result);
  });

  it('run on two threads in a worker of a cross-origin isolated page, with relaxed SIMD, exactly as on one', async () => {
    const result = await runInPage<ThreadComparison>('app', 'compareThreadsInWorker', true);
    expect(result).toEqual({ threads: 2, note: null, simd: 'relaxedSimd', identical: true, isolated: true });
  });

  it('run on one thread, and say why, where the page is not cross-origin isolated', async () => {
    const result = await runInPage<ThreadComparison>('app', 'compareThreadsInWorker');
    expect(result).toMatchObject({ threads: 1, isolated: false, identical: true });
    expect(result.note).toBe('one thread: CPU threads cannot run here: this page is not cross-origin isolated');
  });

  it("train a population's members on two threads of a worker, on any page, exactly as each alone", async () => {
    for (const isolated of [true, false]) {
      const result = await runInPage('app', 'comparePopulationInWorker', isolated);
      expect(result).toEqual({ threads: 2, note: null, identical: true, isolated });
    }
  });

  it('fall back to the reference kernels, and say why, where the policy forbids WebAssembly', async () => {
    const result = await runInPage('app', 'compare');
    expect(result.kernels).toBe('reference');
    expect(result.problem).toMatch(/WebAssembly|wasm/i);
    expect(result.diff).toBe(0);
    expectFixtureMatch(result);
  });
});
