// The model file (a contract other tools read and write), version 3:
//   {"format":"webgpu-lstm/model","version":3,
//    "config":{"inputSize","hiddenSizes","outputSize","window"},
//    "weights":{"dtype":"float32","byteOrder":"little","encoding":"base64","count":P,"data":"…"},
//    "members":[{"seed","weights",…}…]?}
// the weights flat in the layout of layout.ts, plus optional normalisation, data, optimizer (its
// slots encoded like the weights), settings and training (savedSetup.ts). Versions 1 and 2 hold the
// weights nested (`lstm`: [{w:[4][I][H], v:[4][H][H], b:[4][H]}…], `dense`: {w:[H_last][O], b:[O]})
// and still load. Unknown fields are ignored; every known one is checked and a failure names it.
//
// One validation serves reading and writing: the writer builds the file's tree and reads it back
// with readModelFile before a byte is written, so a file the project writes always loads, and a model
// a file loads into can always be written again. Files are written a chunk at a time
// (modelFileChunks: the JSON around base64 chunks of the weights), so no string holds the file.

import { parseJsonBytes, parseJsonText } from '../data/jsonFile.js';
import { type Normalization, readNormalization } from '../data/normalize.js';
import { describeValue, InputError } from '../model/errors.js';
import { base64Length, decodeFloat32Base64, encodeFloat32Base64, float32Base64 } from '../model/floatCodec.js';
import { GATES, type ModelConfig, type ParamLayout, paramLayout } from '../model/layout.js';
import {
  type LossName,
  OPTIMIZERS,
  type OptimizerName,
  type OptimizerSettings,
  type OptimizerState,
  readOptimizerState,
  stateArrays,
} from '../model/optimizer.js';
import {
  allocateFloat32,
  checkParameterBudget,
  checkShape,
  field,
  float32Number,
  intInRange,
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
export const MODEL_VERSION = 3;
/**
 * Largest model file read or written: 512 MiB, twice the largest the app can train (2^24 parameters
 * with Adam's two state arrays take 268 MB), and what V8 can still hold as one string of JSON text.
 */
export const MAX_MODEL_FILE_BYTES = 512 * 2 ** 20;
/** Most members a file's ensemble may hold. */
export const MAX_MEMBERS = 4096;

/** One member of an ensemble: its own seed, weights and (optionally) optimizer and training. */
export interface ModelMember {
  seed: number;
  params: Float32Array;
  optimizer?: SavedOptimizer;
  training?: SavedTraining;
}

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
  /**
   * Optional (version 3): an ensemble of 2 to MAX_MEMBERS members of this config, normalization, data
   * and settings; member 0 first, its params, optimizer and training those of the top level.
   */
  members?: ModelMember[];
}

