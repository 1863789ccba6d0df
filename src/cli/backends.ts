// Which backend a CLI command runs on: --backend cpu | webgpu | auto (the default: the faster of the
// two here, at the command's shape and batch, by a short race: src/backends/race.ts; the CPU without an
// adapter), and a line saying which was picked, on what, and why. A single model's backend is opened
// as the library opens it (src/lib/backends.ts); populations and the benchmark's openers here.

import type { AdapterDescription, BackendName } from '../backends/backend.js';
import { createCpuPopulation } from '../backends/cpu/createCpuBackend.js';
import { nodeThreadHost } from '../backends/cpu/nodeThreads.js';
import type { Population } from '../backends/population.js';
import { type AutoChoice, chooseBackend, raceBackends } from '../backends/race.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { createWebGpuPopulation } from '../backends/webgpu/webgpuBackend.js';
import type { BackendOpener } from '../bench/bench.js';
import {
  BACKEND_CHOICES,
  type BackendChoice,
  backendFor,
  cpuMemoryProblem,
  describeAdapterLine,
  type GpuOpening,
  type OpenedBackend,
} from '../lib/backends.js';
import { nodePlatform } from '../lib/nodePlatform.js';
import { InputError } from '../model/errors.js';
import { trainStepFlops } from '../model/flops.js';
import type { ParamLayout } from '../model/layout.js';
import type { CpuThreads } from '../settings/threads.js';

export { BACKEND_CHOICES, type BackendChoice, cpuMemoryProblem, describeAdapterLine, type OpenedBackend };

/** A device for the CLI, or null with the reason: the library's Node platform. */
const openGpu = nodePlatform.openGpu;

/**
 * The backend `choice` names, for a model of `layout` run at minibatches of `batch` (what `auto`
 * races), the CPU on `threads` threads: the library's backendFor on Node's platform. The GPU device
 * goes as soon as the CPU is chosen, and with the backend otherwise.
 */
export async function openBackend(
  choice: BackendChoice,
  layout: ParamLayout,
  batch: number,
  threads: CpuThreads = 'auto',
): Promise<OpenedBackend> {
  const gpu: GpuOpening = choice === 'cpu' ? { reason: 'cpu was chosen' } : await openGpu();
  const destroy = () => {
    if ('context' in gpu) gpu.context.destroy();
  };
  try {
    const opened = await backendFor(gpu, choice, layout, batch, { threads, host: nodeThreadHost }, '--backend');
    if (opened.backend.name === 'cpu') destroy();
    return {
      ...opened,
      close: () => {
        opened.close();
        destroy();
      },
    };
  } catch (err) {
    destroy();
    throw err;
  }
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
      auto = await raceOn(context, layout, members, batch, threads);
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

/** `auto`'s race of the two backends at this population (remembered per adapter, shape, batch and members). */
function raceOn(
  context: GpuContext,
  layout: ParamLayout,
  members: number,
  batch: number,
  threads: CpuThreads,
): Promise<AutoChoice> {
  const race = async () => {
    const cpu = await createCpuPopulation(layout, members, { threads, host: nodeThreadHost });
    // The race times one variant's training steps: only their pipelines are compiled.
    const webgpu = await createWebGpuPopulation(context, layout, members, { compileAhead: false });
    try {
      return await raceBackends(cpu, webgpu, batch);
    } finally {
      await Promise.all([cpu.dispose(), webgpu.dispose()]);
    }
  };
  return chooseBackend(context.adapter, layout, batch, race, members);
}

/** A population's work: what a step of all its members costs, to compare populations of other shapes. */
function populationFlops(layout: ParamLayout, members: number, batch: number): number {
  return members * trainStepFlops(layout.config, batch);
}

/** `auto`'s race at a population, or null without an adapter (then nothing is decided). */
export type AutoRace = (layout: ParamLayout, members: number, batch: number) => Promise<AutoChoice | null>;

/** A race on a device of its own, given back after it. */
async function raceAlone(
  layout: ParamLayout,
  members: number,
  batch: number,
  threads: CpuThreads,
): Promise<AutoChoice | null> {
  const gpu = await openGpu();
  if ('reason' in gpu) return null;
  try {
    return await raceOn(gpu.context, layout, members, batch, threads);
  } finally {
    gpu.context.destroy();
  }
}

/**
 * Opens the populations of one command one after another (a search's shapes, its chosen ensemble, a
 * backtest's folds) on one backend choice. Under `auto`, a race the CPU won at a population decides
 * every later population of no more work a step without a race of its own: a GPU's edge grows with
 * the work of a step, so the CPU that wins the larger wins the smaller, and a race costs more than its
 * own time where the adapter is software (the WebGPU racer compiles its pipelines on the CPU first).
 * A search races its largest shape first (`raceFirst`), so that the CPU's win there decides the grid.
 */
export class PopulationOpener {
  /** The note of the population opened last (which backend, on what, and why). */
  note = '';
  private cpuWon: { flops: number; reason: string } | null = null;

  constructor(
    private readonly choice: BackendChoice,
    private readonly threads: CpuThreads,
    private readonly race: AutoRace = (layout, members, batch) => raceAlone(layout, members, batch, threads),
  ) {}

  /** Under `auto`, races at this population now, so that every later one of no more work follows a CPU win. */
  async raceFirst(layout: ParamLayout, members: number, batch: number): Promise<void> {
    if (this.choice !== 'auto') return;
    const auto = await this.race(layout, members, batch);
    if (auto !== null) this.remember(auto, layout, members, batch);
  }

  /** The reason of an earlier CPU win that decides this population without a race, or null. */
  decidedBy(layout: ParamLayout, members: number, batch: number): string | null {
    const won = this.cpuWon;
    if (this.choice !== 'auto' || won === null) return null;
    return populationFlops(layout, members, batch) <= won.flops ? won.reason : null;
  }

  async open(layout: ParamLayout, members: number, batch: number): Promise<OpenedPopulation> {
    const decided = this.decidedBy(layout, members, batch);
    const opened =
      decided === null
        ? await openPopulation(this.choice, layout, members, batch, this.threads)
        : await openCpuPopulation(layout, members, this.threads, decided);
    if (opened.auto !== null) this.remember(opened.auto, layout, members, batch);
    this.note = opened.note;
    return opened;
  }

  private remember(auto: AutoChoice, layout: ParamLayout, members: number, batch: number): void {
    if (auto.backend !== 'cpu') return;
    const flops = populationFlops(layout, members, batch);
    if (this.cpuWon === null || flops > this.cpuWon.flops) this.cpuWon = { flops, reason: auto.reason };
  }
}
