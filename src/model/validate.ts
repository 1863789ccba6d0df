// Shape-checked reading of untrusted JSON (model and batch files): nested arrays of numbers finite
// in float32 with an expected shape, and whole-number sizes within stated bounds. Every failure names
// the field, what was found and what is valid.

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

/** Largest finite float32. Every number the engines read becomes a float32, so a file's must fit. */
export const FLOAT32_MAX = 3.4028234663852886e38;
/** Smallest positive normal float32: GPUs may flush anything smaller to 0. */
export const FLOAT32_MIN_NORMAL = 2 ** -126;
const FLOAT32_RANGE = 'a number finite in float32 (at most 3.4028235e38 in magnitude)';

/** Whether `x` is a number that stays finite when rounded to float32 (1e39 and 3.5e38 do not). */
export function isFloat32Finite(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(Math.fround(x));
}

/** `value` if it is a number finite in float32; else an InputError naming `path`. */
export function float32Number(value: unknown, path: string): number {
  if (!isFloat32Finite(value)) throw new InputError(path, `expected ${FLOAT32_RANGE}, got ${describeValue(value)}`);
  return value;
}

/**
 * Throws InputError naming the first number anywhere in `value` (objects and arrays, walked in order)
 * that is not finite in float32: what is about to be written as JSON, which has no Infinity or NaN
 * (JSON.stringify would write null) and whose numbers must read back into float32.
 */
export function checkFloat32Tree(value: unknown, path: string, consequence: string): void {
  if (typeof value === 'number') {
    if (!isFloat32Finite(value)) {
      throw new InputError(path, `is ${describeValue(value)}, not ${FLOAT32_RANGE}; ${consequence}`);
    }
  } else if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const list = value as ArrayLike<unknown>;
    for (let i = 0; i < list.length; i++) {
      // Good numbers are passed over here, so only nested arrays and a bad number build a path.
      if (!isFloat32Finite(list[i])) checkFloat32Tree(list[i], `${path}[${i}]`, consequence);
    }
  } else if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) checkFloat32Tree(item, path ? `${path}.${key}` : key, consequence);
  }
}

/**
 * A zeroed Float32Array of `length`; when memory cannot be had, an InputError naming `path` instead
 * of a RangeError with a stack trace.
 */
export function allocateFloat32(length: number, path: string): Float32Array {
  try {
    return new Float32Array(length);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw new InputError(
      path,
      `needs ${length.toLocaleString('en')} values (${(length / 2 ** 18).toFixed(0)} MiB), more memory than can be had`,
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
 * Throws InputError naming the first array in `value` whose length is not what `shape` says (the
 * numbers themselves are not looked at), so a file's shape is known to be right before anything is
 * allocated for it.
 */
export function checkShape(value: unknown, shape: readonly number[], path: string): void {
  const walk = (node: unknown, depth: number, where: string): void => {
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      throw new InputError(where, `expected shape [${shape.slice(depth).join('][')}], got ${describeValue(node)}`);
    }
    if (depth + 1 < shape.length) for (let i = 0; i < node.length; i++) walk(node[i], depth + 1, `${where}[${i}]`);
  };
  walk(value, 0, path);
}

/**
 * Reads a nested array of numbers finite in float32 with the given shape, in row-major order of
 * `shape`, through `write` (flat row-major position, value).
 */
export function readTensor(
  value: unknown,
  shape: readonly number[],
  path: string,
  write: (flatIndex: number, x: number) => void,
): void {
  checkShape(value, shape, path);
  const walk = (node: unknown[], depth: number, base: number): void => {
    const stride = shape.slice(depth + 1).reduce((a, b) => a * b, 1);
    for (let i = 0; i < node.length; i++) {
      const item: unknown = node[i];
      if (depth === shape.length - 1) {
        // float32Number throws, naming the element; its path is built only then.
        write(base + i, isFloat32Finite(item) ? item : float32Number(item, indexPath(path, shape, base + i)));
      } else {
        walk(item as unknown[], depth + 1, base + i * stride);
      }
    }
  };
  walk(value as unknown[], 0, 0);
}

/** `path[i][j]…` for a flat row-major position in `shape`. */
function indexPath(path: string, shape: readonly number[], flatIndex: number): string {
  const indices: number[] = [];
  let rest = flatIndex;
  for (let d = shape.length - 1; d >= 0; d--) {
    indices.unshift(rest % shape[d]);
    rest = Math.floor(rest / shape[d]);
  }
  return `${path}${indices.map((i) => `[${i}]`).join('')}`;
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
