// Medians and spreads of repeated measurements, for the benchmark scripts (bench-cpu.ts,
// bench-cpu-sizes.ts).

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function summarise(runs: number[]): Summary {
  return { median: median(runs), min: Math.min(...runs), max: Math.max(...runs), runs };
}
