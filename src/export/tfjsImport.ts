// A TensorFlow.js Layers model (model.json and its weights files, as tf.LayersModel.save or
// tensorflowjs_converter from Keras write them) read back into our model: the reverse of tfjs.ts for a
// plain stack, an optional InputLayer, LSTM layers (each but the last with return_sequences) and one
// Dense output. Everything else is refused by name, as is any setting that would compute something
// our cell does not: an activation other than tanh, a recurrent activation other than sigmoid (Keras
// 2's and older TF.js's default hard_sigmoid included), a backwards or stateful layer, returned
// states, a Dense activation other than linear, weights that are not float32. Dropout settings are
// read past: they act in training only.
//
// The window and input size come from the first layer's batch_input_shape [null, T, I] (Keras 3's
// batch_shape too). Weights are found by layer name and kind (…/<layer>/…/kernel, recurrent_kernel,
// bias), whatever path a converter puts between, and reordered from i, f, c, o to our gate order.
// Our own export's userDefinedMetadata["webgpu-lstm"] brings back the normalisation and data.
//
// Legend: T = window, I = inputSize, H = hidden size, O = outputSize.

import { describeValue, InputError } from '../model/errors.js';
import { GATES, type ModelConfig, paramLayout } from '../model/layout.js';
import { checkParameterBudget, field, intInRange, isRecord, LIMITS } from '../model/validate.js';
import { MODEL_FORMAT, type Model, readModelFile, toNested } from '../train/modelFile.js';
import { restoreGates, TFJS_GATE_ORDER } from './scaling.js';
import { TFJS_METADATA_KEY } from './tfjs.js';

/** Reads a weights file that model.json names (a plain relative path, checked here first). */
export type ReadWeights = (path: string) => Uint8Array;

interface LstmSpec {
  name: string;
  units: number;
  useBias: boolean;
}

interface DenseSpec {
  name: string;
  units: number;
  useBias: boolean;
}

/** The model in `modelJson` (parsed model.json), its weights read through `readWeights`; `source` names model.json in errors. */
export function importTfjs(modelJson: unknown, readWeights: ReadWeights, source = 'model.json'): Model {
  const at = (path: string) => `${source} ${path}`;
  if (!isRecord(modelJson)) throw new InputError(source, `expected a JSON object, got ${describeValue(modelJson)}`);
  if (Object.hasOwn(modelJson, 'format') && modelJson.format !== 'layers-model') {
    throw new InputError(
      at('format'),
      `expected "layers-model", got ${describeValue(modelJson.format)}: a graph model (from a SavedModel) has no layers to read; convert the Keras model as a layers model`,
    );
  }
  const { layersPath, layers } = readTopology(field(modelJson, 'modelTopology', source), at('modelTopology'));
  const { config, lstm, dense } = readLayers(layers, layersPath);
  const layout = paramLayout(config);
  checkParameterBudget(layout.size, at(layersPath));

  const weights = readWeightsManifest(field(modelJson, 'weightsManifest', source), readWeights, at('weightsManifest'));
  const take = (layer: string, kind: string, shape: number[], needed = true): Float32Array | null => {
    const matches = [...weights.keys()].filter((name) => {
      const parts = name.replace(/:\d+$/, '').split('/');
      return parts.at(-1) === kind && parts.slice(0, -1).includes(layer);
    });
    if (matches.length > 1) {
      throw new InputError(
        at('weightsManifest'),
        `${matches.length} weights could be layer ${layer}'s ${kind}: ${matches.join(', ')}`,
      );
    }
    if (matches.length === 0) {
      if (!needed) return null;
      throw new InputError(
        at('weightsManifest'),
        `has no ${kind} for layer ${describeValue(layer)} (weights: ${[...weights.keys()].join(', ')})`,
      );
    }
    const { shape: got, values } = weights.get(matches[0])!;
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw new InputError(
        at(`weightsManifest ${matches[0]}`),
        `expected shape [${shape.join(', ')}], got [${got.join(', ')}]`,
      );
    }
    return values;
  };

  const params = new Float32Array(layout.size);
  layout.layers.forEach((layer, l) => {
    const { inputSize: In, hiddenSize: H } = layer;
    const spec = lstm[l];
    restoreGates(take(spec.name, 'kernel', [In, GATES * H])!, params, layer.w, In, H, TFJS_GATE_ORDER);
    restoreGates(take(spec.name, 'recurrent_kernel', [H, GATES * H])!, params, layer.v, H, H, TFJS_GATE_ORDER);
    if (spec.useBias) restoreGates(take(spec.name, 'bias', [GATES * H])!, params, layer.b, 1, H, TFJS_GATE_ORDER);
  });
  const { inputSize: Hl, outputSize: O } = layout.dense;
  params.set(take(dense.name, 'kernel', [Hl, O])!, layout.dense.w);
  if (dense.useBias) params.set(take(dense.name, 'bias', [O])!, layout.dense.b);

  // Through the model file's own reader: every weight finite, the metadata's normalisation and data checked.
  const metadata = readMetadata(modelJson, at('userDefinedMetadata'));
  const file = {
    format: MODEL_FORMAT,
    // Version 2's nested weights: errors then name a weight as TF.js users read it (lstm[0].w[1][0][3]).
    version: 2,
    config,
    ...toNested(layout, params),
    ...(metadata && Object.hasOwn(metadata, 'normalisation') ? { normalisation: metadata.normalisation } : {}),
    ...(metadata && Object.hasOwn(metadata, 'data') ? { data: metadata.data } : {}),
  };
  try {
    return readModelFile(file);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    const where = /^(normalisation|data)\b/.test(err.field)
      ? at(`userDefinedMetadata["${TFJS_METADATA_KEY}"].${err.field}`)
      : at(`weights (${err.field} in our layout)`);
    throw new InputError(where, err.message.slice(err.field.length + 2));
  }
}

