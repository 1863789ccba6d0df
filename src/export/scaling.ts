// What surrounds the network in an exported model, read off the model file once for every format:
// the affine normalization of each input and output column (normalized = (value - offset) / scale,
// value = normalized · scale + offset, src/data/normalise.ts) and the transform the outputs are in
// (src/data/transform.ts). Also the gate orders the other runtimes use, against ours (layout.ts).
//
// Legend: I = inputSize, O = outputSize, H = hidden size, G = 4 gates.

import { type TargetTransform, targetTransform } from '../data/transform.js';
import { columnIndex } from '../data/windows.js';
import { InputError } from '../model/errors.js';
import { CANDIDATE, FORGET, GATES, INPUT, OUTPUT } from '../model/layout.js';
import type { Model } from '../train/modelFile.js';

/** ONNX's LSTM concatenates its gates as i, o, f, c (the operator's W[iofc]); each entry is our gate index. */
export const ONNX_GATE_ORDER: readonly number[] = [INPUT, OUTPUT, FORGET, CANDIDATE];
/** TF.js's and Keras's LSTM cell splits its 4H columns as i, f, c, o. */
export const TFJS_GATE_ORDER: readonly number[] = [INPUT, FORGET, CANDIDATE, OUTPUT];

export interface Affine {
  /** One per column, in the model's order. */
  offset: number[];
  scale: number[];
}

export interface ModelScaling {
  /** (I) the input columns' names, in the order the model reads them. */
  inputs: string[];
  /** (O) the output columns' names, in the order the model predicts them. */
  outputs: string[];
  /** The inputs' normalization, or null where the model file has none (the model reads values as they are). */
  input: Affine | null;
  /** The outputs' normalization, or null. */
  output: Affine | null;
  /** What the outputs predict: levels, or a change a reference level turns back into one. */
  transform: TargetTransform;
}

/**
 * The model's scaling. A normalization needs the column names (the file's `data`) to say which of
 * its columns each input and output is; a file with a normalization and no `data` is refused.
 */
export function modelScaling(model: Model): ModelScaling {
  const { inputSize: I, outputSize: O } = model.config;
  const { data, normalization } = model;
  const inputs = data?.inputs ?? Array.from({ length: I }, (_, k) => `input ${k + 1}`);
  const outputs = data?.outputs ?? Array.from({ length: O }, (_, o) => `output ${o + 1}`);
  if (normalization !== undefined && data === undefined) {
    throw new InputError(
      'data',
      'the model file has a normalisation but no data.inputs and data.outputs, so which column each input and output is cannot be told',
    );
  }
  const affine = (names: string[], field: string): Affine | null => {
    if (normalization === undefined) return null;
    const table = { columns: normalization.columns, values: [], rows: 0 };
    const columns = names.map((name) => columnIndex(table, name, field));
    return { offset: columns.map((c) => normalization.offset[c]), scale: columns.map((c) => normalization.scale[c]) };
  };
  return {
    inputs,
    outputs,
    input: affine(inputs, 'data.inputs'),
    output: affine(outputs, 'data.outputs'),
    transform: targetTransform(data?.transform ?? 'levels', data?.season ?? null),
  };
}

/**
 * One LSTM weight matrix of ours (rows, 4H) at `base` of `params`, its gate blocks put in `order`:
 * (rows, 4H) with block q holding our gate order[q]. Rows are inputs (w) or hidden units (v); a bias
 * is one row.
 */
export function reorderGates(
  params: Float32Array,
  base: number,
  rows: number,
  H: number,
  order: readonly number[],
): Float32Array {
  const G = GATES * H;
  const out = new Float32Array(rows * G);
  for (let k = 0; k < rows; k++) {
    for (let q = 0; q < GATES; q++) {
      const from = base + k * G + order[q] * H;
      out.set(params.subarray(from, from + H), k * G + q * H);
    }
  }
  return out;
}

/** The inverse of reorderGates: (rows, 4H) in `order` written into ours at `base` of `params`. */
export function restoreGates(
  reordered: ArrayLike<number>,
  params: Float32Array,
  base: number,
  rows: number,
  H: number,
  order: readonly number[],
): void {
  const G = GATES * H;
  for (let k = 0; k < rows; k++) {
    for (let q = 0; q < GATES; q++) {
      for (let j = 0; j < H; j++) params[base + k * G + order[q] * H + j] = reordered[k * G + q * H + j];
    }
  }
}
