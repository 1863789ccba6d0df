// WebGPU for the app: one probe for the page's lifetime (one device, shared by every run), a plain
// words reason when it is unavailable, and WebGPU backends made on the probed device. The only file
// of the app that knows the WebGPU backend's modules.

import type { AdapterDescription, Backend } from '../backends/backend.js';
import type { Population } from '../backends/population.js';
import { requestGpuContext } from '../backends/webgpu/context.js';
import { createWebGpuBackend, createWebGpuPopulation } from '../backends/webgpu/webgpuBackend.js';
import type { ParamLayout } from '../model/layout.js';
import { adapterLabel } from './columns.js';

export interface GpuAccess {
  adapter: AdapterDescription;
  /** Resolves with the reason if the device is lost. */
  lost: Promise<string>;
  /** `compileAhead: false` for a racer (WebGpuBackendOptions.compileAhead): it compiles only what it runs. */
  createBackend(layout: ParamLayout, options?: { compileAhead?: boolean }): Promise<Backend>;
  /** K members of `layout` in the same dispatches (the Members field). */
  createPopulation(layout: ParamLayout, members: number): Promise<Backend & Population>;
}

export type GpuProbe = { ok: true; gpu: GpuAccess } | { ok: false; reason: string };

export async function probeWebGpu(): Promise<GpuProbe> {
  if (!('gpu' in navigator) || navigator.gpu === undefined) {
    return { ok: false, reason: 'This browser does not offer WebGPU (navigator.gpu is missing).' };
  }
  const context = await requestGpuContext(navigator.gpu);
  if (context === null) {
    return {
      ok: false,
      reason:
        'This browser has WebGPU but could not give the app a GPU to use (no adapter was found, or the device could not be created).',
    };
  }
  return {
    ok: true,
    gpu: {
      adapter: context.adapter,
      lost: context.lost,
      createBackend: (layout, options) => createWebGpuBackend(context, layout, options),
      createPopulation: (layout, members) => createWebGpuPopulation(context, layout, members),
    },
  };
}

/** "google swiftshader (software, …)": the adapter's name as people recognise it, and what kind it is. */
export function adapterName(adapter: AdapterDescription): string {
  return `${adapterLabel(adapter)} (${adapter.software ? 'software, the GPU emulated on the CPU' : 'real GPU'})`;
}
