// The ONNX export run in ONNX Runtime (onnxruntime-web's WebAssembly build, in Node) against our own
// prediction, on the gradient fixtures' shapes (one layer, the blog's, several inputs and outputs,
// stacked layers), without and with a normalization, for every transform: equal within 1e-5
// relative. Also the graph's declared inputs and outputs, and that the session logs no warning.

import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Rng } from '../src/data/rng.js';
import { TRANSFORMS } from '../src/data/transform.js';
import { exportOnnx, ONNX_OPSET } from '../src/export/onnx.js';
import type { Model } from '../src/train/modelFile.js';
import { FIXTURE_CASES, namedCase, ourPrediction, relativeDifference } from './export-cases.js';
import { cli, fixturesDir, loadFixture } from './helpers.js';

const RTOL = 1e-5;
const measured: string[] = [];

/** What ONNX Runtime logged since the last look: to stderr, or through console.warn and console.error. */
const logged: string[] = [];

beforeAll(() => {
  // One thread: no workers to start, and the same sums on any machine.
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'warning';
  // In Node its WebAssembly module logs with fs.writeSync(2, …); console's functions, as a fallback.
  const writeSync = fs.writeSync;
  vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, ...rest: unknown[]) => {
    if (fd === 2) logged.push(String(rest[0]));
    return (writeSync as (...args: unknown[]) => number)(fd, ...rest);
  }) as typeof fs.writeSync);
  for (const method of ['warn', 'error'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logged.push(args.map(String).join(' '));
    });
  }
});

afterAll(() => {
  vi.restoreAllMocks();
  console.log(`max relative difference, ONNX Runtime vs ours:\n${measured.join('\n')}`);
});

async function run(model: Model, raw: Float64Array, B: number, reference?: Float64Array) {
  const { inputSize: I, outputSize: O, window: T } = model.config;
  logged.length = 0;
  const session = await ort.InferenceSession.create(exportOnnx(model), { logSeverityLevel: 2 });
  const feeds: Record<string, ort.Tensor> = { input: new ort.Tensor('float32', Float32Array.from(raw), [B, T, I]) };
  if (reference) feeds.reference = new ort.Tensor('float32', Float32Array.from(reference), [B, O]);
  const results = await session.run(feeds);
  expect(logged).toEqual([]);
  const names = { inputs: [...session.inputNames], outputs: [...session.outputNames] };
  await session.release();
  return { results, names };
}

