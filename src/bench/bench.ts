// The GPU-versus-CPU benchmark: training steps (forward, backward through time, update) per second
// over a sweep of hidden sizes and batch sizes at a fixed window, for any backend. Shared by the CLI
// (`bench`) and the app's Benchmark view. The method (setup and warm-up apart, timed repetitions that
// end when the work is complete, the median and the spread, the per-kernel split) is BENCH_METHOD
// below and the README's "Method".

import Papa from 'papaparse';
import type { AdapterDescription, Backend, BackendName, KernelTimes } from '../backends/backend.js';
import { asPopulation, type Population, sharedRanges } from '../backends/population.js';
import type { Dataset } from '../data/dataset.js';
import { Rng } from '../data/rng.js';
import { InputError } from '../model/errors.js';
import { trainStepFlops } from '../model/flops.js';
import { initParams } from '../model/init.js';
import { type ModelConfig, type ParamLayout, paramLayout } from '../model/layout.js';
import { writeCsv } from '../util/csvWrite.js';

export interface BenchCase {
  backend: BackendName;
  hidden: number;
  batch: number;
  window: number;
  /** Models trained together in each step (a population); absent: 1. */
  members?: number;
}

export interface BenchResult extends BenchCase {
  /** Steps of the whole population (every member's minibatch update) per second. */
  stepsPerSecond: number;
  /** stepsPerSecond × members: the rate at which models take steps. */
  memberStepsPerSecond?: number;
  msPerStep: number;
  /** Fastest and slowest repetition, ms per step. */
  msPerStepMin: number;
  msPerStepMax: number;
  gflops: number;
  /** FLOPs of one training step by trainStepFlops, times the members. */
  flopsPerStep: number;
  dispatchesPerStep: number | null;
  setupMs: number;
  warmupMs: number;
  repetitions: number;
  steps: number;
  /** Set when the case could not run (too large for the device or memory); the rates are then null-like (0). */
  skipped: string | null;
  /**
   * GPU time of a step per kernel group, mean ms, from timestamp queries on separately profiled steps
   * (each group in a pass of its own). Absent where the backend cannot time them (no key rather than
   * null, so that results without it, older ones included, come back from the CSV as they were).
   */
  kernelMs?: KernelTimes;
  /** CPU backend only (absent elsewhere): the threads its steps ran on, and its kernels' SIMD variant. */
  threads?: number;
  simd?: string;
  /**
   * The variant of a GPU training step that calibration chose for this case and the timed steps ran
   * ('fused/software': schedule/tuning); absent on the CPU and in older results.
   */
  variant?: string;
}

export interface BenchOptions {
  /** Minibatch updates per timed repetition. */
  steps: number;
  repetitions: number;
  /** Below this many repetitions a case stops early once it has spent `budgetSeconds`. */
  budgetSeconds: number;
}

/** Opens a backend for a layout, or a population of `members` (a backend is a population of one). */
export type BackendOpener = (layout: ParamLayout, members: number) => Promise<Backend | Population>;

export function benchConfig(c: BenchCase): ModelConfig {
  return { inputSize: 1, hiddenSizes: [c.hidden], outputSize: 1, window: c.window };
}

function randomData(config: ModelConfig, count: number, rng: Rng): Dataset {
  const x = new Float32Array(count * config.window * config.inputSize);
  const t = new Float32Array(count * config.outputSize);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.3) + 0.1 * rng.normal();
  for (let i = 0; i < t.length; i++) t[i] = rng.normal() * 0.5;
  return { count, window: config.window, inputSize: config.inputSize, outputSize: config.outputSize, x, t };
}

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
}

function skippedResult(c: BenchCase, flopsPerStep: number, options: BenchOptions, reason: string): BenchResult {
  return {
    ...c,
    stepsPerSecond: 0,
    msPerStep: 0,
    msPerStepMin: 0,
    msPerStepMax: 0,
    gflops: 0,
    flopsPerStep,
    dispatchesPerStep: null,
    setupMs: 0,
    warmupMs: 0,
    repetitions: 0,
    steps: options.steps,
    skipped: reason,
  };
}

