// The model file (a contract other tools read and write):
//   {"format":"webgpu-lstm/model","version":2,
//    "config":{"inputSize","hiddenSizes","outputSize","window"},
//    "lstm":[{"w":[4][I][H],"v":[4][H][H],"b":[4][H]}...],
//    "dense":{"w":[H_last][O],"b":[O]}}
// plus optional normalisation, data, optimizer, and (version 2) settings and training (savedSetup.ts).
// Converts between that nested layout and the flat parameter layout (see layout.ts). Version 1 files
// load as they are. Unknown fields are ignored; every known one is checked and a failure names it.

import { type Normalization, readNormalization } from '../data/normalize.js';
import { describeValue, InputError } from '../model/errors.js';
import { GATES, type ModelConfig, type ParamLayout, paramLayout } from '../model/layout.js';
import { type LossName, type OptimizerSettings, type OptimizerState, readOptimizerState } from '../model/optimizer.js';
import {
  allocateFloat32,
  checkFloat32Tree,
  checkParameterBudget,
  checkShape,
  field,
  isRecord,
  readConfig,
  readTensor,
} from '../model/validate.js';
import { readOptimizerSettings, type SettingValues } from '../settings/training.js';
import {
  readDataExtras,
  readSavedSettings,
  readSavedTraining,
  type SavedDataExtras,
  type SavedTraining,
} from './savedSetup.js';

export const MODEL_FORMAT = 'webgpu-lstm/model';
/** The version written; every version up to it is read. */
export const MODEL_VERSION = 2;

export interface Model {
  config: ModelConfig;
  layout: ParamLayout;
  params: Float32Array;
  /** Optional: how the data was scaled (forecasts are mapped back to original units with it). */
  normalization?: Normalization;
  /** Optional: where the data came from and which columns are inputs and outputs. */
  data?: SavedDataSettings;
  /** Optional: the optimizer, its settings and its state, to go on training where it stopped. */
  optimizer?: SavedOptimizer;
  /** Optional (version 2): every setting of the settings table the model was trained with. */
  settings?: Partial<SettingValues>;
  /** Optional (version 2): the epoch of the weights, the errors so far and the generator. */
  training?: SavedTraining;
}

export interface SavedOptimizer extends OptimizerState {
  settings: OptimizerSettings;
  loss: LossName;
}

/** The data settings a model was trained with (optional field `data` of the model file). */
export interface SavedDataSettings extends Partial<SavedDataExtras> {
  /** A description of the source, e.g. "sine series", "bundled stocks", "prices.csv". */
  source: string;
  inputs: string[];
  outputs: string[];
  trainFraction: number;
}

export interface NestedLayer {
  w: number[][][];
  v: number[][][];
  b: number[][];
}

export interface NestedParams {
  lstm: NestedLayer[];
  dense: { w: number[][]; b: number[] };
}

export interface ModelFile extends NestedParams {
  format: typeof MODEL_FORMAT;
  version: typeof MODEL_VERSION;
  config: ModelConfig;
  /** Model.normalization (the file's field keeps the name it has always had). */
  normalisation?: Normalization;
  data?: SavedDataSettings;
  optimizer?: { name: string; step: number; slots: number[]; settings: OptimizerSettings; loss: LossName };
  settings?: Partial<SettingValues>;
  training?: SavedTraining;
}

/** Flat parameters (or gradients) in the file's nested layout. */
export function toNested(layout: ParamLayout, flat: Float32Array | Float64Array): NestedParams {
  const lstm = layout.layers.map((layer) => {
    const { inputSize: I, hiddenSize: H, w, v, b } = layer;
    const row = GATES * H;
    const gateMatrix = (base: number, rows: number, g: number) =>
      Array.from({ length: rows }, (_, k) => Array.from({ length: H }, (_, j) => flat[base + k * row + g * H + j]));
    return {
      w: Array.from({ length: GATES }, (_, g) => gateMatrix(w, I, g)),
      v: Array.from({ length: GATES }, (_, g) => gateMatrix(v, H, g)),
      b: Array.from({ length: GATES }, (_, g) => Array.from({ length: H }, (_, j) => flat[b + g * H + j])),
    };
  });
  const { dense } = layout;
  return {
    lstm,
    dense: {
      w: Array.from({ length: dense.inputSize }, (_, k) =>
        Array.from({ length: dense.outputSize }, (_, o) => flat[dense.w + k * dense.outputSize + o]),
      ),
      b: Array.from({ length: dense.outputSize }, (_, o) => flat[dense.b + o]),
    },
  };
}

