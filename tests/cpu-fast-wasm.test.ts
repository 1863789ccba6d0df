// The committed WebAssembly (src/backends/cpu/kernelsWasm.ts) is what scripts/build-cpu-kernels.ts
// makes from src/backends/cpu/kernels.wat, so the readable source is the code that runs.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileWat, KERNELS_MODULE, KERNELS_WAT, kernelsModuleText } from '../scripts/build-cpu-kernels.js';
import { KERNELS_WASM_BASE64 } from '../src/backends/cpu/kernelsWasm.js';

describe('committed CPU kernels', () => {
  it('kernelsWasm.ts holds exactly the bytes compiled from kernels.wat', async () => {
    const bytes = await compileWat(readFileSync(KERNELS_WAT, 'utf8'));
    const committed = Uint8Array.from(atob(KERNELS_WASM_BASE64), (ch) => ch.charCodeAt(0));
    expect(Array.from(committed)).toEqual(Array.from(bytes));
    expect(readFileSync(KERNELS_MODULE, 'utf8')).toBe(kernelsModuleText(bytes));
  });

  it('is a valid module exporting the kernels fastLstm.ts calls', () => {
    const committed = Uint8Array.from(atob(KERNELS_WASM_BASE64), (ch) => ch.charCodeAt(0));
    expect(WebAssembly.validate(committed)).toBe(true);
    const names = WebAssembly.Module.exports(new WebAssembly.Module(committed)).map((e) => e.name);
    expect(names.sort()).toEqual([
      'adam',
      'cellBackward',
      'cellForward',
      'gemm',
      'heapBase',
      'momentum',
      'ones',
      'sgd',
      'transpose',
    ]);
  });
});
