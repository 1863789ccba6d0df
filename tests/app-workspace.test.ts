// The workspace's pure parts: auto's choice in words and remembered per shape, the overlays' columns
// (a kept run's predictions over the same data, its errors past the current run's epochs), the Runs
// table's words, and a decimal comma in a number field told what to type.

import { describe, expect, it } from 'vitest';
import { decideAndRemember, describeAuto, rememberedChoice } from '../src/app/autoChoice.js';
import { type BackendTrace, emptyTrace, withOverlayErrors, withOverlayPredictions } from '../src/app/columns.js';
import { describeRunSettings, perColumn } from '../src/app/runsView.js';
import type { AdapterDescription } from '../src/backends/backend.js';
import { parseNumber } from '../src/data/decimal.js';
import { SETTINGS } from '../src/settings/training.js';

const SOFTWARE: AdapterDescription = { vendor: 'google', architecture: 'swiftshader', description: '', software: true };
const BLOG = { inputSize: 1, hiddenSizes: [30], outputSize: 1, window: 10 };

function trace(losses: number[], predictions: number[] | null, from = 2): BackendTrace {
  return {
    ...emptyTrace('cpu'),
    losses,
    predictions: predictions && Float32Array.from(predictions),
    predictionsFrom: from,
  };
}

// Where there is no localStorage (Node, a browser that refuses it) the page's memory serves alone.
describe('auto in words, remembered per shape', () => {
  it('says how much slower an emulated GPU is, plainly, and how much faster a winning one', () => {
    expect(describeAuto({ backend: 'cpu', ratio: 481.7 }, true, BLOG, 8)).toBe(
      'auto: the CPU. WebGPU here is a software emulation, about 482× slower than the CPU at hidden 30, batch 8.',
    );
    expect(describeAuto({ backend: 'cpu', ratio: 2.5 }, false, BLOG, 8)).toBe(
      'auto: the CPU. WebGPU on this GPU is about 2.50× slower than the CPU at hidden 30, batch 8.',
    );
    expect(describeAuto({ backend: 'webgpu', ratio: 3.2 }, false, { ...BLOG, hiddenSizes: [512, 256] }, 64)).toBe(
      'auto: WebGPU, about 3.20× faster than the CPU at hidden 512,256, batch 64.',
    );
  });

  it('remembers the choice for the adapter, shape and batch it was made at, and no other', () => {
    expect(rememberedChoice(SOFTWARE, BLOG, 8)).toBeNull();
    const choice = decideAndRemember({ cpu: 0.05, webgpu: 20 }, SOFTWARE, BLOG, 8);
    expect(choice.backend).toBe('cpu');
    expect(rememberedChoice(SOFTWARE, BLOG, 8)).toEqual({ backend: 'cpu', ratio: 400 });
    expect(rememberedChoice(SOFTWARE, BLOG, 4)).toBeNull();
    expect(rememberedChoice(SOFTWARE, { ...BLOG, hiddenSizes: [64] }, 8)).toBeNull();
  });
});

describe('overlays of kept runs', () => {
  it('draws a kept run’s predictions at their rows over the same data, and leaves out one on other data', () => {
    const view = {
      positions: Float32Array.from([0, 1, 2, 3, 4]),
      values: [1, 2, 3, 4, 5],
      window: 2,
      outputs: 1,
      output: 0,
    };
    const columns = withOverlayPredictions(
      [
        [0, 1, 2, 3, 4],
        [1, 2, 3, 4, 5],
      ],
      view,
      [
        { trace: trace([], [3.1, 3.9, 5.2]), scale: { train: 1, validation: 1 }, sameData: true },
        { trace: trace([], [9, 9, 9]), scale: { train: 1, validation: 1 }, sameData: false },
      ],
    );
    expect(columns).toEqual([
      [0, 1, 2, 3, 4],
      [1, 2, 3, 4, 5],
      [null, null, expect.closeTo(3.1, 5), expect.closeTo(3.9, 5), expect.closeTo(5.2, 5)],
    ]);
  });

  it('runs the error chart to the longest run, each kept run in its own scale', () => {
    const baseline = [5, 5];
    const columns = withOverlayErrors(
      [[1, 2], [0.4, 0.3], baseline],
      [{ trace: trace([8, 6, 4, 2], null), scale: { train: 0.5, validation: 1 }, sameData: false }],
      false,
    );
    expect(columns).toEqual([
      [1, 2, 3, 4],
      [0.4, 0.3, null, null],
      [5, 5, null, null],
      [4, 3, 2, 1],
    ]);
  });
});

describe('the Runs table in words', () => {
  it('names each output column’s error where there are several, and the settings that tell runs apart', () => {
    expect(perColumn([1.234], ['load'])).toBe('1.23');
    expect(perColumn([1.234, 45.6], ['load_a', 'load_b'])).toBe('load_a 1.23 · load_b 45.6');
    expect(perColumn(null, ['load'])).toBe('–');
    expect(
      describeRunSettings({
        window: '24',
        hidden: '30',
        batch: '8',
        optimizer: 'adam',
        lr: '0.01',
        epochs: '101',
        season: '365',
      }),
    ).toBe('window 24 · hidden 30 · batch 8 · adam, lr 0.01 · 101 epochs · season 365');
  });
});

describe('a number typed with a decimal comma', () => {
  it('is refused with the point to use instead, in the app and the CLI alike', () => {
    expect(() => parseNumber('1,5', 'lr')).toThrow('expected a number, got "1,5"; use a point: 1.5');
    expect(() => SETTINGS.lr.parse(' 0,01 ')).toThrow('use a point: 0.01');
    expect(() => parseNumber('1,5x', 'lr')).toThrow(/expected a number, got "1,5x"$/);
  });
});