/** A CPU backend's threads and SIMD variant, read structurally (this file is in the page's bundle, the CPU backend is not). */
function cpuDetails(backend: Backend | Population): { threads?: number; simd?: string } {
  const { threads, simd } = backend as { threads?: unknown; simd?: unknown };
  return {
    ...(typeof threads === 'number' ? { threads } : {}),
    ...(typeof simd === 'string' ? { simd } : {}),
  };
}

/** Runs one case; a size the backend cannot hold comes back as skipped with the reason. */
export async function benchCase(
  open: BackendOpener,
  c: BenchCase,
  options: BenchOptions,
  now: () => number = () => performance.now(),
): Promise<BenchResult> {
  const config = benchConfig(c);
  const layout = paramLayout(config);
  const K = c.members ?? 1;
  const flopsPerStep = K * trainStepFlops(config, c.batch);
  const rng = new Rng(1);
  const params = initParams(layout, rng);
  const data = randomData(config, c.batch * options.steps, rng);
  const order = rng.permutation(new Uint32Array(data.count));
  // Every member the same epoch: the work of K models, whatever their weights.
  const epoch = { orders: new Array<Uint32Array>(K).fill(order), learningRates: new Array<number>(K).fill(1e-4) };
  let population: Population | null = null;
  try {
    const setupStart = now();
    population = asPopulation(await open(layout, K));
    const trained = population;
    for (let m = 0; m < K; m++) trained.setMemberParams(m, params);
    trained.setMemberTraining(data, c.batch, sharedRanges(K, data.count));
    // Every case runs the variant this device trains it fastest with, as training would.
    await trained.gpu?.calibrate();
    await trained.readMemberParams(); // uploads done
    const setupMs = now() - setupStart;
    const repetition = async () => {
      await trained.trainMembers(epoch, { evaluate: false });
      await trained.readMemberLosses();
      await trained.finish(); // no error was queued, so this is what waits for the GPU
    };
    const warmStart = now();
    await repetition();
    const warmupMs = now() - warmStart;
    const countersBefore = trained.gpu?.counters() ?? null;
    const times: number[] = [];
    const budgetStart = now();
    for (let r = 0; r < options.repetitions; r++) {
      const start = now();
      await repetition();
      times.push((now() - start) / options.steps);
      if (r >= 2 && (now() - budgetStart) / 1000 > options.budgetSeconds) break;
    }
    const countersAfter = trained.gpu?.counters() ?? null;
    const kernelMs = (await trained.gpu?.profileSteps(options.steps)) ?? null;
    times.sort((a, b) => a - b);
    const msPerStep = median(times);
    const dispatchesPerStep =
      countersBefore !== null && countersAfter !== null
        ? (countersAfter.dispatches - countersBefore.dispatches) / (times.length * options.steps)
        : null;
    return {
      ...c,
      stepsPerSecond: 1000 / msPerStep,
      ...(c.members === undefined ? {} : { memberStepsPerSecond: (1000 * K) / msPerStep }),
      msPerStep,
      msPerStepMin: times[0],
      msPerStepMax: times[times.length - 1],
      gflops: flopsPerStep / (msPerStep * 1e6),
      flopsPerStep,
      dispatchesPerStep,
      setupMs,
      warmupMs,
      repetitions: times.length,
      steps: options.steps,
      skipped: null,
      ...(kernelMs === null ? {} : { kernelMs }),
      ...cpuDetails(trained),
      ...(trained.gpu === null ? {} : { variant: trained.gpu.variantName() }),
    };
  } catch (err) {
    if (err instanceof InputError || err instanceof RangeError) {
      return skippedResult(c, flopsPerStep, options, err.message);
    }
    throw err;
  } finally {
    await population?.dispose();
  }
}

export interface SweepSpec {
  backends: BackendName[];
  hidden: number[];
  batch: number[];
  window: number;
  /** Populations to time (members a step); absent: single models only. */
  members?: number[];
}

export interface BenchReport {
  /** What was measured and how, for anyone reading the JSON later. */
  method: string;
  adapter: AdapterDescription | null;
  options: BenchOptions;
  results: BenchResult[];
}