/** Every member's weights: an ensemble's (member 0 first), or the one model's. (K) */
export function memberParams(model: Model): Float32Array[] {
  return model.members?.map((member) => member.params) ?? [model.params];
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
  /** Inputs whose future values are read, not predicted, in a multi-step forecast (absent: none). */
  knownAhead?: string[];
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

/** A float32 array as version 3 holds it: `data` is base64 in a file (a Float32Array while being written). */
export interface EncodedFloats<Data = string> {
  dtype: 'float32';
  byteOrder: 'little';
  encoding: 'base64';
  count: number;
  data: Data;
}

interface FileOptimizer<Slots> {
  name: string;
  step: number;
  slots: Slots;
  settings: OptimizerSettings;
  loss: LossName;
}

interface FileMember<Data> {
  seed: number;
  weights: EncodedFloats<Data>;
  optimizer?: FileOptimizer<EncodedFloats<Data>>;
  training?: SavedTraining;
}

interface FileCommon {
  format: typeof MODEL_FORMAT;
  config: ModelConfig;
  /** Model.normalization (the file's field keeps the name it has always had). */
  normalisation?: Normalization;
  data?: SavedDataSettings;
  settings?: Partial<SettingValues>;
  training?: SavedTraining;
}

/** Version 3 as written; `Data` is string in a file, Float32Array in the tree being written. */
export interface ModelFile<Data = string> extends FileCommon {
  version: 3;
  weights: EncodedFloats<Data>;
  optimizer?: FileOptimizer<EncodedFloats<Data>>;
  members?: FileMember<Data>[];
}

/** Version 2 (and 1, without settings and training): the weights nested, the slots a list of numbers. */
export interface NestedModelFile extends FileCommon, NestedParams {
  version: 1 | 2;
  optimizer?: FileOptimizer<number[]>;
}

/** Flat parameters (or gradients) in the version-2 file's nested layout. */
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
 * Reads nested parameters (the version-2 layout) into a flat array; `path` prefixes error fields. Every
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

/** Where flat position `p` of the layout sits in the nested layout: `lstm[0].w[1][0][3]`, `dense.b[0]`. */
export function nestedName(layout: ParamLayout, p: number): string {
  for (const [l, { hiddenSize: H, w, v, b }] of layout.layers.entries()) {
    const row = GATES * H;
    const gateName = (tensor: string, base: number) => {
      const k = Math.floor((p - base) / row);
      const g = Math.floor(((p - base) % row) / H);
      return `lstm[${l}].${tensor}[${g}][${k}][${(p - base) % H}]`;
    };
    if (p < v) return gateName('w', w);
    if (p < b) return gateName('v', v);
    if (p < b + row) return `lstm[${l}].b[${Math.floor((p - b) / H)}][${(p - b) % H}]`;
  }
  const { dense } = layout;
  if (p < dense.b)
    return `dense.w[${Math.floor((p - dense.w) / dense.outputSize)}][${(p - dense.w) % dense.outputSize}]`;
  return `dense.b[${p - dense.b}]`;
}

// ---- Reading ----

/** Resolves a cut-out string of the file (src/data/jsonFile.ts) to its bytes. */
type BlobLookup = (value: unknown) => Uint8Array | undefined;

/**
 * Reads a model file from its bytes, JSON bounded as jsonFile.ts says and the base64 data read as
 * bytes; errors name `source` (the option and path, the file's name) or the field.
 */
export function readModelBytes(bytes: Uint8Array, source: string): Model {
  if (bytes.length > MAX_MODEL_FILE_BYTES) {
    throw new InputError(
      source,
      `is ${mib(bytes.length)}; model files up to ${MAX_MODEL_FILE_BYTES / 2 ** 20} MiB can be read`,
    );
  }
  const document = parseJsonBytes(bytes, source, ['data']);
  return readModelFile(document.value, document.blob);
}

/** Validates a parsed model file; throws InputError naming the first field that is wrong. */
export function readModelFile(value: unknown, blob: BlobLookup = () => undefined): Model {
  if (!isRecord(value)) throw new InputError('model', `expected a JSON object, got ${describeValue(value)}`);
  const format = field(value, 'format', '');
  if (format !== MODEL_FORMAT) {
    throw new InputError('format', `expected "${MODEL_FORMAT}", got ${describeValue(format)}`);
  }
  const version = field(value, 'version', '');
  if (version !== 1 && version !== 2 && version !== 3) {
    throw new InputError(
      'version',
      `expected 1, 2 or ${MODEL_VERSION} (the versions this build reads), got ${describeValue(version)}`,
    );
  }
  const config = readConfig(field(value, 'config', ''));
  const layout = paramLayout(config);
  checkParameterBudget(layout.size, 'config.hiddenSizes');
  const params =
    version === 3 ? readWeights(field(value, 'weights', ''), layout, 'weights', blob) : fromNested(layout, value);
  const model: Model = { config, layout, params };
  if (Object.hasOwn(value, 'normalisation')) model.normalization = readNormalization(value.normalisation);
  if (Object.hasOwn(value, 'data')) model.data = readDataSettings(value.data, config);
  if (Object.hasOwn(value, 'optimizer')) {
    model.optimizer = readSavedOptimizer(value.optimizer, layout.size, 'optimizer', version === 3 ? blob : null);
  }
  if (Object.hasOwn(value, 'settings')) model.settings = readSavedSettings(value.settings);
  if (Object.hasOwn(value, 'training')) model.training = readSavedTraining(value.training);
  if (version === 3 && Object.hasOwn(value, 'members')) model.members = readMembers(value.members, model, blob);
  return model;
}

/** The version-3 encoding object of `count` float32 values, decoded (not yet checked for finiteness). */
function readEncodedFloats(value: unknown, count: number, path: string, blob: BlobLookup): Float32Array {
  if (!isRecord(value)) {
    throw new InputError(path, `expected {dtype, byteOrder, encoding, count, data}, got ${describeValue(value)}`);
  }
  const expect = (key: string, wanted: string) => {
    const got = field(value, key, path);
    if (got !== wanted) throw new InputError(`${path}.${key}`, `expected "${wanted}", got ${describeValue(got)}`);
  };
  expect('dtype', 'float32');
  expect('byteOrder', 'little');
  expect('encoding', 'base64');
  const given = field(value, 'count', path);
  if (given !== count) {
    throw new InputError(
      `${path}.count`,
      `expected ${count} (what the config and optimizer make), got ${describeValue(given)}`,
    );
  }
  const data = field(value, 'data', path);
  // The writer's own tree holds the values themselves (it is checked by this reader before it is written).
  if (data instanceof Float32Array) {
    if (data.length !== count) throw new InputError(`${path}.data`, `expected ${count} values, got ${data.length}`);
    return data;
  }
  const bytes = blob(data);
  if (bytes !== undefined) return decodeFloat32Base64(bytes, count, `${path}.data`);
  if (typeof data !== 'string') {
    throw new InputError(`${path}.data`, `expected base64 text, got ${describeValue(data)}`);
  }
  return decodeFloat32Base64(data, count, `${path}.data`);
}

/** A version-3 `weights` (or a member's): P values, each finite, named in the nested layout when not. */
function readWeights(value: unknown, layout: ParamLayout, path: string, blob: BlobLookup): Float32Array {
  const params = readEncodedFloats(value, layout.size, path, blob);
  const bad = params.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) float32Number(params[bad], `${path}.${nestedName(layout, bad)}`);
  return params;
}

