// The settings of the GPU-versus-CPU sweep, written once for the CLI's `bench` (options and help)
// and the app's Benchmark view (its fields, src/app/benchTable.ts). Defaults are DEFAULT_SWEEP's. The
// settings sit below the benchmark (src/bench) that runs them.

import { describeValue, InputError } from '../model/errors.js';
import { LIMITS } from '../model/validate.js';
import { custom, defineTable, real, whole, wholeList } from './setting.js';
import { cpuThreads, MAX_MEMBERS } from './training.js';

/** The backends the sweep can time (the names of src/backends/backend.ts's BackendName). */
const BENCH_BACKENDS = ['cpu', 'webgpu'] as const;
type BenchBackend = (typeof BENCH_BACKENDS)[number];

/** The sweep when no option or field says otherwise. */
export const DEFAULT_SWEEP = {
  hidden: [16, 32, 64, 128, 256, 512, 1024],
  batch: [8, 64, 256],
  window: 10,
} as const;

export const BENCH_SETTINGS = defineTable({
  backend: custom<BenchBackend[]>({
    default: [...BENCH_BACKENDS],
    placeholder: 'cpu,webgpu',
    valid: 'a comma list of cpu and webgpu',
    help: 'the backends to time',
    parse: (text, field) => {
      const names = text.split(',').map((s) => s.trim());
      if (names.some((name) => !(BENCH_BACKENDS as readonly string[]).includes(name))) {
        throw new InputError(field, `expected a comma list of cpu and webgpu, got ${describeValue(text)}`);
      }
      return [...new Set(names)] as BenchBackend[];
    },
    isValid: (value) =>
      Array.isArray(value) && value.every((name) => (BENCH_BACKENDS as readonly unknown[]).includes(name)),
    format: (value) => value.join(','),
  }),
  hidden: wholeList({
    default: [...DEFAULT_SWEEP.hidden],
    min: 1,
    max: LIMITS.hiddenSize,
    maxItems: 64,
    items: 'sizes',
    help: 'the hidden sizes to sweep (one layer)',
  }),
  batch: wholeList({
    default: [...DEFAULT_SWEEP.batch],
    min: 1,
    max: 65_536,
    maxItems: 64,
    items: 'batches',
    help: 'the minibatch sizes to sweep',
  }),
  window: whole({ default: DEFAULT_SWEEP.window, min: 1, max: LIMITS.window, help: 'time steps per sample' }),
  steps: whole({ default: 5, min: 1, max: 100_000, help: 'minibatch updates per timed repetition' }),
  repetitions: whole({ default: 5, min: 1, max: 1000, help: 'timed repetitions per case, after one warm-up' }),
  budget: real({
    default: 10,
    min: 0,
    max: 86_400,
    help: 'seconds per case after which it stops early with fewer repetitions',
  }),
  threads: cpuThreads,
  members: custom<number[] | null>({
    default: null,
    placeholder: 'K,K,…',
    valid: `a comma list of whole numbers from 1 to ${MAX_MEMBERS}`,
    help: 'populations to time: K models of the same shape trained together each step (member-steps/s)',
    parse: (text, field) => {
      if (text.trim() === '') return null;
      const values = text.split(',').map((part) => Number(part.trim()));
      if (values.length > 64 || values.some((k) => !Number.isInteger(k) || k < 1 || k > MAX_MEMBERS)) {
        throw new InputError(
          field,
          `expected a comma list of whole numbers from 1 to ${MAX_MEMBERS} (1,16,64), got ${describeValue(text)}`,
        );
      }
      return [...new Set(values)];
    },
    isValid: (value) =>
      value === null || (Array.isArray(value) && value.every((k) => Number.isInteger(k) && k >= 1 && k <= MAX_MEMBERS)),
    format: (value) => (value === null ? '' : value.join(',')),
  }),
});