/** The Sequential model's list of layers; a Keras file's `model_config` wrapper is opened first. */
function readTopology(value: unknown, path: string): { layersPath: string; layers: unknown[] } {
  if (!isRecord(value)) throw new InputError(path, `expected an object, got ${describeValue(value)}`);
  let topology = value;
  let where = path;
  if (Object.hasOwn(topology, 'model_config')) {
    where = `${path}.model_config`;
    const inner = topology.model_config;
    if (!isRecord(inner)) throw new InputError(where, `expected an object, got ${describeValue(inner)}`);
    topology = inner;
  }
  const className = field(topology, 'class_name', where);
  if (className !== 'Sequential') {
    throw new InputError(
      `${where}.class_name`,
      `expected "Sequential" (a plain stack of LSTM layers and a Dense output), got ${describeValue(className)}`,
    );
  }
  const config = field(topology, 'config', where);
  // Older Keras wrote a Sequential's config as the list of layers itself.
  if (Array.isArray(config)) return { layersPath: `${where}.config`, layers: config };
  if (!isRecord(config)) throw new InputError(`${where}.config`, `expected an object, got ${describeValue(config)}`);
  const layers = field(config, 'layers', `${where}.config`);
  if (!Array.isArray(layers)) {
    throw new InputError(`${where}.config.layers`, `expected a list of layers, got ${describeValue(layers)}`);
  }
  return { layersPath: `${where}.config.layers`, layers };
}

/** Our config and the layers' names and bias use, from the topology's layers. */
function readLayers(layers: unknown[], path: string): { config: ModelConfig; lstm: LstmSpec[]; dense: DenseSpec } {
  let shape: unknown;
  const lstm: LstmSpec[] = [];
  let dense: DenseSpec | null = null;
  layers.forEach((layer, index) => {
    const where = `${path}[${index}]`;
    const { className, name, setting } = layerHead(layer, where);
    if (dense !== null) {
      throw new InputError(
        where,
        `is ${describeValue(className)} after the Dense layer; the Dense output must come last`,
      );
    }
    const inputShape = setting('batch_input_shape') ?? setting('batch_shape');
    if (index === 0 || className === 'InputLayer') {
      if (className === 'InputLayer' && index > 0) {
        throw new InputError(where, 'is an InputLayer after the first layer');
      }
      shape ??= inputShape;
    }
    switch (className) {
      case 'InputLayer':
        return;
      case 'LSTM': {
        // Every LSTM but the last hands its whole sequence on; the last hands on its last step only.
        const last = !layers.slice(index + 1).some((later) => isRecord(later) && later.class_name === 'LSTM');
        lstm.push(readLstm(name, setting, where, last));
        return;
      }
      case 'Dense': {
        const units = intInRange(setting('units'), `${where}.config.units`, 1, LIMITS.outputSize);
        expectSetting(setting, where, 'activation', (v) => v === 'linear', '"linear"');
        dense = { name, units, useBias: useBiasOf(setting, where) };
        return;
      }
      default:
        throw new InputError(
          `${where}.class_name`,
          `${describeValue(className)} (layer ${describeValue(name)}) is not supported: only InputLayer, LSTM and Dense, a plain stack of LSTM layers and a Dense output`,
        );
    }
  });
  if (lstm.length === 0) throw new InputError(path, 'has no LSTM layer');
  if (lstm.length > LIMITS.layers) {
    throw new InputError(path, `has ${lstm.length} LSTM layers; at most ${LIMITS.layers} are supported`);
  }
  if (dense === null) throw new InputError(path, 'has no Dense output layer after the LSTM layers');
  const { window, inputSize } = readInputShape(shape, `${path}[0].config.batch_input_shape`);
  const found = dense as DenseSpec;
  return {
    config: { inputSize, hiddenSizes: lstm.map((l) => l.units), outputSize: found.units, window },
    lstm,
    dense: found,
  };
}