function readSavedOptimizer(value: unknown, paramCount: number, path: string, blob: BlobLookup | null): SavedOptimizer {
  if (!isRecord(value)) throw new InputError(path, `expected an object, got ${describeValue(value)}`);
  let record = value;
  if (blob !== null) {
    // Version 3: the slots are encoded like the weights; how many follows from the optimizer's name.
    const name = value.name;
    const known = typeof name === 'string' && (OPTIMIZERS as readonly string[]).includes(name);
    const count = known ? stateArrays(name as OptimizerName) * paramCount : 0;
    if (known)
      record = { ...value, slots: readEncodedFloats(field(value, 'slots', path), count, `${path}.slots`, blob) };
  }
  const state = readOptimizerState(record, paramCount, path);
  const settings = field(record, 'settings', path);
  if (!isRecord(settings))
    throw new InputError(`${path}.settings`, `expected an object, got ${describeValue(settings)}`);
  const loss = Object.hasOwn(record, 'loss') ? record.loss : 'sse';
  if (loss !== 'sse' && loss !== 'mse') {
    throw new InputError(`${path}.loss`, `expected "sse" or "mse", got ${describeValue(loss)}`);
  }
  return {
    ...state,
    loss,
    // The settings' own bounds, so a file cannot carry what the trainer refuses (beta1 = 1, epsilon = 0).
    settings: { name: state.name, ...readOptimizerSettings(settings, `${path}.settings`) },
  };
}

function readMembers(value: unknown, model: Model, blob: BlobLookup): ModelMember[] {
  if (!Array.isArray(value) || value.length < 2 || value.length > MAX_MEMBERS) {
    throw new InputError('members', `expected a list of 2 to ${MAX_MEMBERS} members, got ${describeValue(value)}`);
  }
  const members = value.map((item, k): ModelMember => {
    const path = `members[${k}]`;
    if (!isRecord(item)) throw new InputError(path, `expected {seed, weights}, got ${describeValue(item)}`);
    const member: ModelMember = {
      seed: intInRange(field(item, 'seed', path), `${path}.seed`, 0, 0xffffffff),
      params: readWeights(field(item, 'weights', path), model.layout, `${path}.weights`, blob),
    };
    if (Object.hasOwn(item, 'optimizer')) {
      member.optimizer = readSavedOptimizer(item.optimizer, model.layout.size, `${path}.optimizer`, blob);
    }
    if (Object.hasOwn(item, 'training')) member.training = readSavedTraining(item.training, `${path}.training`);
    return member;
  });
  // Member 0 is the top level, so that a reader that ignores `members` gets a model of the ensemble.
  const first = members[0];
  const same: [keyof ModelMember & keyof Model, string][] = [
    ['params', 'weights'],
    ['optimizer', 'optimizer'],
    ['training', 'training'],
  ];
  for (const [key, name] of same) {
    if (!sameValue(first[key], model[key])) {
      throw new InputError(
        `members[0].${name}`,
        `expected the top level's ${name} (member 0 is the model a reader without members gets)`,
      );
    }
  }
  return members;
}

