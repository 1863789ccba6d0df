// pollGently: how the WebGPU backend waits for Dawn in Node, whose promises settle only from a
// setImmediate loop that would otherwise keep a core busy. A loop of our own stands in for Dawn's.
import { describe, expect, it } from 'vitest';
import { pollGently } from '../src/backends/webgpu/context.js';

/** Counts the turns of a setImmediate loop (as Dawn's polling runs) until stopped. */
function spinner(): { turns: () => number; stop: () => void } {
  let turns = 0;
  let running = true;
  const turn = (): void => {
    if (!running) return;
    turns++;
    setImmediate(turn);
  };
  setImmediate(turn);
  return { turns: () => turns, stop: () => (running = false) };
}

const settlesIn = <T>(ms: number, value: T): Promise<T> =>
  new Promise((resolve) => setTimeout(() => resolve(value), ms));

describe('pollGently', () => {
  it('lets a polling loop turn at most about once a millisecond while it waits, and hands back the value', async () => {
    const loop = spinner();
    const start = performance.now();
    const value = await pollGently(settlesIn(60, 'done'));
    const waited = performance.now() - start;
    const turns = loop.turns();
    loop.stop();
    expect(value).toBe('done');
    expect(waited).toBeGreaterThanOrEqual(55);
    // Each turn of the event loop sleeps 1 ms in pollGently; unthrottled, such a loop turns thousands of times.
    expect(turns).toBeLessThan(1.5 * waited + 5);
    expect(turns).toBeGreaterThan(0);
  });

  it('stops throttling once the promise settles, and passes a rejection on', async () => {
    await expect(pollGently(Promise.reject(new Error('lost')))).rejects.toThrow('lost');
    await pollGently(settlesIn(5, null));
    const loop = spinner();
    await settlesIn(30, null);
    const turns = loop.turns();
    loop.stop();
    // No pause is left behind: the loop turns freely (far more than once a millisecond).
    expect(turns).toBeGreaterThan(100);
  });
});
