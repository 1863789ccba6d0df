// The CPU backend's probe (src/model/probe.ts): the forward and backward kernels of lstm.ts, the CPU's
// readable training path (the fast WebAssembly kernels are tested equal to it), run in float32 on the
// current parameters over the probed windows as one batch. The activations are read from the
// forward's workspace; the connectivity is one backward pass per output with d loss / d out set to 1
// for that output and 0 for the others, read at layer 0's input gradient. Not a per-step path: it
// allocates a workspace per call.
//
// Legend: W = probed windows (the batch), T = window, I = inputSize, H = hidden size of a layer,
// O = outputSize, G = 4 gates.

import { CANDIDATE, FORGET, GATES, INPUT, OUTPUT, type ParamLayout } from '../../model/layout.js';
import type { LayerProbe, ProbeOptions, WindowProbe } from '../../model/probe.js';
import { backward, forward, Workspace } from './lstm.js';

/** Window n's activations of layer l, copied out of the workspace (T, W, 4H) / (T+1, W, H) buffers. */
function layerOf(ws: Workspace, l: number, n: number, W: number): LayerProbe {
  const T = ws.window;
  const H = ws.layout.layers[l].hiddenSize;
  const G = GATES * H;
  const st = ws.layers[l];
  const make = () => new Float64Array(T * H);
  const probe: LayerProbe = {
    forget: make(),
    input: make(),
    candidate: make(),
    output: make(),
    cell: make(),
    hidden: make(),
  };
  for (let t = 0; t < T; t++) {
    const gates = (t * W + n) * G;
    const state = ((t + 1) * W + n) * H; // c and y keep step 0 as the zero state
    for (let j = 0; j < H; j++) {
      const at = t * H + j;
      probe.forget[at] = st.gates[gates + FORGET * H + j];
      probe.input[at] = st.gates[gates + INPUT * H + j];
      probe.candidate[at] = st.gates[gates + CANDIDATE * H + j];
      probe.output[at] = st.gates[gates + OUTPUT * H + j];
      probe.cell[at] = st.c[state + j];
      probe.hidden[at] = st.y[state + j];
    }
  }
  return probe;
}

/** The probe of `n` windows x (n, T, I) under `params` (P), in float32. */
export function cpuProbe(
  layout: ParamLayout,
  params: Float32Array,
  x: Float32Array,
  n: number,
  options: ProbeOptions = {},
): WindowProbe[] {
  const { window: T, inputSize: I, outputSize: O } = layout.config;
  const ws = new Workspace(layout, n);
  forward(params, ws, x, n);
  const probes: WindowProbe[] = Array.from({ length: n }, (_, w) => ({
    layers: layout.layers.map((_, l) => layerOf(ws, l, w, n)),
    outputs: Float64Array.from(ws.out.subarray(w * O, (w + 1) * O)),
    connectivity: new Float64Array(options.connectivity === false ? 0 : O * T * I),
  }));
  if (options.connectivity === false) return probes;
  const grads = new Float32Array(layout.size); // the weight gradients backward() also makes: unused
  const dx = ws.layers[0].dInput; // (T, W, I)
  for (let o = 0; o < O; o++) {
    ws.outDelta.fill(0);
    for (let w = 0; w < n; w++) ws.outDelta[w * O + o] = 1;
    backward(params, grads, ws, n);
    probes.forEach((probe, w) => {
      for (let t = 0; t < T; t++) {
        for (let i = 0; i < I; i++) probe.connectivity[(o * T + t) * I + i] = dx[(t * n + w) * I + i];
      }
    });
  }
  return probes;
}
