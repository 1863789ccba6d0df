// Everything a run of the seed's task starts from, drawn from one seeded generator in a fixed order
// (data noise, then initial weights, then the minibatch orders during training), so that every
// backend given the same seed sees the same data, weights and batches.

import { Rng } from '../data/rng.js';
import { makeSineTask, type SeriesTask } from '../data/sine.js';
import { initParams } from '../model/init.js';
import { type ModelConfig, type ParamLayout, paramLayout } from '../model/layout.js';

export interface SineRunSettings {
  seed: number;
  points: number;
  noise: number;
  window: number;
  hiddenSizes: number[];
}

export interface RunStart {
  rng: Rng;
  task: SeriesTask;
  config: ModelConfig;
  layout: ParamLayout;
  params: Float32Array;
}

export function startSineRun(settings: SineRunSettings): RunStart {
  const rng = new Rng(settings.seed);
  const task = makeSineTask(settings, rng);
  const config: ModelConfig = {
    inputSize: 1,
    hiddenSizes: [...settings.hiddenSizes],
    outputSize: 1,
    window: settings.window,
  };
  const layout = paramLayout(config);
  const params = initParams(layout, rng);
  return { rng, task, config, layout, params };
}
