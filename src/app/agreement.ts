// Whether two backends' lines coincide on a chart, in words: in a side-by-side race on the same seed
// the WebGPU and CPU runs usually agree so closely that one line hides the other, and the page says
// so ("identical to the CPU's to 1e-6") instead of letting a line vanish. Pure.

/** Below this difference, relative to the values' largest magnitude, two lines are drawn as one. */
export const COINCIDE = 2e-3;

/**
 * The largest difference between `a` and `b` relative to their largest magnitude (0 when both are
 * all zeros), or null when they cannot be compared (missing, different lengths, not finite).
 */
export function relativeDifference(a: ArrayLike<number> | null, b: ArrayLike<number> | null): number | null {
  if (a === null || b === null || a.length !== b.length || a.length === 0) return null;
  let difference = 0;
  let magnitude = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) return null;
    difference = Math.max(difference, Math.abs(a[i] - b[i]));
    magnitude = Math.max(magnitude, Math.abs(a[i]), Math.abs(b[i]));
  }
  return magnitude === 0 ? 0 : difference / magnitude;
}

/** The bound a difference is within, as a power of ten: 3.2e-7 → "1e-6"; 0 → null (exactly equal). */
export function powerOfTenAbove(difference: number): string | null {
  if (difference === 0) return null;
  return `1e${Math.ceil(Math.log10(difference))}`;
}

/**
 * "WebGPU’s predictions are identical to the CPU’s to 1e-6 (relative), so…" (`what` = "predictions
 * are") when every pair of series coincides on the chart; '' when a pair differs visibly or cannot
 * be compared. Pairs where both are null or empty (no forecast, no validation) are left out.
 */
export function describeCoincidence(
  what: string,
  pairs: readonly [ArrayLike<number> | null, ArrayLike<number> | null][],
  names: { first: string; second: string },
): string {
  let worst = 0;
  let compared = 0;
  for (const [a, b] of pairs) {
    if ((a === null || a.length === 0) && (b === null || b.length === 0)) continue;
    const difference = relativeDifference(a, b);
    if (difference === null || difference > COINCIDE) return '';
    worst = Math.max(worst, difference);
    compared++;
  }
  if (compared === 0) return '';
  const bound = powerOfTenAbove(worst);
  const how = bound === null ? 'exactly equal to' : 'identical to';
  const within = bound === null ? '' : ` to ${bound} (relative)`;
  return `${names.first}’s ${what} ${how} the ${names.second}’s${within}, so the two lines are drawn on top of each other.`;
}
