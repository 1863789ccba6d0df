// The LSTM on the CPU: the readable reference every other path is tested against, and the baseline
// for timing. The math is the blog's numpy program's (our port: scripts/blog_lstm.py), generalised
// to stacked layers and several inputs and outputs:
//   u = x W + y_prev V + b        (all four gates at once)
//   f, i, o = sigmoid(u_f, u_i, u_o);  g = tanh(u_g)
//   c = f * c_prev + i * g;  y = o * tanh(c)
//   out = y_T Wd + bd;  loss = 0.5 * sum((out - t)^2);  gradients summed over the batch.
// The optimizers and the loss choice are src/model/optimizer.ts's (engine.ts applies them).
//
// Legend: B = batch, T = window, I = layer input size, H = hidden size, G = 4 gates, O = outputSize.
// Buffers are allocated once per (shape, maximum batch) in a Workspace; nothing allocates per step.

import { CANDIDATE, FORGET, GATES, INPUT, OUTPUT, type ParamLayout } from '../../model/layout.js';

interface LayerState {
  /** (T, B, 4H) gate activations f, i, g, o */
  gates: Float32Array;
  /** (T+1, B, H) cell state; step 0 is zero */
  c: Float32Array;
  /** (T, B, H) tanh(c) of steps 1..T */
  tanhC: Float32Array;
  /** (T+1, B, H) outputs; step 0 is zero */
  y: Float32Array;
  /** (T, B, I) gradient with respect to this layer's input (used by the layer below; layer 0's by the probe) */
  dInput: Float32Array;
}

export class Workspace {
  readonly layout: ParamLayout;
  readonly maxBatch: number;
  readonly window: number;
  readonly layers: LayerState[];
  /** (T, B, I) the batch's input, time-major */
  readonly xTime: Float32Array;
  /** (B, O) dense outputs */
  readonly out: Float32Array;
  /** (B, O) out - t */
  readonly outDelta: Float32Array;
  /** (B, H) running dy, dc and the gate deltas (B, 4H) of one step */
  readonly dy: Float32Array;
  readonly dc: Float32Array;
  readonly delta: Float32Array;
  /** (B, H) dy arriving from the dense layer */
  readonly dyTop: Float32Array;

  constructor(layout: ParamLayout, maxBatch: number) {
    this.layout = layout;
    this.maxBatch = maxBatch;
    const T = layout.config.window;
    const B = maxBatch;
    this.window = T;
    let maxH = 0;
    this.layers = layout.layers.map(({ inputSize: I, hiddenSize: H }) => {
      maxH = Math.max(maxH, H);
      return {
        gates: new Float32Array(T * B * GATES * H),
        c: new Float32Array((T + 1) * B * H),
        tanhC: new Float32Array(T * B * H),
        y: new Float32Array((T + 1) * B * H),
        dInput: new Float32Array(T * B * I),
      };
    });
    this.xTime = new Float32Array(T * B * layout.config.inputSize);
    this.out = new Float32Array(B * layout.config.outputSize);
    this.outDelta = new Float32Array(B * layout.config.outputSize);
    this.dy = new Float32Array(B * maxH);
    this.dc = new Float32Array(B * maxH);
    this.delta = new Float32Array(B * GATES * maxH);
    this.dyTop = new Float32Array(B * maxH);
  }
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Forward pass of the whole model on x (B, T, I); leaves outputs in ws.out (B, O). */
export function forward(params: Float32Array, ws: Workspace, x: Float32Array, B: number): void {
  const { layout } = ws;
  const T = ws.window;
  const I0 = layout.config.inputSize;
  // Time-major copy of the input so each step reads one contiguous (B, I) block.
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) for (let k = 0; k < I0; k++) ws.xTime[(t * B + b) * I0 + k] = x[(b * T + t) * I0 + k];

  for (let l = 0; l < layout.layers.length; l++) layerForward(params, ws, B, l);
  denseForward(params, ws, B);
}

