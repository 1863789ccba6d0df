// The model's shape and where every parameter lives in one flat Float32Array.
//
// Legend: I = inputSize of a layer, H = hiddenSize of a layer, G = 4 gates, O = outputSize.
// Gate order is the blog's: 0 forget (sigmoid), 1 input (sigmoid), 2 candidate (tanh), 3 output (sigmoid).
//
// All parameters sit in one flat allocation (so an optimizer is one loop, or one GPU dispatch),
// gradients in another with the same layout. Per LSTM layer, in this order:
//   w  (I, G*H)   row k holds input k's weights to every gate: w[k*4H + g*H + j]
//   v  (H, G*H)   row k holds recurrent unit k's weights:       v[k*4H + g*H + j]
//   b  (G*H)
// then the dense output layer:
//   w  (H_last, O)
//   b  (O)
// The model file stores w as [4][I][H] (the blog's layout); rows of 4H contiguous values make the
// fused product u = x W + y V + b one pass over contiguous memory, on the CPU and on the GPU.

export const GATES = 4;
export const FORGET = 0;
export const INPUT = 1;
export const CANDIDATE = 2;
export const OUTPUT = 3;

export interface ModelConfig {
  inputSize: number;
  hiddenSizes: number[];
  outputSize: number;
  window: number;
}

export interface LstmLayerLayout {
  inputSize: number;
  hiddenSize: number;
  /** Offset of w (I, 4H). */
  w: number;
  /** Offset of v (H, 4H). */
  v: number;
  /** Offset of b (4H). */
  b: number;
}

export interface ParamLayout {
  config: ModelConfig;
  layers: LstmLayerLayout[];
  dense: { inputSize: number; outputSize: number; w: number; b: number };
  /** Total number of parameters. */
  size: number;
}

export function paramLayout(config: ModelConfig): ParamLayout {
  const layers: LstmLayerLayout[] = [];
  let offset = 0;
  let inputSize = config.inputSize;
  for (const hiddenSize of config.hiddenSizes) {
    const w = offset;
    const v = w + inputSize * GATES * hiddenSize;
    const b = v + hiddenSize * GATES * hiddenSize;
    offset = b + GATES * hiddenSize;
    layers.push({ inputSize, hiddenSize, w, v, b });
    inputSize = hiddenSize;
  }
  const denseW = offset;
  const denseB = denseW + inputSize * config.outputSize;
  offset = denseB + config.outputSize;
  return {
    config,
    layers,
    dense: { inputSize, outputSize: config.outputSize, w: denseW, b: denseB },
    size: offset,
  };
}

export function sameShape(a: ModelConfig, b: ModelConfig): boolean {
  return (
    a.inputSize === b.inputSize &&
    a.outputSize === b.outputSize &&
    a.window === b.window &&
    a.hiddenSizes.length === b.hiddenSizes.length &&
    a.hiddenSizes.every((h, i) => h === b.hiddenSizes[i])
  );
}

export function describeConfig(config: ModelConfig): string {
  return `inputSize ${config.inputSize}, hiddenSizes [${config.hiddenSizes.join(', ')}], outputSize ${config.outputSize}, window ${config.window}`;
}
