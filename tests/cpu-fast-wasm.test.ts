// The committed WebAssembly (src/backends/cpu/kernelsWasm.ts) is what scripts/build-cpu-kernels.ts
// makes from src/backends/cpu/kernels.wat and its memory map (kernelMemory.ts, which fastLstm.ts
// reads too), so the readable source is the code that runs; the map holds together and the .wat
// names all of it and nothing else; and the variants differ only where they should.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  compileKernels,
  compileWat,
  KERNEL_MAP,
  KERNELS_MODULE,
  KERNELS_WAT,
  kernelsModuleText,
  kernelVariant,
  memoryMapProblems,
  sourceProblems,
  withMemoryMap,
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

describe('the kernels memory map (kernelMemory.ts)', () => {
  const source = readFileSync(KERNELS_WAT, 'utf8');

  it('holds together: no block or field overlaps another, the heap comes last', () => {
    expect(memoryMapProblems()).toEqual([]);
    const intoMailboxes = { ...KERNEL_MAP, control: { ...KERNEL_MAP.control, splitUnits: 128 } };
    expect(memoryMapProblems(intoMailboxes)).toEqual([
      'control.splitUnits (4 bytes at 128) runs into the end (128 bytes)',
    ]);
    const moreThreads = { ...KERNEL_MAP, threads: 32 };
    expect(memoryMapProblems(moreThreads)).toContain('mailboxes.threads (128 bytes at 0) runs into the end (64 bytes)');
  });

  it('kernels.wat names every entry of the map by name, and only those', () => {
    expect(sourceProblems(source)).toEqual([]);
    // Deliberate mismatches: an address written as its number, a layer field by its offset, a name
    // the map lacks, the optimizers out of the map's order.
    expect(sourceProblems(source.replace('(i32.const {control.threads})', '(i32.const 324)'))).toEqual([
      expect.stringMatching(/^kernels\.wat:\d+: i32\.load at the bare address 324, name it$/),
      expect.stringMatching(/^kernels\.wat:\d+: 324 is \{control\.threads\}, name it$/),
    ]);
    expect(sourceProblems(source.replaceAll('offset={layer.gy}', 'offset=48'))).toContain(
      'kernels.wat never uses {layer.gy}',
    );
    expect(() => withMemoryMap(source.replace('{model.dcRow}', '{model.dcRows}'))).toThrow(
      /\{model\.dcRows\} is not in the memory map[\s\S]*never uses \{model\.dcRow\}/,
    );
    expect(sourceProblems(source.replace('$sgd $momentum $adam', '$momentum $sgd $adam'))).toEqual([
      "the update's br_table must list $sgd $momentum $adam in the order of OPTIMIZER_CODE",
    ]);
  });

  it('the committed bytes change with the table: a table kernelsWasm.ts was not rebuilt for fails', async () => {
    const { params, grads } = KERNEL_MAP.model;
    const swapped = { ...KERNEL_MAP, model: { ...KERNEL_MAP.model, params: grads, grads: params } };
    const bytes = await compileWat(kernelVariant(withMemoryMap(source, swapped), 'simd', 'private'));
    expect(Array.from(bytes)).not.toEqual(Array.from(committed('simd', 'private')));
  });
});
