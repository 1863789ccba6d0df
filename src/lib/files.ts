// The library's model files and exports, as text and bytes (no file system: the caller stores them):
// the model file's JSON exactly as the CLI's --save writes it (src/train/modelFile.ts), read back
// with the same checks; ONNX (src/export/onnx.ts) and TF.js Layers (src/export/tfjs.ts) exports; and
// a TF.js/Keras Layers model imported (src/export/tfjsImport.ts).

import { exportOnnx as onnxBytes } from '../export/onnx.js';
import { TFJS_WEIGHTS_FILE, type TfjsModelJson, exportTfjs as tfjsFiles } from '../export/tfjs.js';
import { importTfjs as tfjsModel } from '../export/tfjsImport.js';
import { describeValue, InputError } from '../model/errors.js';
import {
  type Model,
  type ModelFile,
  modelFileBytes,
  readModelBytes,
  readModelFile,
  toModelFile,
} from '../train/modelFile.js';

export type { Model, ModelFile, TfjsModelJson };

/** The model file's text (JSON, its arrays base64), as the CLI and the app save it. */
export function saveModel(model: Model): string {
  const { size, chunks } = modelFileBytes(model);
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks()) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return new TextDecoder().decode(bytes);
}

/** The model file as a parsed JSON object (what JSON.parse(saveModel(model)) gives). */
export function modelToJson(model: Model): ModelFile {
  return toModelFile(model);
}

/**
 * A model from a model file: its text, its bytes, or its parsed JSON. Any version the CLI and the
 * app write; an InputError names the first field that is wrong, or `source` (the file's name) where
 * the file as a whole is (too large, not JSON).
 */
export function loadModel(file: string | Uint8Array | object, source = 'model'): Model {
  if (typeof file === 'string') return readModelBytes(new TextEncoder().encode(file), source);
  if (file instanceof Uint8Array) return readModelBytes(file, source);
  if (typeof file === 'object' && file !== null) return readModelFile(file);
  throw new InputError('model', `expected the model file's text, bytes or parsed JSON, got ${describeValue(file)}`);
}

/**
 * The model as one ONNX graph (normalization, LSTM layers, dense layer, output scaling): the .onnx
 * file's bytes. An ensemble: every member's network and the Mean of their outputs.
 */
export function exportOnnx(model: Model): Uint8Array<ArrayBuffer> {
  return onnxBytes(model);
}

/** The model as a TF.js Layers model: model.json's object and the weights file's bytes (model.json names it `weightsFile`). */
export function exportTfjs(
  model: Model,
  weightsFile = TFJS_WEIGHTS_FILE,
): { modelJson: TfjsModelJson; weights: Uint8Array<ArrayBuffer> } {
  return tfjsFiles(model, weightsFile);
}

/**
 * A model from a TF.js/Keras Layers model (a plain stack of LSTM layers and a Dense layer): its
 * parsed model.json and the bytes of each weights file it names.
 */
export function importTfjs(modelJson: unknown, weights: Record<string, Uint8Array> | Uint8Array): Model {
  return tfjsModel(modelJson, (path) => {
    const bytes = weights instanceof Uint8Array ? weights : weights[path];
    if (bytes === undefined)
      throw new InputError('weights', `model.json names ${describeValue(path)}, which was not given`);
    return bytes;
  });
}
