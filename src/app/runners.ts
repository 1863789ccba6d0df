// The page's handle on a training run or a benchmark sweep, whatever the backend: CPU work lives in a
// Web Worker and is driven by messages; WebGPU work lives on the main thread (the GPU does the work,
// the page only queues it and awaits the read-backs). A WebGPU run whose GPU fails (a lost device)
// goes on in a CPU worker from its last report: the weights and the generator read back there, so at
// most one report interval is lost and the minibatch orders stay the same.
//
// Every worker and every WebGPU backend made here is counted while it lives (liveResources), so the
// page, and the tests through it, can see that stop and reset leave nothing running.

import { type Backend, type BackendName, GpuFailure } from '../backends/backend.js';
import { type AutoChoice, chooseBackend, timeRacer } from '../backends/race.js';
import type { BenchOptions, BenchResult, SweepSpec } from '../bench/bench.js';
import { runSweep } from '../bench/bench.js';
import type { ParamLayout } from '../model/layout.js';
import type { CpuThreads } from '../settings/threads.js';
import { startRun } from '../train/run.js';
import type { EpochProgress } from '../train/trainer.js';
import { describeFailure } from './failure.js';
import type { GpuAccess } from './gpu.js';
import type { FromWorker, RunFailure, RunRequest, ToWorker } from './protocol.js';
import { type ResumePoint, RunControl, resumePointOf, runSession, type SessionEnd, type Snapshot } from './session.js';

export interface RunEvents {
  onReport(snapshot: Snapshot): void;
  /** How far a long epoch has got (between reports). */
  onProgress(progress: EpochProgress): void;
  /** The run has reached a report and is waiting to be resumed. */
  onPaused(): void;
  onEnded(end: SessionEnd): void;
  onFailed(failure: RunFailure): void;
  /** A WebGPU run goes on with the CPU backend from its last report at `fromEpoch` (0: from the start). */
  onSwitched(reason: string, fromEpoch: number): void;
}

export interface TrainingRun {
  /** The backend training now: a WebGPU run that lost its GPU goes on on the CPU. */
  readonly backend: BackendName;
  pause(): void;
  resume(): void;
  /** Stops at once from the page's point of view: no event follows. */
  stop(): void;
  /** Moves a WebGPU run to the CPU now (the page heard that the device was lost). */
  fallBack(reason: string): void;
}

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

/** A CPU worker, counted until it is terminated. */
function spawnWorker(name: string): { worker: Worker; terminate(): void } {
  const worker = new Worker(new URL('./cpuWorker.ts', import.meta.url), { type: 'module', name });
  countLive('workers', 1);
  let alive = true;
  return {
    worker,
    terminate() {
      if (!alive) return;
      alive = false;
      worker.terminate();
      countLive('workers', -1);
    },
  };
}

