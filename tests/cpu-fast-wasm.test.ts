// The committed WebAssembly (src/backends/cpu/kernelsWasm.ts) is what scripts/build-cpu-kernels.ts
// makes from src/backends/cpu/kernels.wat, so the readable source is the code that runs; and the
// variants differ only where they should.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  compileKernels,
  KERNELS_MODULE,
  KERNELS_WAT,
  kernelsModuleText,
  kernelVariant,
  withoutRelaxedMadd,
} from '../scripts/build-cpu-kernels.js';
import { KERNELS_WASM_BASE64, type KernelMemory, type KernelSimd } from '../src/backends/cpu/kernelsWasm.js';

const VARIANTS: [KernelSimd, KernelMemory][] = [
  ['simd', 'private'],
  ['simd', 'shared'],
  ['relaxedSimd', 'private'],
  ['relaxedSimd', 'shared'],
];

const committed = (simd: KernelSimd, memory: KernelMemory) =>
  Uint8Array.from(atob(KERNELS_WASM_BASE64[simd][memory]), (ch) => ch.charCodeAt(0));

describe('committed CPU kernels', () => {
  it('kernelsWasm.ts holds exactly the bytes compiled from kernels.wat', async () => {
    const bytes = await compileKernels(readFileSync(KERNELS_WAT, 'utf8'));
    for (const [simd, memory] of VARIANTS) {
      expect(Array.from(committed(simd, memory)), `${simd} ${memory}`).toEqual(Array.from(bytes[simd][memory]));
    }
    expect(readFileSync(KERNELS_MODULE, 'utf8')).toBe(kernelsModuleText(bytes));
  });

  it('the plain variant has no relaxed instruction, the private ones no shared memory', () => {
    const source = readFileSync(KERNELS_WAT, 'utf8');
    expect(source).toContain('f32x4.relaxed_madd');
    expect(kernelVariant(source, 'simd', 'shared')).not.toContain('(f32x4.relaxed_madd');
    expect(kernelVariant(source, 'relaxedSimd', 'private')).not.toMatch(/\(memory[^)]*shared/);
    expect(kernelVariant(source, 'simd', 'private')).not.toMatch(/\(memory[^)]*shared/);
  });

  it('writes a multiply-add as a multiply then an add, nested ones included', () => {
    expect(withoutRelaxedMadd('(x (f32x4.relaxed_madd (local.get $a) $b\n  (f32x4.relaxed_madd $c $d $e)))')).toBe(
      '(x (f32x4.add (f32x4.mul (local.get $a) $b) (f32x4.add (f32x4.mul $c $d) $e)))',
    );
  });

  it('every variant Node accepts is valid and exports what fastLstm.ts and the threads call', () => {
    for (const [simd, memory] of VARIANTS) {
      const bytes = committed(simd, memory);
      // Node 20 accepts relaxed SIMD only behind a flag (cpu-fast-relaxed.test.ts runs it with one).
      if (simd === 'relaxedSimd' && !WebAssembly.validate(bytes)) continue;
      expect(WebAssembly.validate(bytes), `${simd} ${memory}`).toBe(true);
      const names = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);
      expect(names.sort()).toEqual(['fail', 'heapBase', 'run', 'stopThreads', 'threadMain']);
    }
  });
});