/** A layer's config value by key. */
type LayerSetting = (key: string) => unknown;

/** A layer's class, its name (which must be given) and its config's values. */
function layerHead(layer: unknown, where: string): { className: unknown; name: string; setting: LayerSetting } {
  if (!isRecord(layer)) throw new InputError(where, `expected a layer object, got ${describeValue(layer)}`);
  const config = field(layer, 'config', where);
  if (!isRecord(config)) throw new InputError(`${where}.config`, `expected an object, got ${describeValue(config)}`);
  const setting: LayerSetting = (key) => config[key];
  const name = setting('name');
  if (typeof name !== 'string' || name === '') {
    throw new InputError(`${where}.config.name`, `expected the layer's name, got ${describeValue(name)}`);
  }
  return { className: layer.class_name, name, setting };
}

/** An LSTM layer that computes what ours does (tanh, sigmoid gates, forward in time, no state kept). */
function readLstm(name: string, setting: LayerSetting, where: string, last: boolean): LstmSpec {
  const units = intInRange(setting('units'), `${where}.config.units`, 1, LIMITS.hiddenSize);
  expectSetting(setting, where, 'activation', (v) => v === 'tanh', '"tanh"', false);
  expectSetting(setting, where, 'recurrent_activation', (v) => v === 'sigmoid', '"sigmoid"', false);
  for (const key of ['return_state', 'go_backwards', 'stateful', 'time_major']) {
    expectSetting(setting, where, key, (v) => v === false, 'false');
  }
  const spec = { name, units, useBias: useBiasOf(setting, where) };
  const sequences = setting('return_sequences');
  if (sequences !== !last && !(last && sequences === undefined)) {
    throw new InputError(
      `${where}.config.return_sequences`,
      `expected ${!last} (${last ? 'the last LSTM feeds the Dense layer its last step' : 'an LSTM below another feeds it every step'}), got ${describeValue(sequences)}`,
    );
  }
  return spec;
}

/** Refuses a config value that is not what this project computes (absent is fine where `absentOk`). */
function expectSetting(
  setting: LayerSetting,
  where: string,
  key: string,
  valid: (v: unknown) => boolean,
  wanted: string,
  absentOk = true,
): void {
  const v = setting(key);
  if ((v === undefined || v === null) && absentOk) return;
  if (!valid(v)) {
    throw new InputError(
      `${where}.config.${key}`,
      `expected ${wanted} (what this project computes), got ${describeValue(v)}`,
    );
  }
}

/** Whether the layer adds a bias (Keras's default: yes). */
function useBiasOf(setting: LayerSetting, where: string): boolean {
  const v = setting('use_bias');
  if (v !== undefined && typeof v !== 'boolean') {
    throw new InputError(`${where}.config.use_bias`, `expected true or false, got ${describeValue(v)}`);
  }
  return v !== false;
}

/** The window and inputs of batch_input_shape [null, window, inputs]: the window must be fixed. */
function readInputShape(shape: unknown, shapePath: string): { window: number; inputSize: number } {
  if (!Array.isArray(shape) || shape.length !== 3) {
    throw new InputError(shapePath, `expected [null, window, inputs], got ${describeValue(shape)}`);
  }
  if (shape[1] === null) {
    throw new InputError(
      shapePath,
      'the window (time steps) is not fixed (null); this project trains on windows of one length: set it in the model',
    );
  }
  const window = intInRange(shape[1], `${shapePath}[1]`, 1, LIMITS.window);
  const inputSize = intInRange(shape[2], `${shapePath}[2]`, 1, LIMITS.inputSize);
  return { window, inputSize };
}

