// Threads for the CPU backend's fast kernels: a pool of workers that each run kernels.wat's
// threadMain on one shared WebAssembly memory, where FastLstm splits every forward pass, backward
// pass and update (claimed chunks of batch rows, gate columns, ranges of parameters; see
// kernels.wat), and the measurement that picks how many of them a model's training step should use.
// Threads start differently per platform, so a host starts them: nodeThreads.ts (worker_threads) or
// browserThreads.ts (Web Workers, on a cross-origin isolated page).

import { MAX_THREADS } from '../../settings/threads.js';
import type { FastLstm } from './fastLstm.js';
import { compiledKernels, instantiateKernels, type KernelPool, type Kernels, kernelSimd } from './kernelLoader.js';
import type { KernelSimd } from './kernelsWasm.js';

/** What a thread needs to start: the shared-memory kernels, the memory, and its index (1..). */
export interface ThreadStart {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  index: number;
}

export interface ThreadHandle {
  terminate(): void;
}

/**
 * A thread that trains whole members of a population (memberGroup.ts), spoken to by messages: it
 * needs no shared memory, so it runs on a page that is not cross-origin isolated too.
 */
export interface MemberThread {
  /** Posts a message (copied; the transferred buffers move). */
  post(message: unknown, transfer: Transferable[]): void;
  /** Sets the listeners for the thread's messages and for its failure (an error it did not catch, or its end). */
  listen(onMessage: (message: unknown) => void, onFailure: (err: Error) => void): void;
  /** Ends the thread; resolves once it has ended (or soon after). */
  terminate(): Promise<void>;
}

export interface CpuThreadHost {
  /** Logical cores the platform reports. */
  readonly cores: number;
  /** Why threads cannot run here (for example a page that is not cross-origin isolated), or null. */
  problem(): string | null;
  /** Starts one thread running threadMain(index); resolves once it has instantiated the kernels. */
  spawn(start: ThreadStart): Promise<ThreadHandle>;
  /**
   * Starts a member thread (serveMemberGroup); resolves once it listens. A host without it trains a
   * population's members on the calling thread.
   */
  spawnMembers?(): Promise<MemberThread>;
}

/**
 * Why this thread cannot coordinate a pool, or null: it needs shared memory and must be allowed to
 * block in Atomics.wait (a browser's main thread is not; the app runs the CPU backend in a worker).
 */
export function sharedMemoryProblem(): string | null {
  if (typeof SharedArrayBuffer === 'undefined') return 'no SharedArrayBuffer';
  try {
    // Returns 'not-equal' at once where waiting is allowed, throws where it is not.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
  } catch {
    return 'this thread may not wait (Atomics.wait), as on a page’s main thread';
  }
  return null;
}

/** `size` threads, this one included, on one shared memory: FastLstm engines use them one at a time. */
export class CpuThreadPool implements KernelPool {
  readonly size: number;
  /** The kernels' variant every thread runs. */
  readonly simd: KernelSimd;
  readonly memory: WebAssembly.Memory;
  /** The kernels on this thread, on the shared memory (thread 0). */
  readonly kernels: Kernels;
  private handles: ThreadHandle[];

  private constructor(
    size: number,
    simd: KernelSimd,
    memory: WebAssembly.Memory,
    kernels: Kernels,
    handles: ThreadHandle[],
  ) {
    this.size = size;
    this.simd = simd;
    this.memory = memory;
    this.kernels = kernels;
    this.handles = handles;
  }

