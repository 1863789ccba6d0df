// The Benchmark view as pure logic: its form (the sweep the CLI's `bench` runs, same option names),
// a rough warning when the CPU part will take long, the results as table rows and chart columns
// (steps per second against hidden size, one series per backend and batch), the GPU/CPU speed-ups
// and crossovers in words, and the exported JSON (the CLI's `bench --json` object).
//
// Legend: H = hidden sizes of the sweep, S = series (backend × batch).

import type { AdapterDescription, BackendName } from '../backends/backend.js';
import {
  BENCH_METHOD,
  type BenchOptions,
  type BenchResult,
  crossovers,
  type SweepSpec,
  speedups,
} from '../bench/bench.js';
import { trainStepFlops } from '../model/flops.js';
import { BENCH_SETTINGS } from '../settings/bench.js';
import type { Setting } from '../settings/setting.js';
import { adapterLabel, BACKEND_LABEL, type Columns, formatDuration, formatNumber } from './columns.js';
import { fieldReader } from './settings.js';

export type BenchFieldName = 'hidden' | 'batch' | 'window' | 'steps' | 'repetitions';

export interface BenchFieldSpec {
  name: BenchFieldName;
  label: string;
  defaultText: string;
  hint: string;
}

/** The fields of the sweep: the bench settings' names, defaults and bounds, with a label and a hint. */
export const BENCH_FIELDS: readonly BenchFieldSpec[] = (
  [
    ['hidden', 'Hidden sizes', 'comma list'],
    ['batch', 'Batches', 'comma list'],
    ['window', 'Window', 'time steps per sample'],
    ['steps', 'Steps', 'updates per timed repetition'],
    ['repetitions', 'Repetitions', 'timed, after one warm-up'],
  ] as const
).map(([name, label, hint]) => {
  const setting: Setting<unknown> = BENCH_SETTINGS[name];
  return { name, label, hint, defaultText: setting.format(setting.default) };
});

export type BenchValues = Record<BenchFieldName, string>;

/** The CLI's default: a case below this many repetitions stops early once it has spent this long. */
export const BENCH_BUDGET_SECONDS = BENCH_SETTINGS.budget.default;

export function defaultBenchValues(): BenchValues {
  return Object.fromEntries(BENCH_FIELDS.map((f) => [f.name, f.defaultText])) as BenchValues;
}

export type BenchParse =
  | { ok: true; spec: SweepSpec; options: BenchOptions }
  | { ok: false; errors: Partial<Record<BenchFieldName | 'backends', string>> };

export function parseBenchSettings(values: BenchValues, backends: BackendName[]): BenchParse {
  const errors: Partial<Record<BenchFieldName | 'backends', string>> = {};
  const read = fieldReader<BenchFieldName>(values, errors);
  const B = BENCH_SETTINGS;
  const hidden = read('hidden', (t) => B.hidden.parse(t));
  const batch = read('batch', (t) => B.batch.parse(t));
  const window = read('window', (t) => B.window.parse(t));
  const steps = read('steps', (t) => B.steps.parse(t));
  const repetitions = read('repetitions', (t) => B.repetitions.parse(t));
  if (backends.length === 0) errors.backends = 'choose at least one backend';
  if (
    Object.keys(errors).length > 0 ||
    hidden === undefined ||
    batch === undefined ||
    window === undefined ||
    steps === undefined ||
    repetitions === undefined
  ) {
    return { ok: false, errors };
  }
  const unique = (list: number[]) => [...new Set(list)].sort((a, b) => a - b);
  return {
    ok: true,
    spec: { backends, hidden: unique(hidden), batch: unique(batch), window },
    options: { steps, repetitions, budgetSeconds: BENCH_BUDGET_SECONDS },
  };
}

/** A guess at the CPU backend's pace, FLOPs a second, for the warning only (not a measurement). */
const GUESSED_CPU_FLOPS = 2e9;

