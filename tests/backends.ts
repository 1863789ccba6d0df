// Every backend a suite that runs "on every backend" runs on: the CPU's two engines and the WebGPU
// backend's variants, every schedule under both kernel tunings (on the file's one device, SwiftShader
// where there is no GPU). `run` wraps a test body: on WebGPU it fails the test on any GPU error,
// captured or not.

import type { Backend } from '../src/backends/backend.js';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import type { GpuContext } from '../src/backends/webgpu/context.js';
import { SCHEDULES, TUNING_NAMES, variantName } from '../src/backends/webgpu/tuning.js';
import { createWebGpuBackend } from '../src/backends/webgpu/webgpuBackend.js';
import type { ParamLayout } from '../src/model/layout.js';
import { withoutGpuErrors } from './webgpu-context.js';

export interface BackendCase {
  name: string;
  open(layout: ParamLayout): Promise<Backend>;
  run<T>(body: () => Promise<T>): Promise<T>;
}

/** The cases; `context` is called when a WebGPU case opens a backend (after the file's beforeAll). */
export function everyBackend(context: () => GpuContext): BackendCase[] {
  const onCpu = <T>(body: () => Promise<T>) => body();
  const onGpu = <T>(body: () => Promise<T>) => withoutGpuErrors(context(), body);
  return [
    { name: 'cpu (fast)', open: async (layout) => new CpuBackend(layout, { kernels: 'fast' }), run: onCpu },
    { name: 'cpu (reference)', open: async (layout) => new CpuBackend(layout, { kernels: 'reference' }), run: onCpu },
    ...SCHEDULES.flatMap((schedule) =>
      TUNING_NAMES.map((tuning) => ({
        name: `webgpu (${variantName({ schedule, tuning })})`,
        open: (layout: ParamLayout) => createWebGpuBackend(context(), layout, { schedule, tuning }),
        run: onGpu,
      })),
    ),
  ];
}
