// The model file: round trips, and every way a file can be wrong gets a message naming the field.

import { describe, expect, it } from 'vitest';
import { readBatchFile } from '../src/data/dataset.js';
import { Rng } from '../src/data/rng.js';
import { InputError } from '../src/model/errors.js';
import { initParams } from '../src/model/init.js';
import { paramLayout } from '../src/model/layout.js';
import { DEFAULT_OPTIMIZER } from '../src/model/optimizer.js';
import { parseJson, readModelFile, toModelFile } from '../src/train/modelFile.js';
import { startRun } from '../src/train/run.js';
import { FIXTURE_CASES, inputErrorOf, loadFixture, sineRunSettings } from './helpers.js';

const config = { inputSize: 2, hiddenSizes: [3, 2], outputSize: 1, window: 4 };
const layout = paramLayout(config);
const params = initParams(layout, new Rng(1));
const good = () => JSON.parse(JSON.stringify(toModelFile({ config, layout, params })));

function errorOf(value: unknown): InputError {
  try {
    readModelFile(value);
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected an InputError');
}

describe('model file', () => {
  it('round-trips parameters exactly through JSON', () => {
    const back = readModelFile(good());
    expect(back.config).toEqual(config);
    expect(Array.from(back.params)).toEqual(Array.from(params));
  });

  it('keeps the file layout: w is [4][I][H], dense.w is [H_last][O]', () => {
    const file = good();
    expect(file.lstm[0].w).toHaveLength(4);
    expect(file.lstm[0].w[0]).toHaveLength(2);
    expect(file.lstm[0].w[0][0]).toHaveLength(3);
    expect(file.lstm[1].v[3]).toHaveLength(2);
    expect(file.dense.w).toHaveLength(2);
    expect(file.dense.w[0]).toHaveLength(1);
    // Internal layout is (I, 4H): forget-gate weight of input 1 to unit 2 of layer 0.
    expect(file.lstm[0].w[0][1][2]).toBe(params[layout.layers[0].w + 1 * 12 + 0 * 3 + 2]);
    expect(file.lstm[0].w[3][1][2]).toBe(params[layout.layers[0].w + 1 * 12 + 3 * 3 + 2]);
  });

  it('reads every fixture', () => {
    for (const name of FIXTURE_CASES) expect(loadFixture(name).model.params.length).toBeGreaterThan(0);
  });

  // biome-ignore lint/suspicious/noExplicitAny: each case mutates arbitrary parsed JSON
  const mutations: [string, (f: Record<string, any>) => unknown, string, RegExp][] = [
    ['not an object', () => [1, 2], 'model', /expected a JSON object/],
    ['wrong format', (f) => ({ ...f, format: 'keras' }), 'format', /expected "webgpu-lstm\/model", got "keras"/],
    ['wrong version', (f) => ({ ...f, version: 3 }), 'version', /expected 1 or 2 .* got 3/],
    ['missing config', (f) => ({ ...f, config: undefined }), 'config', /expected an object/],
    [
      'zero hidden',
      (f) => ({ ...f, config: { ...f.config, hiddenSizes: [0] } }),
      'config.hiddenSizes[0]',
      /from 1 to 4096, got 0/,
    ],
    [
      'absurd hidden',
      (f) => ({ ...f, config: { ...f.config, hiddenSizes: [1e9] } }),
      'config.hiddenSizes[0]',
      /from 1 to 4096/,
    ],
    [
      'a model too large to allocate',
      (f) => ({ ...f, config: { ...f.config, hiddenSizes: [4096, 4096, 4096, 4096] } }),
      'config.hiddenSizes',
      /would have 469,864,449 parameters; at most 67,108,864/,
    ],
    ['fractional window', (f) => ({ ...f, config: { ...f.config, window: 2.5 } }), 'config.window', /whole number/],
    ['string size', (f) => ({ ...f, config: { ...f.config, inputSize: '2' } }), 'config.inputSize', /got "2"/],
    ['layer count', (f) => ({ ...f, lstm: f.lstm.slice(0, 1) }), 'lstm', /expected 2 layer/],
    [
      'wrong v shape',
      (f) => ({ ...f, lstm: [f.lstm[0], { ...f.lstm[1], v: f.lstm[1].v.slice(1) }] }),
      'lstm[1].v',
      /expected shape \[4\]\[2\]\[2\]/,
    ],
    [
      'NaN',
      (f) => {
        f.lstm[0].b[1][2] = Number.NaN;
        return f;
      },
      'lstm[0].b[1][2]',
      /expected a number finite in float32 \(at most 3\.4028235e38 in magnitude\), got NaN/,
    ],
    [
      'Infinity',
      (f) => {
        f.dense.b[0] = Number.POSITIVE_INFINITY;
        return f;
      },
      'dense.b[0]',
      /finite in float32 .*got Infinity/,
    ],
    [
      'string weight',
      (f) => {
        f.dense.w[1][0] = '0.5';
        return f;
      },
      'dense.w[1][0]',
      /finite in float32 .*got "0\.5"/,
    ],
    [
      'a weight finite as a double but not as a float32',
      (f) => {
        f.lstm[0].w[1][0][2] = 1e39;
        return f;
      },
      'lstm[0].w[1][0][2]',
      /finite in float32 .*got 1e\+39/,
    ],
    [
      'a bias just past float32 (3.5e38)',
      (f) => {
        f.lstm[1].b[3][1] = -3.5e38;
        return f;
      },
      'lstm[1].b[3][1]',
      /got -3\.5e\+38/,
    ],
    [
      'optimizer state beyond float32',
      (f) => ({ ...f, optimizer: { name: 'momentum', step: 3, slots: [...Array(layout.size - 1).fill(0), 1e39] } }),
      `optimizer.slots[${layout.size - 1}]`,
      /finite in float32 .*got 1e\+39/,
    ],
    [
      'a normalisation offset beyond float32',
      (f) => ({ ...f, normalisation: { method: 'z-score', columns: ['a'], offset: [4e38], scale: [1] } }),
      'normalisation.offset[0]',
      /finite in float32 .*got 4e\+38/,
    ],
    [
      'a normalisation scale that float32 rounds to 0',
      (f) => ({ ...f, normalisation: { method: 'z-score', columns: ['a'], offset: [0], scale: [1e-46] } }),
      'normalisation.scale[0]',
      /normal and finite in float32.*got 1e-46/,
    ],
    [
      'a subnormal normalisation scale (flushed to 0 on a GPU)',
      (f) => ({ ...f, normalisation: { method: 'z-score', columns: ['a'], offset: [0], scale: [1e-39] } }),
      'normalisation.scale[0]',
      /got 1e-39/,
    ],
    [
      'a normalisation whose denormalised values overflow float32',
      (f) => ({ ...f, normalisation: { method: 'min-max', columns: ['a'], offset: [3e38], scale: [3e38] } }),
      'normalisation.offset[0]',
      /offset 3e\+38 ± scale 3e\+38 is beyond float32's range/,
    ],
    [
      'a small file that claims a large model (shapes are checked before allocating)',
      (f) => ({
        ...f,
        config: { inputSize: 1024, hiddenSizes: [2048], outputSize: 1024, window: 4096 },
        lstm: [{ w: [], v: [], b: [] }],
        dense: { w: [], b: [] },
      }),
      'lstm[0].w',
      /expected shape \[4\]\[1024\]\[2048\], got an array of length 0/,
    ],
    [
      'missing dense',
      (f) => {
        delete f.dense;
        return f;
      },
      'dense',
      /is missing/,
    ],
  ];
  for (const [name, mutate, fieldName, message] of mutations) {
    it(`refuses ${name}, naming ${fieldName}`, () => {
      const err = errorOf(mutate(good()));
      expect(err.field).toBe(fieldName);
      expect(err.message).toMatch(message);
    });
  }

  it('treats __proto__ and constructor keys as data: no prototype is touched', () => {
    const text = JSON.stringify(good()).replace(
      '{"format"',
      '{"__proto__":{"polluted":true},"constructor":{"x":1},"format"',
    );
    const model = readModelFile(parseJson(text, 'file'));
    expect(model.config).toEqual(config);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const inherited = JSON.parse('{"__proto__": {"format": "webgpu-lstm/model"}}');
    expect(errorOf(inherited).field).toBe('format');
  });

  it('reports truncated JSON with its source', () => {
    expect(() => parseJson('{"format": "webgpu', 'model.json')).toThrowError(/model\.json: is not valid JSON/);
  });
});

describe('writing a model file', () => {
  it('refuses a model with a value not finite in float32, naming the field (JSON would write null)', () => {
    const broken = Float32Array.from(params);
    broken[layout.layers[0].w + 1 * 12 + 0 * 3 + 2] = Number.POSITIVE_INFINITY; // lstm[0].w[0][1][2]
    expect(() => toModelFile({ config, layout, params: broken })).toThrowError(
      /^lstm\[0\]\.w\[0\]\[1\]\[2\]: is Infinity, not a number finite in float32 .* the model is not saved$/,
    );
    broken.fill(0);
    broken[layout.dense.b] = Number.NaN;
    expect(() => toModelFile({ config, layout, params: broken })).toThrowError(/^dense\.b\[0\]: is NaN/);
  });

  it('refuses non-finite optimizer state and a normalisation beyond float32', () => {
    const slots = new Float32Array(layout.size);
    slots[5] = Number.NEGATIVE_INFINITY;
    const optimizer = { name: 'momentum' as const, step: 1, slots, settings: DEFAULT_OPTIMIZER, loss: 'sse' as const };
    expect(() => toModelFile({ config, layout, params, optimizer })).toThrowError(
      /^optimizer\.slots\[5\]: is -Infinity/,
    );
    const normalization = { method: 'min-max' as const, columns: ['a'], offset: [0], scale: [6e38] };
    expect(() => toModelFile({ config, layout, params, normalization })).toThrowError(
      /^normalisation\.scale\[0\]: is 6e\+38/,
    );
  });
});

describe('save and load', () => {
  it('a trained model saved and loaded predicts exactly the same', async () => {
    const { CpuBackend } = await import('../src/backends/cpu/cpuBackend.js');
    const { trainToEnd } = await import('../src/train/trainer.js');
    const run = startRun(sineRunSettings({ seed: 4, points: 40, noise: 0.1, window: 6, hiddenSizes: [7, 5] }));
    const trained = new CpuBackend(run.layout);
    trained.setParams(run.params);
    await trainToEnd(trained, run.prepared.train, run.rng, {
      epochs: 5,
      batchSize: 4,
      learningRate: 0.02,
      reportEvery: 5,
    });
    const params = await trained.readParams();
    const text = JSON.stringify(toModelFile({ config: run.config, layout: run.layout, params }));
    const loaded = readModelFile(parseJson(text, 'saved'));
    const again = new CpuBackend(loaded.layout);
    again.setParams(loaded.params);
    const { x, count } = run.prepared.train;
    expect(Array.from(await again.predict(x, count))).toEqual(Array.from(await trained.predict(x, count)));
  });
});

describe('batch file', () => {
  const errorOfBatch = (value: unknown, shape = config) => inputErrorOf(() => readBatchFile(value, shape));
  const batch = () => ({
    x: [
      [
        [0.1, 0.2],
        [0.3, 0.4],
        [0.5, 0.6],
        [0.7, 0.8],
      ],
    ],
    t: [[1]],
  });

  it('reads values and targets, refusing any not finite in float32 by its field', () => {
    expect(Array.from(readBatchFile(batch(), config).t)).toEqual([1]);
    const x = batch();
    x.x[0][1][0] = 1e39;
    expect(errorOfBatch(x).message).toBe(
      'batch.x[0][1][0]: expected a number finite in float32 (at most 3.4028235e38 in magnitude), got 1e+39',
    );
    const t = batch();
    t.t[0][0] = 3.5e38;
    expect(errorOfBatch(t).field).toBe('batch.t[0][0]');
  });

  it('checks count × window × inputs against the limit, and the shapes, before allocating', () => {
    // The issue's case: a 2 MB file of tiny samples for a model with window 4096 and 1,024 inputs.
    const wide = { inputSize: 1024, hiddenSizes: [8], outputSize: 1, window: 4096 };
    const many = { x: Array.from({ length: 200_000 }, () => [[0]]), t: [] };
    expect(JSON.stringify(many).length).toBeLessThan(2_000_000);
    expect(errorOfBatch(many, wide).message).toBe(
      'batch.x: 200000 samples × 4096 steps × 1024 inputs is 838,860,800,000 values, over the limit of 268,435,456',
    );
    const few = { x: Array.from({ length: 10 }, () => [[0]]), t: [] };
    expect(errorOfBatch(few, wide).message).toBe('batch.x[0]: expected shape [4096][1024], got an array of length 1');
  });
});
