// The page's handle on a training run or a benchmark sweep, whatever the backend: CPU work lives in a
// Web Worker and is driven by messages; WebGPU work lives on the main thread (the GPU does the work,
// the page only queues it and awaits the read-backs). A run moves between the two (movableRun.ts):
// a WebGPU run whose GPU fails goes on in a CPU worker from its last report (at most one report
// interval is lost and the minibatch orders stay the same), and an `auto` run that started on the
// CPU moves to WebGPU at a report when WebGPU, timed in the background (gpuStepTime), is faster.
//
// Every worker and every WebGPU backend made here is counted while it lives (liveResources), so the
// page, and the tests through it, can see that stop and reset leave nothing running.

import type { Backend, BackendName } from '../backends/backend.js';
import { timeRacer } from '../backends/race.js';
import type { BenchOptions, BenchResult, SweepSpec } from '../bench/bench.js';
import { runSweep } from '../bench/bench.js';
import type { ParamLayout } from '../model/layout.js';
import { startRun } from '../train/run.js';
import type { GpuAccess } from './gpu.js';
import type { MemberForecaster, MemberForecastRequest, MemberForecasts } from './memberForecasts.js';
import {
  movableRun,
  type RunEvents,
  type Segment,
  type SegmentEvents,
  type SegmentStart,
  type SegmentStarter,
  sessionSegment,
  type TrainingRun,
} from './movableRun.js';
import type { FromWorker, RunRequest, ToWorker } from './protocol.js';
import { workerJob } from './workerJob.js';

export type { RunEvents, TrainingRun };

// ---- Live resources ----

export interface LiveResources {
  workers: number;
  gpuBackends: number;
}

const live: LiveResources = { workers: 0, gpuBackends: 0 };
const liveListeners = new Set<() => void>();

export function liveResources(): LiveResources {
  return { ...live };
}

export function onLiveResourcesChange(listener: () => void): void {
  liveListeners.add(listener);
}

function countLive(key: keyof LiveResources, delta: number): void {
  live[key] += delta;
  for (const listener of liveListeners) listener();
}

interface CpuWorker {
  worker: Worker;
  terminate(): void;
}

/** A CPU worker, counted from `counted` (at once, or when a spare is taken) until it is terminated. */
function newWorker(name: string): CpuWorker & { count(): void } {
  const worker = new Worker(new URL('./cpuWorker.ts', import.meta.url), { type: 'module', name });
  let counted = false;
  let alive = true;
  return {
    worker,
    count() {
      if (counted || !alive) return;
      counted = true;
      countLive('workers', 1);
    },
    terminate() {
      if (!alive) return;
      alive = false;
      worker.terminate();
      if (counted) countLive('workers', -1);
    },
  };
}

function spawnWorker(name: string): CpuWorker {
  const made = newWorker(name);
  made.count();
  return made;
}

/**
 * One CPU worker started ahead, while the page is idle, for the next run: loading the worker's
 * module is most of the time from Start to the first step, so a run that takes the spare starts at
 * once. It holds no job and is not counted as live until a run takes it.
 */
let spare: (CpuWorker & { count(): void }) | null = null;

/**
 * Starts the spare worker (at load, and when a run took the last one): making it costs the page
 * little, as the worker loads its module on its own thread.
 */
export function prepareSpareWorker(): void {
  spare ??= newWorker('cpu-training');
}

/** A worker for a run: the spare where there is one (another is readied for the next run), else a new one. */
function runWorker(name: string): CpuWorker {
  const taken = spare;
  if (taken === null) return spawnWorker(name);
  spare = null;
  taken.count();
  // The next spare loads once this run is under way, not while it starts.
  setTimeout(prepareSpareWorker, 2000);
  return taken;
}