  /** Starts size - 1 threads (resolves when all run); throws where threads cannot run. */
  static async start(size: number, host: CpuThreadHost, simd: KernelSimd = kernelSimd()): Promise<CpuThreadPool> {
    if (!Number.isInteger(size) || size < 2 || size > MAX_THREADS) {
      throw new RangeError(`a pool holds 2 to ${MAX_THREADS} threads, not ${size}`);
    }
    const problem = host.problem() ?? sharedMemoryProblem();
    if (problem !== null) throw new Error(`CPU threads cannot run here: ${problem}`);
    const module = compiledKernels(simd, 'shared');
    // The maximum is only reserved address space; engines grow the memory to what they carve.
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    const kernels = instantiateKernels(module, memory);
    const started = await Promise.allSettled(
      Array.from({ length: size - 1 }, (_, i) => host.spawn({ module, memory, index: i + 1 })),
    );
    const handles = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed !== undefined) {
      kernels.stopThreads(size);
      for (const handle of handles) handle.terminate();
      throw new Error(`a CPU thread failed to start: ${String(failed.reason)}`);
    }
    return new CpuThreadPool(size, simd, memory, kernels, handles);
  }

  /** Stops and ends every thread; the pool cannot be used after. */
  dispose(): void {
    if (this.handles.length === 0) return;
    this.kernels.stopThreads(this.size);
    for (const handle of this.handles) handle.terminate();
    this.handles = [];
  }
}

/** A single-thread step this long makes a barrier's few microseconds negligible: more threads win. */
const LONG_STEP_MS = 20;
/** Each thread count is timed over runs of at least this long... */
const RUN_MS = 4;
/** ...taking the fastest of this many runs. */
const RUNS = 3;
/** More threads must beat fewer by this factor to be chosen (timings on a busy machine wobble). */
const MARGIN = 0.95;

const measured = new Map<string, number>();

/**
 * The thread count, 1 to engine.maxThreads, that runs this engine's forward and backward passes on
 * batches of B fastest, timed on the first B samples of x, t (one tiny model's step is shorter than
 * the barriers threads need, a large one's is not). Measured once per model shape, batch and pool
 * size, then cached. Leaves the parameters and the optimizer untouched, and the engine on the count.
 */
export function measureThreads(
  engine: FastLstm,
  x: Float32Array,
  t: Float32Array,
  count: number,
  B: number,
  longStepMs = LONG_STEP_MS,
): number {
  const key = JSON.stringify([engine.layout.config, B, engine.maxThreads, engine.simd, longStepMs]);
  const known = measured.get(key);
  if (known !== undefined) {
    engine.threads = known;
    return known;
  }
  const rows = Math.min(B, count);
  engine.loadBatch(x, t, null, 0, rows);
  const step = () => {
    engine.forward(rows);
    engine.loss(rows, 1);
    engine.backward(rows);
  };
  /** One step's time after a warm-up one (code tier-up, caches). */
  const once = (threads: number): number => {
    engine.threads = threads;
    step();
    const start = performance.now();
    step();
    return Math.max(performance.now() - start, 1e-3);
  };
  /** The fastest of RUNS runs of about RUN_MS each, on the count once() set. */
  const best = (firstStep: number): number => {
    const steps = Math.min(200, Math.ceil(RUN_MS / firstStep));
    let fastest = Number.POSITIVE_INFINITY;
    for (let r = 0; r < RUNS; r++) {
      const start = performance.now();
      for (let s = 0; s < steps; s++) step();
      fastest = Math.min(fastest, (performance.now() - start) / steps);
    }
    return fastest;
  };
  let chosen = 1;
  const single = once(1);
  if (single > longStepMs) {
    // Every thread beats one by far; whether the last halves (a core's second hardware thread, say)
    // still help is timed one step each, from all of them down.
    chosen = engine.maxThreads;
    let chosenMs = once(chosen);
    for (let threads = chosen >> 1; threads >= 2; threads >>= 1) {
      const ms = once(threads);
      if (chosenMs < MARGIN * ms) break;
      chosen = threads;
      chosenMs = ms;
    }
  } else {
    let chosenMs = best(single);
    for (let threads = 2; threads <= engine.maxThreads; threads = Math.min(threads * 2, engine.maxThreads)) {
      const ms = best(once(threads));
      if (ms < MARGIN * chosenMs) {
        chosen = threads;
        chosenMs = ms;
      }
      if (threads === engine.maxThreads) break;
    }
  }
  measured.set(key, chosen);
  engine.threads = chosen;
  return chosen;
}