/**
 * Reads nested parameters (the file's layout) into a flat array; `path` prefixes error fields. Every
 * tensor's shape is checked before the array is allocated, so a small file that claims a large model
 * is refused without the memory being asked for.
 */
export function fromNested(layout: ParamLayout, value: Record<string, unknown>, path = ''): Float32Array {
  const at = (key: string) => (path ? `${path}.${key}` : key);
  // Each tensor: its value, shape, field, and where its row-major position p lands in the flat array.
  const tensors: { value: unknown; shape: number[]; path: string; flatIndex: (p: number) => number }[] = [];
  const lstm = field(value, 'lstm', path);
  if (!Array.isArray(lstm) || lstm.length !== layout.layers.length) {
    throw new InputError(
      at('lstm'),
      `expected ${layout.layers.length} layer(s) to match config.hiddenSizes, got ${describeValue(lstm)}`,
    );
  }
  layout.layers.forEach((layer, l) => {
    const where = `${at('lstm')}[${l}]`;
    const node: unknown = lstm[l];
    if (!isRecord(node)) throw new InputError(where, `expected an object with w, v, b, got ${describeValue(node)}`);
    const { inputSize: I, hiddenSize: H } = layer;
    const row = GATES * H;
    // [4][rows][H] row-major position p -> flat position base + k*4H + g*H + j
    const gateIndex = (base: number, rows: number) => (p: number) => {
      const g = Math.floor(p / (rows * H));
      const k = Math.floor(p / H) % rows;
      const j = p % H;
      return base + k * row + g * H + j;
    };
    tensors.push(
      { value: field(node, 'w', where), shape: [GATES, I, H], path: `${where}.w`, flatIndex: gateIndex(layer.w, I) },
      { value: field(node, 'v', where), shape: [GATES, H, H], path: `${where}.v`, flatIndex: gateIndex(layer.v, H) },
      { value: field(node, 'b', where), shape: [GATES, H], path: `${where}.b`, flatIndex: (p) => layer.b + p },
    );
  });
  const dense = field(value, 'dense', path);
  if (!isRecord(dense)) throw new InputError(at('dense'), `expected an object with w, b, got ${describeValue(dense)}`);
  const d = layout.dense;
  tensors.push(
    {
      value: field(dense, 'w', at('dense')),
      shape: [d.inputSize, d.outputSize],
      path: `${at('dense')}.w`,
      flatIndex: (p) => d.w + p,
    },
    {
      value: field(dense, 'b', at('dense')),
      shape: [d.outputSize],
      path: `${at('dense')}.b`,
      flatIndex: (p) => d.b + p,
    },
  );
  for (const tensor of tensors) checkShape(tensor.value, tensor.shape, tensor.path);
  const flat = allocateFloat32(layout.size, 'config.hiddenSizes');
  for (const { value: nested, shape, path: where, flatIndex } of tensors) {
    readTensor(nested, shape, where, (p, x) => {
      flat[flatIndex(p)] = x;
    });
  }
  return flat;
}

/**
 * The model as the file holds it. Refuses (InputError naming the field) a model with a number that is
 * not finite in float32: JSON would write it as null, and no reader could load the file.
 */
export function toModelFile(model: Model): ModelFile {
  const file: ModelFile = {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    config: {
      inputSize: model.config.inputSize,
      hiddenSizes: [...model.config.hiddenSizes],
      outputSize: model.config.outputSize,
      window: model.config.window,
    },
    ...toNested(model.layout, model.params),
    ...(model.normalization ? { normalisation: model.normalization } : {}),
    ...(model.data ? { data: model.data } : {}),
    ...(model.optimizer
      ? {
          optimizer: {
            name: model.optimizer.name,
            step: model.optimizer.step,
            slots: Array.from(model.optimizer.slots),
            settings: model.optimizer.settings,
            loss: model.optimizer.loss,
          },
        }
      : {}),
    ...(model.settings ? { settings: model.settings } : {}),
    ...(model.training ? { training: model.training } : {}),
  };
  checkFloat32Tree(file, '', 'a model file cannot hold it, so the model is not saved');
  return file;
}

