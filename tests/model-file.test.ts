// The model file: round trips, and every way a file can be wrong gets a message naming the field.

import { describe, expect, it } from 'vitest';
import { Rng } from '../src/data/rng.js';
import { InputError } from '../src/model/errors.js';
import { initParams } from '../src/model/init.js';
import { paramLayout } from '../src/model/layout.js';
import { parseJson, readModelFile, toModelFile } from '../src/model/modelFile.js';
import { startRun } from '../src/train/run.js';
import { FIXTURE_CASES, loadFixture, sineRunSettings } from './helpers.js';

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
      /finite number, got NaN/,
    ],
    [
      'Infinity',
      (f) => {
        f.dense.b[0] = Number.POSITIVE_INFINITY;
        return f;
      },
      'dense.b[0]',
      /finite number, got Infinity/,
    ],
    [
      'string weight',
      (f) => {
        f.dense.w[1][0] = '0.5';
        return f;
      },
      'dense.w[1][0]',
      /finite number, got "0.5"/,
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