/** Every weight in the manifest by name: each group's files joined in order, then cut by the specs. */
function readWeightsManifest(
  value: unknown,
  readWeights: ReadWeights,
  path: string,
): Map<string, { shape: number[]; values: Float32Array }> {
  if (!Array.isArray(value))
    throw new InputError(path, `expected a list of weight groups, got ${describeValue(value)}`);
  const weights = new Map<string, { shape: number[]; values: Float32Array }>();
  value.forEach((group, g) => {
    const where = `${path}[${g}]`;
    if (!isRecord(group))
      throw new InputError(where, `expected an object with paths and weights, got ${describeValue(group)}`);
    const paths = field(group, 'paths', where);
    if (!Array.isArray(paths) || paths.length === 0) {
      throw new InputError(`${where}.paths`, `expected a list of weights files, got ${describeValue(paths)}`);
    }
    const files = paths.map((file, i) => {
      if (typeof file !== 'string' || !isPlainRelativePath(file)) {
        throw new InputError(
          `${where}.paths[${i}]`,
          `expected a file name beside model.json (no folder above it, no absolute path), got ${describeValue(file)}`,
        );
      }
      return readWeights(file);
    });
    const bytes = new Uint8Array(files.reduce((sum, f) => sum + f.length, 0));
    let offset = 0;
    for (const f of files) {
      bytes.set(f, offset);
      offset += f.length;
    }
    const view = new DataView(bytes.buffer);
    const specs = field(group, 'weights', where);
    if (!Array.isArray(specs)) throw new InputError(`${where}.weights`, `expected a list, got ${describeValue(specs)}`);
    let position = 0;
    specs.forEach((spec, s) => {
      const at = `${where}.weights[${s}]`;
      if (!isRecord(spec)) throw new InputError(at, `expected {name, shape, dtype}, got ${describeValue(spec)}`);
      const name = field(spec, 'name', at);
      if (typeof name !== 'string') throw new InputError(`${at}.name`, `expected a name, got ${describeValue(name)}`);
      if (spec.dtype !== 'float32') {
        throw new InputError(`${at}.dtype`, `expected "float32", got ${describeValue(spec.dtype)}`);
      }
      if (Object.hasOwn(spec, 'quantization') && spec.quantization != null) {
        throw new InputError(`${at}.quantization`, 'quantized weights are not read: export float32 weights');
      }
      const shape = field(spec, 'shape', at);
      if (!Array.isArray(shape))
        throw new InputError(`${at}.shape`, `expected a list of sizes, got ${describeValue(shape)}`);
      const dims = shape.map((d, i) => intInRange(d, `${at}.shape[${i}]`, 0, 2 ** 26));
      const count = dims.reduce((product, d) => product * d, 1);
      if (position + count * 4 > bytes.length) {
        throw new InputError(
          `${where}.paths`,
          `${paths.join(', ')} hold ${bytes.length} bytes, fewer than the ${(position + count * 4).toLocaleString('en')} the manifest describes up to ${name}`,
        );
      }
      const values = new Float32Array(count);
      for (let i = 0; i < count; i++) values[i] = view.getFloat32(position + i * 4, true);
      position += count * 4;
      if (weights.has(name)) throw new InputError(`${at}.name`, `${describeValue(name)} appears twice in the manifest`);
      weights.set(name, { shape: dims, values });
    });
    if (position !== bytes.length) {
      throw new InputError(
        `${where}.paths`,
        `${paths.join(', ')} hold ${bytes.length} bytes, but the manifest describes ${position}`,
      );
    }
  });
  return weights;
}

/** Forward slashes only, no empty, "." or ".." segment, not absolute: a file in or below model.json's folder. */
function isPlainRelativePath(path: string): boolean {
  if (path === '' || path.startsWith('/') || path.includes('\\') || /^[a-zA-Z]:/.test(path)) return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

function readMetadata(modelJson: Record<string, unknown>, path: string): Record<string, unknown> | null {
  if (!Object.hasOwn(modelJson, 'userDefinedMetadata')) return null;
  const all = modelJson.userDefinedMetadata;
  if (!isRecord(all)) throw new InputError(path, `expected an object, got ${describeValue(all)}`);
  if (!Object.hasOwn(all, TFJS_METADATA_KEY)) return null;
  const ours = all[TFJS_METADATA_KEY];
  if (!isRecord(ours))
    throw new InputError(`${path}["${TFJS_METADATA_KEY}"]`, `expected an object, got ${describeValue(ours)}`);
  return ours;
}
