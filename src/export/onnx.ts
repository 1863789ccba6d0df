// The whole predictor as one ONNX graph (opset 17, IR version 8), written by our own protobuf writer:
//
//   input (B, T, I)  ─Sub offset, Div scale─▶  normalized  ─Transpose─▶  (T, B, I)
//   ─LSTM─▶ Y (T, 1, B, H1) ─Squeeze─▶ (T, B, H1) ─LSTM─▶ …   the last layer's Y_h (1, B, H) ─Squeeze─▶ (B, H)
//   ─MatMul Wd, Add bd─▶ (B, O)  ─Mul scale, Add offset─▶  transformed (B, O), in the data's units
//   levels:                      output = transformed
//   differences, seasonal:       output = reference + transformed
//   log-returns:                 output = reference · exp(transformed)
//
// Legend: B = batch (free, "batch"), T = window, I = inputSize, H = hidden size, O = outputSize.
// The graph's input "input" holds the window the model reads, in the data's units: the columns'
// values for a model of levels, their transformed values (src/data/transform.ts) for any other. A
// transformed model has a second input "reference" (B, O): each output column's level the transform
// looks back to (the window's last row for differences and log returns, the row `season` rows before
// the predicted one for seasonal differences), which no window of transformed values holds; its
// outputs are "output" (levels) and "transformed" (what a free-running forecast feeds back).
// A model of levels has one input and one output, "output".
// An ensemble (a model file with members) holds every member's network after the one Transpose, each
// with its own initializers (member_<m>_lstm_0_W, …) up to its member_<m>_output (and
// member_<m>_transformed), the output scale and offset shared; "output" is the Mean of the members'
// outputs in levels, as `predict` forecasts ("transformed", the Mean of theirs).
//
// Each LSTM node has the operator's defaults (forward, activations Sigmoid, Tanh, Tanh, no peepholes,
// no clip), which are our cell's (src/backends/cpu/lstm.ts); weights are reordered to its gate order
// i, o, f, c with W (1, 4H, I), R (1, 4H, H) and B (1, 8H) = [Wb, Rb], our bias in Wb, zeros in Rb.
//
// Field numbers are onnx.proto3's: ModelProto ir_version 1, producer_name 2, producer_version 3,
// doc_string 6, graph 7, opset_import 8, metadata_props 14; OperatorSetIdProto domain 1, version 2;
// GraphProto node 1, name 2, initializer 5, doc_string 10, input 11, output 12; NodeProto input 1,
// output 2, name 3, op_type 4, attribute 5; AttributeProto name 1, i 3, ints 8, type 20 (INT 2, INTS 7);
// TensorProto dims 1, data_type 2 (FLOAT 1, INT64 7), name 8, raw_data 9 (little-endian);
// ValueInfoProto name 1, type 2; TypeProto tensor_type 1; TypeProto.Tensor elem_type 1, shape 2;
// TensorShapeProto dim 1; Dimension dim_value 1, dim_param 2; StringStringEntryProto key 1, value 2.

import { GATES } from '../model/layout.js';
import { type Model, memberParams } from '../train/modelFile.js';
import { ProtoMessage } from './protobuf.js';
import { type ModelScaling, modelScaling, ONNX_GATE_ORDER, reorderGates } from './scaling.js';

export const ONNX_OPSET = 17;
/** The IR version that goes with opset 17 (onnx's versioning table). */
export const ONNX_IR_VERSION = 8;
export const ONNX_PRODUCER = 'webgpu-lstm';

const FLOAT = 1;
const INT64 = 7;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_INTS = 7;

type Dimension = number | string;

function tensorType(shape: readonly Dimension[]): ProtoMessage {
  const dims = new ProtoMessage();
  for (const d of shape) {
    dims.message(1, typeof d === 'number' ? new ProtoMessage().varint(1, d) : new ProtoMessage().string(2, d));
  }
  return new ProtoMessage().message(1, new ProtoMessage().varint(1, FLOAT).message(2, dims));
}

function valueInfo(name: string, shape: readonly Dimension[]): ProtoMessage {
  return new ProtoMessage().string(1, name).message(2, tensorType(shape));
}

function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): ProtoMessage {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let p = 0; p < values.length; p++) view.setFloat32(p * 4, values[p], true);
  return new ProtoMessage().packedVarints(1, dims).varint(2, FLOAT).string(8, name).bytes(9, bytes);
}

function int64Tensor(name: string, values: readonly number[]): ProtoMessage {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, p) => {
    view.setBigInt64(p * 8, BigInt(v), true);
  });
  return new ProtoMessage().packedVarints(1, [values.length]).varint(2, INT64).string(8, name).bytes(9, bytes);
}

type Attribute = { name: string; int: number } | { name: string; ints: readonly number[] };

function attribute(a: Attribute): ProtoMessage {
  const message = new ProtoMessage().string(1, a.name);
  return 'int' in a
    ? message.varint(3, a.int).varint(20, ATTRIBUTE_INT)
    : message.packedVarints(8, a.ints).varint(20, ATTRIBUTE_INTS);
}

