// Calibration's choice among timed variants, without a device: the fastest wins, and among variants
// within TIE of it the one with the fewest dispatches a step; and its rounds, on a fake clock: every
// variant is timed at least twice, so that one busy moment does not decide where an epoch outlasts
// the budget.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { choose, TIE, timeVariants, type VariantTimer } from '../src/backends/webgpu/calibration.js';
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

describe('calibration rounds', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /**
   * A timer whose epochs take `ms(variant, round)` of a fake clock (round 0 the warm-up), and the
   * epochs it was handed, by variant name.
   */
  function fakeTimer(ms: (variant: Variant, round: number) => number) {
    let clock = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => clock);
    const handed = new Map<Variant, number>();
    let pending: Variant | null = null;
    const timer: VariantTimer = {
      queue: { onSubmittedWorkDone: async () => undefined } as unknown as GPUQueue,
      wait: (promise) => promise,
      encodeEpoch: (variant) => {
        pending = variant;
        return {} as GPUCommandBuffer;
      },
      submit: () => {
        const variant = pending as Variant;
        const round = handed.get(variant) ?? 0;
        handed.set(variant, round + 1);
        clock += ms(variant, round);
      },
    };
    return { timer, handed };
  }

  it('times every variant twice where one epoch outlasts the budget, so one busy moment does not decide', async () => {
    // Fused is the faster, but its first timed epoch meets a busy moment (twice its time).
    const { timer, handed } = fakeTimer((variant, round) => (variant === fused ? (round === 1 ? 1000 : 500) : 600));
    const calibration = await timeVariants(timer, [stepwise, fused]);
    expect(handed.get(fused)).toBe(3);
    expect(handed.get(stepwise)).toBe(3);
    expect(calibration.variant).toBe(fused);
    expect(calibration.msPerEpoch['fused/software']).toBe(500);
  });

  it('stops at the budget once every variant has its two rounds', async () => {
    const { timer, handed } = fakeTimer(() => 50);
    await timeVariants(timer, [stepwise, fused]);
    // 400 ms of budget: the warm-up and rounds of 100 ms each, the last one started before 400 ms.
    expect(handed.get(fused)).toBe(5);
  });
});
