// WebGPU for the app: probes once, says in plain words why it is unavailable, and makes backends
// on the probed device. The only file of the app that knows the WebGPU backend's module.

import type { AdapterDescription, Backend } from '../backends/backend.js';
import type { ParamLayout } from '../model/layout.js';

export interface GpuAccess {
  adapter: AdapterDescription;
  /** Resolves with a plain-words reason if the device is lost. */
  lost: Promise<string>;
  createBackend(layout: ParamLayout): Promise<Backend>;
}

export type GpuProbe = { ok: true; gpu: GpuAccess } | { ok: false; reason: string };

export async function probeWebGpu(): Promise<GpuProbe> {
  if (!('gpu' in navigator) || navigator.gpu === undefined) {
    return { ok: false, reason: 'This browser does not offer WebGPU (navigator.gpu is missing).' };
  }
  // Interim: the WebGPU backend (src/backends/webgpu) is not in this build yet.
  return { ok: false, reason: 'This build of the app does not include the WebGPU backend yet.' };
}

/** "google swiftshader (software)": the adapter's name as people recognise it. */
export function describeAdapter(adapter: AdapterDescription): string {
  const name = [adapter.vendor, adapter.architecture, adapter.description].filter((part) => part !== '').join(' ');
  return `${name || 'unnamed adapter'} (${adapter.software ? 'software, the GPU emulated on the CPU' : 'real GPU'})`;
}