export const BENCH_METHOD =
  "per case: backend setup (pipelines, shaders, the GPU's calibration of its variants: `variant` names the one " +
  'timed) and one warm-up repetition excluded; then repeated timed ' +
  'repetitions of `steps` minibatch updates (forward, backward through time, SGD), each ending only when ' +
  'the work is complete (the GPU queue done); median ms per step reported with the fastest and slowest; ' +
  'GFLOP/s = trainStepFlops / median time. Where the GPU offers timestamp queries, kernelMs splits a step ' +
  'into forward (projection, recurrence, dense and loss), backward (BPTT, input gradients), weight ' +
  'gradients and update (gradient norm included): GPU time per group, mean ms per step over up to `steps` ' +
  'extra steps run after the timed ones with one compute pass per group (timestamps may be quantised; ' +
  'on SwiftShader they time the CPU emulation, not a GPU).';

/** Runs the sweep case by case (backend-major so a GPU's caches stay warm), reporting each result. */
export async function runSweep(
  spec: SweepSpec,
  openers: Partial<Record<BackendName, BackendOpener>>,
  options: BenchOptions,
  onResult?: (result: BenchResult, index: number, total: number) => void,
): Promise<BenchResult[]> {
  const cases: BenchCase[] = [];
  for (const backend of spec.backends)
    for (const batch of spec.batch)
      for (const hidden of spec.hidden) {
        if (spec.members === undefined) cases.push({ backend, hidden, batch, window: spec.window });
        else for (const members of spec.members) cases.push({ backend, hidden, batch, window: spec.window, members });
      }
  const results: BenchResult[] = [];
  for (const [index, c] of cases.entries()) {
    const open = openers[c.backend];
    const result =
      open === undefined
        ? skippedResult(
            c,
            (c.members ?? 1) * trainStepFlops(benchConfig(c), c.batch),
            options,
            `backend ${c.backend} is not available here`,
          )
        : await benchCase(open, c, options);
    results.push(result);
    onResult?.(result, index, cases.length);
  }
  return results;
}

/** GPU/CPU speed-up per (hidden, batch) where both ran. */
export function speedups(
  results: BenchResult[],
): { hidden: number; batch: number; members?: number; speedup: number }[] {
  const out: { hidden: number; batch: number; members?: number; speedup: number }[] = [];
  for (const gpu of results) {
    if (gpu.backend !== 'webgpu' || gpu.skipped !== null) continue;
    const cpu = results.find(
      (r) =>
        r.backend === 'cpu' &&
        r.skipped === null &&
        r.hidden === gpu.hidden &&
        r.batch === gpu.batch &&
        (r.members ?? 1) === (gpu.members ?? 1),
    );
    if (cpu) {
      out.push({
        hidden: gpu.hidden,
        batch: gpu.batch,
        ...(gpu.members === undefined ? {} : { members: gpu.members }),
        speedup: gpu.stepsPerSecond / cpu.stepsPerSecond,
      });
    }
  }
  return out;
}

/** Smallest hidden size, per batch, from which the GPU is faster than the CPU (null if never). */
export function crossovers(results: BenchResult[]): { batch: number; hidden: number | null }[] {
  const byBatch = new Map<number, { hidden: number; speedup: number }[]>();
  for (const s of speedups(results)) {
    const list = byBatch.get(s.batch) ?? [];
    list.push(s);
    byBatch.set(s.batch, list);
  }
  return [...byBatch.entries()].map(([batch, list]) => {
    list.sort((a, b) => a.hidden - b.hidden);
    let hidden: number | null = null;
    for (let i = list.length - 1; i >= 0 && list[i].speedup > 1; i--) hidden = list[i].hidden;
    return { batch, hidden };
  });
}

const CSV_COLUMNS = [
  'backend',
  'hidden',
  'batch',
  'window',
  'stepsPerSecond',
  'msPerStep',
  'msPerStepMin',
  'msPerStepMax',
  'gflops',
  'flopsPerStep',
  'dispatchesPerStep',
  'setupMs',
  'warmupMs',
  'repetitions',
  'steps',
  'skipped',
] as const;