/** The graph being built: its nodes, in topological order, and its initializers. */
class GraphBuilder {
  readonly nodes: ProtoMessage[] = [];
  readonly initializers: ProtoMessage[] = [];
  private readonly names = new Set<string>();

  node(opType: string, inputs: readonly string[], outputs: readonly string[], attributes: Attribute[] = []): void {
    const node = new ProtoMessage();
    for (const input of inputs) node.string(1, input);
    for (const output of outputs) node.string(2, output);
    node.string(3, `${opType}_${this.nodes.length}`).string(4, opType);
    for (const a of attributes) node.message(5, attribute(a));
    this.nodes.push(node);
  }

  floats(name: string, dims: readonly number[], values: ArrayLike<number>): string {
    this.initializers.push(floatTensor(name, dims, values));
    this.names.add(name);
    return name;
  }

  /** An initializer several networks read: made at the first call, named again at the others. */
  sharedFloats(name: string, dims: readonly number[], values: ArrayLike<number>): string {
    return this.names.has(name) ? name : this.floats(name, dims, values);
  }

  int64s(name: string, values: readonly number[]): string {
    this.initializers.push(int64Tensor(name, values));
    return name;
  }
}

/**
 * The model as an ONNX file's bytes: the graph's nodes input to output, then the file around them.
 * An ensemble (a file with members) is every member's network on the same scaled input, each brought
 * back to the data's units, and their Mean: what `predict` forecasts with.
 */
export function exportOnnx(model: Model): Uint8Array<ArrayBuffer> {
  const scaling = modelScaling(model);
  const g = new GraphBuilder();
  const normalized = inputNodes(g, model, scaling);
  const members = memberParams(model);
  if (members.length === 1) {
    networkNodes(g, model, model.params, normalized, scaling, '');
  } else {
    const prefixes = members.map((_, m) => `member_${m}_`);
    members.forEach((params, m) => {
      networkNodes(g, model, params, normalized, scaling, prefixes[m]);
    });
    g.node(
      'Mean',
      prefixes.map((prefix) => `${prefix}output`),
      ['output'],
    );
    if (scaling.transform.kind !== 'levels') {
      g.node(
        'Mean',
        prefixes.map((prefix) => `${prefix}transformed`),
        ['transformed'],
      );
    }
  }
  return onnxFile(g, model, scaling);
}

/** One network (`params`) from the scaled time-major input to `${prefix}output` (and `${prefix}transformed`). */
function networkNodes(
  g: GraphBuilder,
  model: Model,
  params: Float32Array,
  input: string,
  scaling: ModelScaling,
  prefix: string,
): void {
  lstmNodes(g, model, params, input, prefix);
  denseNodes(g, model, params, prefix);
  outputNodes(g, model, scaling, prefix);
}

/** input (B, T, I), scaled as in training where the model was, to time-major (T, B, I); returns its name. */
function inputNodes(g: GraphBuilder, model: Model, scaling: ModelScaling): string {
  const { inputSize: I } = model.config;
  let x = 'input';
  if (scaling.input !== null) {
    g.node('Sub', [x, g.floats('input_offset', [I], scaling.input.offset)], ['input_centred']);
    g.node('Div', ['input_centred', g.floats('input_scale', [I], scaling.input.scale)], ['input_normalized']);
    x = 'input_normalized';
  }
  g.node('Transpose', [x], ['input_time_major'], [{ name: 'perm', ints: [1, 0, 2] }]);
  return 'input_time_major';
}

/** One LSTM operator a layer, in ONNX's gate order, from time-major `x` to the last step's output (last_hidden). */
function lstmNodes(g: GraphBuilder, model: Model, params: Float32Array, input: string, prefix: string): void {
  const { layers } = model.layout;
  let x = input;
  // Squeeze's axes (an input since opset 13); axis 1 only where layers are stacked (an unused
  // initializer is a runtime's warning).
  const axis0 = g.int64s(`${prefix}axis_0`, [0]);
  const axis1 = layers.length > 1 ? g.int64s(`${prefix}axis_1`, [1]) : '';
  layers.forEach((layer, l) => {
    const { inputSize: In, hiddenSize: H, w, v, b } = layer;
    const name = `${prefix}lstm_${l}`;
    const weights = g.floats(
      `${name}_W`,
      [1, GATES * H, In],
      transpose(reorderGates(params, w, In, H, ONNX_GATE_ORDER), In, GATES * H),
    );
    const recurrent = g.floats(
      `${name}_R`,
      [1, GATES * H, H],
      transpose(reorderGates(params, v, H, H, ONNX_GATE_ORDER), H, GATES * H),
    );
    // [Wb, Rb]: our one bias as Wb, Rb zero (the operator adds both).
    const bias = new Float32Array(2 * GATES * H);
    bias.set(reorderGates(params, b, 1, H, ONNX_GATE_ORDER));
    const biases = g.floats(`${name}_B`, [1, 2 * GATES * H], bias);
    const attributes = [{ name: 'hidden_size', int: H }];
    if (l < layers.length - 1) {
      // Y (T, 1, B, H): every step's output feeds the next layer.
      g.node('LSTM', [x, weights, recurrent, biases], [`${name}_Y`], attributes);
      g.node('Squeeze', [`${name}_Y`, axis1], [`${name}_sequence`]);
      x = `${name}_sequence`;
    } else {
      // Only Y_h (1, B, H), the last step's output, feeds the dense layer; Y is left out ("").
      g.node('LSTM', [x, weights, recurrent, biases], ['', `${name}_Y_h`], attributes);
      g.node('Squeeze', [`${name}_Y_h`, axis0], [`${prefix}last_hidden`]);
    }
  });
}

