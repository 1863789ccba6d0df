// The benchmarks' per-horizon tables on the part being evaluated: every benchmark forecasts from every
// origin of the part with the rows before it (benchmarks.ts), and each is scored like the model
// (horizons.ts), with OWA against Naive2 from the same origins. The model's own table is
// horizonTable(part, its forecasts, the Naive2 table returned here).
//
// Legend: H = the horizon in steps, N = origins (the part's rows).

import { BENCHMARK_KEYS, type BenchmarkKey, type BenchmarkOptions, benchmarkForecasts } from './benchmarks.js';
import { type EvaluationPart, type HorizonTable, horizonTable, type OriginForecast, originsIn } from './horizons.js';

export interface BenchmarkTable {
  key: BenchmarkKey;
  label: string;
  /** Each origin's forecast, in origin order. (N)(H) */
  forecasts: OriginForecast[] | null;
  table: HorizonTable | null;
  /** Why the benchmark does not apply (from the first origin where it does not), or null. */
  skipped: string | null;
  /** The first origin's note (Naive2 and Theta: why a seasonal history was not adjusted), or null. */
  note: string | null;
}

export interface BenchmarkBacktest {
  /** In the order of BENCHMARK_KEYS. */
  benchmarks: BenchmarkTable[];
  /** Naive2's table, what the model's OWA is measured against; null when Naive2 does not apply. */
  naive2: HorizonTable | null;
}

/**
 * Every benchmark forecast H steps from every origin of `part.targets` (or from `origins` only: a
 * backtest fold's one origin) and scored per horizon.
 */
export function benchmarkBacktest(
  part: EvaluationPart,
  horizon: number,
  options: Omit<BenchmarkOptions, 'season'>,
  origins: readonly number[] = originsIn(part.targets),
): BenchmarkBacktest {
  const series = Float64Array.from(part.series);
  const collected = new Map<
    BenchmarkKey,
    { label: string; forecasts: OriginForecast[]; skipped: string | null; note: string | null }
  >(BENCHMARK_KEYS.map((key) => [key, { label: key, forecasts: [], skipped: null, note: null }]));
  for (const origin of origins) {
    const made = benchmarkForecasts(series.subarray(0, origin), horizon, { ...options, season: part.season });
    for (const benchmark of made) {
      const entry = collected.get(benchmark.key)!;
      entry.label = benchmark.label;
      entry.note ??= benchmark.note === null ? null : `from row ${origin + 1}: ${benchmark.note}`;
      if (entry.skipped !== null) continue;
      if (benchmark.forecast === null) entry.skipped = `from row ${origin + 1}: ${benchmark.skipped}`;
      else entry.forecasts.push({ origin, forecast: benchmark.forecast });
    }
  }
  const scored = { ...part, series };
  const naive2Entry = collected.get('naive2')!;
  const reference = naive2Entry.skipped === null ? horizonTable(scored, naive2Entry.forecasts) : null;
  const benchmarks = BENCHMARK_KEYS.map((key): BenchmarkTable => {
    const { label, forecasts, skipped, note } = collected.get(key)!;
    if (skipped !== null) return { key, label, forecasts: null, table: null, skipped, note };
    return { key, label, forecasts, table: horizonTable(scored, forecasts, reference), skipped: null, note };
  });
  return { benchmarks, naive2: benchmarks.find((b) => b.key === 'naive2')!.table };
}
