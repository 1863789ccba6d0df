// `auto` on the page: what it chose at a shape and batch, remembered in this browser (localStorage,
// per adapter, shape and batch) so a run at a known shape starts on its backend without timing, and
// the choice as a plain sentence beside the backend choice.

import type { AdapterDescription, BackendName } from '../backends/backend.js';
import { type AutoChoice, decideBackend, type RaceTimes } from '../backends/race.js';
import type { ModelConfig } from '../model/layout.js';
import { formatNumber } from './columns.js';

const STORAGE_KEY = 'webgpu-lstm/auto-choices';
/** Choices kept at most: the oldest go first. */
const MAX_KEPT = 200;

type Kept = Record<string, { backend: BackendName; ratio: number }>;

function keyOf(adapter: AdapterDescription, config: ModelConfig, batch: number): string {
  return JSON.stringify([adapter.vendor, adapter.architecture, adapter.description, config, batch]);
}

/** Storage may be refused (a private window, a policy): the page's memory then serves alone. */
const inMemory: Kept = {};

function readKept(): Kept {
  try {
    const parsed = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}') as unknown;
    return typeof parsed === 'object' && parsed !== null ? { ...(parsed as Kept), ...inMemory } : { ...inMemory };
  } catch {
    return { ...inMemory };
  }
}

/** The choice made before at this adapter, shape and batch, or null. */
export function rememberedChoice(
  adapter: AdapterDescription,
  config: ModelConfig,
  batch: number,
): { backend: BackendName; ratio: number } | null {
  const kept = readKept()[keyOf(adapter, config, batch)];
  return kept !== undefined && (kept.backend === 'cpu' || kept.backend === 'webgpu') && kept.ratio >= 1 ? kept : null;
}

/** Decides from the two times, and remembers the choice for this adapter, shape and batch. */
export function decideAndRemember(
  times: RaceTimes,
  adapter: AdapterDescription,
  config: ModelConfig,
  batch: number,
): AutoChoice {
  const choice = decideBackend(times, adapter, config, batch);
  const key = keyOf(adapter, config, batch);
  inMemory[key] = { backend: choice.backend, ratio: choice.ratio };
  try {
    const kept = readKept();
    const keys = Object.keys(kept);
    for (const old of keys.slice(0, Math.max(0, keys.length - MAX_KEPT))) delete kept[old];
    localStorage.setItem(STORAGE_KEY, JSON.stringify(kept));
  } catch {
    // Not kept across reloads; the page's memory still has it.
  }
  return choice;
}

/**
 * The choice in words: "auto: the CPU. WebGPU here is a software emulation, about 480× slower than
 * the CPU at hidden 30, batch 8." or "auto: WebGPU, about 3.2× faster than the CPU at hidden 512,
 * batch 64."
 */
export function describeAuto(
  choice: { backend: BackendName; ratio: number },
  software: boolean,
  config: ModelConfig,
  batch: number,
): string {
  const ratio = choice.ratio >= 10 ? Math.round(choice.ratio).toLocaleString('en-US') : formatNumber(choice.ratio);
  const at = `at hidden ${config.hiddenSizes.join(',')}, batch ${batch}`;
  if (choice.backend === 'webgpu') return `auto: WebGPU, about ${ratio}× faster than the CPU ${at}.`;
  const gpu = software ? 'WebGPU here is a software emulation, about' : 'WebGPU on this GPU is about';
  return `auto: the CPU. ${gpu} ${ratio}× slower than the CPU ${at}.`;
}
