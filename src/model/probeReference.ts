// The probe in float64: the yardstick both backends' probes are tested against, and the interim probe
// of a backend that has none of its own. Plain loops over the flat parameter layout
// (src/model/layout.ts), one window at a time; the math is the CPU reference's
// (src/backends/cpu/lstm.ts):
//   u = x W + y_prev V + b;  f, i, o = sigmoid(u_f, u_i, u_o);  g = tanh(u_g)
//   c = f * c_prev + i * g;  y = o * tanh(c);  out = y_T Wd + bd
// The connectivity d out[o] / d x[t][i] is backpropagation through time from each output alone.
//
// Legend: T = window, I = input size of a layer, H = hidden size of a layer, G = 4 gates,
// O = outputSize. Every (T, H) array is row-major: step t, unit j at [t * H + j].

import { InputError } from './errors.js';
import { CANDIDATE, FORGET, GATES, INPUT, OUTPUT, type ParamLayout } from './layout.js';
import type { LayerProbe, ProbeOptions, WindowProbe } from './probe.js';

const sigmoid = (u: number) => 1 / (1 + Math.exp(-u));

function emptyLayer(T: number, H: number): LayerProbe {
  const make = () => new Float64Array(T * H);
  return { forget: make(), input: make(), candidate: make(), output: make(), cell: make(), hidden: make() };
}

/** One layer over the window from its input xs (T, I): its gates, cell and hidden states. */
function layerForward(
  params: ArrayLike<number>,
  layout: ParamLayout,
  l: number,
  xs: ArrayLike<number>,
  T: number,
): LayerProbe {
  const { inputSize: I, hiddenSize: H, w, v, b } = layout.layers[l];
  const G = GATES * H;
  const probe = emptyLayer(T, H);
  const u = new Float64Array(G);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < G; j++) u[j] = params[b + j];
    for (let k = 0; k < I; k++) {
      const xk = xs[t * I + k];
      for (let j = 0; j < G; j++) u[j] += xk * params[w + k * G + j];
    }
    for (let k = 0; t > 0 && k < H; k++) {
      const yk = probe.hidden[(t - 1) * H + k];
      for (let j = 0; j < G; j++) u[j] += yk * params[v + k * G + j];
    }
    for (let j = 0; j < H; j++) {
      const at = t * H + j;
      const f = sigmoid(u[FORGET * H + j]);
      const i = sigmoid(u[INPUT * H + j]);
      const g = Math.tanh(u[CANDIDATE * H + j]);
      const o = sigmoid(u[OUTPUT * H + j]);
      const cPrev = t > 0 ? probe.cell[at - H] : 0;
      const c = f * cPrev + i * g;
      probe.forget[at] = f;
      probe.input[at] = i;
      probe.candidate[at] = g;
      probe.output[at] = o;
      probe.cell[at] = c;
      probe.hidden[at] = o * Math.tanh(c);
    }
  }
  return probe;
}

/** The dense layer on the top layer's last hidden output: out (O). */
function denseForward(params: ArrayLike<number>, layout: ParamLayout, top: LayerProbe, T: number): Float64Array {
  const { inputSize: H, outputSize: O, w, b } = layout.dense;
  const out = new Float64Array(O);
  for (let o = 0; o < O; o++) {
    let s = params[b + o];
    for (let k = 0; k < H; k++) s += top.hidden[(T - 1) * H + k] * params[w + k * O + o];
    out[o] = s;
  }
  return out;
}

/**
 * Layer l back through the window: given the gradient at its hidden outputs from above, dAbove (T, H),
 * returns the gradient at its input (T, I).
 */
