// The CPU backend with its threads: createCpuBackend starts a pool of threads on the platform's
// host (nodeThreads.ts, browserThreads.ts) and hands it to a CpuBackend, or falls back to one thread
// and says why. `new CpuBackend(layout)` alone runs on one thread.

import type { ParamLayout } from '../../model/layout.js';
import { type CpuThreads, checkThreads, MAX_THREADS } from '../../settings/threads.js';
import { CpuBackend, type CpuKernels, fastKernelsProblem } from './cpuBackend.js';
import type { KernelSimd } from './kernelsWasm.js';
import { type CpuThreadHost, CpuThreadPool } from './threads.js';

export interface CreateCpuBackendOptions {
  kernels?: CpuKernels;
  simd?: KernelSimd;
  /** 1 (the default), a number of threads, or 'auto'. More than one needs `host`. */
  threads?: CpuThreads;
  /** Starts threads on this platform: nodeThreadHost (nodeThreads.ts) or browserThreadHost (browserThreads.ts). */
  host?: CpuThreadHost;
}

/**
 * A CPU backend with its threads started. Where threads cannot run (no host, shared memory not
 * allowed, the reference kernels) it has one, and threadsNote says why when more were asked for.
 */
export async function createCpuBackend(
  layout: ParamLayout,
  options: CreateCpuBackendOptions = {},
): Promise<CpuBackend> {
  const threads = checkThreads(options.threads ?? 1);
  const kernels = options.kernels ?? (fastKernelsProblem() === null ? 'fast' : 'reference');
  const { host } = options;
  const wanted = threads === 'auto' ? Math.min(host?.cores ?? 1, MAX_THREADS) : threads;
  const { simd } = options;
  if (wanted === 1) return new CpuBackend(layout, { kernels, simd });
  const problem =
    kernels === 'reference'
      ? 'the reference kernels run on one thread'
      : host === undefined
        ? 'no way to start threads here'
        : null;
  if (problem !== null) return new CpuBackend(layout, { kernels, simd, threadsNote: `one thread: ${problem}` });
  try {
    const pool = await CpuThreadPool.start(wanted, host as CpuThreadHost, simd);
    return new CpuBackend(layout, { kernels, pool, threads });
  } catch (err) {
    return new CpuBackend(layout, {
      kernels,
      simd,
      threadsNote: `one thread: ${err instanceof Error ? err.message : String(err)}`,
    });
  }
}
