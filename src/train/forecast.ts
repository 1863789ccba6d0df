// The blog's free-running forecast: start from the first window and feed each prediction back as
// the newest input, for `steps` steps. It runs on the CPU reference kernels from parameters read
// back from any backend: it is sequential (one batch-1 forward per step), so a GPU would spend its
// time on submits, and it is what the screen needs, not what training needs.

import { forward, Workspace } from '../backends/cpu/lstm.js';
import { InputError } from '../model/errors.js';
import type { ParamLayout } from '../model/layout.js';

/** firstWindow (T, I); returns (steps, O). Needs inputSize === outputSize (predictions become inputs). */
export function freeRunForecast(
  layout: ParamLayout,
  params: Float32Array,
  firstWindow: Float32Array,
  steps: number,
  onStep?: (done: number) => void,
): Float32Array {
  const { inputSize: I, outputSize: O, window: T } = layout.config;
  if (I !== O) {
    throw new InputError('forecast', `feeding predictions back needs inputSize (${I}) equal to outputSize (${O})`);
  }
  const ws = new Workspace(layout, 1);
  const x = firstWindow.slice(0, T * I);
  const result = new Float32Array(steps * O);
  for (let s = 0; s < steps; s++) {
    forward(params, ws, x, 1);
    result.set(ws.out.subarray(0, O), s * O);
    x.copyWithin(0, I);
    x.set(ws.out.subarray(0, O), (T - 1) * I);
    onStep?.(s + 1);
  }
  return result;
}