/** Deep equality of what the reader returns: typed arrays by their bits, objects and lists by their entries. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Float32Array && b instanceof Float32Array) {
    if (a.length !== b.length) return false;
    const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
    const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameValue(a[k], b[k]));
  }
  return Object.is(a, b);
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
  const inputs = strings('inputs', config.inputSize);
  const outputs = strings('outputs', config.outputSize);
  return {
    source: source.slice(0, 200),
    inputs,
    outputs,
    trainFraction,
    ...readDataExtras(value),
    ...(Object.hasOwn(value, 'knownAhead') ? { knownAhead: readKnownAhead(value.knownAhead, inputs, outputs) } : {}),
  };
}

/** `data.knownAhead`: inputs, none an output, each once. */
function readKnownAhead(value: unknown, inputs: string[], outputs: string[]): string[] {
  if (!Array.isArray(value) || value.length > inputs.length) {
    throw new InputError(
      'data.knownAhead',
      `expected a list of at most ${inputs.length} input names, got ${describeValue(value)}`,
    );
  }
  value.forEach((name, i) => {
    if (typeof name !== 'string' || !inputs.includes(name) || outputs.includes(name) || value.indexOf(name) !== i) {
      throw new InputError(
        `data.knownAhead[${i}]`,
        `expected an input that is no output, named once (inputs: ${inputs.map((n) => JSON.stringify(n)).join(', ')}), got ${describeValue(name)}`,
      );
    }
  });
  return value as string[];
}

/** Parses JSON text within the bounds of src/data/jsonFile.ts; errors name `source`. */
export function parseJson(text: string, source: string): unknown {
  return parseJsonText(text, source);
}

// ---- Writing ----

/** What a writer appends to the reader's message when the model cannot be saved. */
const NOT_SAVED = 'a model file cannot hold it, so the model is not saved';

function encoded(values: Float32Array): EncodedFloats<Float32Array> {
  return { dtype: 'float32', byteOrder: 'little', encoding: 'base64', count: values.length, data: values };
}

function fileOptimizer<Slots>(optimizer: SavedOptimizer, slots: (values: Float32Array) => Slots): FileOptimizer<Slots> {
  return {
    name: optimizer.name,
    step: optimizer.step,
    slots: slots(optimizer.slots),
    settings: optimizer.settings,
    loss: optimizer.loss,
  };
}

function commonFields(model: Model): Omit<FileCommon, 'format' | 'config'> {
  return {
    ...(model.normalization ? { normalisation: model.normalization } : {}),
    ...(model.data ? { data: model.data } : {}),
    ...(model.settings ? { settings: model.settings } : {}),
    ...(model.training ? { training: model.training } : {}),
  };
}

function configOf(model: Model): ModelConfig {
  const { inputSize, hiddenSizes, outputSize, window } = model.config;
  return { inputSize, hiddenSizes: [...hiddenSizes], outputSize, window };
}

/** The version-3 tree of `model`, its arrays as they are, checked by readModelFile (the writer's one validation). */
function checkedTree(model: Model): ModelFile<Float32Array> {
  const tree: ModelFile<Float32Array> = {
    format: MODEL_FORMAT,
    version: 3,
    config: configOf(model),
    weights: encoded(model.params),
    ...commonFields(model),
    ...(model.optimizer ? { optimizer: fileOptimizer(model.optimizer, encoded) } : {}),
    ...(model.members
      ? {
          members: model.members.map((member) => ({
            seed: member.seed,
            weights: encoded(member.params),
            ...(member.optimizer ? { optimizer: fileOptimizer(member.optimizer, encoded) } : {}),
            ...(member.training ? { training: member.training } : {}),
          })),
        }
      : {}),
  };
  checkReadable(tree);
  return tree;
}

function checkReadable(tree: unknown): void {
  try {
    readModelFile(tree);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    throw new InputError(err.field, `${err.message.slice(err.field.length + 2)}; ${NOT_SAVED}`);
  }
}

/** Refuses (InputError naming the field) a model whose file readModelFile would refuse. */
export function checkModelFile(model: Model): void {
  checkedTree(model);
}

/**
 * The model as a version-3 file's parsed JSON (its arrays as base64 strings), or as version 2 (the
 * weights nested, no members): for small models and tools; files are written with modelFileChunks.
 * Refuses (InputError naming the field) what readModelFile would refuse.
 */
export function toModelFile(model: Model): ModelFile;
export function toModelFile(model: Model, version: 2): NestedModelFile;
export function toModelFile(model: Model, version: 2 | 3 = 3): ModelFile | NestedModelFile {
  if (version === 3) {
    const tree = checkedTree(model);
    return JSON.parse(JSON.stringify(tree, (_, v) => (v instanceof Float32Array ? float32Base64(v) : v)));
  }
  if (model.members) throw new InputError('members', 'an ensemble needs version 3; version 2 holds one model');
  const file: NestedModelFile = {
    format: MODEL_FORMAT,
    version: 2,
    config: configOf(model),
    ...toNested(model.layout, model.params),
    ...commonFields(model),
    ...(model.optimizer ? { optimizer: fileOptimizer(model.optimizer, (slots) => Array.from(slots)) } : {}),
  };
  checkReadable(file);
  return file;
}

