// The CPU backend with its threads: createCpuBackend starts a pool of threads on the platform's
// host (nodeThreads.ts, browserThreads.ts) and hands it to a CpuBackend, or falls back to one thread
// and says why; createCpuPopulation starts member threads for a population of several members, over
// which they spread. `new CpuBackend(layout)` alone runs on one thread.

import type { ParamLayout } from '../../model/layout.js';
import { type CpuThreads, checkThreads, MAX_THREADS } from '../../settings/threads.js';
import { CpuBackend, type CpuKernels, checkMembers, checkPopulationMemory, fastKernelsProblem } from './cpuBackend.js';
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

/**
 * A CPU backend training `members` models together (a Population; population.ts). One member is
 * createCpuBackend's backend, its steps split over threads. Several spread over `threads` threads
 * ('auto': every core), this one and member threads started on `host`, at most one a member; where
 * member threads cannot start (no host, a host without them, a failure) they train on this thread,
 * and threadsNote says why when more were asked for. The members' results are the same either way.
 */
export async function createCpuPopulation(
  layout: ParamLayout,
  members: number,
  options: CreateCpuBackendOptions = {},
): Promise<CpuBackend> {
  checkMembers(members);
  if (members === 1) return createCpuBackend(layout, options);
  // Refused before any thread starts.
  checkPopulationMemory(layout, members);
  const threads = checkThreads(options.threads ?? 1);
  const kernels = options.kernels ?? (fastKernelsProblem() === null ? 'fast' : 'reference');
  const { host, simd } = options;
  const wanted = Math.min(threads === 'auto' ? Math.min(host?.cores ?? 1, MAX_THREADS) : threads, members);
  const alone = (threadsNote: string | null) => new CpuBackend(layout, { kernels, simd, members, threadsNote });
  if (wanted === 1) return alone(null);
  const spawn = host?.spawnMembers?.bind(host);
  if (spawn === undefined) return alone('one thread: no way to start member threads here');
  const started = await Promise.allSettled(Array.from({ length: wanted - 1 }, () => spawn()));
  const memberThreads = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(memberThreads.map((thread) => thread.terminate()));
    const reason = failed.reason instanceof Error ? failed.reason.message : String(failed.reason);
    return alone(`one thread: a member thread failed to start: ${reason}`);
  }
  const capped = typeof threads === 'number' && threads > members ? `${members} threads: one a member` : null;
  const population = new CpuBackend(layout, { kernels, simd, members, memberThreads, threadsNote: capped });
  try {
    // Every member thread has made its engines (the same kernels as this thread's) before training.
    await population.finish();
  } catch (err) {
    await population.dispose();
    return alone(`one thread: a member thread failed to start: ${err instanceof Error ? err.message : String(err)}`);
  }
  return population;
}