/** Validates a parsed model file; throws InputError naming the first field that is wrong. */
export function readModelFile(value: unknown): Model {
  if (!isRecord(value)) throw new InputError('model', `expected a JSON object, got ${describeValue(value)}`);
  const format = field(value, 'format', '');
  if (format !== MODEL_FORMAT) {
    throw new InputError('format', `expected "${MODEL_FORMAT}", got ${describeValue(format)}`);
  }
  const version = field(value, 'version', '');
  if (version !== 1 && version !== MODEL_VERSION) {
    throw new InputError(
      'version',
      `expected 1 or ${MODEL_VERSION} (the versions this build reads), got ${describeValue(version)}`,
    );
  }
  const config = readConfig(field(value, 'config', ''));
  const layout = paramLayout(config);
  checkParameterBudget(layout.size, 'config.hiddenSizes');
  const model: Model = { config, layout, params: fromNested(layout, value) };
  if (Object.hasOwn(value, 'normalisation')) model.normalization = readNormalization(value.normalisation);
  if (Object.hasOwn(value, 'data')) model.data = readDataSettings(value.data, config);
  if (Object.hasOwn(value, 'optimizer')) model.optimizer = readSavedOptimizer(value.optimizer, layout.size);
  if (Object.hasOwn(value, 'settings')) model.settings = readSavedSettings(value.settings);
  if (Object.hasOwn(value, 'training')) model.training = readSavedTraining(value.training);
  return model;
}

function readSavedOptimizer(value: unknown, paramCount: number): SavedOptimizer {
  const state = readOptimizerState(value, paramCount);
  const record = value as Record<string, unknown>;
  const settings = field(record, 'settings', 'optimizer');
  if (!isRecord(settings))
    throw new InputError('optimizer.settings', `expected an object, got ${describeValue(settings)}`);
  const loss = Object.hasOwn(record, 'loss') ? record.loss : 'sse';
  if (loss !== 'sse' && loss !== 'mse')
    throw new InputError('optimizer.loss', `expected "sse" or "mse", got ${describeValue(loss)}`);
  return {
    ...state,
    loss,
    // The settings' own bounds, so a file cannot carry what the trainer refuses (beta1 = 1, epsilon = 0).
    settings: { name: state.name, ...readOptimizerSettings(settings, 'optimizer.settings') },
  };
}

function readDataSettings(value: unknown, config: ModelConfig): SavedDataSettings {
  if (!isRecord(value)) throw new InputError('data', `expected an object, got ${describeValue(value)}`);
  const strings = (key: string, count: number): string[] => {
    const list = field(value, key, 'data');
    if (!Array.isArray(list) || list.length !== count || !list.every((item) => typeof item === 'string')) {
      throw new InputError(`data.${key}`, `expected ${count} column name(s), got ${describeValue(list)}`);
    }
    return list as string[];
  };
  const source = field(value, 'source', 'data');
  if (typeof source !== 'string') throw new InputError('data.source', `expected text, got ${describeValue(source)}`);
  const trainFraction = field(value, 'trainFraction', 'data');
  if (typeof trainFraction !== 'number' || !(trainFraction > 0 && trainFraction <= 1)) {
    throw new InputError('data.trainFraction', `expected a number in (0, 1], got ${describeValue(trainFraction)}`);
  }
  return {
    source: source.slice(0, 200),
    inputs: strings('inputs', config.inputSize),
    outputs: strings('outputs', config.outputSize),
    trainFraction,
    ...readDataExtras(value),
  };
}

/** Parses JSON text; a syntax error becomes an InputError naming the source. */
export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(source, `is not valid JSON (${(err as Error).message})`);
  }
}
