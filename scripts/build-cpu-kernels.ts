// Compiles src/backends/cpu/kernels.wat (WebAssembly text) into src/backends/cpu/kernelsWasm.ts, a
// committed module holding the bytes, so that Node, the browser and Web Workers load the kernels with
// no build step and no network. Run after editing the .wat or its memory map (kernelMemory.ts):
//   npx tsx scripts/build-cpu-kernels.ts
// tests/cpu-fast-wasm.test.ts checks that the committed bytes are what this script makes.
//
// One memory map: kernels.wat names every address, offset and code of kernelMemory.ts in braces
// ({control.threads}, offset={layer.gy}, {command.stop}); this script checks the map (no block or
// field overlaps another) and the .wat (every name is in the map, every entry of the map is used,
// no address is written as a bare number), then writes the map's numbers in. fastLstm.ts reads the
// same table, so the two sides cannot drift apart.
//
// One source, four variants: the products by f32x4.relaxed_madd as written ('relaxedSimd', for
// engines with relaxed SIMD) or by f32x4.mul then f32x4.add ('simd', everywhere else), each on a
// shared memory (threads) or a private one (one thread, where shared memory is not allowed).

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import wabtInit from 'wabt';
import {
  ACTIVATE_FORMS,
  COMMAND,
  CONSTANTS,
  CONTROL,
  FORM,
  FORM_BYTES,
  GEMM_PANEL,
  KERNEL_MEMORY,
  KERNEL_THREADS,
  LAYER_ENTRY,
  LAYER_ENTRY_BYTES,
  MODEL,
  OPTIMIZER_CODE,
  PER_THREAD_BYTES,
} from '../src/backends/cpu/kernelMemory.js';
import type { KernelMemory, KernelSimd } from '../src/backends/cpu/kernelsWasm.js';

const cpuDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'backends', 'cpu');
export const KERNELS_WAT = join(cpuDir, 'kernels.wat');
export const KERNELS_MODULE = join(cpuDir, 'kernelsWasm.ts');

const SHARED_MEMORY = '(memory (import "env" "memory") 1 65536 shared)';
const PRIVATE_MEMORY = '(memory (import "env" "memory") 1)';
const RELAXED_MADD = '(f32x4.relaxed_madd';

const FEATURES = { simd: true, relaxed_simd: true, threads: true };

/** The binary of a WebAssembly text module; throws with wabt's message if it is invalid. */
export async function compileWat(source: string, fileName = 'kernels.wat'): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.parseWat(fileName, source, FEATURES);
  try {
    // wabt's typings omit validate's features argument; without it, shared memory does not validate.
    (module.validate as (features: typeof FEATURES) => void)(FEATURES);
    return module.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    module.destroy();
  }
}

/** The end (exclusive) of the s-expression that starts at `start` (an opening parenthesis). */
function expressionEnd(source: string, start: number): number {
  let depth = 0;
  for (let at = start; at < source.length; at++) {
    if (source[at] === '(') depth++;
    else if (source[at] === ')' && --depth === 0) return at + 1;
  }
  throw new Error(`unbalanced parentheses from offset ${start}`);
}

/** Every (f32x4.relaxed_madd a b c) written as (f32x4.add (f32x4.mul a b) c): the same value, rounded twice. */
export function withoutRelaxedMadd(source: string): string {
  let out = '';
  let from = 0;
  for (let at = source.indexOf(RELAXED_MADD); at >= 0; at = source.indexOf(RELAXED_MADD, from)) {
    const end = expressionEnd(source, at);
    const operands: string[] = [];
    for (let p = at + RELAXED_MADD.length; operands.length < 3; ) {
      while (/\s/.test(source[p])) p++;
      const operandEnd = source[p] === '(' ? expressionEnd(source, p) : source.slice(p).search(/[\s)]/) + p;
      operands.push(withoutRelaxedMadd(source.slice(p, operandEnd)));
      p = operandEnd;
    }
    out += `${source.slice(from, at)}(f32x4.add (f32x4.mul ${operands[0]} ${operands[1]}) ${operands[2]})`;
    from = end;
  }
  return out + source.slice(from);
}

