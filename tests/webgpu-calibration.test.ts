// Calibration's choice among timed variants, without a device: the fastest wins, and among variants
// within TIE of it the one with the fewest dispatches a step.

import { describe, expect, it } from 'vitest';
import { choose, TIE } from '../src/backends/webgpu/calibration.js';
import type { Variant } from '../src/backends/webgpu/tuning.js';

const stepwise: Variant = { schedule: 'stepwise', tuning: 'software' };
const persistent: Variant = { schedule: 'persistent', tuning: 'software' };
const fused: Variant = { schedule: 'fused', tuning: 'software' };
const stepwiseTiled: Variant = { schedule: 'stepwise', tuning: 'hardware' };
const all = [stepwise, persistent, fused, stepwiseTiled];

const timed = (ms: number[]) => new Map(all.map((variant, i) => [variant, ms[i]]));

describe('calibration picks', () => {
  it('the clearly fastest variant, whatever its dispatches', () => {
    expect(choose(timed([10, 20, 30, 25]), all)).toBe(stepwise);
    expect(choose(timed([30, 10, 25, 40]), all)).toBe(persistent);
    expect(choose(timed([30, 40, 25, 10]), all)).toBe(stepwiseTiled);
  });

  it('the fewest dispatches among variants as fast to within the tie', () => {
    expect(choose(timed([10, 10.5, 10.9, 12]), all)).toBe(fused);
    expect(choose(timed([10, 10.5, 10 * TIE + 0.01, 12]), all)).toBe(persistent);
    // Same dispatches: the faster of the two.
    expect(choose(timed([10.2, 30, 30, 10]), all)).toBe(stepwiseTiled);
  });

  it('the first variant where none was timed, and skips untimed ones', () => {
    expect(choose(new Map(), all)).toBe(stepwise);
    expect(choose(new Map([[fused, 12]]), all)).toBe(fused);
  });
});
