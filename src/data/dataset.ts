// Samples for training and evaluation, and the batch file.
//
// Legend: N = samples, T = window, I = inputSize, O = outputSize.
//   x  (N, T, I)  input windows, sample-major (the batch file's [B][T][I])
//   t  (N, O)     the target after each window's last step
// Batch file (a contract): JSON {"x": [B][T][inputSize], "t": [B][outputSize]}.

import { describeValue, InputError } from '../model/errors.js';
import type { ModelConfig } from '../model/layout.js';
import { allocateFloat32, checkShape, field, isRecord, readTensor } from '../model/validate.js';

/** Most float32 values a dataset may hold (1 GiB): beyond that a typo, not a plan. */
export const MAX_DATASET_VALUES = 268_435_456;

export interface Dataset {
  count: number;
  window: number;
  inputSize: number;
  outputSize: number;
  /** (N, T, I) */
  x: Float32Array;
  /** (N, O) */
  t: Float32Array;
}

/** Reads a batch file for a model of the given shape. */
export function readBatchFile(value: unknown, config: ModelConfig): Dataset {
  if (!isRecord(value))
    throw new InputError('batch', `expected a JSON object with x and t, got ${describeValue(value)}`);
  const xs = field(value, 'x', 'batch');
  if (!Array.isArray(xs) || xs.length < 1 || xs.length > 1_000_000) {
    throw new InputError('batch.x', `expected a list of 1 or more samples [B][T][I], got ${describeValue(xs)}`);
  }
  const count = xs.length;
  const { window, inputSize, outputSize } = config;
  // Sizes and shapes first, so a small file for a large model is refused before anything is allocated.
  const values = count * window * inputSize;
  if (values > MAX_DATASET_VALUES) {
    throw new InputError(
      'batch.x',
      `${count} samples × ${window} steps × ${inputSize} inputs is ${values.toLocaleString('en')} values, ` +
        `over the limit of ${MAX_DATASET_VALUES.toLocaleString('en')}`,
    );
  }
  const ts = field(value, 't', 'batch');
  checkShape(xs, [count, window, inputSize], 'batch.x');
  checkShape(ts, [count, outputSize], 'batch.t');
  const x = allocateFloat32(values, 'batch.x');
  const t = allocateFloat32(count * outputSize, 'batch.t');
  readTensor(xs, [count, window, inputSize], 'batch.x', (p, v) => {
    x[p] = v;
  });
  readTensor(ts, [count, outputSize], 'batch.t', (p, v) => {
    t[p] = v;
  });
  return { count, window, inputSize, outputSize, x, t };
}
