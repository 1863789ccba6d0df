// Which backend a CLI command runs on: --backend cpu | webgpu | auto (the default: the faster of the
// two here, at the command's shape and batch, by a short race: src/backends/race.ts; the CPU without an
// adapter), and a line saying which was picked, on what, and why.

import type { AdapterDescription, Backend, BackendName } from '../backends/backend.js';
import { fastKernelsProblem } from '../backends/cpu/cpuBackend.js';
import { createCpuBackend, createCpuPopulation } from '../backends/cpu/createCpuBackend.js';
import { fastLstmBytes, MAX_KERNEL_BYTES } from '../backends/cpu/fastLstm.js';
import { nodeThreadHost } from '../backends/cpu/nodeThreads.js';
import type { Population } from '../backends/population.js';
import { type AutoChoice, chooseBackend, raceBackends } from '../backends/race.js';
import { type GpuContext, requestGpuContext } from '../backends/webgpu/context.js';
import { nodeGpu, nodeGpuLoadFailure } from '../backends/webgpu/nodeGpu.js';
import { createWebGpuBackend, createWebGpuPopulation } from '../backends/webgpu/webgpuBackend.js';
import type { BackendOpener } from '../bench/bench.js';
import { InputError } from '../model/errors.js';
import type { ParamLayout } from '../model/layout.js';
import { DEFAULT_OPTIMIZER } from '../model/optimizer.js';
import type { CpuThreads } from '../settings/threads.js';

export const BACKEND_CHOICES = ['auto', 'cpu', 'webgpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export function describeAdapterLine(adapter: AdapterDescription): string {
  const name = [adapter.vendor, adapter.architecture, adapter.description].filter((s) => s !== '').join(' / ');
  return `${name}${adapter.software ? ' (software emulation on the CPU: correct, not GPU speed)' : ''}`;
}

/** A device for the CLI, or null with the reason. */
async function openGpu(): Promise<{ context: GpuContext } | { reason: string }> {
  const gpu = await nodeGpu();
  if (gpu === null) {
    const failure = nodeGpuLoadFailure();
    if (failure !== null) return { reason: `the webgpu module did not load (${failure})` };
    return { reason: 'no WebGPU adapter (no GPU driver, and no SwiftShader: apt-get install chromium libvulkan1)' };
  }
  const context = await requestGpuContext(gpu.gpu);
  if (context === null) return { reason: 'the WebGPU adapter refused to create a device' };
  return { context };
}

export interface OpenedBackend {
  backend: Backend;
  /** One line for a person: which backend, on what (and for `auto`, why). */
  note: string;
  /** What `auto` measured and chose; null where a backend was named or no adapter exists. */
  auto: AutoChoice | null;
  /** Disposes the backend and whatever device it used. */
  close(): void;
}

/** The CPU backend on `threads` threads of this machine; the note says why where it has fewer. */
async function openCpu(layout: ParamLayout, threads: CpuThreads, why: string | null): Promise<OpenedBackend> {
  const backend = await createCpuBackend(layout, { threads, host: nodeThreadHost });
  const notes = [why, backend.threadsNote].filter((n) => n !== null);
  return {
    backend,
    note: `backend: cpu${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`,
    auto: null,
    close: () => backend.dispose(),
  };
}

/**
 * The backend `choice` names, for a model of `layout` run at minibatches of `batch` (what `auto`
 * races), the CPU on `threads` threads.
 */