/** Layer l over the T steps, from the layer below's outputs (or the input): its gates, c and y in ws. */
function layerForward(params: Float32Array, ws: Workspace, B: number, l: number): void {
  const T = ws.window;
  const { inputSize: I, hiddenSize: H, w, v, b: bias } = ws.layout.layers[l];
  const st = ws.layers[l];
  const G = GATES * H;
  // Layer l reads layer l-1's outputs of steps 1..T, which sit at offset B*H in its y.
  const input = l === 0 ? ws.xTime : ws.layers[l - 1].y;
  const inputBase = l === 0 ? 0 : B * I;
  st.c.fill(0, 0, B * H);
  st.y.fill(0, 0, B * H);
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < B; n++) {
      const u = (t * B + n) * G; // pre-activations, then activations, in st.gates
      const gates = st.gates;
      for (let j = 0; j < G; j++) gates[u + j] = params[bias + j];
      const xRow = inputBase + (t * B + n) * I;
      for (let k = 0; k < I; k++) {
        const xk = input[xRow + k];
        const wRow = w + k * G;
        for (let j = 0; j < G; j++) gates[u + j] += xk * params[wRow + j];
      }
      // y_prev is zero at the first step, so its product is skipped there.
      const yPrevRow = (t * B + n) * H;
      for (let k = 0; t > 0 && k < H; k++) {
        const yk = st.y[yPrevRow + k];
        const vRow = v + k * G;
        for (let j = 0; j < G; j++) gates[u + j] += yk * params[vRow + j];
      }
      const cPrev = (t * B + n) * H;
      const cNext = ((t + 1) * B + n) * H;
      for (let j = 0; j < H; j++) {
        const f = sigmoid(gates[u + FORGET * H + j]);
        const i = sigmoid(gates[u + INPUT * H + j]);
        const g = Math.tanh(gates[u + CANDIDATE * H + j]);
        const o = sigmoid(gates[u + OUTPUT * H + j]);
        gates[u + FORGET * H + j] = f;
        gates[u + INPUT * H + j] = i;
        gates[u + CANDIDATE * H + j] = g;
        gates[u + OUTPUT * H + j] = o;
        const c = f * st.c[cPrev + j] + i * g;
        const tc = Math.tanh(c);
        st.c[cNext + j] = c;
        st.tanhC[cPrev + j] = tc;
        st.y[cNext + j] = o * tc;
      }
    }
  }
}

/** The dense layer on the top layer's last outputs: ws.out (B, O). */
function denseForward(params: Float32Array, ws: Workspace, B: number): void {
  const { layout } = ws;
  const T = ws.window;
  const { dense } = layout;
  const last = ws.layers[layout.layers.length - 1];
  const H = dense.inputSize;
  const O = dense.outputSize;
  for (let n = 0; n < B; n++) {
    const yRow = (T * B + n) * H;
    for (let o = 0; o < O; o++) {
      let s = params[dense.b + o];
      for (let k = 0; k < H; k++) s += last.y[yRow + k] * params[dense.w + k * O + o];
      ws.out[n * O + o] = s;
    }
  }
}

/**
 * The blog's loss, 0.5 * sum((out - t)^2), of the outputs in ws.out; also fills ws.outDelta with
 * gradScale * (out - t), the gradient backward() propagates (see outputLoss).
 */
export function loss(ws: Workspace, target: Float32Array, B: number, gradScale = 1): number {
  return outputLoss(ws.out, target, ws.outDelta, B * ws.layout.config.outputSize, gradScale);
}

/**
 * 0.5 * sum((out - target)^2) over the first `count` values, filling outDelta with gradScale *
 * (out - target): 1 for the blog's loss, the factor lossScale (src/model/optimizer.ts) gives for
 * another, since every loss is a multiple of this one. Both CPU engines' loss.
 */
export function outputLoss(
  out: Float32Array,
  target: Float32Array,
  outDelta: Float32Array,
  count: number,
  gradScale: number,
): number {
  let sum = 0;
  for (let p = 0; p < count; p++) {
    const d = out[p] - target[p];
    outDelta[p] = gradScale * d;
    sum += d * d;
  }
  return 0.5 * sum;
}

/**
 * Backpropagation through time after forward() and loss(); writes gradients summed over the batch
 * into `grads` (zeroed first).
 */
export function backward(params: Float32Array, grads: Float32Array, ws: Workspace, B: number): void {
  grads.fill(0);
  denseBackward(params, grads, ws, B);
  for (let l = ws.layout.layers.length - 1; l >= 0; l--) layerBackward(params, grads, ws, B, l);
}