/** A rough guess of the CPU part's seconds: every case's FLOPs, warm-up and repetitions, at GUESSED_CPU_FLOPS. */
export function estimateCpuSeconds(spec: SweepSpec, options: BenchOptions): number {
  if (!spec.backends.includes('cpu')) return 0;
  let flops = 0;
  for (const batch of spec.batch) {
    for (const hidden of spec.hidden) {
      const config = { inputSize: 1, hiddenSizes: [hidden], outputSize: 1, window: spec.window };
      flops += trainStepFlops(config, batch) * options.steps * (options.repetitions + 1);
    }
  }
  return flops / GUESSED_CPU_FLOPS;
}

/** A warning when the CPU part will take more than a minute or two, naming the slow end. */
export function benchWarning(spec: SweepSpec, options: BenchOptions): string | null {
  const seconds = estimateCpuSeconds(spec, options);
  if (seconds < 120) return null;
  const hidden = Math.max(...spec.hidden);
  const batch = Math.max(...spec.batch);
  return `The CPU part may take about ${formatDuration(seconds)} (a rough guess at 2 GFLOP/s; hidden ${hidden} at batch ${batch} is the slow end). Drop the largest sizes or the CPU for a quick look.`;
}

export interface BenchRow {
  backend: string;
  hidden: number;
  batch: number;
  stepsPerSecond: string;
  /** Steps per second × batch: training windows per second, which compares across batches. */
  samplesPerSecond: string;
  msPerStep: string;
  spread: string;
  gflops: string;
  dispatches: string;
  /** The GPU step's variant calibration chose ('fused/software'), or '–'. */
  variant: string;
  setupMs: string;
  /** GPU ms per step by kernel group (forward / backward / weight gradients / update), or '–'. */
  kernels: string;
  /** The reason a case was skipped, or ''. */
  skipped: string;
}

export function benchRows(results: BenchResult[]): BenchRow[] {
  return results.map((r) => {
    const ran = r.skipped === null;
    return {
      backend: BACKEND_LABEL[r.backend],
      hidden: r.hidden,
      batch: r.batch,
      stepsPerSecond: ran ? formatNumber(r.stepsPerSecond) : '–',
      samplesPerSecond: ran ? formatNumber(r.stepsPerSecond * r.batch) : '–',
      msPerStep: ran ? formatNumber(r.msPerStep) : '–',
      spread: ran ? `${formatNumber(r.msPerStepMin)}–${formatNumber(r.msPerStepMax)}` : '–',
      gflops: ran ? formatNumber(r.gflops) : '–',
      dispatches: r.dispatchesPerStep === null ? '–' : formatNumber(r.dispatchesPerStep),
      variant: r.variant ?? '–',
      setupMs: ran ? formatNumber(r.setupMs) : '–',
      kernels: r.kernelMs
        ? [r.kernelMs.forward, r.kernelMs.backward, r.kernelMs.weightGradients, r.kernelMs.update]
            .map(formatNumber)
            .join(' / ')
        : '–',
      skipped: r.skipped ?? '',
    };
  });
}

export interface BenchSeries {
  backend: BackendName;
  batch: number;
  label: string;
}

/** What the chart's y axis shows: training steps per second, or samples (steps × batch) per second. */
export type BenchMetric = 'steps' | 'samples';

export const BENCH_METRIC_LABEL: Record<BenchMetric, string> = {
  steps: 'training steps per second',
  samples: 'training samples per second',
};

function metricOf(r: BenchResult, metric: BenchMetric): number {
  return metric === 'steps' ? r.stepsPerSecond : r.stepsPerSecond * r.batch;
}

/**
 * The chart: x = every hidden size measured (H), one series per backend and batch (S) with its
 * steps (or samples) per second, null where a case was skipped or not run yet.
 */