/** Appended after CSV_COLUMNS (files written before them end at `skipped`): kernelMs, empty when absent. */
const KERNEL_COLUMNS = {
  kernelForwardMs: 'forward',
  kernelBackwardMs: 'backward',
  kernelWeightGradientsMs: 'weightGradients',
  kernelUpdateMs: 'update',
} as const satisfies Record<string, keyof KernelTimes>;
const KERNEL_COLUMN_NAMES = Object.keys(KERNEL_COLUMNS) as (keyof typeof KERNEL_COLUMNS)[];
/** Appended after the kernel columns (CPU results only, empty elsewhere). */
const CPU_COLUMNS = ['threads', 'simd'] as const;
/** Appended after the kernel and CPU columns (GPU results only). */
const VARIANT_COLUMN = 'variant';
/** Appended last (population cases only; empty for a single model's). */
const MEMBER_COLUMNS = ['members', 'memberStepsPerSecond'] as const;
/** The headers files were written with, newest first: each older one is a prefix of the newer. */
const CSV_HEADERS = [
  [...CSV_COLUMNS, ...KERNEL_COLUMN_NAMES, ...CPU_COLUMNS, VARIANT_COLUMN, ...MEMBER_COLUMNS],
  [...CSV_COLUMNS, ...KERNEL_COLUMN_NAMES, ...CPU_COLUMNS, VARIANT_COLUMN],
  [...CSV_COLUMNS, ...KERNEL_COLUMN_NAMES, ...CPU_COLUMNS],
  [...CSV_COLUMNS, ...KERNEL_COLUMN_NAMES],
  [...CSV_COLUMNS],
].map((columns) => columns.join(','));

export function resultsToCsv(results: BenchResult[]): string {
  const text = (value: unknown): string => (value === null || value === undefined ? '' : String(value));
  const rows = results.map((r) => [
    ...CSV_COLUMNS.map((key) => text(r[key])),
    ...KERNEL_COLUMN_NAMES.map((column) => text(r.kernelMs?.[KERNEL_COLUMNS[column]])),
    ...CPU_COLUMNS.map((key) => text(r[key])),
    text(r.variant),
    ...MEMBER_COLUMNS.map((key) => text(r[key])),
  ]);
  const fields = [...CSV_COLUMNS, ...KERNEL_COLUMN_NAMES, ...CPU_COLUMNS, VARIANT_COLUMN, ...MEMBER_COLUMNS];
  return writeCsv(fields, rows);
}

/**
 * Reads back what resultsToCsv wrote, or an older file without the member, variant, CPU or kernel
 * columns (numbers as numbers, empty as null; no kernel times, no kernelMs; no threads, simd, variant
 * or members, none of those keys).
 */
export function resultsFromCsv(text: string): BenchResult[] {
  // papaparse (the project's CSV parser) splits rows and quoted fields; the checks are ours.
  const rows = Papa.parse<string[]>(text.replace(/\r?\n$/, ''), { delimiter: ',', newline: '\n' }).data.map((row) =>
    row.map((cell) => cell.replace(/\r$/, '')),
  );
  const header = rows.shift();
  if (header === undefined || !CSV_HEADERS.includes(header.join(','))) {
    throw new InputError('csv', `expected the header ${CSV_HEADERS[0]}`);
  }
  const numberOrNull = (text: string): number | null => (text === '' ? null : Number(text));
  return rows.map((row) => {
    const record: Record<string, unknown> = {};
    CSV_COLUMNS.forEach((key, i) => {
      const text = row[i] ?? '';
      if (key === 'backend') record[key] = text;
      else if (key === 'skipped') record[key] = text === '' ? null : text;
      else record[key] = numberOrNull(text);
    });
    const kernelMs: Partial<KernelTimes> = {};
    let complete = true;
    KERNEL_COLUMN_NAMES.forEach((column, k) => {
      const value = numberOrNull(row[CSV_COLUMNS.length + k] ?? '');
      if (value === null) complete = false;
      else kernelMs[KERNEL_COLUMNS[column]] = value;
    });
    if (complete) record.kernelMs = kernelMs;
    const at = CSV_COLUMNS.length + KERNEL_COLUMN_NAMES.length;
    const [threads = '', simd = '', variant = '', members = '', memberRate = ''] = row.slice(at);
    if (threads !== '') record.threads = Number(threads);
    if (simd !== '') record.simd = simd;
    if (variant !== '') record.variant = variant;
    if (members !== '') record.members = Number(members);
    if (memberRate !== '') record.memberStepsPerSecond = Number(memberRate);
    return record as unknown as BenchResult;
  });
}