/** The file `model` makes: its exact size in bytes, and its bytes a chunk at a time (JSON, then base64…). */
export interface ModelFileBytes {
  size: number;
  chunks(): Generator<Uint8Array>;
}

/**
 * The version-3 file of `model`, checked as readModelFile checks a file, and refused when larger than
 * MAX_MODEL_FILE_BYTES (it could not be read back). The JSON around the arrays is one small string; each
 * array is written as base64 a chunk at a time.
 */
export function modelFileBytes(model: Model, field = 'model'): ModelFileBytes {
  const tree = checkedTree(model);
  const arrays: Float32Array[] = [];
  const json = `${JSON.stringify(tree, (_, v) => {
    if (!(v instanceof Float32Array)) return v;
    arrays.push(v);
    return ARRAY_MARKER;
  })}\n`;
  const text = json.split(`"${JSON.stringify(ARRAY_MARKER).slice(1, -1)}"`);
  // A name holding the marker itself would shift the arrays: refused rather than written wrong.
  if (text.length !== arrays.length + 1)
    throw new InputError(field, `a name holds the text ${JSON.stringify(ARRAY_MARKER)}; ${NOT_SAVED}`);
  const pieces = text.map((piece) => new TextEncoder().encode(piece));
  const size =
    pieces.reduce((sum, piece) => sum + piece.length, 0) +
    arrays.reduce((sum, values) => sum + 2 + base64Length(values.byteLength), 0);
  if (size > MAX_MODEL_FILE_BYTES) throw new InputError(field, tooLargeToSave(`would be ${mib(size)}`));
  return {
    size,
    *chunks() {
      const quote = new Uint8Array([0x22]);
      for (const [k, piece] of pieces.entries()) {
        yield piece;
        if (k < arrays.length) {
          yield quote;
          yield* encodeFloat32Base64(arrays[k]);
          yield quote;
        }
      }
    },
  };
}

/** Stands for an array in the JSON before its base64 takes its place (JSON escapes the NUL). */
const ARRAY_MARKER = '\u0000float32';

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function tooLargeToSave(size: string): string {
  return `the model file ${size}; at most ${MAX_MODEL_FILE_BYTES / 2 ** 20} MiB can be read back, so it is not saved: use fewer hidden units, an optimizer with less state (sgd keeps none, momentum one copy of the weights, adam two), or fewer members`;
}

/** What a model file will hold, known before training: what bounds its size. */
export interface SavedShape {
  parameters: number;
  /** Members of an ensemble (1: a single model). */
  members?: number;
  /** The optimizer whose state is saved, or null for none. */
  optimizer: OptimizerName | null;
  /** The epochs the history will hold (a loaded model's and this run's). */
  epochs: number;
  /** Characters of the column names and the data's name (each is written a few times). */
  names?: number;
}

/**
 * An upper bound on the bytes of the file a model of `shape` makes: each array's base64 and its
 * encoding object, a history entry of at most 80 bytes an epoch (a loss and an {epoch, loss}), the
 * names four times over (inputs, outputs, normalisation, settings), and 1 MiB for the rest.
 */
export function modelFileBound(shape: SavedShape): number {
  const members = shape.members ?? 1;
  // An ensemble repeats member 0 at the top level.
  const copies = members === 1 ? 1 : members + 1;
  const arrays = copies * (1 + (shape.optimizer === null ? 0 : stateArrays(shape.optimizer)));
  return (
    arrays * (base64Length(4 * shape.parameters) + 128) + copies * shape.epochs * 80 + 4 * (shape.names ?? 0) + 2 ** 20
  );
}

/** Refuses, before training, a model whose file could not be read back (naming `field`, the limit and the way out). */
export function checkModelFileSize(shape: SavedShape, field: string): void {
  const problem = modelFileProblem(shape);
  if (problem !== null) throw new InputError(field, problem);
}

/** Why a model of `shape` could not be saved and read back (the limit and the way out), or null when it can. */
export function modelFileProblem(shape: SavedShape): string | null {
  const bound = modelFileBound(shape);
  if (bound <= MAX_MODEL_FILE_BYTES) return null;
  const members = shape.members !== undefined && shape.members > 1 ? ` × ${shape.members} members` : '';
  return tooLargeToSave(
    `of ${shape.parameters.toLocaleString('en')} parameters${members} with ${shape.optimizer ?? 'no optimizer'}'s state would be up to ${mib(bound)}`,
  );
}