export async function openBackend(
  choice: BackendChoice,
  layout: ParamLayout,
  batch: number,
  threads: CpuThreads = 'auto',
): Promise<OpenedBackend> {
  if (choice === 'cpu') return openCpu(layout, threads, null);
  const gpu = await openGpu();
  if ('reason' in gpu) {
    if (choice === 'webgpu') throw new InputError('--backend', `webgpu is not available: ${gpu.reason}`);
    return openCpu(layout, threads, `auto: ${gpu.reason}`);
  }
  const { context } = gpu;
  try {
    let auto: AutoChoice | null = null;
    const cpuProblem = choice === 'auto' ? cpuMemoryProblem(layout, batch) : null;
    if (cpuProblem !== null) {
      // No race: the CPU cannot hold the model, so WebGPU is tried (it refuses, naming its limit, if it cannot either).
      const backend = await createWebGpuBackend(context, layout);
      return {
        backend,
        note: `backend: webgpu (auto: ${cpuProblem}) on ${describeAdapterLine(context.adapter)}`,
        auto: null,
        close: () => {
          backend.dispose();
          context.destroy();
        },
      };
    }
    if (choice === 'auto') {
      auto = await chooseBackend(context.adapter, layout, batch, async () => {
        const cpu = await createCpuBackend(layout, { threads, host: nodeThreadHost });
        const webgpu = await createWebGpuBackend(context, layout);
        try {
          return await raceBackends(cpu, webgpu, batch);
        } finally {
          await Promise.all([cpu.dispose(), webgpu.dispose()]);
        }
      });
      if (auto.backend === 'cpu') {
        context.destroy();
        return { ...(await openCpu(layout, threads, auto.reason)), auto };
      }
    }
    const backend = await createWebGpuBackend(context, layout);
    return {
      backend,
      note: `backend: webgpu${auto === null ? '' : ` (${auto.reason})`} on ${describeAdapterLine(context.adapter)}`,
      auto,
      close: () => {
        backend.dispose();
        context.destroy();
      },
    };
  } catch (err) {
    context.destroy();
    throw err;
  }
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

/** Openers for the benchmark: one device shared by every WebGPU case; the CPU's on `threads` threads. */
export async function backendOpeners(
  backends: BackendName[],
  threads: CpuThreads = 'auto',
): Promise<{
  openers: Partial<Record<BackendName, BackendOpener>>;
  adapter: AdapterDescription | null;
  notes: string[];
  dispose(): void;
}> {
  const openers: Partial<Record<BackendName, BackendOpener>> = {};
  const notes: string[] = [];
  let context: GpuContext | null = null;
  if (backends.includes('cpu')) {
    openers.cpu = (layout, members) => createCpuPopulation(layout, members, { threads, host: nodeThreadHost });
  }
  if (backends.includes('webgpu')) {
    const gpu = await openGpu();
    if ('reason' in gpu) notes.push(`webgpu: skipped, ${gpu.reason}`);
    else {
      const ctx = gpu.context;
      context = ctx;
      openers.webgpu = (layout, members) => createWebGpuPopulation(ctx, layout, members);
      notes.push(`webgpu on ${describeAdapterLine(ctx.adapter)}`);
    }
  }
  return {
    openers,
    adapter: context?.adapter ?? null,
    notes,
    dispose: () => context?.destroy(),
  };
}

export interface OpenedPopulation {
  population: Population;
  /** As OpenedBackend's: which backend, on what (and for `auto`, why). */
  note: string;
  /** What `auto` measured and chose; null where a backend was named or no adapter exists. */
  auto: AutoChoice | null;
}

/** The CPU's population on `threads` threads (its members spread over them); the note says why where it has fewer. */
async function openCpuPopulation(
  layout: ParamLayout,
  members: number,
  threads: CpuThreads,
  why: string | null,
): Promise<OpenedPopulation> {
  const population = await createCpuPopulation(layout, members, { threads, host: nodeThreadHost });
  const notes = [why, population.threadsNote].filter((n) => n !== null);
  const spread =
    members === 1 ? '' : `, ${members} members on ${population.threads} thread${population.threads === 1 ? '' : 's'}`;
  return { population, note: `backend: cpu${spread}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`, auto: null };
}

/**
 * A population of `members` for a model of `layout` at minibatches of `batch`, on the backend
 * `choice` names (`auto` races the two at this shape, batch and members). Disposing of the
 * population frees the device it used.
 */
export async function openPopulation(
  choice: BackendChoice,
  layout: ParamLayout,
  members: number,
  batch: number,
  threads: CpuThreads = 'auto',
): Promise<OpenedPopulation> {
  if (choice === 'cpu') return openCpuPopulation(layout, members, threads, null);
  const gpu = await openGpu();
  if ('reason' in gpu) {
    if (choice === 'webgpu') throw new InputError('--backend', `webgpu is not available: ${gpu.reason}`);
    return openCpuPopulation(layout, members, threads, `auto: ${gpu.reason}`);
  }
  const { context } = gpu;
  try {
    let auto: AutoChoice | null = null;
    if (choice === 'auto') {
      const race = async () => {
        const cpu = await createCpuPopulation(layout, members, { threads, host: nodeThreadHost });
        const webgpu = await createWebGpuPopulation(context, layout, members);
        try {
          return await raceBackends(cpu, webgpu, batch);
        } finally {
          await Promise.all([cpu.dispose(), webgpu.dispose()]);
        }
      };
      auto = await chooseBackend(context.adapter, layout, batch, race, members);
      if (auto.backend === 'cpu') {
        context.destroy();
        return { ...(await openCpuPopulation(layout, members, threads, auto.reason)), auto };
      }
    }
    const population = await createWebGpuPopulation(context, layout, members, { ownsContext: true });
    const spread = members === 1 ? '' : `, ${members} members in the same dispatches`;
    return {
      population,
      note: `backend: webgpu${spread}${auto === null ? '' : ` (${auto.reason})`} on ${describeAdapterLine(context.adapter)}`,
      auto,
    };
  } catch (err) {
    context.destroy();
    throw err;
  }
}