describe('ONNX export in ONNX Runtime', () => {
  it.each(FIXTURE_CASES)('%s without a normalization: the network alone', async (name) => {
    const { model, batch } = loadFixture(name);
    const raw = Float64Array.from(batch.x);
    const { results, names } = await run(model, raw, batch.count);
    expect(names).toEqual({ inputs: ['input'], outputs: ['output'] });
    const output = results.output;
    expect(output.dims).toEqual([batch.count, model.config.outputSize]);
    const ours = ourPrediction(model, raw, batch.count);
    const worst = relativeDifference(output.data as Float32Array, ours.levels);
    measured.push(`  ${name}, no normalization: ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(RTOL);
  });

  it.each(FIXTURE_CASES)('%s with a normalization, in the data’s units', async (name) => {
    const { model, raw, B } = namedCase(name);
    const { results, names } = await run(model, raw, B);
    expect(names).toEqual({ inputs: ['input'], outputs: ['output'] });
    const ours = ourPrediction(model, raw, B);
    const worst = relativeDifference(results.output.data as Float32Array, ours.levels);
    measured.push(`  ${name}, normalized: ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(RTOL);
  });

  const transformed = TRANSFORMS.filter((t) => t !== 'levels');
  it.each(transformed.flatMap((t) => ['multi', 'stacked'].map((name) => [name, t] as const)))(
    '%s predicting %s: the reference level turns the prediction back into levels in the graph',
    async (name, transform) => {
      const { model, raw, reference, B } = namedCase(name, transform);
      const { results, names } = await run(model, raw, B, reference);
      expect(names).toEqual({ inputs: ['input', 'reference'], outputs: ['output', 'transformed'] });
      const ours = ourPrediction(model, raw, B, reference);
      const worstChange = relativeDifference(results.transformed.data as Float32Array, ours.transformed);
      const worstLevel = relativeDifference(results.output.data as Float32Array, ours.levels);
      measured.push(
        `  ${name}, ${transform}: transformed ${worstChange.toExponential(2)}, levels ${worstLevel.toExponential(2)}`,
      );
      expect(worstChange).toBeLessThanOrEqual(RTOL);
      expect(worstLevel).toBeLessThanOrEqual(RTOL);
    },
  );

  it.each([
    ['multi', 'levels'],
    ['stacked', 'log-returns'],
  ] as const)(
    'an ensemble (%s, %s): every member in the graph, the output their mean as predict forecasts',
    async (name, transform) => {
      const { model, raw, reference, B } = namedCase(name, transform);
      // Three members: the case's weights and two others near them (each its own forecast).
      const rng = new Rng(5);
      const members = [0, 1, 2].map((m) => ({
        seed: 10 + m,
        params: m === 0 ? model.params : model.params.map((w) => w + 0.2 * (rng.uniform() - 0.5)),
      }));
      const ensemble: Model = { ...model, members };
      const { results, names } = await run(ensemble, raw, B, transform === 'levels' ? undefined : reference);
      expect(names.outputs).toEqual(transform === 'levels' ? ['output'] : ['output', 'transformed']);
      const each = members.map((member) => ourPrediction({ ...model, params: member.params }, raw, B, reference));
      const mean = (pick: (p: (typeof each)[number]) => Float64Array) =>
        pick(each[0]).map((_, i) => each.reduce((sum, p) => sum + pick(p)[i], 0) / each.length);
      const worst = relativeDifference(
        results.output.data as Float32Array,
        mean((p) => p.levels),
      );
      measured.push(`  ${name}, ${transform}, an ensemble of 3: ${worst.toExponential(2)}`);
      expect(worst).toBeLessThanOrEqual(RTOL);
      if (transform !== 'levels') {
        const change = relativeDifference(
          results.transformed.data as Float32Array,
          mean((p) => p.transformed),
        );
        expect(change).toBeLessThanOrEqual(RTOL);
      }
      // Not member 0 alone: the members differ enough to tell.
      expect(relativeDifference(results.output.data as Float32Array, each[0].levels)).toBeGreaterThan(1e-3);
    },
  );

  it('refuses a normalization whose columns the file does not name', async () => {
    const { model } = namedCase('multi');
    const { data: _, ...unnamed } = model;
    expect(() => exportOnnx(unnamed)).toThrowError(/^data: the model file has a normalisation but no data\.inputs/);
  });

  it('states opset 17 and the input shape [batch, window, inputs]', async () => {
    const { model } = namedCase('stacked');
    const session = await ort.InferenceSession.create(exportOnnx(model));
    const [input] = session.inputMetadata;
    expect(input).toMatchObject({ name: 'input', isTensor: true, type: 'float32', shape: ['batch', 6, 2] });
    await session.release();
    expect(ONNX_OPSET).toBe(17);
  });
});

describe('export --format onnx on the command line', () => {
  it('writes a file ONNX Runtime runs as our prediction', async () => {
    const work = fs.mkdtempSync(join(tmpdir(), 'webgpu-lstm-onnx-'));
    try {
      const out = join(work, 'multi.onnx');
      const result = await cli([
        'export',
        '--model',
        join(fixturesDir, 'multi', 'model.json'),
        '--format',
        'onnx',
        '--out',
        out,
      ]);
      expect(result.stderr).toMatch(/wrote .*multi\.onnx \(ONNX, opset 17/);
      expect(result.status).toBe(0);
      const { model, batch } = loadFixture('multi');
      const session = await ort.InferenceSession.create(new Uint8Array(fs.readFileSync(out)));
      const { inputSize: I, outputSize: O, window: T } = model.config;
      const { output } = await session.run({ input: new ort.Tensor('float32', batch.x.slice(), [batch.count, T, I]) });
      await session.release();
      expect(output.dims).toEqual([batch.count, O]);
      const ours = ourPrediction(model, Float64Array.from(batch.x), batch.count);
      expect(relativeDifference(output.data as Float32Array, ours.levels)).toBeLessThanOrEqual(RTOL);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
