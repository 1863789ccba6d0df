// A run that moves between backends mid-run (src/app/movableRun.ts): `auto` moving a CPU run to
// WebGPU at a report goes on from that report's weights, generator and optimizer state, so its errors
// are those of a run that never moved (within the backends' tolerance); a GPU failure moves the run
// back to the CPU from its last report; a move asked for while paused happens at once and stays paused.
// In Node: the CPU backend and Dawn's WebGPU (SwiftShader where there is no GPU).

import { describe, expect, it } from 'vitest';
import { movableRun, type RunEvents, type SegmentStarter, sessionSegment } from '../src/app/movableRun.js';
import type { SessionEnd, Snapshot } from '../src/app/session.js';
import type { Backend, BackendName } from '../src/backends/backend.js';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { createWebGpuBackend } from '../src/backends/webgpu/webgpuBackend.js';
import type { RunSettings } from '../src/train/run.js';
import { startRun } from '../src/train/run.js';
import { fileGpuContext } from './webgpu-context.js';

const gpu = fileGpuContext();

const sine: RunSettings = {
  seed: 5,
  source: { kind: 'generated', spec: { kind: 'sine', points: 40, noise: 0.1 } },
  window: 6,
  hiddenSizes: [8],
};
// Adam: the move must carry the optimizer's state too, or the errors part at once.
const options = {
  epochs: 30,
  batchSize: 4,
  learningRate: 0.01,
  reportEvery: 5,
  optimizer: { name: 'adam' as const, momentum: 0.9, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, clipNorm: null },
};

function starter(open: (run: ReturnType<typeof startRun>) => Promise<Backend>): SegmentStarter {
  return (events, from) => sessionSegment(open, () => startRun(sine), options, events, from);
}

/** Runs to the end; `at(snapshot, run)` may move or pause the run at each report. */
function runMoving(
  first: BackendName,
  at: (snapshot: Snapshot, run: ReturnType<typeof movableRun>) => void = () => {},
  failGpuAfter = Infinity,
) {
  return new Promise<{ losses: number[]; end: SessionEnd; switches: [number, BackendName][]; backend: BackendName }>(
    (resolve, reject) => {
      const losses: number[] = [];
      const switches: [number, BackendName][] = [];
      let gpuReports = 0;
      const starters = {
        cpu: starter(async (run) => new CpuBackend(run.layout)),
        webgpu: ((events, from) =>
          starter(async (run) => createWebGpuBackend(gpu(), run.layout))(
            {
              ...events,
              onReport: (snapshot) => {
                events.onReport(snapshot);
                if (++gpuReports === failGpuAfter) events.onGpuFailure('the test failed the GPU');
              },
            },
            from,
          )) satisfies SegmentStarter,
      };
      const events: RunEvents = {
        onReport: (snapshot) => {
          losses.push(...snapshot.newLosses);
          at(snapshot, run);
        },
        onProgress: () => {},
        onPaused: () => {},
        onEnded: (end) => resolve({ losses, end, switches, backend: run.backend }),
        onFailed: (failure) => reject(new Error(failure.message)),
        onSwitched: (_reason, fromEpoch, to) => {
          switches.push([fromEpoch, to]);
          losses.length = fromEpoch;
        },
      };
      const run = movableRun(first, starters, events);
    },
  );
}

describe('a run that moves between backends', () => {
  it('moves from the CPU to WebGPU at the next report and trains on as the same run', async () => {
    const still = await runMoving('cpu');
    const moved = await runMoving('cpu', (snapshot, run) => {
      if (snapshot.epoch === 5) run.moveTo('webgpu', 'WebGPU is faster');
    });
    expect(moved.end.outcome).toBe('finished');
    // Asked as epoch 5's report arrives, the move happens at the report's pause point: nothing is lost.
    expect(moved.switches).toEqual([[5, 'webgpu']]);
    expect(moved.backend).toBe('webgpu');
    expect(moved.losses).toHaveLength(30);
    expect(moved.losses.slice(0, 5)).toEqual(still.losses.slice(0, 5));
    // After the move, float32 on another backend: the same run within the backends' tolerance.
    for (let e = 5; e < 30; e++) {
      expect(Math.abs(moved.losses[e] - still.losses[e]) / still.losses[e], `epoch ${e + 1}`).toBeLessThan(2e-3);
    }
  }, 120_000);

  it('goes back to the CPU from the last report when the GPU fails', async () => {
    const still = await runMoving('cpu');
    const failed = await runMoving('webgpu', () => {}, 2);
    expect(failed.switches).toEqual([[10, 'cpu']]);
    expect(failed.backend).toBe('cpu');
    expect(failed.losses).toHaveLength(30);
    for (let e = 0; e < 30; e++) {
      expect(Math.abs(failed.losses[e] - still.losses[e]) / still.losses[e], `epoch ${e + 1}`).toBeLessThan(2e-3);
    }
  }, 120_000);

  it('moves at once while paused, and stays paused until resumed', async () => {
    let paused = false;
    const moved = await runMoving('cpu', (snapshot, run) => {
      if (snapshot.epoch === 5 && !paused) {
        paused = true;
        run.pause();
        // The pause takes hold at this report; the move follows it, and the run waits on WebGPU.
        setTimeout(() => run.moveTo('webgpu', 'faster'), 20);
        setTimeout(() => run.resume(), 200);
      }
    });
    expect(moved.switches).toEqual([[5, 'webgpu']]);
    expect(moved.losses).toHaveLength(30);
    expect(moved.end.outcome).toBe('finished');
  }, 120_000);
});