/** The text of one variant (of the source, before or after the map's numbers are written in). */
export function kernelVariant(source: string, simd: KernelSimd, memory: KernelMemory): string {
  if (source.split(SHARED_MEMORY).length !== 2) throw new Error(`kernels.wat must declare ${SHARED_MEMORY} once`);
  const withMemory = memory === 'shared' ? source : source.replace(SHARED_MEMORY, PRIVATE_MEMORY);
  return simd === 'relaxedSimd' ? withMemory : withoutRelaxedMadd(withMemory);
}

type Fields = Readonly<Record<string, number>>;

/** kernelMemory.ts as one value, so that the tests can check a changed copy. */
export interface KernelMap {
  threads: number;
  blocks: Fields;
  perThreadBytes: Fields;
  constants: Fields;
  forms: Fields;
  form: Fields;
  formBytes: number;
  control: Fields;
  model: Fields;
  layerEntry: Fields;
  layerEntryBytes: number;
  command: Fields;
  optimizerCode: Fields;
  gemmPanel: number;
}

export const KERNEL_MAP: KernelMap = {
  threads: KERNEL_THREADS,
  blocks: KERNEL_MEMORY,
  perThreadBytes: PER_THREAD_BYTES,
  constants: CONSTANTS,
  forms: ACTIVATE_FORMS,
  form: FORM,
  formBytes: FORM_BYTES,
  control: CONTROL,
  model: MODEL,
  layerEntry: LAYER_ENTRY,
  layerEntryBytes: LAYER_ENTRY_BYTES,
  command: COMMAND,
  optimizerCode: OPTIMIZER_CODE,
  gemmPanel: GEMM_PANEL,
};

/** The names kernels.wat may write in braces, and their numbers: absolute addresses, offsets, codes. */
export function mapSymbols(map: KernelMap = KERNEL_MAP): Map<string, number> {
  const symbols = new Map<string, number>();
  const add = (prefix: string, fields: Fields, base = 0) => {
    for (const [name, offset] of Object.entries(fields)) symbols.set(`${prefix}.${name}`, base + offset);
  };
  add('constants', map.constants, map.blocks.constants);
  add('constants', map.forms, map.blocks.constants);
  for (const [name, at] of Object.entries(map.forms)) add(`constants.${name}`, map.form, map.blocks.constants + at);
  add('form', map.form);
  add('control', map.control, map.blocks.control);
  add('model', map.model, map.blocks.model);
  for (const name of [...Object.keys(map.perThreadBytes), 'heapBase']) symbols.set(name, map.blocks[name]);
  add('layer', map.layerEntry);
  symbols.set('layerEntry.bytes', map.layerEntryBytes);
  symbols.set('layerEntry.shift', Math.log2(map.layerEntryBytes));
  add('command', map.command);
  symbols.set('gemm.panelMask', map.gemmPanel - 1);
  symbols.set('gemm.panelShift', Math.log2(map.gemmPanel));
  return symbols;
}

interface Extent {
  name: string;
  at: number;
  bytes: number;
}

/** Where `extents` overlap each other or run past `size` bytes, or sit off their alignment. */
function extentProblems(where: string, extents: Extent[], size: number): string[] {
  const problems: string[] = [];
  const sorted = [...extents].sort((a, b) => a.at - b.at);
  sorted.forEach(({ name, at, bytes }, i) => {
    const end = i + 1 < sorted.length ? sorted[i + 1].at : size;
    if (at < 0 || at + bytes > end) {
      const next = i + 1 < sorted.length ? sorted[i + 1].name : `the end (${size} bytes)`;
      problems.push(`${where}.${name} (${bytes} bytes at ${at}) runs into ${next}`);
    }
    if (at % Math.min(bytes, 16) !== 0) problems.push(`${where}.${name} at ${at} is not aligned to its size`);
  });
  return problems;
}

const isPowerOfTwo = (n: number) => Number.isInteger(Math.log2(n));

