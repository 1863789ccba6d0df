// Loading the CPU backend's fast kernels (kernels.wat, compiled into kernelsWasm.ts): whether they
// can run here, which variant of the products this engine takes, the compiled module per variant,
// and an instance on a given memory. fastLstm.ts (one engine) and threads.ts (a pool of threads on a
// shared memory) both start from here, and neither imports the other for it.

import { KERNEL_MEMORY } from './kernelMemory.js';
import { KERNELS_WASM_BASE64, type KernelMemory, type KernelSimd } from './kernelsWasm.js';

/** kernels.wat's exports. */
export interface Kernels {
  /** Runs a command (COMMAND in kernelMemory.ts) on the control block's thread count. */
  run(command: number): void;
  /** A pool thread's loop (threads.ts); returns on stopThreads. */
  threadMain(index: number): void;
  stopThreads(count: number): void;
  /** Marks a thread's failure, so no thread waits for it. */
  fail(): void;
  heapBase: WebAssembly.Global;
}

/**
 * The memory and kernels engines run on (FastLstm): a pool of threads' (threads.ts's CpuThreadPool:
 * the shared memory, the kernels instantiated on it for this thread, their variant, and how many
 * threads run them), or one thread's (privateKernels). Engines take turns on it: each keeps its own
 * state beside it while another's is in it (fastLstm.ts).
 */
export interface KernelPool {
  readonly size: number;
  readonly simd: KernelSimd;
  readonly memory: WebAssembly.Memory;
  readonly kernels: Kernels;
}

const modules: Partial<Record<`${KernelSimd} ${KernelMemory}`, WebAssembly.Module>> = {};
let kernelProblem: string | null | undefined;
let simdVariant: KernelSimd | undefined;

function kernelBytes(simd: KernelSimd, memory: KernelMemory): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(KERNELS_WASM_BASE64[simd][memory]), (ch) => ch.charCodeAt(0));
}

/**
 * Why the fast kernels cannot run here, or null when they can. They need WebAssembly with SIMD (every
 * current browser and Node 16.4+) and, on a page with a Content-Security-Policy, 'wasm-unsafe-eval'
 * in its script-src. The module is a few kilobytes, small enough to compile synchronously everywhere.
 */
export function fastKernelsProblem(): string | null {
  if (kernelProblem === undefined) {
    try {
      modules['simd private'] = new WebAssembly.Module(kernelBytes('simd', 'private'));
      kernelProblem = null;
    } catch (err) {
      kernelProblem = typeof WebAssembly === 'undefined' ? 'no WebAssembly' : String(err);
    }
  }
  return kernelProblem;
}

/**
 * The products' variant, chosen once: 'relaxedSimd' (f32x4.relaxed_madd, a fused multiply-add where
 * the processor has one) where the engine validates relaxed SIMD, else 'simd' (multiply, then add).
 */
export function kernelSimd(): KernelSimd {
  simdVariant ??= relaxedSimdValidates() ? 'relaxedSimd' : 'simd';
  return simdVariant;
}

/** Whether this engine accepts the relaxed SIMD kernels now (kernelSimd keeps its first answer). */
export function relaxedSimdValidates(): boolean {
  return WebAssembly.validate(kernelBytes('relaxedSimd', 'private'));
}

/** The compiled kernels of a variant (throws where they cannot run, see fastKernelsProblem). */
export function compiledKernels(simd: KernelSimd, memory: KernelMemory): WebAssembly.Module {
  const problem = fastKernelsProblem();
  if (problem !== null) throw new Error(`the fast CPU kernels cannot run here: ${problem}`);
  if (simd === 'relaxedSimd' && !relaxedSimdValidates()) throw new Error('this engine has no relaxed SIMD');
  const key = `${simd} ${memory}` as const;
  modules[key] ??= new WebAssembly.Module(kernelBytes(simd, memory));
  return modules[key];
}

/**
 * A memory of its own and the private kernels on it, for one thread: the host of every engine of a
 * group of members there (cpuModel.ts's engineFactory), or of one engine. Engines grow it to what
 * they carve. A browser gives a page only so many memories (Chromium about a hundred, each reserving
 * a large virtual region), so a population must not make one a member.
 */
export function privateKernels(simd: KernelSimd): KernelPool {
  const memory = new WebAssembly.Memory({ initial: 1 });
  return { size: 1, simd, memory, kernels: instantiateKernels(compiledKernels(simd, 'private'), memory) };
}

/**
 * What the kernels import: the memory, and a clock for the busy times that weigh the threads'
 * shares. (A pool's threads write the same object inline: nodeThreads.ts, cpuThread.ts.)
 */
export function kernelImports(memory: WebAssembly.Memory): WebAssembly.Imports {
  return { env: { memory, now: () => performance.now() } };
}

/**
 * The kernels on `memory`. Their heap must start where kernelMemory.ts says: both come from one
 * table, so a mismatch means kernelsWasm.ts was not rebuilt after the table changed.
 */
export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): Kernels {
  const kernels = new WebAssembly.Instance(module, kernelImports(memory)).exports as unknown as Kernels;
  if (kernels.heapBase.value !== KERNEL_MEMORY.heapBase) {
    throw new Error(
      `kernels.wat's heap starts at ${kernels.heapBase.value}, kernelMemory.ts says ${KERNEL_MEMORY.heapBase}: ` +
        'rebuild with npx tsx scripts/build-cpu-kernels.ts',
    );
  }
  return kernels;
}
