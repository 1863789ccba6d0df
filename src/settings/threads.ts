// The CPU backend's thread choice as a setting: a count or 'auto'. It sits with the settings (which
// offer and check it) rather than in the CPU backend, so that the settings table, the CLI and the app
// need not import the backend; the backend's thread pool reads its bounds from here.

import { describeValue, InputError } from '../model/errors.js';

/** The most threads a pool holds: the CPU kernels' memory map (src/backends/cpu/kernelMemory.ts) has room for this many. */
export const MAX_THREADS = 16;

/** Threads for the fast kernels: a count, or 'auto' (every core, then the fastest count measured per batch size). */
export type CpuThreads = number | 'auto';

/** Whether `value` is a thread choice: 'auto' or a whole number from 1 to MAX_THREADS. */
export function isThreadChoice(value: unknown): value is CpuThreads {
  const count = value as number;
  return value === 'auto' || (Number.isInteger(count) && count >= 1 && count <= MAX_THREADS);
}

/** `value` as a thread choice, or an InputError on `field` quoting `shown` (what was typed, say). */
export function checkThreads(value: unknown, field = 'threads', shown: unknown = value): CpuThreads {
  if (isThreadChoice(value)) return value;
  throw new InputError(field, `expected auto or a whole number from 1 to ${MAX_THREADS}, got ${describeValue(shown)}`);
}
