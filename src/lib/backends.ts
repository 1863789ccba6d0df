// Opening a backend, for the library and the CLI alike: `cpu`, `webgpu`, or `auto` (the faster of the
// two here at the model's shape and batch, by a short race: src/backends/race.ts; the CPU without an
// adapter, or where the CPU cannot hold the model). Where the GPU comes from is the platform's
// (Node: Dawn through the `webgpu` package, nodePlatform.ts; a browser: navigator.gpu, platform.ts).
// The GPU context is opened once (openGpu) and outlives the backends made on it: its opener closes it.

import type { AdapterDescription, Backend } from '../backends/backend.js';
import { fastKernelsProblem } from '../backends/cpu/cpuBackend.js';
import { createCpuBackend } from '../backends/cpu/createCpuBackend.js';
import { fastLstmBytes, MAX_KERNEL_BYTES } from '../backends/cpu/fastLstm.js';
import type { CpuThreadHost } from '../backends/cpu/threads.js';
import { type AutoChoice, chooseBackend, raceBackends } from '../backends/race.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { createWebGpuBackend } from '../backends/webgpu/webgpuBackend.js';
import { InputError } from '../model/errors.js';
import type { ParamLayout } from '../model/layout.js';
import { DEFAULT_OPTIMIZER } from '../model/optimizer.js';
import type { CpuThreads } from '../settings/threads.js';

export const BACKEND_CHOICES = ['auto', 'cpu', 'webgpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** A WebGPU device, or why there is none here. */
export type GpuOpening = { context: GpuContext } | { reason: string };

/** What a platform offers the backends: a GPU, and threads for the CPU backend. */
export interface Platform {
  /** Opens a WebGPU device (the caller destroys it), or says why none can be had. */
  openGpu(): Promise<GpuOpening>;
  /** Starts the CPU backend's threads; null: the CPU backend runs on the calling thread. */
  threadHost: CpuThreadHost | null;
}

export interface OpenedBackend {
  backend: Backend;
  /** One line for a person: which backend, on what (and for `auto`, why). */
  note: string;
  /** What `auto` measured and chose; null where a backend was named or no adapter exists. */
  auto: AutoChoice | null;
  /** Disposes the backend (not the GPU context it was made on). */
  close(): void;
}

/** How the CPU backend runs: on `threads` threads started by `host` (null: one thread). */
export interface CpuPlacement {
  threads: CpuThreads;
  host: CpuThreadHost | null;
}

export function describeAdapterLine(adapter: AdapterDescription): string {
  const name = [adapter.vendor, adapter.architecture, adapter.description].filter((s) => s !== '').join(' / ');
  return `${name}${adapter.software ? ' (software emulation on the CPU: correct, not GPU speed)' : ''}`;
}

/**
 * Why the CPU backend cannot train `layout` at `batch` (its fast kernels' memory past WebAssembly's
 * 4 GiB, counting Adam's state, the most an optimizer keeps), or null when it can.
 */
export function cpuMemoryProblem(layout: ParamLayout, batch: number): string | null {
  if (fastKernelsProblem() !== null) return null;
  const bytes = fastLstmBytes(layout, batch, { ...DEFAULT_OPTIMIZER, name: 'adam' });
  if (bytes <= MAX_KERNEL_BYTES) return null;
  return `the CPU backend would need ${(bytes / 2 ** 30).toFixed(1)} GiB, more than WebAssembly memory holds (4 GiB)`;
}

function createCpu(layout: ParamLayout, cpu: CpuPlacement) {
  return createCpuBackend(layout, { threads: cpu.threads, ...(cpu.host === null ? {} : { host: cpu.host }) });
}

/** The CPU backend; the note says why where it has fewer threads than asked. */
async function openCpu(layout: ParamLayout, cpu: CpuPlacement, why: string | null): Promise<OpenedBackend> {
  const backend = await createCpu(layout, cpu);
  const notes = [why, backend.threadsNote].filter((n) => n !== null);
  return {
    backend,
    note: `backend: cpu${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`,
    auto: null,
    close: () => backend.dispose(),
  };
}

/** A WebGPU backend on `context`, with the note's reason where `auto` chose it. */
async function openWebGpu(context: GpuContext, layout: ParamLayout, why: string | null, auto: AutoChoice | null) {
  const backend = await createWebGpuBackend(context, layout);
  return {
    backend,
    note: `backend: webgpu${why === null ? '' : ` (${why})`} on ${describeAdapterLine(context.adapter)}`,
    auto,
    close: () => backend.dispose(),
  };
}

/**
 * The backend `choice` names for a model of `layout` run at minibatches of `batch` (what `auto`
 * races), on `gpu` where there is one; errors name `field`.
 */
export async function backendFor(
  gpu: GpuOpening,
  choice: BackendChoice,
  layout: ParamLayout,
  batch: number,
  cpu: CpuPlacement,
  field = 'backend',
): Promise<OpenedBackend> {
  if (choice === 'cpu') return openCpu(layout, cpu, null);
  if ('reason' in gpu) {
    if (choice === 'webgpu') throw new InputError(field, `webgpu is not available: ${gpu.reason}`);
    return openCpu(layout, cpu, `auto: ${gpu.reason}`);
  }
  const { context } = gpu;
  if (choice === 'webgpu') return openWebGpu(context, layout, null, null);
  // No race where the CPU cannot hold the model: WebGPU is tried (it refuses, naming its limit, if it cannot either).
  const cpuProblem = cpuMemoryProblem(layout, batch);
  if (cpuProblem !== null) return openWebGpu(context, layout, `auto: ${cpuProblem}`, null);
  const auto = await chooseBackend(context.adapter, layout, batch, async () => {
    // The race times one variant's training steps: only their pipelines are compiled.
    const webgpu = await createWebGpuBackend(context, layout, { compileAhead: false });
    const racers = [await createCpu(layout, cpu), webgpu] as const;
    try {
      return await raceBackends(racers[0], racers[1], batch);
    } finally {
      await Promise.all(racers.map((racer) => racer.dispose()));
    }
  });
  if (auto.backend === 'cpu') return { ...(await openCpu(layout, cpu, auto.reason)), auto };
  return openWebGpu(context, layout, auto.reason, auto);
}