function layerBackward(
  params: ArrayLike<number>,
  layout: ParamLayout,
  l: number,
  probe: LayerProbe,
  dAbove: Float64Array,
  T: number,
): Float64Array {
  const { inputSize: I, hiddenSize: H, w, v } = layout.layers[l];
  const G = GATES * H;
  const dInput = new Float64Array(T * I);
  const dy = new Float64Array(H); // from the next step, through V
  const dc = new Float64Array(H); // from the next step, through f
  const delta = new Float64Array(G);
  for (let t = T - 1; t >= 0; t--) {
    for (let j = 0; j < H; j++) {
      const at = t * H + j;
      const gy = dy[j] + dAbove[at];
      const f = probe.forget[at];
      const i = probe.input[at];
      const g = probe.candidate[at];
      const o = probe.output[at];
      const tc = Math.tanh(probe.cell[at]);
      const cPrev = t > 0 ? probe.cell[at - H] : 0;
      const r = dc[j] + gy * o * (1 - tc * tc);
      delta[FORGET * H + j] = r * cPrev * f * (1 - f);
      delta[INPUT * H + j] = r * g * i * (1 - i);
      delta[CANDIDATE * H + j] = r * i * (1 - g * g);
      delta[OUTPUT * H + j] = gy * tc * o * (1 - o);
      dc[j] = r * f;
    }
    for (let k = 0; k < I; k++) {
      let s = 0;
      for (let j = 0; j < G; j++) s += delta[j] * params[w + k * G + j];
      dInput[t * I + k] = s;
    }
    for (let k = 0; k < H; k++) {
      let s = 0;
      for (let j = 0; j < G; j++) s += delta[j] * params[v + k * G + j];
      dy[k] = s;
    }
  }
  return dInput;
}

/** d out[o] / d x (T, I) for one output: its dense weights at the top layer's last step, then down. */
function outputConnectivity(
  params: ArrayLike<number>,
  layout: ParamLayout,
  layers: LayerProbe[],
  o: number,
  T: number,
): Float64Array {
  const { inputSize: Htop, outputSize: O, w } = layout.dense;
  let dAbove: Float64Array = new Float64Array(T * Htop);
  for (let k = 0; k < Htop; k++) dAbove[(T - 1) * Htop + k] = params[w + k * O + o];
  for (let l = layers.length - 1; l >= 0; l--) dAbove = layerBackward(params, layout, l, layers[l], dAbove, T);
  return dAbove;
}

/** One window xs (T, I) in float64: every layer's activations, the outputs and the connectivity. */
export function probeWindow64(
  layout: ParamLayout,
  params: ArrayLike<number>,
  xs: ArrayLike<number>,
  options: ProbeOptions = {},
): WindowProbe {
  const { window: T, inputSize: I, outputSize: O } = layout.config;
  const layers: LayerProbe[] = [];
  let input: ArrayLike<number> = xs;
  for (let l = 0; l < layout.layers.length; l++) {
    layers.push(layerForward(params, layout, l, input, T));
    input = layers[l].hidden;
  }
  const outputs = denseForward(params, layout, layers[layers.length - 1], T);
  const connectivity = new Float64Array(options.connectivity === false ? 0 : O * T * I);
  for (let o = 0; connectivity.length > 0 && o < O; o++) {
    connectivity.set(outputConnectivity(params, layout, layers, o, T), o * T * I);
  }
  return { layers, outputs, connectivity };
}

/** The probe (src/model/probe.ts) in float64 over `n` windows x (n, T, I). */
export function probeReference(
  layout: ParamLayout,
  params: ArrayLike<number>,
  x: ArrayLike<number>,
  n: number,
  options: ProbeOptions = {},
): WindowProbe[] {
  const { window: T, inputSize: I } = layout.config;
  if (params.length !== layout.size) {
    throw new InputError('params', `expected ${layout.size} values for this model, got ${params.length}`);
  }
  if (!Number.isInteger(n) || n < 0 || x.length < n * T * I) {
    throw new InputError('x', `expected ${n} windows of ${T * I} values, got ${x.length} values`);
  }
  const size = T * I;
  const windows: WindowProbe[] = [];
  for (let s = 0; s < n; s++) {
    const xs = Array.prototype.slice.call(x, s * size, (s + 1) * size) as number[];
    windows.push(probeWindow64(layout, params, xs, options));
  }
  return windows;
}