/** A WebGPU backend (with `members` above 1, a population of them), counted until it is disposed. */
async function openGpuBackend(
  gpu: GpuAccess,
  layout: Parameters<GpuAccess['createBackend']>[0],
  members = 1,
  options?: Parameters<GpuAccess['createBackend']>[1],
): Promise<Backend> {
  const backend = members > 1 ? await gpu.createPopulation(layout, members) : await gpu.createBackend(layout, options);
  countLive('gpuBackends', 1);
  const dispose = backend.dispose.bind(backend);
  let disposed = false;
  backend.dispose = () => {
    if (!disposed) {
      disposed = true;
      countLive('gpuBackends', -1);
    }
    return dispose();
  };
  return backend;
}

// ---- Training ----

/**
 * A training run (or a forecast) that starts on `first` and can move: to the CPU when the GPU fails
 * (from its last report), and to WebGPU when `auto` finds it faster (at the next report); see
 * movableRun.ts. `gpu` is the page's device, where the run may use WebGPU.
 */
export function startTraining(
  request: RunRequest,
  first: BackendName,
  gpu: GpuAccess | null,
  events: RunEvents,
): TrainingRun {
  const starters: Partial<Record<BackendName, SegmentStarter>> = {
    cpu: (segmentEvents, from) => cpuSegment(request, segmentEvents, from),
  };
  if (gpu !== null && !request.forecastOnly) {
    starters.webgpu = (segmentEvents, from) => gpuSegment(request, gpu, segmentEvents, from);
  }
  return movableRun(first, starters, events);
}

/** CPU training (or a forecast) in a worker, from the start or from `from.resume`; stop terminates the worker. */
function cpuSegment(request: RunRequest, events: SegmentEvents, from: SegmentStart): Segment {
  const { worker, terminate } = runWorker(request.forecastOnly ? 'cpu-forecast' : 'cpu-training');
  let over = false;
  const finish = () => {
    over = true;
    terminate();
  };
  const send = (message: ToWorker) => {
    if (!over) worker.postMessage(message);
  };
  worker.onmessage = (event: MessageEvent<FromWorker>) => {
    if (over) return;
    const message = event.data;
    switch (message.type) {
      case 'report':
        events.onReport(message.snapshot);
        break;
      case 'progress':
        events.onProgress(message.progress);
        break;
      case 'paused':
        events.onPaused();
        break;
      case 'ended':
        finish();
        events.onEnded(message.end);
        break;
      case 'error':
        finish();
        events.onFailed(message.failure);
        break;
    }
  };
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    if (over) return;
    finish();
    events.onFailed({ field: null, message: `the CPU worker failed: ${event.message || 'it could not be loaded'}` });
  };
  send({ type: 'start', request, resume: from.resume, paused: from.paused, inside: from.inside ?? null });
  return {
    pause: () => send({ type: 'pause' }),
    inside: (inside) => send({ type: 'inside', request: inside }),
    resume: () => send({ type: 'resume' }),
    stop: finish,
  };
}

/**
 * A population's members' forecasts at a report, in a worker of their own (memberForecastWorker.ts)
 * rather than on the page's thread, where WebGPU trains them: at K = 256 they are seconds of CPU. The
 * members' packed weights move to it; the forecasts move back.
 */
const forecastsInWorker: MemberForecaster = (request) =>
  workerJob<MemberForecastRequest, MemberForecasts>(
    () =>
      new Worker(new URL('./memberForecastWorker.ts', import.meta.url), { type: 'module', name: 'member-forecasts' }),
    request,
    { transfer: [request.params.buffer as ArrayBuffer], stopped: "the members' forecast worker stopped" },
  );

/**
 * A stretch of the run on the page's WebGPU device. The device lost, or a read-back cut short by it,
 * moves the run to the CPU (movableRun's onGpuFailure); anything else (bad input, a bug) ends the run.
 */
