// The library's API (src/lib) from source, on the CPU: bad input named by its field, training with
// progress and an abort signal, the model file's round trip, predict against the export tests'
// reference prediction (the data's units in, the CPU reference's forward pass, back to the data's
// units), and forecast against the CLI's past-the-end forecast. tests/library-pack.test.ts runs the
// packed build.

import { describe, expect, it } from 'vitest';
import { bundledSeries, fromCsv } from '../src/lib/csv.js';
import {
  exportOnnx,
  fromArrays,
  InputError,
  loadModel,
  openBackend,
  predict,
  saveModel,
  train,
} from '../src/lib/index.js';
import { forecast } from '../src/lib/predict.js';
import { forecastPastEnd } from '../src/train/pastEnd.js';
import { ourPrediction, relativeDifference } from './export-cases.js';

const values = Array.from({ length: 120 }, (_, i) => Math.sin(i / 4) * 3 + 10 + 0.2 * Math.cos(i * 1.7));
const extra = values.map((v, i) => v * 0.5 + (i % 3));

function fieldOf(thunk: () => unknown): string {
  try {
    thunk();
  } catch (err) {
    if (err instanceof InputError) return err.field;
    throw err;
  }
  throw new Error('no error');
}

describe('the library', () => {
  it('names the field of bad data and bad settings', async () => {
    expect(fieldOf(() => fromArrays({}))).toBe('columns');
    expect(fieldOf(() => fromArrays({ a: [1, 2, 3], b: [1, 2] }))).toBe('columns.b');
    expect(fieldOf(() => fromArrays({ a: [1, Number.NaN, 3] }))).toBe('columns.a[1]');
    expect(fieldOf(() => fromArrays({ a: [1, 2, 3] }, { dates: ['x'] }))).toBe('dates');
    expect(fieldOf(() => fromCsv('a,b\n1,2\n1,x\n'))).toBe('data.csv');
    const data = fromArrays({ value: values });
    await expect(train(data, { backend: 'cpu', window: 0 })).rejects.toMatchObject({ field: 'window' });
    await expect(train(data, { backend: 'cpu', hiddenSizes: [] })).rejects.toMatchObject({ field: 'hiddenSizes' });
    await expect(openBackend('gpu' as 'cpu')).rejects.toMatchObject({ field: 'backend' });
    // Node has no navigator.gpu: the browser platform (this entry's) says so, naming the field.
    await expect(openBackend('webgpu')).rejects.toMatchObject({ field: 'backend' });
  });

  it('trains with progress, stops at the next report when aborted, and keeps the weights reached', async () => {
    const data = fromArrays({ value: values, extra });
    const seen: number[] = [];
    const full = await train(data, {
      backend: 'cpu',
      window: 6,
      hiddenSizes: [8],
      epochs: 12,
      reportEvery: 4,
      seed: 3,
      onProgress: (p) => seen.push(p.epoch),
    });
    expect(seen).toEqual([4, 8, 12]);
    expect(full.ended).toBe('done');
    expect(full.losses).toHaveLength(12);
    expect(full.losses[11]).toBeLessThan(full.losses[0]);
    expect(full.model.data?.inputs).toEqual(['value', 'extra']);

    const controller = new AbortController();
    const aborted = await train(data, {
      backend: 'cpu',
      window: 6,
      hiddenSizes: [8],
      epochs: 12,
      reportEvery: 4,
      seed: 3,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.epoch === 4) controller.abort();
      },
    });
    expect(aborted.ended).toBe('aborted');
    expect(aborted.model.training?.epoch).toBe(4);
    // The same seed: the first four epochs are the full run's.
    expect(aborted.losses).toEqual(full.losses.slice(0, 4));
  });

  it('saves and loads a model file, and predicts as the exported models do', async () => {
    const data = fromArrays({ value: values, extra });
    const settings = {
      backend: 'cpu',
      window: 5,
      hiddenSizes: [6, 4],
      epochs: 3,
      seed: 9,
      transform: 'levels',
    } as const;
    const { model } = await train(data, settings);
    const text = saveModel(model);
    const again = loadModel(text);
    expect(again.params).toEqual(model.params);
    expect(loadModel(JSON.parse(text)).params).toEqual(model.params);
    expect(exportOnnx(again).length).toBeGreaterThan(1000);
    expect(() => loadModel('{"format": "something else"}')).toThrow(InputError);

    const predicted = await predict(again, data);
    const T = model.config.window;
    const N = values.length - T;
    expect(predicted.rows).toEqual(Array.from({ length: N }, (_, n) => T + n + 1));
    const raw = new Float64Array(N * T * 2);
    for (let n = 0; n < N; n++) {
      for (let t = 0; t < T; t++) {
        raw[(n * T + t) * 2] = values[n + t];
        raw[(n * T + t) * 2 + 1] = extra[n + t];
      }
    }
    const reference = ourPrediction(again, raw, N).levels; // (N, O): value, extra
    for (const [o, column] of predicted.values.entries()) {
      const expected = Array.from({ length: N }, (_, n) => reference[n * 2 + o]);
      expect(relativeDifference(column, expected)).toBeLessThan(1e-6);
    }
  });

  it("forecasts past the end as the CLI's predict does, bundled series included", async () => {
    const data = bundledSeries('sp500');
    expect(data.table.rows).toBe(123);
    const { model } = await train(data, { backend: 'cpu', window: 4, hiddenSizes: [4], epochs: 2 });
    const ours = await forecast(model, data, { steps: 6, levels: [80] });
    const cli = await forecastPastEnd(
      model,
      data.table,
      undefined,
      { inputs: ['price'], outputs: ['price'], knownAhead: [] },
      { steps: 6, levels: [80] },
    );
    expect(ours.paths).toEqual(cli.paths);
    expect(ours.dates).toEqual(['2010-04-01', '2010-05-01', '2010-06-01', '2010-07-01', '2010-08-01', '2010-09-01']);
    expect(ours.bands).toHaveLength(1);
    await expect(forecast(model, data, { steps: 0 })).rejects.toMatchObject({ field: 'steps' });
  });
});
