// Resource hygiene over a long run (issue: reliability): after warm-up no GPU buffer is created, the
// JS heap stays flat over 1,000 epochs (on the CPU with and without threads), and dispose() destroys
// every buffer the backend made and ends every thread it started. Runs in a child process with
// --expose-gc so heap figures are after full collections.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers.js';

function soak(backend: 'cpu' | 'cpu-threads' | 'webgpu', epochs: number) {
  const result = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      '--import',
      './scripts/register-raw.mjs',
      'scripts/soak.ts',
      backend,
      String(epochs),
    ],
    { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 },
  );
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '');
}

const HEAP_SLACK = 2 * 1024 * 1024; // bytes: far below what allocating per step would leave behind

describe('1,000 epochs keep allocations flat', () => {
  it('cpu: the heap after epoch 1000 is within 2 MiB of the heap after epoch 100', () => {
    const out = soak('cpu', 1000);
    expect(Number.isFinite(out.finalLoss)).toBe(true);
    expect(out.end.heap - out.warm.heap).toBeLessThan(HEAP_SLACK);
  });

  it('cpu on two threads: the heap stays flat, and dispose ends both threads', () => {
    const out = soak('cpu-threads', 1000);
    expect(Number.isFinite(out.finalLoss)).toBe(true);
    expect(out.end.heap - out.warm.heap).toBeLessThan(HEAP_SLACK);
    expect(out.aliveAfterDispose).toBe(0);
  });

  it('webgpu: no buffer created after warm-up, the heap stays flat, dispose destroys every buffer', () => {
    const out = soak('webgpu', 1000);
    expect(Number.isFinite(out.finalLoss)).toBe(true);
    expect(out.end.counters.buffersCreated).toBe(out.warm.counters.buffersCreated);
    expect(out.end.created).toBe(out.warm.created);
    // One submit per epoch, plus the report's readbacks (18 reports between epochs 100 and 1000).
    expect(out.end.counters.submits - out.warm.counters.submits).toBeLessThanOrEqual(900 + 2 * 18);
    expect(out.end.heap - out.warm.heap).toBeLessThan(HEAP_SLACK);
    expect(out.aliveAfterDispose).toBe(0);
  });
});