function gpuSegment(request: RunRequest, gpu: GpuAccess, events: SegmentEvents, from: SegmentStart): Segment {
  let told = false;
  const failed = (reason: string) => {
    if (told) return;
    told = true;
    events.onGpuFailure(reason);
  };
  void gpu.lost.then((reason) => failed(`the GPU device was lost (${reason.replace(/\.$/, '')})`));
  return sessionSegment(
    (run) => openGpuBackend(gpu, run.layout, request.forecastOnly ? 1 : request.train.members),
    () => startRun(request.run, request.model),
    request.train,
    {
      ...events,
      // A read-back cut short by a lost device fails before the device says it was lost: give the
      // loss a moment to be the reason told (the first of the two is told).
      onGpuFailure: (reason) => {
        void Promise.race([gpu.lost, new Promise((resolve) => setTimeout(resolve, 500))]).then(() => failed(reason));
      },
    },
    from,
    request.train.members > 1 && !request.forecastOnly
      ? { members: request.train.members, settings: request.run, forecasts: forecastsInWorker }
      : undefined,
  );
}

// ---- Auto: WebGPU timed in the background ----

/** WebGPU's milliseconds a training step at this shape and batch, timed on the page's device. */
export async function gpuStepTime(gpu: GpuAccess, layout: ParamLayout, batch: number): Promise<number> {
  // It times one variant's training steps: only their pipelines are compiled.
  const backend = await openGpuBackend(gpu, layout, 1, { compileAhead: false });
  try {
    return await timeRacer(backend, batch);
  } finally {
    await backend.dispose();
  }
}

// ---- Benchmark sweeps ----

export class SweepCancelled extends Error {
  constructor() {
    super('the sweep was cancelled');
    this.name = 'SweepCancelled';
  }
}

export interface SweepJob {
  /** Every result, in case order; rejects with SweepCancelled after cancel(). */
  done: Promise<BenchResult[]>;
  cancel(): void;
}

type OnResult = (result: BenchResult, index: number, total: number) => void;

/** The CPU cases of a sweep, in a worker (the page stays responsive while the CPU is timed). */
export function cpuSweep(spec: SweepSpec, options: BenchOptions, onResult: OnResult): SweepJob {
  const { worker, terminate } = spawnWorker('cpu-bench');
  const results: BenchResult[] = [];
  let settle: { resolve(results: BenchResult[]): void; reject(err: unknown): void };
  const done = new Promise<BenchResult[]>((resolve, reject) => {
    settle = { resolve, reject };
  });
  worker.onmessage = (event: MessageEvent<FromWorker>) => {
    const message = event.data;
    if (message.type === 'bench-result') {
      results.push(message.result);
      onResult(message.result, message.index, message.total);
    } else if (message.type === 'bench-done') {
      terminate();
      settle.resolve(results);
    } else if (message.type === 'error') {
      terminate();
      settle.reject(new Error(message.failure.message));
    }
  };
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    terminate();
    settle.reject(new Error(`the CPU worker failed: ${event.message || 'it could not be loaded'}`));
  };
  worker.postMessage({ type: 'bench', spec, options } satisfies ToWorker);
  return {
    done,
    cancel: () => {
      terminate();
      settle.reject(new SweepCancelled());
    },
  };
}

/**
 * The WebGPU cases of a sweep, on the page's device; cancel takes effect before the next case.
 * runSweep stops each repetition's clock at the backend's finish(), when the GPU queue is done.
 */
export function gpuSweep(spec: SweepSpec, options: BenchOptions, gpu: GpuAccess, onResult: OnResult): SweepJob {
  let cancelled = false;
  const open = async (layout: Parameters<GpuAccess['createBackend']>[0]) => {
    if (cancelled) throw new SweepCancelled();
    return openGpuBackend(gpu, layout);
  };
  return {
    done: runSweep(spec, { webgpu: open }, options, (result, index, total) => {
      if (!cancelled) onResult(result, index, total);
    }).then((results) => {
      if (cancelled) throw new SweepCancelled();
      return results;
    }),
    cancel: () => {
      cancelled = true;
    },
  };
}
