// The seed's task: a noisy sine on [-2π, 2π]; windows of `window` values predict the next one.
// `points` values give points - window samples.

import { InputError } from '../model/errors.js';
import type { Dataset } from './dataset.js';
import { noisySine } from './generators.js';
import type { Rng } from './rng.js';

export interface SineOptions {
  points: number;
  noise: number;
  window: number;
}

export interface SeriesTask {
  /** The series the windows are cut from (what the charts draw). */
  series: Float32Array;
  /** x positions of the series (the sine's argument). */
  positions: Float32Array;
  data: Dataset;
}

export function makeSineTask(options: SineOptions, rng: Rng): SeriesTask {
  const { points, noise, window } = options;
  if (points <= window) {
    throw new InputError(
      'points',
      `must be greater than window (${window}) to give at least one sample, got ${points}`,
    );
  }
  const { series, positions } = noisySine(points, 1, noise, rng);
  return { series, positions, data: windowSeries(series, window) };
}

/** Cuts a 1-input, 1-output series into overlapping windows and next-value targets. */
export function windowSeries(series: Float32Array, window: number): Dataset {
  const count = series.length - window;
  const x = new Float32Array(count * window);
  const t = new Float32Array(count);
  for (let n = 0; n < count; n++) {
    x.set(series.subarray(n, n + window), n * window);
    t[n] = series[n + window];
  }
  return { count, window, inputSize: 1, outputSize: 1, x, t };
}
