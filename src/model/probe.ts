// Inside the network: what a forward pass computes between input and output, for chosen windows.
//
// Legend: T = window, H = hidden size of a layer, I = input size of the model, O = output size.
// A probe reads, per window and per LSTM layer, the four gates, the cell state and the hidden output
// at every step of the window, and the connectivity: the gradient of each output with respect to each
// input at each step. Both backends fill these from the forward pass they train with; the float64
// reference (the probe's tests) is the yardstick.

/** One layer's activations over one window; each array is (T, H) row-major: step t, unit j at [t * H + j]. */
export interface LayerProbe {
  forget: Float64Array;
  input: Float64Array;
  candidate: Float64Array;
  output: Float64Array;
  cell: Float64Array;
  hidden: Float64Array;
}

/** The gates and states a probe reports, in the order the JSON and the app list them. */
export const PROBED = ['forget', 'input', 'candidate', 'output', 'cell', 'hidden'] as const;
export type Probed = (typeof PROBED)[number];

export interface WindowProbe {
  /** One entry per LSTM layer, lowest first. */
  layers: LayerProbe[];
  /** The model's outputs for this window (O), normalized as the network produces them. */
  outputs: Float64Array;
  /**
   * d outputs[o] / d x[t][i], (O, T, I) row-major: [(o * T + t) * I + i], t in window order, so
   * t = T - 1 is lag 1 (the last value read). Empty when connectivity was not asked for.
   */
  connectivity: Float64Array;
}

export interface ProbeOptions {
  /** Compute the connectivity too (a backward pass from each output); default true. */
  connectivity?: boolean;
}

/**
 * The probe a backend offers: `x` holds `n` windows (n, T, I) as the network reads them (normalized,
 * transformed); resolves with one WindowProbe per window, in order.
 */
export type ProbeWindows = (x: Float32Array, n: number, options?: ProbeOptions) => Promise<WindowProbe[]>;