export function benchColumns(
  results: BenchResult[],
  metric: BenchMetric = 'steps',
): { columns: Columns; series: BenchSeries[] } {
  const xs = [...new Set(results.map((r) => r.hidden))].sort((a, b) => a - b);
  const series: BenchSeries[] = [];
  for (const r of results) {
    if (!series.some((s) => s.backend === r.backend && s.batch === r.batch)) {
      series.push({ backend: r.backend, batch: r.batch, label: `${BACKEND_LABEL[r.backend]}, batch ${r.batch}` });
    }
  }
  const columns: Columns = [xs];
  for (const s of series) {
    columns.push(
      xs.map((hidden) => {
        const r = results.find((x) => x.backend === s.backend && x.batch === s.batch && x.hidden === hidden);
        return r !== undefined && r.skipped === null ? metricOf(r, metric) : null;
      }),
    );
  }
  return { columns, series };
}

/**
 * The chart in words (its text alternative): per backend and batch, the rate at the smallest and
 * the largest hidden size measured.
 */
export function describeBenchChart(results: BenchResult[], metric: BenchMetric = 'steps'): string {
  const { columns, series } = benchColumns(results, metric);
  const unit = metric === 'steps' ? 'steps/s' : 'samples/s';
  const parts = series.flatMap((s, i) => {
    const measured = columns[0].flatMap((hidden, k) => {
      const value = columns[i + 1][k];
      return value === null ? [] : [{ hidden, value }];
    });
    if (measured.length === 0) return [];
    const first = measured[0];
    const last = measured[measured.length - 1];
    const at = (m: { hidden: number; value: number }) => `${formatNumber(m.value)} ${unit} at hidden ${m.hidden}`;
    return [`${s.label}: ${measured.length === 1 ? at(first) : `${at(first)} to ${at(last)}`}`];
  });
  const title = metric === 'steps' ? 'Training steps per second' : 'Training samples per second';
  return parts.length === 0 ? '' : `${title} by hidden size (log axes). ${parts.join('; ')}.`;
}

/** The speed-ups as a grid (batch rows × hidden columns) and the crossover of each batch in words. */
export function benchComparison(results: BenchResult[]): {
  hidden: number[];
  rows: { batch: number; speedups: (number | null)[] }[];
  crossovers: string[];
} {
  const ups = speedups(results);
  const hidden = [...new Set(ups.map((s) => s.hidden))].sort((a, b) => a - b);
  const batches = [...new Set(ups.map((s) => s.batch))].sort((a, b) => a - b);
  const rows = batches.map((batch) => ({
    batch,
    speedups: hidden.map((h) => ups.find((s) => s.batch === batch && s.hidden === h)?.speedup ?? null),
  }));
  // crossovers() gives the smallest hidden size from which WebGPU stays faster up to the largest
  // measured; where there is none, say where (if anywhere) it was faster all the same.
  const words = crossovers(results)
    .sort((a, b) => a.batch - b.batch)
    .map((c) => {
      if (c.hidden !== null) return `batch ${c.batch}: WebGPU is faster from hidden ${c.hidden} on`;
      const faster = ups.filter((s) => s.batch === c.batch && s.speedup > 1).map((s) => s.hidden);
      return faster.length === 0
        ? `batch ${c.batch}: the CPU is faster at every hidden size measured`
        : `batch ${c.batch}: WebGPU is faster only at hidden ${faster.join(', ')}; the CPU is faster at the largest size measured`;
    });
  return { hidden, rows, crossovers: words };
}

/** The adapter in words, saying plainly when it is software (SwiftShader emulating a GPU on the CPU). */
export function describeAdapter(adapter: AdapterDescription | null): string {
  if (adapter === null) return 'No WebGPU adapter: only the CPU can be measured here.';
  const label = adapterLabel(adapter);
  return adapter.software
    ? `WebGPU adapter: ${label}. Software emulation: the "GPU" runs on the CPU, so its numbers say nothing about a real GPU.`
    : `WebGPU adapter: ${label} (a real GPU).`;
}

/** The export: the same object as the CLI's `bench --json`, plus the sweep that made it. */
export function benchJson(
  results: BenchResult[],
  adapter: AdapterDescription | null,
  spec: SweepSpec,
  options: BenchOptions,
): string {
  return `${JSON.stringify({ method: BENCH_METHOD, adapter, options, sweep: spec, results }, null, 2)}\n`;
}