/** The dense layer on last_hidden: dense_output (B, O). */
function denseNodes(g: GraphBuilder, model: Model, params: Float32Array, prefix: string): void {
  const { dense } = model.layout;
  const O = model.config.outputSize;
  g.node(
    'MatMul',
    [
      `${prefix}last_hidden`,
      g.floats(`${prefix}dense_W`, [dense.inputSize, O], params.subarray(dense.w, dense.w + dense.inputSize * O)),
    ],
    [`${prefix}dense_product`],
  );
  g.node(
    'Add',
    [`${prefix}dense_product`, g.floats(`${prefix}dense_b`, [O], params.subarray(dense.b, dense.b + O))],
    [`${prefix}dense_output`],
  );
}

/** dense_output back to the data's units, and the transform undone from the reference level: output (B, O). */
function outputNodes(g: GraphBuilder, model: Model, scaling: ModelScaling, prefix: string): void {
  const O = model.config.outputSize;
  const transformed = scaling.transform.kind !== 'levels';
  const y = `${prefix}dense_output`;
  const predicted = `${prefix}${transformed ? 'transformed' : 'output'}`;
  const output = `${prefix}output`;
  if (scaling.output !== null) {
    // The scale and offset are the members' one pair: made with the first network.
    const scale = g.sharedFloats('output_scale', [O], scaling.output.scale);
    const offset = g.sharedFloats('output_offset', [O], scaling.output.offset);
    g.node('Mul', [y, scale], [`${prefix}output_scaled`]);
    g.node('Add', [`${prefix}output_scaled`, offset], [predicted]);
  } else {
    g.node('Identity', [y], [predicted]);
  }
  if (scaling.transform.kind === 'log-returns') {
    g.node('Exp', [predicted], [`${prefix}growth`]);
    g.node('Mul', ['reference', `${prefix}growth`], [output]);
  } else if (transformed) {
    g.node('Add', ['reference', predicted], [output]);
  }
}

/** The graph (its nodes, initializers, inputs and outputs) in a model file with the opset and metadata. */
function onnxFile(g: GraphBuilder, model: Model, scaling: ModelScaling): Uint8Array<ArrayBuffer> {
  const { inputSize: I, outputSize: O, window: T } = model.config;
  const transformed = scaling.transform.kind !== 'levels';
  const graph = new ProtoMessage();
  for (const node of g.nodes) graph.message(1, node);
  graph.string(2, 'webgpu_lstm');
  for (const tensor of g.initializers) graph.message(5, tensor);
  graph.string(10, graphDoc(scaling));
  graph.message(11, valueInfo('input', ['batch', T, I]));
  if (transformed) graph.message(11, valueInfo('reference', ['batch', O]));
  graph.message(12, valueInfo('output', ['batch', O]));
  if (transformed) graph.message(12, valueInfo('transformed', ['batch', O]));

  const file = new ProtoMessage()
    .varint(1, ONNX_IR_VERSION)
    .string(2, ONNX_PRODUCER)
    .string(3, '1')
    .string(6, 'An LSTM forecaster exported by webgpu-lstm (docs/FILE-FORMATS.md, "Exporting").')
    .message(7, graph)
    .message(8, new ProtoMessage().string(1, '').varint(2, ONNX_OPSET));
  for (const [key, value] of Object.entries(metadata(model, scaling))) {
    file.message(14, new ProtoMessage().string(1, key).string(2, value));
  }
  return file.finish();
}

/** (rows, cols) row-major to (cols, rows). */
function transpose(matrix: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = matrix[r * cols + c];
  return out;
}

function graphDoc(scaling: ModelScaling): string {
  const input = `input (batch, window, inputs): the last window of ${scaling.inputs.join(', ')}`;
  if (scaling.transform.kind === 'levels')
    return `${input}; output (batch, outputs): the next row of ${scaling.outputs.join(', ')}`;
  return (
    `${input}, as ${scaling.transform.kind} (lag ${scaling.transform.lag}); reference (batch, outputs): each output's level ` +
    `${scaling.transform.lag} row(s) before the predicted one; output: the next row's levels; transformed: its ${scaling.transform.kind}`
  );
}

/** The file's metadata_props: column names and the transform, as text. */
function metadata(model: Model, scaling: ModelScaling): Record<string, string> {
  const members = memberParams(model).length;
  return {
    inputs: JSON.stringify(scaling.inputs),
    outputs: JSON.stringify(scaling.outputs),
    transform: scaling.transform.kind,
    lag: String(scaling.transform.lag),
    window: String(model.config.window),
    normalization: model.normalization?.method ?? 'none',
    ...(members > 1 ? { members: String(members) } : {}),
  };
}