/** Everything wrong with a memory map: blocks or fields overlapping, misaligned, out of order. */
export function memoryMapProblems(map: KernelMap = KERNEL_MAP): string[] {
  const words = (fields: Fields): Extent[] => Object.entries(fields).map(([name, at]) => ({ name, at, bytes: 4 }));
  const vectors = (fields: Fields): Extent[] => words(fields).map((field) => ({ ...field, bytes: 16 }));
  const contents: Record<string, Extent[]> = {
    constants: [...vectors(map.constants), ...words(map.forms).map((form) => ({ ...form, bytes: map.formBytes }))],
    control: words(map.control),
    model: words(map.model),
  };
  for (const [name, bytes] of Object.entries(map.perThreadBytes)) {
    contents[name] = [{ name: 'threads', at: 0, bytes: map.threads * bytes }];
  }
  const { heapBase } = map.blocks;
  const blocks = Object.entries(map.blocks).filter(([name]) => name !== 'heapBase');
  const problems = extentProblems(
    'memory',
    blocks.map(([name, at]) => ({ name, at, bytes: 16 })),
    heapBase,
  );
  blocks.forEach(([name, at]) => {
    const later = blocks.map(([, b]) => b).filter((b) => b > at);
    const size = Math.min(heapBase, ...later) - at;
    if (contents[name] === undefined) problems.push(`memory.${name}: the map says nothing of what it holds`);
    else problems.push(...extentProblems(name, contents[name], size));
  });
  if (heapBase % 64 !== 0) problems.push(`heapBase ${heapBase} is not a multiple of 64 (fastLstm.ts's regions)`);
  problems.push(...extentProblems('form', vectors(map.form), map.formBytes));
  problems.push(...extentProblems('layer', words(map.layerEntry), map.layerEntryBytes));
  if (!isPowerOfTwo(map.layerEntryBytes)) problems.push(`layerEntryBytes ${map.layerEntryBytes} is not a power of two`);
  if (!isPowerOfTwo(map.gemmPanel)) problems.push(`gemmPanel ${map.gemmPanel} is not a power of two`);
  const codes = Object.values(map.command);
  if (new Set(codes).size !== codes.length) problems.push('command codes must differ');
  if (Object.values(map.optimizerCode).some((code, i) => code !== i)) {
    problems.push("optimizer codes must be 0, 1, 2... (the update's br_table)");
  }
  return problems;
}

/** Each line's code (before its ;; comment): the map's names count only there. */
function codeOf(source: string): string[] {
  return source.split('\n').map((line) => line.split(';;')[0]);
}

