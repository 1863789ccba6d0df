// The network as a TensorFlow.js Layers model: model.json (a Keras-style Sequential topology, the
// weights manifest and userDefinedMetadata) and one weights file of little-endian float32s, which
// `tf.loadLayersModel` loads and whose `predict` on normalized windows (B, T, I) gives normalized
// outputs (B, O), as our forward pass does. Keras reads the same topology (tensorflowjs_converter
// turns it into a Keras model).
//
//   LSTM (units H1, return_sequences true) … LSTM (units H_last, return_sequences false), Dense (O)
//   every LSTM: activation tanh, recurrent_activation sigmoid (set: TF.js's default has been
//   hardSigmoid), use_bias; kernel (I, 4H), recurrent_kernel (H, 4H), bias (4H), gates i, f, c, o.
//
// The scaling around the network is not a layer: userDefinedMetadata["webgpu-lstm"] holds it, the
// model file's normalisation and data as they are (what `import` reads back) and, derived from them
// for a caller's convenience, inputOffset/inputScale (I) and outputOffset/outputScale (O), the
// transform and its lag: normalized = (value - inputOffset) / inputScale; prediction = output ·
// outputScale + outputOffset, a level or, for a transformed model, the change a reference level
// turns into one (src/export/onnx.ts says which reference).
//
// Legend: B = batch, T = window, I = inputSize, H = hidden size, O = outputSize.

import { GATES } from '../model/layout.js';
import type { Model } from '../train/modelFile.js';
import { type ModelScaling, modelScaling, reorderGates, TFJS_GATE_ORDER } from './scaling.js';

/** The key of our entry in model.json's userDefinedMetadata. */
export const TFJS_METADATA_KEY = 'webgpu-lstm';
export const TFJS_WEIGHTS_FILE = 'weights.bin';

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

export interface TfjsLayer {
  class_name: string;
  config: Record<string, unknown>;
}

export interface TfjsModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  modelTopology: {
    class_name: 'Sequential';
    config: { name: string; layers: TfjsLayer[] };
    keras_version: string;
    backend: string;
  };
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
  userDefinedMetadata: Record<string, unknown>;
}

/** model.json and the weights file's bytes; model.json names the weights file `weightsFile`. */
export function exportTfjs(
  model: Model,
  weightsFile = TFJS_WEIGHTS_FILE,
): { modelJson: TfjsModelJson; weights: Uint8Array<ArrayBuffer> } {
  const scaling = modelScaling(model);
  const specs: WeightSpec[] = [];
  const tensors: ArrayLike<number>[] = [];
  const weight = (name: string, shape: number[], values: ArrayLike<number>) => {
    specs.push({ name, shape, dtype: 'float32' });
    tensors.push(values);
  };
  const topology = [...model.layout.layers.map((_, l) => lstmLayer(model, l, weight)), denseLayer(model, weight)];
  const weights = weightBytes(tensors);
  const metadata = tfjsMetadata(model, scaling);
  return {
    modelJson: {
      format: 'layers-model',
      generatedBy: 'webgpu-lstm',
      convertedBy: null,
      modelTopology: {
        class_name: 'Sequential',
        config: { name: 'webgpu_lstm', layers: topology },
        keras_version: 'tfjs-layers 4.22.0',
        backend: 'tensor_flow.js',
      },
      weightsManifest: [{ paths: [weightsFile], weights: specs }],
      userDefinedMetadata: { [TFJS_METADATA_KEY]: metadata },
    },
    weights,
  };
}

/** The name, shape and values of one weight, in the order the weights file holds them. */
type AddWeight = (name: string, shape: number[], values: ArrayLike<number>) => void;

/** LSTM layer l as a Keras LSTM layer (TF.js's gate order), its kernel, recurrent kernel and bias added. */
function lstmLayer(model: Model, l: number, weight: AddWeight): TfjsLayer {
  const { inputSize: I, window: T } = model.config;
  const { layers } = model.layout;
  const { inputSize: In, hiddenSize: H, w, v, b } = layers[l];
  const name = `lstm_${l + 1}`;
  weight(`${name}/kernel`, [In, GATES * H], reorderGates(model.params, w, In, H, TFJS_GATE_ORDER));
  weight(`${name}/recurrent_kernel`, [H, GATES * H], reorderGates(model.params, v, H, H, TFJS_GATE_ORDER));
  weight(`${name}/bias`, [GATES * H], reorderGates(model.params, b, 1, H, TFJS_GATE_ORDER));
  return {
    class_name: 'LSTM',
    config: {
      name,
      trainable: true,
      ...(l === 0 ? { batch_input_shape: [null, T, I] } : {}),
      dtype: 'float32',
      units: H,
      activation: 'tanh',
      recurrent_activation: 'sigmoid',
      use_bias: true,
      unit_forget_bias: false,
      dropout: 0,
      recurrent_dropout: 0,
      return_sequences: l < layers.length - 1,
      return_state: false,
      go_backwards: false,
      stateful: false,
      unroll: false,
    },
  };
}

/** The dense layer as a Keras Dense layer, its kernel and bias added. */
function denseLayer(model: Model, weight: AddWeight): TfjsLayer {
  const { dense } = model.layout;
  const O = model.config.outputSize;
  weight('dense/kernel', [dense.inputSize, O], model.params.subarray(dense.w, dense.w + dense.inputSize * O));
  weight('dense/bias', [O], model.params.subarray(dense.b, dense.b + O));
  return {
    class_name: 'Dense',
    config: { name: 'dense', trainable: true, dtype: 'float32', units: O, activation: 'linear', use_bias: true },
  };
}

/** The weights file: every tensor's values as little-endian float32, one after another. */
function weightBytes(tensors: readonly ArrayLike<number>[]): Uint8Array<ArrayBuffer> {
  const total = tensors.reduce((sum, t) => sum + t.length, 0);
  const weights = new Uint8Array(total * 4);
  const view = new DataView(weights.buffer);
  let p = 0;
  for (const tensor of tensors) {
    for (let i = 0; i < tensor.length; i++, p++) view.setFloat32(p * 4, tensor[i], true);
  }
  return weights;
}

/** What a TF.js user needs beside the layers (the scaling, the transform) and what import reads back. */
function tfjsMetadata(model: Model, scaling: ModelScaling): Record<string, unknown> {
  return {
    inputs: scaling.inputs,
    outputs: scaling.outputs,
    ...(scaling.input ? { inputOffset: scaling.input.offset, inputScale: scaling.input.scale } : {}),
    ...(scaling.output ? { outputOffset: scaling.output.offset, outputScale: scaling.output.scale } : {}),
    transform: scaling.transform.kind,
    lag: scaling.transform.lag,
    ...(model.normalization ? { normalisation: model.normalization } : {}),
    ...(model.data ? { data: model.data } : {}),
  };
}
