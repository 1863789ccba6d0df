// The seeded generator: deterministic, well spread, and its permutations are permutations.

import { describe, expect, it } from 'vitest';
import { Rng } from '../src/data/rng.js';

describe('Rng', () => {
  it('gives the same stream for the same seed and a different one for another', () => {
    const a = new Rng(5);
    const b = new Rng(5);
    const c = new Rng(6);
    const xs = Array.from({ length: 20 }, () => a.nextUint32());
    expect(Array.from({ length: 20 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 20 }, () => c.nextUint32())).not.toEqual(xs);
  });

  it('draws normals with mean 0 and variance 1', () => {
    const rng = new Rng(1);
    const n = 200_000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      sum += z;
      sq += z * z;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.01);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.02);
  });

  it('draws uniform integers below n without bias', () => {
    const rng = new Rng(2);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.below(7)]++;
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  it('makes permutations, different each time', () => {
    const rng = new Rng(3);
    const a = rng.permutation(new Uint32Array(40));
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    const b = rng.permutation(new Uint32Array(40));
    expect([...b]).not.toEqual([...a]);
  });

  it('clones at the same point of the stream', () => {
    const rng = new Rng(4);
    rng.normal(); // leaves a spare normal behind
    const copy = rng.clone();
    expect(Array.from({ length: 5 }, () => copy.normal())).toEqual(Array.from({ length: 5 }, () => rng.normal()));
  });
});
