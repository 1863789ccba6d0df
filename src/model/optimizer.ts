// Optimizers, the loss choice and learning-rate decay: the readable reference every backend matches.
// All parameters are one flat array (layout.ts), so an update is one loop over P values (one GPU
// dispatch), and the optimizer's state is one or two more arrays of P values.
//
//   clipping   g *= min(1, clipNorm / ||g||)  with ||g|| the global L2 norm over all parameters
//   sgd        p -= lr * g                                            (the blog's)
//   momentum   v = momentum * v + g;  p -= lr * v                     (state: v)
//   adam       m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;        (state: m, v, step t)
//              p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
//   decay      the learning rate of epoch e (1-based) is lr * lrDecay^(e - 1)
//   loss       'sse' is the blog's 0.5 * sum over samples and outputs of (y - t)^2;
//              'mse' is the mean over samples and outputs of (y - t)^2. The error reported per epoch
//              uses the same formula over all samples.

import { describeValue, InputError } from './errors.js';
import { float32Number, isRecord, readTensor } from './validate.js';

export const OPTIMIZERS = ['sgd', 'momentum', 'adam'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
export const LOSSES = ['sse', 'mse'] as const;
export type LossName = (typeof LOSSES)[number];

export interface OptimizerSettings {
  name: OptimizerName;
  /** momentum only (default 0.9) */
  momentum: number;
  /** adam only (defaults 0.9, 0.999, 1e-8) */
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Global-norm clipping threshold; null for none. */
  clipNorm: number | null;
}

export const DEFAULT_OPTIMIZER: OptimizerSettings = {
  name: 'sgd',
  momentum: 0.9,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  clipNorm: null,
};

/** An optimizer's own settings: everything in OptimizerSettings but the name. */
export type OptimizerValues = Omit<OptimizerSettings, 'name'>;

/** Which of its own settings each optimizer's update reads (clipping applies to every one). */
const USES: Record<OptimizerName, readonly (keyof OptimizerValues)[]> = {
  sgd: ['clipNorm'],
  momentum: ['momentum', 'clipNorm'],
  adam: ['beta1', 'beta2', 'epsilon', 'clipNorm'],
};

/** Whether optimizer `name`'s update reads setting `key`. */
export function optimizerUses(name: OptimizerName, key: keyof OptimizerValues): boolean {
  return USES[name].includes(key);
}

/** How many arrays of P values of state an optimizer keeps. */
export function stateArrays(name: OptimizerName): number {
  return name === 'sgd' ? 0 : name === 'momentum' ? 1 : 2;
}

/** The optimizer's state: `slots` holds stateArrays(name) arrays of P values back to back; `step` counts updates. */
export interface OptimizerState {
  name: OptimizerName;
  step: number;
  slots: Float32Array;
}

export function initialState(name: OptimizerName, paramCount: number): OptimizerState {
  return { name, step: 0, slots: new Float32Array(stateArrays(name) * paramCount) };
}

/** Learning rate of `epoch` (1-based). */
export function epochLearningRate(learningRate: number, lrDecay: number, epoch: number): number {
  return learningRate * lrDecay ** (epoch - 1);
}

/** Scale that global-norm clipping applies to the gradients (1 when off or within the norm). */
export function clipScale(grads: Float32Array, clipNorm: number | null): number {
  if (clipNorm === null) return 1;
  let sum = 0;
  for (let i = 0; i < grads.length; i++) sum += grads[i] * grads[i];
  const norm = Math.sqrt(sum);
  return norm > clipNorm ? clipNorm / norm : 1;
}

/** One update of every parameter (the reference). */
export function optimizerStep(
  settings: OptimizerSettings,
  state: OptimizerState,
  params: Float32Array,
  grads: Float32Array,
  learningRate: number,
): void {
  const scale = clipScale(grads, settings.clipNorm);
  const P = params.length;
  state.step++;
  switch (settings.name) {
    case 'sgd':
      for (let i = 0; i < P; i++) params[i] -= learningRate * scale * grads[i];
      return;
    case 'momentum': {
      const v = state.slots;
      for (let i = 0; i < P; i++) {
        v[i] = settings.momentum * v[i] + scale * grads[i];
        params[i] -= learningRate * v[i];
      }
      return;
    }
    case 'adam': {
      const { beta1, beta2, epsilon } = settings;
      const m = state.slots.subarray(0, P);
      const v = state.slots.subarray(P, 2 * P);
      const c1 = 1 - beta1 ** state.step;
      const c2 = 1 - beta2 ** state.step;
      for (let i = 0; i < P; i++) {
        const g = scale * grads[i];
        m[i] = beta1 * m[i] + (1 - beta1) * g;
        v[i] = beta2 * v[i] + (1 - beta2) * g * g;
        params[i] -= (learningRate * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + epsilon);
      }
      return;
    }
  }
}

/** Factor from the blog's 0.5 * sum of squares to the chosen loss over `count` samples of `outputs`. */
export function lossScale(loss: LossName, count: number, outputs: number): number {
  return loss === 'sse' ? 1 : 2 / (count * outputs);
}

/**
 * Checks that `state` can be restored into a backend training `name` with `paramCount` parameters;
 * throws InputError naming optimizer.name, optimizer.step or optimizer.slots.
 */
export function checkOptimizerState(state: OptimizerState, name: OptimizerName, paramCount: number): void {
  if (state.name !== name) {
    throw new InputError(
      'optimizer.name',
      `the backend trains with ${name}, got state of ${describeValue(state.name)}`,
    );
  }
  if (!Number.isInteger(state.step) || state.step < 0) {
    throw new InputError('optimizer.step', `expected a whole number of at least 0, got ${describeValue(state.step)}`);
  }
  const expected = stateArrays(name) * paramCount;
  if (state.slots.length !== expected) {
    throw new InputError(
      'optimizer.slots',
      `expected ${expected} numbers (${stateArrays(name)} x ${paramCount} parameters), got ${state.slots.length}`,
    );
  }
}

/** Reads the optimizer state stored in a model file (optional field `optimizer`). */
export function readOptimizerState(value: unknown, paramCount: number, path = 'optimizer'): OptimizerState {
  if (!isRecord(value)) throw new InputError(path, `expected an object, got ${describeValue(value)}`);
  const name = value.name;
  if (typeof name !== 'string' || !(OPTIMIZERS as readonly string[]).includes(name)) {
    throw new InputError(`${path}.name`, `expected one of ${OPTIMIZERS.join(', ')}, got ${describeValue(name)}`);
  }
  const step = value.step;
  // Whole and exact in a double, as a file writes it back.
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) {
    throw new InputError(
      `${path}.step`,
      `expected a whole number from 0 to ${Number.MAX_SAFE_INTEGER}, got ${describeValue(step)}`,
    );
  }
  const expected = stateArrays(name as OptimizerName) * paramCount;
  const slots = value.slots;
  // A Float32Array: decoded already (a version-3 file's base64), checked here like a list of numbers.
  const length = slots instanceof Float32Array ? slots.length : Array.isArray(slots) ? slots.length : -1;
  if (length !== expected) {
    throw new InputError(`${path}.slots`, `expected ${expected} numbers, got ${describeValue(slots)}`);
  }
  if (slots instanceof Float32Array) {
    const bad = slots.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) float32Number(slots[bad], `${path}.slots[${bad}]`);
    return { name: name as OptimizerName, step, slots };
  }
  const out = new Float32Array(expected);
  readTensor(slots, [expected], `${path}.slots`, (i, x) => {
    out[i] = x;
  });
  return { name: name as OptimizerName, step, slots: out };
}