/** A WebGPU backend, counted until it is disposed. */
async function openGpuBackend(gpu: GpuAccess, layout: Parameters<GpuAccess['createBackend']>[0]): Promise<Backend> {
  const backend = await gpu.createBackend(layout);
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
 * CPU training (or a forecast) in a worker, from the start or from `from.resume`; stop terminates
 * the worker, so it ends even mid-interval.
 */
export function startCpuRun(
  request: RunRequest,
  events: RunEvents,
  from: { resume?: ResumePoint; paused?: boolean } = {},
): TrainingRun {
  const { worker, terminate } = spawnWorker(request.forecastOnly ? 'cpu-forecast' : 'cpu-training');
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
  send({ type: 'start', request, resume: from.resume, paused: from.paused });
  return {
    backend: 'cpu',
    pause: () => send({ type: 'pause' }),
    resume: () => send({ type: 'resume' }),
    stop: finish,
    fallBack: () => {},
  };
}

/**
 * A run on the page's WebGPU device, which goes on in a CPU worker when the GPU fails (the device is
 * lost, a read-back is cut short): from the last report's weights and generator, paused if it was.
 * Only a GpuFailure falls back; anything else (bad input, a bug) ends the run with its message.
 */
export function startGpuRun(request: RunRequest, gpu: GpuAccess, events: RunEvents): TrainingRun {
  let phase: 'gpu' | 'cpu' | 'over' = 'gpu';
  let paused = false;
  let last: ResumePoint | undefined;
  const losses: number[] = [];
  let cpu: TrainingRun | null = null;
  const control = new RunControl(() => {
    if (phase === 'gpu') events.onPaused();
  });

  const fallBack = (reason: string) => {
    if (phase !== 'gpu') return;
    phase = 'cpu';
    control.stop();
    events.onSwitched(reason, last?.epoch ?? 0);
    cpu = startCpuRun(request, events, { resume: last, paused });
  };

  let backend: Backend | null = null;
  const train = async () => {
    try {
      const run = startRun(request.run, request.model);
      backend = await openGpuBackend(gpu, run.layout);
      if (phase !== 'gpu') return;
      const onEpochProgress = (progress: EpochProgress) => {
        if (phase === 'gpu') events.onProgress(progress);
      };
      const end = await runSession(backend, run, { ...request.train, onEpochProgress }, control, (snapshot) => {
        if (phase !== 'gpu') return;
        losses.push(...snapshot.newLosses);
        if (!snapshot.done) last = resumePointOf(snapshot, losses);
        events.onReport(snapshot);
      });
      if (phase === 'gpu') {
        phase = 'over';
        events.onEnded(end);
      }
    } catch (err) {
      if (phase !== 'gpu') return;
      if (!(err instanceof GpuFailure)) {
        phase = 'over';
        events.onFailed(describeFailure(err));
      } else {
        // A read-back cut short by a lost device fails before the device says it was lost: give
        // the loss a moment to be the reason told (fallBack runs once, whichever comes first).
        await Promise.race([gpu.lost, new Promise((resolve) => setTimeout(resolve, 500))]);
        fallBack(`WebGPU failed: ${describeFailure(err).message}`);
      }
    } finally {
      void backend?.dispose();
    }
  };
  void gpu.lost.then((reason) => fallBack(`the GPU device was lost (${reason.replace(/\.$/, '')})`));
  void train();

  return {
    get backend(): BackendName {
      return phase === 'cpu' ? 'cpu' : 'webgpu';
    },
    pause: () => {
      paused = true;
      if (cpu) cpu.pause();
      else control.pause();
    },
    resume: () => {
      paused = false;
      if (cpu) cpu.resume();
      else control.resume();
    },
    stop: () => {
      phase = 'over';
      control.stop();
      // Ends the GPU's work between two slices of an epoch, not at the next report.
      void backend?.dispose();
      cpu?.stop();
    },
    fallBack,
  };
}

// ---- Auto: the race ----

/** The CPU's half of the race, in a worker of its own (the page's CSP keeps WebAssembly off the page). */
function cpuRaceTime(layout: ParamLayout, batch: number, threads: CpuThreads): Promise<number> {
  const { worker, terminate } = spawnWorker('cpu-race');
  return new Promise<number>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      terminate();
      if (message.type === 'race-time') resolve(message.msPerStep);
      else if (message.type === 'error') reject(new Error(`the CPU's race failed: ${message.failure.message}`));
      else reject(new Error(`the CPU's race answered ${message.type}`));
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      terminate();
      reject(new Error(`the CPU worker failed: ${event.message || 'it could not be loaded'}`));
    };
    worker.postMessage({ type: 'race', config: layout.config, batch, threads } satisfies ToWorker);
  });
}

/** WebGPU's half of the race, on the page's device. */
async function gpuRaceTime(gpu: GpuAccess, layout: ParamLayout, batch: number): Promise<number> {
  const backend = await openGpuBackend(gpu, layout);
  try {
    return await timeRacer(backend, batch);
  } finally {
    await backend.dispose();
  }
}

/**
 * What `auto` trains on at this shape and batch: the remembered choice for the page's adapter, or a
 * race's (the CPU timed in its worker, then WebGPU on the page, one after the other so neither slows
 * the other), with the CLI's decision and reason; `onRace` hears that a race begins.
 */
export function chooseAutoBackend(
  gpu: GpuAccess,
  layout: ParamLayout,
  batch: number,
  threads: CpuThreads,
  onRace: () => void,
): Promise<AutoChoice> {
  return chooseBackend(gpu.adapter, layout, batch, async () => {
    onRace();
    return { cpu: await cpuRaceTime(layout, batch, threads), webgpu: await gpuRaceTime(gpu, layout, batch) };
  });
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
