// The reference optimisers against hand-computed updates.

import { describe, expect, it } from 'vitest';
import { InputError } from '../src/model/errors.js';
import {
  clipScale,
  DEFAULT_OPTIMIZER,
  epochLearningRate,
  initialState,
  lossScale,
  optimizerStep,
  readOptimizerState,
} from '../src/model/optimizer.js';

const grads = Float32Array.from([3, -4]); // norm 5

describe('reference optimisers', () => {
  it('sgd is the blog’s update', () => {
    const p = Float32Array.from([1, 1]);
    optimizerStep(DEFAULT_OPTIMIZER, initialState('sgd', 2), p, grads, 0.1);
    expect(Array.from(p)).toEqual([Math.fround(1 - 0.3), Math.fround(1 + 0.4)]);
  });

  it('momentum accumulates velocity', () => {
    const p = Float32Array.from([0, 0]);
    const settings = { ...DEFAULT_OPTIMIZER, name: 'momentum' as const, momentum: 0.5 };
    const state = initialState('momentum', 2);
    optimizerStep(settings, state, p, grads, 1);
    optimizerStep(settings, state, p, grads, 1);
    // v1 = g, v2 = 1.5 g; p = -(g + 1.5 g) = -2.5 g
    expect(p[0]).toBeCloseTo(-7.5, 5);
    expect(p[1]).toBeCloseTo(10, 5);
    expect(state.step).toBe(2);
  });

  it('adam moves each parameter by about lr on its first step, against the gradient', () => {
    const p = Float32Array.from([0, 0]);
    const state = initialState('adam', 2);
    optimizerStep({ ...DEFAULT_OPTIMIZER, name: 'adam' }, state, p, grads, 0.01);
    expect(p[0]).toBeCloseTo(-0.01, 6);
    expect(p[1]).toBeCloseTo(0.01, 6);
    expect(state.slots).toHaveLength(4);
  });

  it('adam over three steps: bias-corrected moments, beta1 on the mean and beta2 on the square', () => {
    // At step 1 the corrections cancel the betas (m/(1-b1) = g, v/(1-b2) = g^2): only later steps,
    // with gradients that change, tell beta1 from beta2. Written out here in float64.
    const settings = { ...DEFAULT_OPTIMIZER, name: 'adam' as const, beta1: 0.8, beta2: 0.95, epsilon: 1e-8 };
    const steps = [
      [3, -4],
      [1, 2],
      [-2, 0.5],
    ];
    const p = Float32Array.from([0.5, -0.25]);
    const state = initialState('adam', 2);
    const want = [0.5, -0.25];
    const m = [0, 0];
    const v = [0, 0];
    for (const [t, g] of steps.entries()) {
      optimizerStep(settings, state, p, Float32Array.from(g), 0.1);
      for (let i = 0; i < 2; i++) {
        m[i] = 0.8 * m[i] + 0.2 * g[i];
        v[i] = 0.95 * v[i] + 0.05 * g[i] * g[i];
        const mHat = m[i] / (1 - 0.8 ** (t + 1));
        const vHat = v[i] / (1 - 0.95 ** (t + 1));
        want[i] -= (0.1 * mHat) / (Math.sqrt(vHat) + 1e-8);
      }
      expect(p[0], `step ${t + 1}`).toBeCloseTo(want[0], 6);
      expect(p[1], `step ${t + 1}`).toBeCloseTo(want[1], 6);
    }
    expect(state.step).toBe(3);
    // The moments themselves, m then v, as the state holds them.
    for (let i = 0; i < 2; i++) {
      expect(state.slots[i]).toBeCloseTo(m[i], 6);
      expect(state.slots[2 + i]).toBeCloseTo(v[i], 6);
    }
  });

  it('clips by the global norm', () => {
    expect(clipScale(grads, null)).toBe(1);
    expect(clipScale(grads, 10)).toBe(1);
    expect(clipScale(grads, 2.5)).toBeCloseTo(0.5, 6);
    const p = Float32Array.from([0, 0]);
    optimizerStep({ ...DEFAULT_OPTIMIZER, clipNorm: 1 }, initialState('sgd', 2), p, grads, 1);
    expect(Math.hypot(p[0], p[1])).toBeCloseTo(1, 5);
  });

  it('decays the learning rate per epoch and scales the loss', () => {
    expect(epochLearningRate(0.1, 0.5, 1)).toBe(0.1);
    expect(epochLearningRate(0.1, 0.5, 3)).toBeCloseTo(0.025, 12);
    expect(lossScale('sse', 8, 1)).toBe(1);
    expect(lossScale('mse', 8, 2)).toBe(1 / 8);
  });

  it('reads a saved state and names what is wrong', () => {
    const state = readOptimizerState({ name: 'momentum', step: 3, slots: [1, 2] }, 2);
    expect(Array.from(state.slots)).toEqual([1, 2]);
    expect(() => readOptimizerState({ name: 'adam', step: 1, slots: [1, 2] }, 2)).toThrowError(
      /optimizer\.slots: expected 4 numbers/,
    );
    expect(() => readOptimizerState({ name: 'rmsprop', step: 1, slots: [] }, 2)).toThrowError(InputError);
  });
});
