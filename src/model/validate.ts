// Shape-checked reading of untrusted JSON (model and batch files): nested arrays of finite numbers
// with an expected shape, and whole-number sizes within stated bounds. Every failure names the field,
// what was found and what is valid.

import { describeValue, InputError } from './errors.js';
import type { ModelConfig } from './layout.js';

/** Bounds on model sizes: generous for real use, small enough that a typo cannot exhaust memory. */
export const LIMITS = {
  inputSize: 1024,
  outputSize: 1024,
  hiddenSize: 4096,
  layers: 8,
  window: 4096,
} as const;

/**
 * Largest model a file or the CLI may ask for: 2^26 parameters (256 MiB of float32, and as much again
 * for gradients), so a typo or a hostile file cannot exhaust memory before anything is read.
 */
export const MAX_PARAMETERS = 2 ** 26;

/** Throws InputError on `field` when `config` has more than MAX_PARAMETERS parameters. */
export function checkParameterBudget(parameterCount: number, field: string): void {
  if (parameterCount > MAX_PARAMETERS) {
    throw new InputError(
      field,
      `the model would have ${parameterCount.toLocaleString('en')} parameters; at most ${MAX_PARAMETERS.toLocaleString('en')} are allowed`,
    );
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function field(obj: Record<string, unknown>, key: string, path: string): unknown {
  // Own properties only: a "__proto__" or "constructor" key in a file is data, never inherited.
  if (!Object.hasOwn(obj, key)) throw new InputError(path ? `${path}.${key}` : key, 'is missing');
  return obj[key];
}

export function intInRange(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InputError(path, `expected a whole number from ${min} to ${max}, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * Reads a nested array of finite numbers with the given shape into `out` at `offset`, in row-major
 * order of `shape`, through `index` (which maps a flat row-major position to a position in `out`).
 */
export function readTensor(
  value: unknown,
  shape: readonly number[],
  path: string,
  write: (flatIndex: number, x: number) => void,
): void {
  const walk = (node: unknown, depth: number, base: number, where: string): void => {
    const expectedLength = shape[depth];
    if (!Array.isArray(node) || node.length !== expectedLength) {
      throw new InputError(where, `expected shape [${shape.slice(depth).join('][')}], got ${describeValue(node)}`);
    }
    const stride = shape.slice(depth + 1).reduce((a, b) => a * b, 1);
    for (let i = 0; i < node.length; i++) {
      const item: unknown = node[i];
      if (depth === shape.length - 1) {
        if (typeof item !== 'number' || !Number.isFinite(item)) {
          throw new InputError(`${where}[${i}]`, `expected a finite number, got ${describeValue(item)}`);
        }
        write(base + i, item);
      } else {
        walk(item, depth + 1, base + i * stride, `${where}[${i}]`);
      }
    }
  };
  walk(value, 0, 0, path);
}

export function readConfig(value: unknown, path = 'config'): ModelConfig {
  if (!isRecord(value)) throw new InputError(path, `expected an object, got ${describeValue(value)}`);
  const inputSize = intInRange(field(value, 'inputSize', path), `${path}.inputSize`, 1, LIMITS.inputSize);
  const outputSize = intInRange(field(value, 'outputSize', path), `${path}.outputSize`, 1, LIMITS.outputSize);
  const window = intInRange(field(value, 'window', path), `${path}.window`, 1, LIMITS.window);
  const hidden = field(value, 'hiddenSizes', path);
  if (!Array.isArray(hidden) || hidden.length < 1 || hidden.length > LIMITS.layers) {
    throw new InputError(
      `${path}.hiddenSizes`,
      `expected a list of 1 to ${LIMITS.layers} layer sizes, got ${describeValue(hidden)}`,
    );
  }
  const hiddenSizes = hidden.map((h, i) => intInRange(h, `${path}.hiddenSizes[${i}]`, 1, LIMITS.hiddenSize));
  return { inputSize, hiddenSizes, outputSize, window };
}
