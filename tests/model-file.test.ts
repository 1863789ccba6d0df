// The model file: round trips, and every way a file can be wrong gets a message naming the field.

import { describe, expect, it } from 'vitest';
import { readBatchFile } from '../src/data/dataset.js';
import { Rng } from '../src/data/rng.js';
import { InputError } from '../src/model/errors.js';
import { float32Base64 } from '../src/model/floatCodec.js';
import { initParams } from '../src/model/init.js';
import { paramLayout } from '../src/model/layout.js';
import { DEFAULT_OPTIMIZER } from '../src/model/optimizer.js';
import {
  checkModelFileSize,
  MAX_MODEL_FILE_BYTES,
  type Model,
  modelFileBound,
  modelFileBytes,
  parseJson,
  readModelBytes,
  readModelFile,
  toModelFile,
} from '../src/train/modelFile.js';
import { startRun } from '../src/train/run.js';
import { FIXTURE_CASES, inputErrorOf, loadFixture, sineRunSettings } from './helpers.js';

const config = { inputSize: 2, hiddenSizes: [3, 2], outputSize: 1, window: 4 };
const layout = paramLayout(config);
const params = initParams(layout, new Rng(1));
const good = () => JSON.parse(JSON.stringify(toModelFile({ config, layout, params })));
/** A version-2 file (weights nested), as earlier builds wrote them. */
const goodV2 = () => JSON.parse(JSON.stringify(toModelFile({ config, layout, params }, 2)));

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

  it('writes version 3: the weights flat in the layout of layout.ts, as base64 of little-endian float32', () => {
    const file = good();
    expect(file.version).toBe(3);
    expect(file.lstm).toBeUndefined();
    expect(file.weights).toEqual({
      dtype: 'float32',
      byteOrder: 'little',
      encoding: 'base64',
      count: layout.size,
      data: Buffer.from(params.buffer, params.byteOffset, params.byteLength).toString('base64'),
    });
  });

  it('still reads version 2, which keeps the nested layout: w is [4][I][H], dense.w is [H_last][O]', () => {
    const file = goodV2();
    expect(Array.from(readModelFile(file).params)).toEqual(Array.from(params));
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
    ['wrong version', (f) => ({ ...f, version: 4 }), 'version', /expected 1, 2 or 3 .* got 4/],
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
      // The weights' cases are version 2's (nested numbers); the rest hold for every version.
      const err = errorOf(mutate(goodV2()));
      expect(err.field).toBe(fieldName);
      expect(err.message).toMatch(message);
    });
  }

  /** Version 3's weights with one value replaced (its bits encoded as they are, NaN and Infinity too). */
  const withWeight = (index: number, value: number) => {
    const changed = Float32Array.from(params);
    changed[index] = value;
    return float32Base64(changed);
  };
  // biome-ignore lint/suspicious/noExplicitAny: each case mutates arbitrary parsed JSON
  const v3Mutations: [string, (f: Record<string, any>) => unknown, string, RegExp][] = [
    ['missing weights', ({ weights: _, ...f }) => f, 'weights', /is missing/],
    [
      'a count that is not the config’s',
      (f) => ({ ...f, weights: { ...f.weights, count: 3 } }),
      'weights.count',
      /expected 123 .* got 3/,
    ],
    [
      'another dtype',
      (f) => ({ ...f, weights: { ...f.weights, dtype: 'float64' } }),
      'weights.dtype',
      /expected "float32", got "float64"/,
    ],
    [
      'big-endian bytes',
      (f) => ({ ...f, weights: { ...f.weights, byteOrder: 'big' } }),
      'weights.byteOrder',
      /expected "little"/,
    ],
    [
      'data of the wrong length',
      (f) => ({ ...f, weights: { ...f.weights, data: f.weights.data.slice(4) } }),
      'weights.data',
      /expected 656 base64 characters \(123 float32 values\), got 652/,
    ],
    [
      'data that is not base64',
      (f) => ({ ...f, weights: { ...f.weights, data: `${f.weights.data.slice(0, 10)}*${f.weights.data.slice(11)}` } }),
      'weights.data',
      /is not base64: position 10/,
    ],
    [
      'a NaN weight',
      (f) => ({ ...f, weights: { ...f.weights, data: withWeight(layout.layers[0].b + 1 * 3 + 2, Number.NaN) } }),
      'weights.lstm[0].b[1][2]',
      /expected a number finite in float32 .*got NaN/,
    ],
    [
      'an infinite weight',
      (f) => ({ ...f, weights: { ...f.weights, data: withWeight(layout.dense.b, Number.POSITIVE_INFINITY) } }),
      'weights.dense.b[0]',
      /got Infinity/,
    ],
    [
      'a training loss beyond float32 (it could not be saved again)',
      (f) => ({ ...f, training: { epoch: 1, losses: [1e39], validationLosses: [], rng: { s: [1, 2, 3, 4] } } }),
      'training.losses[0]',
      /finite in float32 .*got 1e\+39/,
    ],
    [
      'a validation loss of 1e300',
      (f) => ({
        ...f,
        training: { epoch: 1, losses: [1], validationLosses: [{ epoch: 1, loss: 1e300 }], rng: { s: [1, 2, 3, 4] } },
      }),
      'training.validationLosses[0].loss',
      /got 1e\+300/,
    ],
    [
      'a spare normal of 1e300',
      (f) => ({
        ...f,
        training: { epoch: 0, losses: [], validationLosses: [], rng: { s: [1, 2, 3, 4], spareNormal: 1e300 } },
      }),
      'training.rng.spareNormal',
      /got 1e\+300/,
    ],
    [
      'an optimizer step of 1e300',
      (f) => ({
        ...f,
        optimizer: { name: 'sgd', step: 1e300, slots: { ...f.weights, count: 0, data: '' }, settings: {}, loss: 'sse' },
      }),
      'optimizer.step',
      /from 0 to 9007199254740991, got 1e\+300/,
    ],
    [
      'optimizer slots of the wrong count',
      (f) => ({ ...f, optimizer: { name: 'adam', step: 1, slots: f.weights, settings: {}, loss: 'sse' } }),
      'optimizer.slots.count',
      /expected 246/,
    ],
    [
      'one member',
      (f) => ({ ...f, members: [{ seed: 1, weights: f.weights }] }),
      'members',
      /expected a list of 2 to 4096 members/,
    ],
    [
      'a member 0 that is not the top level',
      (f) => ({
        ...f,
        members: [
          { seed: 1, weights: { ...f.weights, data: withWeight(0, 5) } },
          { seed: 2, weights: f.weights },
        ],
      }),
      'members[0].weights',
      /expected the top level's weights/,
    ],
    [
      'a member with a bad seed',
      (f) => ({
        ...f,
        members: [
          { seed: 1, weights: f.weights },
          { seed: -2, weights: f.weights },
        ],
      }),
      'members[1].seed',
      /from 0 to 4294967295, got -2/,
    ],
    [
      'a member’s NaN weight',
      (f) => ({
        ...f,
        members: [
          { seed: 1, weights: f.weights },
          { seed: 2, weights: { ...f.weights, data: withWeight(layout.dense.w + 1, Number.NaN) } },
        ],
      }),
      'members[1].weights.dense.w[1][0]',
      /got NaN/,
    ],
    [
      'a horizon past the bound',
      (f) => ({ ...f, settings: { horizon: 1_000_000 } }),
      'settings.horizon',
      /from 1 to 10000, got 1000000/,
    ],
  ];
  for (const [name, mutate, fieldName, message] of v3Mutations) {
    it(`refuses (version 3) ${name}, naming ${fieldName}`, () => {
      const err = errorOf(mutate(good()));
      expect(err.field).toBe(fieldName);
      expect(err.message).toMatch(message);
    });
  }

  it('reads an ensemble: member 0 is the top level, each member its own seed and weights', () => {
    const other = initParams(layout, new Rng(2));
    const model: Model = {
      config,
      layout,
      params,
      members: [
        { seed: 1, params },
        { seed: 2, params: other },
      ],
    };
    const back = readModelFile(JSON.parse(JSON.stringify(toModelFile(model))));
    expect(back.members?.map((m) => m.seed)).toEqual([1, 2]);
    expect(Array.from(back.members?.[1].params ?? [])).toEqual(Array.from(other));
    expect(Array.from(back.params)).toEqual(Array.from(params));
    // A reader that ignores members gets member 0: the top level is a whole model.
    const { members: _, ...single } = JSON.parse(JSON.stringify(toModelFile(model)));
    expect(Array.from(readModelFile(single).params)).toEqual(Array.from(params));
    expect(() => toModelFile({ ...model, members: [{ seed: 1, params: other }, model.members![1]] })).toThrowError(
      /^members\[0\]\.weights: expected the top level's weights .*; a model file cannot hold it, so the model is not saved$/,
    );
  });

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
      /^weights\.lstm\[0\]\.w\[0\]\[1\]\[2\]: expected a number finite in float32 .*got Infinity; a model file cannot hold it, so the model is not saved$/,
    );
    broken.fill(0);
    broken[layout.dense.b] = Number.NaN;
    expect(() => toModelFile({ config, layout, params: broken })).toThrowError(/^weights\.dense\.b\[0\]: .*got NaN/);
    expect(() => modelFileBytes({ config, layout, params: broken })).toThrowError(/^weights\.dense\.b\[0\]: .*got NaN/);
  });

  it('refuses non-finite optimizer state and a normalisation beyond float32', () => {
    const slots = new Float32Array(layout.size);
    slots[5] = Number.NEGATIVE_INFINITY;
    const optimizer = { name: 'momentum' as const, step: 1, slots, settings: DEFAULT_OPTIMIZER, loss: 'sse' as const };
    expect(() => toModelFile({ config, layout, params, optimizer })).toThrowError(
      /^optimizer\.slots\[5\]: .*got -Infinity; a model file cannot hold it/,
    );
    const normalization = { method: 'min-max' as const, columns: ['a'], offset: [0], scale: [6e38] };
    expect(() => toModelFile({ config, layout, params, normalization })).toThrowError(
      /^normalisation\.(scale|offset)\[0\]: .*6e\+38/,
    );
  });

  it('writes what it reads and reads what it writes: a loaded file written again is the same model', () => {
    const slots = Float32Array.from({ length: 2 * layout.size }, (_, i) => Math.sin(i) * 1e-3);
    const model: Model = {
      config,
      layout,
      params,
      optimizer: { name: 'adam', step: 12, slots, settings: { ...DEFAULT_OPTIMIZER, name: 'adam' }, loss: 'mse' },
      training: {
        epoch: 2,
        losses: [0.5, 0.25],
        validationLosses: [{ epoch: 2, loss: 0.3 }],
        rng: { s: [1, 2, 3, 4], spareNormal: -0.7 },
      },
      // In the settings table's order, as the reader returns them.
      settings: { window: 4, hidden: [3, 2], horizon: 10_000 },
    };
    const file = modelFileBytes(model);
    const bytes = Buffer.concat([...file.chunks()]);
    expect(bytes.length).toBe(file.size);
    const loaded = readModelBytes(bytes, 'saved');
    const again = Buffer.concat([...modelFileBytes(loaded).chunks()]);
    expect(again.equals(bytes)).toBe(true);
    expect(Array.from(loaded.optimizer?.slots ?? [])).toEqual(Array.from(slots));
    // Version 2 loads into a model that writes back as version 3, the same numbers.
    const fromV2 = readModelFile(JSON.parse(JSON.stringify(toModelFile(model, 2))));
    expect(Buffer.concat([...modelFileBytes(fromV2).chunks()]).equals(bytes)).toBe(true);
  });

  it('reads the base64 of a large model as bytes, never as one string of JSON', () => {
    const wide = { inputSize: 1, hiddenSizes: [64], outputSize: 1, window: 3 };
    const wideLayout = paramLayout(wide);
    const weights = initParams(wideLayout, new Rng(5));
    const bytes = Buffer.concat([...modelFileBytes({ config: wide, layout: wideLayout, params: weights }).chunks()]);
    const loaded = readModelBytes(bytes, 'wide.json');
    expect(Array.from(loaded.params)).toEqual(Array.from(weights));
    // A damaged byte in the cut-out base64 is refused as the base64 it is.
    const at = bytes.indexOf('"data":"') + 8 + 100;
    bytes[at] = 0x2a;
    expect(() => readModelBytes(bytes, 'wide.json')).toThrowError(/^weights\.data: is not base64: position 100 /);
  });

  it('saves and loads back the largest model the app trains (2^24 parameters) with Adam’s state', () => {
    // One layer of 2,046 units on one input: 16,769,023 parameters, just under PAGE_LIMITS.parameters.
    const big = { inputSize: 1, hiddenSizes: [2046], outputSize: 1, window: 10 };
    const bigLayout = paramLayout(big);
    expect(bigLayout.size).toBeLessThanOrEqual(2 ** 24);
    const weights = new Float32Array(bigLayout.size).map((_, i) => Math.fround(Math.sin(i)));
    const slots = new Float32Array(2 * bigLayout.size).fill(1e-3);
    const model: Model = {
      config: big,
      layout: bigLayout,
      params: weights,
      optimizer: { name: 'adam', step: 1, slots, settings: { ...DEFAULT_OPTIMIZER, name: 'adam' }, loss: 'sse' },
    };
    const file = modelFileBytes(model);
    expect(file.size).toBeLessThan(MAX_MODEL_FILE_BYTES);
    const back = readModelBytes(Buffer.concat([...file.chunks()]), 'big.json');
    expect(Buffer.from(back.params.buffer).equals(Buffer.from(weights.buffer))).toBe(true);
    expect(back.optimizer?.slots.length).toBe(2 * bigLayout.size);
  }, 60_000);

  it('bounds the file a model will make before training, and refuses what could not be read back', () => {
    // The app's largest model (2^24 parameters) with Adam and a million epochs fits, with room.
    const page = modelFileBound({ parameters: 2 ** 24, optimizer: 'adam', epochs: 1_000_000, names: 1000 });
    expect(page).toBeLessThan(0.75 * MAX_MODEL_FILE_BYTES);
    const file = modelFileBytes({ config, layout, params });
    expect(modelFileBound({ parameters: layout.size, optimizer: null, epochs: 0 })).toBeGreaterThanOrEqual(file.size);
    // The CLI's largest (2^26) with Adam cannot: refused with the limit and the way out.
    expect(() => checkModelFileSize({ parameters: 2 ** 26, optimizer: 'adam', epochs: 10 }, '--save')).toThrowError(
      /^--save: the model file of 67,108,864 parameters with adam's state would be up to 1025\.0 MiB; at most 512 MiB can be read back, so it is not saved: use fewer hidden units, an optimizer with less state/,
    );
    expect(() => checkModelFileSize({ parameters: 2 ** 26, optimizer: 'sgd', epochs: 10 }, '--save')).not.toThrow();
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