const SYMBOL = /\{([A-Za-z][\w.]*)\}/g;
const MEMORY_OP =
  /\(((?:[if](?:32|64)|v128)\.(?:atomic\.)?(?:load|store|rmw)[\w.]*)(?:\s+(?:offset|align)=\S+)*\s+\(i32\.const (\d+)\)/g;
const LAYER_OFFSET = /offset=(\d+)\s+\((?:i32\.sub\s+\()?local\.get \$layer\b/g;
const NUMBER = /(?:\(i32\.const |offset=)(\d+)\b/g;
const OPTIMIZER_TABLE = /\(br_table ((?:\$\w+\s+)+)\(i32\.load \(i32\.const \{control\.optimizer\}\)\)/;

/**
 * Where kernels.wat and the map disagree: a name the map lacks, an entry it never uses, an address
 * written as a number (a memory access at a constant address, a layer entry's field by its offset, a
 * number that is one of the map's addresses from the control block up), the optimizer's table out of
 * the map's order.
 */
export function sourceProblems(source: string, map: KernelMap = KERNEL_MAP): string[] {
  const symbols = mapSymbols(map);
  const problems: string[] = [];
  const used = new Set<string>();
  const addresses = new Map([...symbols].filter(([, n]) => n >= map.blocks.control).map(([name, n]) => [n, name]));
  codeOf(source).forEach((code, i) => {
    const at = `kernels.wat:${i + 1}`;
    for (const [, name] of code.matchAll(SYMBOL)) {
      if (symbols.has(name)) used.add(name);
      else problems.push(`${at}: {${name}} is not in the memory map (kernelMemory.ts)`);
    }
    for (const [, op, n] of code.matchAll(MEMORY_OP)) problems.push(`${at}: ${op} at the bare address ${n}, name it`);
    for (const [, n] of code.matchAll(LAYER_OFFSET)) problems.push(`${at}: offset=${n} of a layer entry, name it`);
    for (const [, n] of code.matchAll(NUMBER)) {
      const name = addresses.get(Number(n));
      if (name !== undefined) problems.push(`${at}: ${n} is {${name}}, name it`);
    }
  });
  for (const name of symbols.keys()) if (!used.has(name)) problems.push(`kernels.wat never uses {${name}}`);
  const labels = source.match(OPTIMIZER_TABLE)?.[1].trim().split(/\s+/);
  const expected = Object.keys(map.optimizerCode).map((name) => `$${name}`);
  if (labels?.join(' ') !== expected.join(' ')) {
    problems.push(`the update's br_table must list ${expected.join(' ')} in the order of OPTIMIZER_CODE`);
  }
  return problems;
}

/** kernels.wat with the map's numbers written in, after checking both; throws with every problem. */
export function withMemoryMap(source: string, map: KernelMap = KERNEL_MAP): string {
  const problems = [...memoryMapProblems(map), ...sourceProblems(source, map)];
  if (problems.length > 0) throw new Error(`kernels.wat and its memory map:\n  ${problems.join('\n  ')}`);
  const symbols = mapSymbols(map);
  const lines = source.split('\n');
  return codeOf(source)
    .map(
      (code, i) => code.replace(SYMBOL, (_, name: string) => String(symbols.get(name))) + lines[i].slice(code.length),
    )
    .join('\n');
}

export type KernelBytes = Record<KernelSimd, Record<KernelMemory, Uint8Array>>;

/** The four variants' bytes of kernels.wat (before the map's numbers are written in). */
export async function compileKernels(source: string, map: KernelMap = KERNEL_MAP): Promise<KernelBytes> {
  const mapped = withMemoryMap(source, map);
  const compile = (simd: KernelSimd, memory: KernelMemory) => compileWat(kernelVariant(mapped, simd, memory));
  return {
    simd: { private: await compile('simd', 'private'), shared: await compile('simd', 'shared') },
    relaxedSimd: { private: await compile('relaxedSimd', 'private'), shared: await compile('relaxedSimd', 'shared') },
  };
}

/** The text of kernelsWasm.ts for these bytes. */
export function kernelsModuleText(bytes: KernelBytes): string {
  const base64 = (b: Uint8Array) => `'${Buffer.from(b).toString('base64')}'`;
  const variant = (simd: KernelSimd) =>
    `  ${simd}: {\n    private:\n      ${base64(bytes[simd].private)},\n    shared:\n      ${base64(bytes[simd].shared)},\n  },`;
  return [
    '// Generated by scripts/build-cpu-kernels.ts from kernels.wat and its memory map (kernelMemory.ts).',
    '// Do not edit; rebuild with',
    '//   npx tsx scripts/build-cpu-kernels.ts',
    `// WebAssembly, base64: products by mul then add ('simd', ${bytes.simd.private.length} bytes) or by relaxed`,
    `// SIMD's fused multiply-add ('relaxedSimd', ${bytes.relaxedSimd.private.length} bytes), each on a private or a shared memory.`,
    '',
    "export type KernelSimd = 'simd' | 'relaxedSimd';",
    "export type KernelMemory = 'private' | 'shared';",
    '',
    'export const KERNELS_WASM_BASE64: Record<KernelSimd, Record<KernelMemory, string>> = {',
    variant('simd'),
    variant('relaxedSimd'),
    '};',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const bytes = await compileKernels(readFileSync(KERNELS_WAT, 'utf8'));
  writeFileSync(KERNELS_MODULE, kernelsModuleText(bytes));
  console.log(`wrote ${KERNELS_MODULE} (${bytes.simd.private.length} bytes of wasm per variant)`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