/** The dense layer's gradients (dWd, dbd) and the gradient at the top layer's last outputs (ws.dyTop). */
function denseBackward(params: Float32Array, grads: Float32Array, ws: Workspace, B: number): void {
  const { layout } = ws;
  const T = ws.window;
  const { dense } = layout;
  const Htop = dense.inputSize;
  const O = dense.outputSize;
  const top = ws.layers[layout.layers.length - 1];
  for (let n = 0; n < B; n++) {
    const yRow = (T * B + n) * Htop;
    for (let o = 0; o < O; o++) {
      const d = ws.outDelta[n * O + o];
      grads[dense.b + o] += d;
      for (let k = 0; k < Htop; k++) grads[dense.w + k * O + o] += top.y[yRow + k] * d;
    }
    for (let k = 0; k < Htop; k++) {
      let s = 0;
      for (let o = 0; o < O; o++) s += ws.outDelta[n * O + o] * params[dense.w + k * O + o];
      ws.dyTop[n * Htop + k] = s;
    }
  }
}

/**
 * Layer l back through the T steps: adds its dW, dV and db to `grads` and, above the first layer,
 * leaves the gradient at its input in its dInput for the layer below.
 */
function layerBackward(params: Float32Array, grads: Float32Array, ws: Workspace, B: number, l: number): void {
  const { layout } = ws;
  const T = ws.window;
  const { inputSize: I, hiddenSize: H, w, v, b: bias } = layout.layers[l];
  const st = ws.layers[l];
  const G = GATES * H;
  const input = l === 0 ? ws.xTime : ws.layers[l - 1].y;
  const inputBase = l === 0 ? 0 : B * I;
  // Gradient arriving at this layer's outputs from above at step t: the dense layer's at the last
  // step for the top layer, the layer above's input gradient at every step otherwise.
  const fromAbove = l === layout.layers.length - 1 ? null : ws.layers[l + 1].dInput;
  const { dy, dc, delta } = ws;
  dy.fill(0, 0, B * H);
  dc.fill(0, 0, B * H);
  for (let t = T - 1; t >= 0; t--) {
    for (let n = 0; n < B; n++) {
      const hRow = n * H;
      const stepRow = (t * B + n) * H;
      const gateRow = (t * B + n) * G;
      const dRow = n * G;
      for (let j = 0; j < H; j++) {
        let gy = dy[hRow + j];
        if (fromAbove !== null) gy += fromAbove[stepRow + j];
        else if (t === T - 1) gy += ws.dyTop[hRow + j];
        const f = st.gates[gateRow + FORGET * H + j];
        const i = st.gates[gateRow + INPUT * H + j];
        const g = st.gates[gateRow + CANDIDATE * H + j];
        const o = st.gates[gateRow + OUTPUT * H + j];
        const tc = st.tanhC[stepRow + j];
        const r = dc[hRow + j] + gy * o * (1 - tc * tc);
        delta[dRow + FORGET * H + j] = r * st.c[stepRow + j] * f * (1 - f);
        delta[dRow + INPUT * H + j] = r * g * i * (1 - i);
        delta[dRow + CANDIDATE * H + j] = r * i * (1 - g * g);
        delta[dRow + OUTPUT * H + j] = gy * tc * o * (1 - o);
        dc[hRow + j] = r * f;
      }
      for (let j = 0; j < G; j++) grads[bias + j] += delta[dRow + j];
      const xRow = inputBase + (t * B + n) * I;
      for (let k = 0; k < I; k++) {
        const xk = input[xRow + k];
        const gRow = w + k * G;
        let s = 0;
        for (let j = 0; j < G; j++) {
          const dj = delta[dRow + j];
          grads[gRow + j] += xk * dj;
          s += dj * params[gRow + j];
        }
        // Layer 0's is the gradient at the model's input: the probe's connectivity (cpuProbe.ts).
        st.dInput[(t * B + n) * I + k] = s;
      }
      const yPrevRow = (t * B + n) * H;
      for (let k = 0; k < H; k++) {
        const yk = st.y[yPrevRow + k];
        const gRow = v + k * G;
        let s = 0;
        for (let j = 0; j < G; j++) {
          const dj = delta[dRow + j];
          grads[gRow + j] += yk * dj;
          s += dj * params[gRow + j];
        }
        dy[hRow + k] = s;
      }
    }
  }
}
